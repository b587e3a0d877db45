import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { parse as parseYaml } from 'yaml';
import { OpenAPISpecs } from '../../api/openapi/index.js';
import {
  encodeOpenAPIV2Document,
  openAPIV2ProtobufAccept,
  openAPIV2ProtobufContentType,
} from './openapi-v2.js';
import type { FakeAPIServer, Reply } from './testing/fake-apiserver.js';
import { startFakeAPIServer } from './testing/fake-apiserver.js';

// gnostic's openapi.v2 messages that a Kubernetes document uses, written from the field numbers of
// github.com/google/gnostic-models openapiv2/OpenAPIv2.proto, to decode our bytes independently.
const gnosticProto = `
syntax = "proto3";
package openapi.v2;
message Any { string yaml = 2; }
message NamedAny { string name = 1; Any value = 2; }
message Info { string title = 1; string version = 2; string description = 3; repeated NamedAny vendor_extension = 7; }
message Document {
  string swagger = 1; Info info = 2; string host = 3; string base_path = 4; repeated string schemes = 5;
  repeated string consumes = 6; repeated string produces = 7; Paths paths = 8; Definitions definitions = 9;
  ParameterDefinitions parameters = 10; repeated SecurityRequirement security = 12;
  SecurityDefinitions security_definitions = 13; repeated NamedAny vendor_extension = 16;
}
message Paths { repeated NamedAny vendor_extension = 1; repeated NamedPathItem path = 2; }
message NamedPathItem { string name = 1; PathItem value = 2; }
message PathItem {
  string _ref = 1; Operation get = 2; Operation put = 3; Operation post = 4; Operation delete = 5;
  Operation options = 6; Operation head = 7; Operation patch = 8; repeated ParametersItem parameters = 9;
  repeated NamedAny vendor_extension = 10;
}
message Operation {
  repeated string tags = 1; string summary = 2; string description = 3; string operation_id = 5;
  repeated string produces = 6; repeated string consumes = 7; repeated ParametersItem parameters = 8;
  Responses responses = 9; repeated string schemes = 10; bool deprecated = 11; repeated NamedAny vendor_extension = 13;
}
message ParametersItem { oneof oneof { Parameter parameter = 1; JsonReference json_reference = 2; } }
message JsonReference { string _ref = 1; string description = 2; }
message Parameter { oneof oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } }
message BodyParameter {
  string description = 1; string name = 2; string in = 3; bool required = 4; Schema schema = 5;
  repeated NamedAny vendor_extension = 6;
}
message NonBodyParameter {
  oneof oneof {
    HeaderParameterSubSchema header_parameter_sub_schema = 1; QueryParameterSubSchema form_data_parameter_sub_schema = 2;
    QueryParameterSubSchema query_parameter_sub_schema = 3; HeaderParameterSubSchema path_parameter_sub_schema = 4;
  }
}
message HeaderParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; string format = 6;
  Any default = 9; bool unique_items = 19; repeated Any enum = 20; repeated NamedAny vendor_extension = 22;
}
message QueryParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; bool allow_empty_value = 5;
  string type = 6; string format = 7; Any default = 10; bool unique_items = 20; repeated Any enum = 21;
  repeated NamedAny vendor_extension = 23;
}
message Responses { repeated NamedResponseValue response_code = 1; repeated NamedAny vendor_extension = 2; }
message NamedResponseValue { string name = 1; ResponseValue value = 2; }
message ResponseValue { oneof oneof { Response response = 1; JsonReference json_reference = 2; } }
message Response { string description = 1; SchemaItem schema = 2; repeated NamedAny vendor_extension = 5; }
message SchemaItem { oneof oneof { Schema schema = 1; } }
message Schema {
  string _ref = 1; string format = 2; string title = 3; string description = 4; Any default = 5;
  double multiple_of = 6; double maximum = 7; bool exclusive_maximum = 8; double minimum = 9;
  bool exclusive_minimum = 10; int64 max_length = 11; int64 min_length = 12; string pattern = 13;
  int64 max_items = 14; int64 min_items = 15; bool unique_items = 16; int64 max_properties = 17;
  int64 min_properties = 18; repeated string required = 19; repeated Any enum = 20;
  AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22; ItemsItem items = 23;
  repeated Schema all_of = 24; Properties properties = 25; string discriminator = 26; bool read_only = 27;
  Any example = 30; repeated NamedAny vendor_extension = 31;
}
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message TypeItem { repeated string value = 1; }
message ItemsItem { repeated Schema schema = 1; }
message Properties { repeated NamedSchema additional_properties = 1; }
message NamedSchema { string name = 1; Schema value = 2; }
message Definitions { repeated NamedSchema additional_properties = 1; }
message ParameterDefinitions { repeated NamedParameter additional_properties = 1; }
message NamedParameter { string name = 1; Parameter value = 2; }
message SecurityRequirement { repeated NamedStringArray additional_properties = 1; }
message NamedStringArray { string name = 1; StringArray value = 2; }
message StringArray { repeated string value = 1; }
message SecurityDefinitions { repeated NamedSecurityDefinitionsItem additional_properties = 1; }
message NamedSecurityDefinitionsItem { string name = 1; SecurityDefinitionsItem value = 2; }
message SecurityDefinitionsItem { oneof oneof { ApiKeySecurity api_key_security = 2; } }
message ApiKeySecurity { string type = 1; string name = 2; string in = 3; string description = 4; repeated NamedAny vendor_extension = 5; }
`;

type Obj = Record<string, unknown>;
const DocumentType = protobuf.parse(gnosticProto, { keepCase: true }).root.lookupType('openapi.v2.Document');

// protobufjs message fields (snake_case) → the Swagger keys they came from.
const keyOf: Record<string, string> = {
  _ref: '$ref',
  base_path: 'basePath',
  operation_id: 'operationId',
  allow_empty_value: 'allowEmptyValue',
  unique_items: 'uniqueItems',
  multiple_of: 'multipleOf',
  exclusive_maximum: 'exclusiveMaximum',
  exclusive_minimum: 'exclusiveMinimum',
  max_length: 'maxLength',
  min_length: 'minLength',
  max_items: 'maxItems',
  min_items: 'minItems',
  max_properties: 'maxProperties',
  min_properties: 'minProperties',
  all_of: 'allOf',
  read_only: 'readOnly',
  additional_properties: 'additionalProperties',
  security_definitions: 'securityDefinitions',
};

/** Turns a decoded gnostic message back into the Swagger JSON it stands for. */
function toSwagger(m: Obj): Obj {
  const out: Obj = {};
  for (const [field, value] of Object.entries(m)) {
    if (field === 'vendor_extension') {
      for (const { name, value: any } of value as { name: string; value: { yaml: string } }[])
        out[name] = parseYaml(any.yaml);
      continue;
    }
    out[keyOf[field] ?? field] = value;
  }
  const any = (a: unknown) => parseYaml((a as { yaml: string }).yaml) as unknown;
  for (const k of ['default', 'example']) if (k in out) out[k] = any(out[k]);
  if (Array.isArray(out.enum)) out.enum = out.enum.map(any);
  return out;
}

const named = (list: unknown, value: (v: Obj) => unknown): Obj =>
  Object.fromEntries(((list ?? []) as { name: string; value: Obj }[]).map((p) => [p.name, value(p.value)]));

function schemaFrom(s: Obj): Obj {
  const out = toSwagger(s);
  if (out.type) {
    const types = (out.type as { value: string[] }).value;
    out.type = types.length === 1 ? types[0] : types;
  }
  if (out.items) {
    const list = ((out.items as Obj).schema as Obj[]).map(schemaFrom);
    out.items = list.length === 1 ? list[0] : list;
  }
  if (out.properties) out.properties = named((out.properties as Obj).additional_properties, schemaFrom);
  if (out.additionalProperties) {
    const ap = out.additionalProperties as Obj;
    out.additionalProperties = 'boolean' in ap ? ap.boolean : schemaFrom(ap.schema as Obj);
  }
  if (out.allOf) out.allOf = (out.allOf as Obj[]).map(schemaFrom);
  return out;
}

function parameterFrom(p: Obj): Obj {
  if (p.body_parameter) {
    const body = toSwagger(p.body_parameter as Obj);
    if (body.schema) body.schema = schemaFrom(body.schema as Obj);
    return body;
  }
  const oneof = Object.values(p.non_body_parameter as Obj)[0] as Obj;
  return toSwagger(oneof);
}

const parametersItemFrom = (i: Obj): Obj =>
  i.json_reference ? toSwagger(i.json_reference as Obj) : parameterFrom(i.parameter as Obj);

function operationFrom(o: Obj): Obj {
  const out = toSwagger(o);
  if (out.parameters) out.parameters = (out.parameters as Obj[]).map(parametersItemFrom);
  if (out.responses) {
    const r = out.responses as Obj;
    out.responses = {
      ...named(r.response_code, (v) => {
        if (v.json_reference) return toSwagger(v.json_reference as Obj);
        const resp = toSwagger(v.response as Obj);
        if (resp.schema) resp.schema = schemaFrom((resp.schema as Obj).schema as Obj);
        return resp;
      }),
      ...toSwagger({ vendor_extension: r.vendor_extension ?? [] }),
    };
  }
  return out;
}

function documentFrom(d: Obj): Obj {
  const out = toSwagger(d);
  out.info = toSwagger(out.info as Obj);
  const paths = out.paths as Obj;
  out.paths = {
    ...toSwagger({ vendor_extension: paths.vendor_extension ?? [] }),
    ...named(paths.path, (item) => {
      const p = toSwagger(item);
      for (const verb of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'])
        if (p[verb]) p[verb] = operationFrom(p[verb] as Obj);
      if (p.parameters) p.parameters = (p.parameters as Obj[]).map(parametersItemFrom);
      return p;
    }),
  };
  out.definitions = named((out.definitions as Obj).additional_properties, schemaFrom);
  if (out.parameters) out.parameters = named((out.parameters as Obj).additional_properties, parameterFrom);
  if (out.security) {
    out.security = (out.security as Obj[]).map((s) => named(s.additional_properties, (v) => v.value ?? []));
  }
  if (out.securityDefinitions) {
    out.securityDefinitions = named((out.securityDefinitions as Obj).additional_properties, (v) =>
      toSwagger(v.api_key_security as Obj),
    );
  }
  return out;
}

/** The input without what proto3 cannot carry (false, 0 and '' scalars of the OpenAPI objects themselves). */
function withoutDefaults(v: unknown, literal = false): unknown {
  if (Array.isArray(v)) return v.map((x) => withoutDefaults(x, literal));
  if (typeof v !== 'object' || v === null || literal) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const isLiteral = k.startsWith('x-') || k === 'default' || k === 'example' || k === 'enum';
    if (!isLiteral && (x === false || x === 0 || x === '') && k !== 'additionalProperties') continue;
    out[k] = withoutDefaults(x, isLiteral);
  }
  return out;
}

function decodeWithProtobufjs(bytes: Uint8Array): Obj {
  return DocumentType.toObject(DocumentType.decode(bytes), {
    longs: Number,
    defaults: false,
    arrays: false,
    oneofs: false,
  });
}

const here = path.dirname(fileURLToPath(import.meta.url));
const upstreamSwagger = path.resolve(here, '../../../../shared/kubernetes/openapi/swagger.json');

describe('encodeOpenAPIV2Document', () => {
  it('carries every fact of our document, as protobufjs decodes it', () => {
    const doc = OpenAPISpecs.builtin().v2() as unknown as Obj;
    const back = documentFrom(decodeWithProtobufjs(encodeOpenAPIV2Document(doc)));
    assert.deepEqual(back, withoutDefaults(doc));
  });

  it(
    "carries every fact of upstream's document, descriptions included",
    { skip: !existsSync(upstreamSwagger) && 'no ../shared swagger.json' },
    () => {
      const doc = JSON.parse(readFileSync(upstreamSwagger, 'utf8')) as Obj;
      const back = documentFrom(decodeWithProtobufjs(encodeOpenAPIV2Document(doc)));
      assert.deepEqual(back, withoutDefaults(doc));
    },
  );

  it('maps each kind of member as gnostic does', () => {
    const doc = {
      swagger: '2.0',
      info: { title: 't', version: 'v' },
      paths: {
        '/a/{name}': {
          parameters: [
            { in: 'path', name: 'name', required: true, type: 'string' },
            { $ref: '#/parameters/p' },
          ],
          post: {
            parameters: [
              { in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/D' } },
              { in: 'query', name: 'dryRun', type: 'string', uniqueItems: true },
              { in: 'header', name: 'h', type: 'string' },
            ],
            responses: {
              '200': { description: 'OK', schema: { type: 'string' } },
              '401': { $ref: '#/responses/x' },
            },
            'x-kubernetes-action': 'post',
            'x-kubernetes-group-version-kind': { group: '', kind: 'D', version: 'v1' },
          },
        },
        'x-ext': [1, 'two'],
      },
      definitions: {
        D: {
          type: 'object',
          required: ['spec'],
          properties: {
            spec: { type: 'object', additionalProperties: { type: 'integer', format: 'int64' } },
            flag: { type: 'boolean', default: false },
            mode: { type: 'string', enum: ['A', 'B', '1'] },
            list: {
              type: 'array',
              items: { $ref: '#/definitions/E' },
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
            },
            open: { type: 'object', additionalProperties: false, minProperties: 1, maximum: 2.5 },
          },
          'x-kubernetes-group-version-kind': [{ group: '', kind: 'D', version: 'v1' }],
        },
      },
      parameters: { p: { in: 'query', name: 'pretty', type: 'string', uniqueItems: true } },
      security: [{ BearerToken: [] }],
      securityDefinitions: { BearerToken: { in: 'header', name: 'authorization', type: 'apiKey' } },
    };
    const decoded = decodeWithProtobufjs(encodeOpenAPIV2Document(doc));
    assert.deepEqual(documentFrom(decoded), withoutDefaults(doc));
    // Vendor extensions are YAML text, as gnostic writes them.
    const def = (
      decoded.definitions as {
        additional_properties: { value: { vendor_extension: { value: { yaml: string } }[] } }[];
      }
    ).additional_properties[0]!.value;
    assert.equal(def.vendor_extension[0]!.value.yaml, '- group: ""\n  kind: D\n  version: v1\n');
  });
});

describe('kubectl 1.27 and 1.28 reading our /openapi/v2', () => {
  let server: FakeAPIServer;
  let served: Uint8Array = new Uint8Array(0);
  const doc = OpenAPISpecs.builtin().v2() as unknown as Obj;

  before(async () => {
    server = await startFakeAPIServer(
      {
        v1: [
          { name: 'pods', kind: 'Pod', namespaced: true },
          { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
        ],
        'apps/v1': [{ name: 'deployments', kind: 'Deployment', namespaced: true }],
      },
      (req): Reply | undefined => {
        if (req.path === '/openapi/v2' && req.accept.includes(openAPIV2ProtobufAccept)) {
          return { status: 200, contentType: openAPIV2ProtobufContentType, body: Buffer.from(served) };
        }
        if (req.method === 'POST') return { status: 201, contentType: 'application/json', body: req.body };
        return undefined;
      },
    );
  });

  after(async () => {
    await server.close();
  });

  it('explains a resource from it', async () => {
    served = encodeOpenAPIV2Document(doc);
    for (const minor of [27, 28]) {
      const r = await server.kubectl(minor, ['explain', 'deployment.spec.strategy']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /KIND:\s+Deployment/);
      assert.match(r.stdout, /VERSION:\s+apps\/v1/);
      assert.match(r.stdout, /rollingUpdate\s+<Object>/);
      assert.match(r.stdout, /type\s+<string>/);
      const pods = await server.kubectl(minor, ['explain', 'pods.spec.containers.resources']);
      assert.match(pods.stdout, /limits\s+<map\[string\]string>/);
    }
  });

  it(
    "shows upstream's descriptions when the document has them",
    { skip: !existsSync(upstreamSwagger) && 'no ../shared swagger.json' },
    async () => {
      const upstream = JSON.parse(readFileSync(upstreamSwagger, 'utf8')) as {
        definitions: Record<string, { description: string }>;
      };
      served = encodeOpenAPIV2Document(upstream);
      const r = await server.kubectl(27, ['explain', 'configmap']);
      assert.equal(r.code, 0, r.stderr);
      const words = (s: string) => s.split(/\s+/).filter(Boolean).join(' ');
      const description = words(upstream.definitions['io.k8s.api.core.v1.ConfigMap']!.description);
      assert.ok(words(r.stdout).includes(description), r.stdout);
    },
  );

  it('finds fieldValidation in the paths and leaves validation to the server', async () => {
    served = encodeOpenAPIV2Document(doc);
    const before = server.requests.length;
    const r = await server.kubectl(27, ['create', '-f', '-'], bogusPod);
    assert.equal(r.code, 0, r.stderr);
    const post = server.requests.slice(before).find((q) => q.method === 'POST');
    assert.match(post?.url ?? '', /^\/api\/v1\/namespaces\/default\/pods\?.*fieldValidation=Strict/);
  });

  it('validates against the definitions itself when the paths offer no fieldValidation', async () => {
    // Without the parameter kubectl 1.27 falls back to its own schema validation, which needs the
    // definitions, their $refs, properties and types to have come through.
    const withoutParam = structuredClone(doc) as {
      paths: Record<string, Record<string, { parameters?: { name?: string }[] }>>;
    };
    for (const item of Object.values(withoutParam.paths)) {
      for (const op of Object.values(item))
        if (Array.isArray(op.parameters))
          op.parameters = op.parameters.filter((p) => p.name !== 'fieldValidation');
    }
    served = encodeOpenAPIV2Document(withoutParam);
    const before = server.requests.length;
    for (const minor of [27, 28]) {
      const unknownField = await server.kubectl(minor, ['create', '--dry-run=client', '-f', '-'], bogusPod);
      assert.notEqual(unknownField.code, 0);
      assert.match(
        unknownField.stderr,
        /ValidationError\(Pod\.spec\.containers\[0\]\): unknown field "bogus" in io\.k8s\.api\.core\.v1\.Container/,
      );
      const wrongType = await server.kubectl(minor, ['create', '--dry-run=client', '-f', '-'], badDeployment);
      assert.notEqual(wrongType.code, 0);
      assert.match(
        wrongType.stderr,
        /ValidationError\(Deployment\.spec\.replicas\): invalid type for io\.k8s\.api\.apps\.v1\.DeploymentSpec\.replicas: got "string", expected "integer"/,
      );
      const good = await server.kubectl(
        minor,
        ['create', '--dry-run=client', '-f', '-', '-o', 'name'],
        goodDeployment,
      );
      assert.equal(good.code, 0, good.stderr);
      assert.equal(good.stdout.trim(), 'deployment.apps/web');
    }
    assert.equal(server.requests.slice(before).filter((q) => q.method === 'POST').length, 0);
  });
});

const bogusPod = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'demo' },
  spec: { containers: [{ name: 'c', image: 'busybox', bogus: 1 }] },
});

const deployment = (replicas: unknown) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'web', image: 'nginx', resources: { limits: { cpu: '1', memory: '1Gi' } } }],
        },
      },
    },
  });
const badDeployment = deployment('two');
const goodDeployment = deployment(2);
