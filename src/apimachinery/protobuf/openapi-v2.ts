// /openapi/v2 as kubectl asks for it (application/com.github.proto-openapi.spec.v2@v1.0+protobuf): the
// Swagger 2.0 document as gnostic's openapi.v2.Document message. The mapping follows gnostic's compiler,
// which upstream's server runs on its JSON document: named maps become repeated Named* pairs in document
// order, `x-` keys become vendor extensions whose values are YAML text, `$ref` objects become JsonReference,
// parameters split by `in` into the body or one of the four non-body sub-schemas, and proto3 leaves out
// empty strings, false and zero.
import { yaml } from '../../base/lazy-yaml.js';
import { ProtobufWriter, wireType } from './wire.js';

/** The media type kubectl puts in Accept for /openapi/v2. */
export const openAPIV2ProtobufAccept = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/**
 * The Content-Type upstream answers with: '@' is not a token character, so Go's mime.ParseMediaType in
 * kubectl rejects the Accept form ("mime: unexpected content after media subtype"); the dotted form parses.
 */
export const openAPIV2ProtobufContentType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

type Json = Record<string, unknown>;
type Encode = (w: ProtobufWriter, value: unknown) => void;
/** A JSON key, its field number, and how its value is written. */
type Rule = readonly [key: string, field: number, encode: Encode];

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function entries(v: unknown): [string, unknown][] {
  return isObject(v) ? Object.entries(v) : [];
}

function yamlText(value: unknown): string {
  return yaml().stringify(value, { lineWidth: 0 });
}

// Scalars, written as proto3 writes them: only when not the default value.
const str =
  (field: number): Encode =>
  (w, v) => {
    if (typeof v === 'string' && v !== '') w.tag(field, wireType.bytes).string(v);
  };
const bool =
  (field: number): Encode =>
  (w, v) => {
    if (v === true) w.tag(field, wireType.varint).bool(true);
  };
const double =
  (field: number): Encode =>
  (w, v) => {
    if (typeof v === 'number' && v !== 0) w.tag(field, wireType.fixed64).double(v);
  };
const int64 =
  (field: number): Encode =>
  (w, v) => {
    if (typeof v === 'number' && Number.isInteger(v) && v !== 0) w.tag(field, wireType.varint).int64(v);
  };
const strings =
  (field: number): Encode =>
  (w, v) => {
    const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
    for (const s of list) if (typeof s === 'string') w.tag(field, wireType.bytes).string(s);
  };

/** A message field: present whenever the key is, even when empty. */
function nested(field: number, body: Encode): Encode {
  return (w, v) => {
    w.tag(field, wireType.bytes).fork();
    body(w, v);
    w.ldelim();
  };
}

function repeated(field: number, body: Encode): Encode {
  return (w, v) => {
    if (Array.isArray(v)) for (const item of v) nested(field, body)(w, item);
  };
}

/** A JSON object's members as repeated Named<T> { name = 1; value = 2 } messages. */
function namedMap(field: number, value: Encode, skipExtensions = false): Encode {
  return (w, v) => {
    for (const [name, item] of entries(v)) {
      if (skipExtensions && name.startsWith('x-')) continue;
      w.tag(field, wireType.bytes).fork();
      w.tag(1, wireType.bytes).string(name);
      nested(2, value)(w, item);
      w.ldelim();
    }
  };
}

/** Any { yaml = 2 }: a value as YAML text. */
const anyValue: Encode = (w, v) => {
  w.tag(2, wireType.bytes).string(yamlText(v));
};
const any = (field: number): Encode => nested(field, anyValue);
const anys = (field: number): Encode => repeated(field, anyValue);

/** The `x-` members of an object, as repeated NamedAny. */
function extensions(w: ProtobufWriter, field: number, obj: Json): void {
  for (const [name, value] of Object.entries(obj)) {
    if (!name.startsWith('x-')) continue;
    w.tag(field, wireType.bytes).fork();
    w.tag(1, wireType.bytes).string(name);
    nested(2, anyValue)(w, value);
    w.ldelim();
  }
}

/** A message from rules, with its vendor extensions in `extensionField` (0 for none). */
function message(rules: readonly Rule[], extensionField: number): Encode {
  return (w, v) => {
    if (!isObject(v)) return;
    for (const [key, , encode] of rules) if (Object.hasOwn(v, key)) encode(w, v[key]);
    if (extensionField !== 0) extensions(w, extensionField, v);
  };
}

const externalDocs = message(
  [
    ['description', 1, str(1)],
    ['url', 2, str(2)],
  ],
  3,
);

// The run of fields that PrimitivesItems, Header and the non-body parameter sub-schemas share, at an offset.
function primitiveRules(o: number): Rule[] {
  return [
    ['type', o, str(o)],
    ['format', o + 1, str(o + 1)],
    ['items', o + 2, nested(o + 2, (w, v) => primitivesItems(w, v))],
    ['collectionFormat', o + 3, str(o + 3)],
    ['default', o + 4, any(o + 4)],
    ['maximum', o + 5, double(o + 5)],
    ['exclusiveMaximum', o + 6, bool(o + 6)],
    ['minimum', o + 7, double(o + 7)],
    ['exclusiveMinimum', o + 8, bool(o + 8)],
    ['maxLength', o + 9, int64(o + 9)],
    ['minLength', o + 10, int64(o + 10)],
    ['pattern', o + 11, str(o + 11)],
    ['maxItems', o + 12, int64(o + 12)],
    ['minItems', o + 13, int64(o + 13)],
    ['uniqueItems', o + 14, bool(o + 14)],
    ['enum', o + 15, anys(o + 15)],
    ['multipleOf', o + 16, double(o + 16)],
  ];
}

const primitivesItems: Encode = message(primitiveRules(1), 18);
const header = message([...primitiveRules(1), ['description', 18, str(18)]], 19);

const xml = message(
  [
    ['name', 1, str(1)],
    ['namespace', 2, str(2)],
    ['prefix', 3, str(3)],
    ['attribute', 4, bool(4)],
    ['wrapped', 5, bool(5)],
  ],
  6,
);

/** AdditionalPropertiesItem: oneof { Schema schema = 1; bool boolean = 2 }. */
const additionalProperties: Encode = (w, v) => {
  if (typeof v === 'boolean') w.tag(2, wireType.varint).bool(v);
  else nested(1, schema)(w, v);
};

const schemaRules: Rule[] = [
  ['$ref', 1, str(1)],
  ['format', 2, str(2)],
  ['title', 3, str(3)],
  ['description', 4, str(4)],
  ['default', 5, any(5)],
  ['multipleOf', 6, double(6)],
  ['maximum', 7, double(7)],
  ['exclusiveMaximum', 8, bool(8)],
  ['minimum', 9, double(9)],
  ['exclusiveMinimum', 10, bool(10)],
  ['maxLength', 11, int64(11)],
  ['minLength', 12, int64(12)],
  ['pattern', 13, str(13)],
  ['maxItems', 14, int64(14)],
  ['minItems', 15, int64(15)],
  ['uniqueItems', 16, bool(16)],
  ['maxProperties', 17, int64(17)],
  ['minProperties', 18, int64(18)],
  ['required', 19, strings(19)],
  ['enum', 20, anys(20)],
  ['additionalProperties', 21, nested(21, additionalProperties)],
  // TypeItem { repeated string value = 1 }: one type or a list of them.
  ['type', 22, nested(22, strings(1))],
  // ItemsItem { repeated Schema schema = 1 }.
  [
    'items',
    23,
    nested(23, (w, v) => (Array.isArray(v) ? repeated(1, schema)(w, v) : nested(1, schema)(w, v))),
  ],
  ['allOf', 24, repeated(24, (w, v) => schema(w, v))],
  // Properties { repeated NamedSchema additional_properties = 1 }.
  [
    'properties',
    25,
    nested(
      25,
      namedMap(1, (w, v) => schema(w, v)),
    ),
  ],
  ['discriminator', 26, str(26)],
  ['readOnly', 27, bool(27)],
  ['xml', 28, nested(28, xml)],
  ['externalDocs', 29, nested(29, externalDocs)],
  ['example', 30, any(30)],
];
function schema(w: ProtobufWriter, v: unknown): void {
  schemaEncoder(w, v);
}
const schemaEncoder = message(schemaRules, 31);

const fileSchema = message(
  [
    ['format', 1, str(1)],
    ['title', 2, str(2)],
    ['description', 3, str(3)],
    ['default', 4, any(4)],
    ['required', 5, strings(5)],
    ['type', 6, str(6)],
    ['readOnly', 7, bool(7)],
    ['externalDocs', 8, nested(8, externalDocs)],
    ['example', 9, any(9)],
  ],
  10,
);

/** JsonReference { _ref = 1; description = 2 }. */
const jsonReference = message(
  [
    ['$ref', 1, str(1)],
    ['description', 2, str(2)],
  ],
  0,
);

const bodyParameter = message(
  [
    ['description', 1, str(1)],
    ['name', 2, str(2)],
    ['in', 3, str(3)],
    ['required', 4, bool(4)],
    ['schema', 5, nested(5, schema)],
  ],
  6,
);

function subSchema(withAllowEmpty: boolean): Encode {
  const head: Rule[] = [
    ['required', 1, bool(1)],
    ['in', 2, str(2)],
    ['description', 3, str(3)],
    ['name', 4, str(4)],
  ];
  if (withAllowEmpty) head.push(['allowEmptyValue', 5, bool(5)]);
  const first = withAllowEmpty ? 6 : 5;
  return message([...head, ...primitiveRules(first)], first + 17);
}
// NonBodyParameter's oneof, by the parameter's `in`.
const nonBodyFields: Record<string, [number, Encode]> = {
  header: [1, subSchema(false)],
  formData: [2, subSchema(true)],
  query: [3, subSchema(true)],
  path: [4, subSchema(false)],
};

/** Parameter: oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2 }. */
const parameter: Encode = (w, v) => {
  if (!isObject(v)) return;
  if (v.in === 'body') {
    nested(1, bodyParameter)(w, v);
    return;
  }
  const sub =
    typeof v.in === 'string' && Object.hasOwn(nonBodyFields, v.in) ? nonBodyFields[v.in] : undefined;
  w.tag(2, wireType.bytes).fork();
  if (sub !== undefined) nested(sub[0], sub[1])(w, v);
  w.ldelim();
};

/** ParametersItem: oneof { Parameter parameter = 1; JsonReference json_reference = 2 }. */
const parametersItem: Encode = (w, v) => {
  if (isObject(v) && Object.hasOwn(v, '$ref')) nested(2, jsonReference)(w, v);
  else nested(1, parameter)(w, v);
};

/** SchemaItem: oneof { Schema schema = 1; FileSchema file_schema = 2 }. */
const schemaItem: Encode = (w, v) => {
  if (isObject(v) && v.type === 'file') nested(2, fileSchema)(w, v);
  else nested(1, schema)(w, v);
};

const response = message(
  [
    ['description', 1, str(1)],
    ['schema', 2, nested(2, schemaItem)],
    ['headers', 3, nested(3, namedMap(1, header))],
    ['examples', 4, nested(4, namedMap(1, anyValue))],
  ],
  5,
);

/** ResponseValue: oneof { Response response = 1; JsonReference json_reference = 2 }. */
const responseValue: Encode = (w, v) => {
  if (isObject(v) && Object.hasOwn(v, '$ref')) nested(2, jsonReference)(w, v);
  else nested(1, response)(w, v);
};

/** Responses: the status codes as NamedResponseValue (1), and vendor extensions (2). */
const responses: Encode = (w, v) => {
  if (!isObject(v)) return;
  namedMap(1, responseValue, true)(w, v);
  extensions(w, 2, v);
};

/** SecurityRequirement { repeated NamedStringArray additional_properties = 1 }, StringArray { value = 1 }. */
const securityRequirement: Encode = namedMap(1, strings(1));

const operation = message(
  [
    ['tags', 1, strings(1)],
    ['summary', 2, str(2)],
    ['description', 3, str(3)],
    ['externalDocs', 4, nested(4, externalDocs)],
    ['operationId', 5, str(5)],
    ['produces', 6, strings(6)],
    ['consumes', 7, strings(7)],
    ['parameters', 8, repeated(8, parametersItem)],
    ['responses', 9, nested(9, responses)],
    ['schemes', 10, strings(10)],
    ['deprecated', 11, bool(11)],
    ['security', 12, repeated(12, securityRequirement)],
  ],
  13,
);

const pathItem = message(
  [
    ['$ref', 1, str(1)],
    ['get', 2, nested(2, operation)],
    ['put', 3, nested(3, operation)],
    ['post', 4, nested(4, operation)],
    ['delete', 5, nested(5, operation)],
    ['options', 6, nested(6, operation)],
    ['head', 7, nested(7, operation)],
    ['patch', 8, nested(8, operation)],
    ['parameters', 9, repeated(9, parametersItem)],
  ],
  10,
);

/** Paths: vendor extensions (1), and each path as NamedPathItem (2). */
const paths: Encode = (w, v) => {
  if (!isObject(v)) return;
  extensions(w, 1, v);
  namedMap(2, pathItem, true)(w, v);
};

// NamedString carries its value directly (field 2), not as a nested message.
const oauth2Scopes: Encode = (w, v) => {
  for (const [name, value] of entries(v)) {
    w.tag(1, wireType.bytes).fork();
    w.tag(1, wireType.bytes).string(name);
    str(2)(w, value);
    w.ldelim();
  }
};

// SecurityDefinitionsItem's oneof, by the scheme's type (and for oauth2 its flow).
function securityScheme(v: Json): [number, Encode] {
  const common = (extra: Rule[], ext: number): Encode => message(extra, ext);
  if (v.type === 'basic')
    return [
      1,
      common(
        [
          ['type', 1, str(1)],
          ['description', 2, str(2)],
        ],
        3,
      ),
    ];
  if (v.type === 'apiKey') {
    return [
      2,
      common(
        [
          ['type', 1, str(1)],
          ['name', 2, str(2)],
          ['in', 3, str(3)],
          ['description', 4, str(4)],
        ],
        5,
      ),
    ];
  }
  const head: Rule[] = [
    ['type', 1, str(1)],
    ['flow', 2, str(2)],
    ['scopes', 3, nested(3, oauth2Scopes)],
  ];
  switch (v.flow) {
    case 'implicit':
      return [3, common([...head, ['authorizationUrl', 4, str(4)], ['description', 5, str(5)]], 6)];
    case 'password':
      return [4, common([...head, ['tokenUrl', 4, str(4)], ['description', 5, str(5)]], 6)];
    case 'application':
      return [5, common([...head, ['tokenUrl', 4, str(4)], ['description', 5, str(5)]], 6)];
    default:
      return [
        6,
        common(
          [...head, ['authorizationUrl', 4, str(4)], ['tokenUrl', 5, str(5)], ['description', 6, str(6)]],
          7,
        ),
      ];
  }
}
const securityDefinitionsItem: Encode = (w, v) => {
  if (!isObject(v)) return;
  const [field, encode] = securityScheme(v);
  nested(field, encode)(w, v);
};

const info = message(
  [
    ['title', 1, str(1)],
    ['version', 2, str(2)],
    ['description', 3, str(3)],
    ['termsOfService', 4, str(4)],
    [
      'contact',
      5,
      nested(
        5,
        message(
          [
            ['name', 1, str(1)],
            ['url', 2, str(2)],
            ['email', 3, str(3)],
          ],
          4,
        ),
      ),
    ],
    [
      'license',
      6,
      nested(
        6,
        message(
          [
            ['name', 1, str(1)],
            ['url', 2, str(2)],
          ],
          3,
        ),
      ),
    ],
  ],
  7,
);

const tag = message(
  [
    ['name', 1, str(1)],
    ['description', 2, str(2)],
    ['externalDocs', 3, nested(3, externalDocs)],
  ],
  4,
);

const document = message(
  [
    ['swagger', 1, str(1)],
    ['info', 2, nested(2, info)],
    ['host', 3, str(3)],
    ['basePath', 4, str(4)],
    ['schemes', 5, strings(5)],
    ['consumes', 6, strings(6)],
    ['produces', 7, strings(7)],
    ['paths', 8, nested(8, paths)],
    ['definitions', 9, nested(9, namedMap(1, schema))],
    ['parameters', 10, nested(10, namedMap(1, parameter))],
    ['responses', 11, nested(11, namedMap(1, response))],
    ['security', 12, repeated(12, securityRequirement)],
    ['securityDefinitions', 13, nested(13, namedMap(1, securityDefinitionsItem))],
    ['tags', 14, repeated(14, tag)],
    ['externalDocs', 15, nested(15, externalDocs)],
  ],
  16,
);

/** Encodes a Swagger 2.0 document as gnostic's openapi.v2.Document protobuf message. */
export function encodeOpenAPIV2Document(doc: Record<string, unknown>): Uint8Array {
  const w = new ProtobufWriter();
  document(w, doc);
  return w.finish();
}
