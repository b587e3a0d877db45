// The protobuf messages of the API types, read from the generated table (message-table.ts) into
// descriptors: for each field its number, protobuf type and the JSON facts that the codec needs to produce
// what Go's encoding/json would write for the same Go struct.
import { messageTable } from './message-table.js';

/** The protobuf scalar types that API fields use. */
export type ScalarType =
  'string' | 'bytes' | 'bool' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'double' | 'float';

/** Messages whose JSON form differs from their protobuf structure. */
export type SpecialForm = 'time' | 'microtime' | 'rawjson' | 'quantity' | 'intorstring';

/** One field of a struct message. */
export interface FieldDescriptor {
  readonly number: number;
  /** The JSON name; '' for a struct whose fields JSON inlines into the parent. */
  readonly json: string;
  readonly omitempty: boolean;
  /** The Go field is a pointer: protobuf carries it only when set, and a set zero value is kept. */
  readonly pointer: boolean;
  readonly label: 'single' | 'repeated' | 'map';
  /** A scalar type or the name of a message. */
  readonly type: string;
  readonly scalar: boolean;
}

/** A message: a struct with fields, a named Go slice wrapped in a message, or a special form. */
export type MessageDescriptor =
  | {
      readonly name: string;
      readonly form: 'struct';
      /** In Go struct order, which is the order of the JSON keys. */
      readonly fields: readonly FieldDescriptor[];
      /** In field-number order, which is the order of the protobuf fields. */
      readonly wireOrder: readonly FieldDescriptor[];
      readonly byNumber: ReadonlyMap<number, FieldDescriptor>;
    }
  | { readonly name: string; readonly form: 'list'; readonly item: FieldDescriptor }
  | { readonly name: string; readonly form: SpecialForm };

/** The shape of message-table.ts. */
export interface MessageTable {
  groups: Record<string, string>;
  kinds: string[];
  messages: Record<string, string>;
}

const scalarTypes = new Set<string>([
  'string',
  'bytes',
  'bool',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'double',
  'float',
]);
const specialForms = new Set<string>(['time', 'microtime', 'rawjson', 'quantity', 'intorstring']);
const fieldSyntax = /^([^?=]*)(\?)?=(\d+):(\*|\[\]|map\[string\])?([\w.]+)$/;

function parseField(text: string, message: string): FieldDescriptor {
  const m = fieldSyntax.exec(text);
  if (!m) throw new Error(`protobuf message table: ${message}: cannot read field "${text}"`);
  const [, json = '', omit, number = '', prefix, type = ''] = m;
  return {
    number: Number(number),
    json,
    omitempty: omit === '?',
    pointer: prefix === '*',
    label: prefix === '[]' ? 'repeated' : prefix === 'map[string]' ? 'map' : 'single',
    type,
    scalar: scalarTypes.has(type),
  };
}

function parseMessage(name: string, spec: string): MessageDescriptor {
  if (spec.startsWith('@')) {
    const form = spec.slice(1);
    if (!specialForms.has(form)) throw new Error(`protobuf message table: ${name}: unknown form ${spec}`);
    return { name, form: form as SpecialForm };
  }
  if (spec.startsWith('[]')) {
    const item = parseField(`items=1:${spec}`, name);
    return { name, form: 'list', item };
  }
  const fields = spec === '' ? [] : spec.split(' ').map((f) => parseField(f, name));
  return {
    name,
    form: 'struct',
    fields,
    wireOrder: [...fields].sort((a, b) => a.number - b.number),
    byNumber: new Map(fields.map((f) => [f.number, f])),
  };
}

// Kinds that apimachinery registers in every group-version, so a body may name them with any apiVersion.
const everywhereKinds = new Set([
  'DeleteOptions',
  'CreateOptions',
  'UpdateOptions',
  'PatchOptions',
  'GetOptions',
  'ListOptions',
  'WatchEvent',
]);
// And those of meta.k8s.io/v1 itself; Status is also a kind of the core group.
const metaGroupKinds = new Set(['Status', 'PartialObjectMetadata', 'PartialObjectMetadataList']);

/** Looks up message descriptors by name and by API group, version and kind. */
export class MessageRegistry {
  private readonly table: MessageTable;
  private readonly parsed = new Map<string, MessageDescriptor>();
  private readonly kinds: ReadonlySet<string>;
  private static builtinRegistry: MessageRegistry | undefined;

  constructor(table: MessageTable) {
    this.table = table;
    this.kinds = new Set(table.kinds);
  }

  /** The registry of the built-in API types. */
  static builtin(): MessageRegistry {
    MessageRegistry.builtinRegistry ??= new MessageRegistry(messageTable);
    return MessageRegistry.builtinRegistry;
  }

  /** Every message name in the table. */
  names(): string[] {
    return Object.keys(this.table.messages);
  }

  /** The descriptor of a message ("apps.v1.Deployment"), or undefined. Descriptors are parsed on first use. */
  get(name: string): MessageDescriptor | undefined {
    let d = this.parsed.get(name);
    if (d === undefined) {
      const spec = Object.hasOwn(this.table.messages, name) ? this.table.messages[name] : undefined;
      if (spec === undefined) return undefined;
      d = parseMessage(name, spec);
      this.parsed.set(name, d);
    }
    return d;
  }

  /** The descriptor of a message that must exist. */
  require(name: string): MessageDescriptor {
    const d = this.get(name);
    if (d === undefined) throw new Error(`protobuf message ${name} is not in the table`);
    return d;
  }

  /** The message name for an object of a group, version and kind, or undefined when that is not a kind we know. */
  messageFor(group: string, version: string, kind: string): string | undefined {
    const pkg = Object.hasOwn(this.table.groups, group) ? this.table.groups[group] : undefined;
    const name = `${pkg}.${version}.${kind}`;
    if (pkg !== undefined && this.kinds.has(name)) return name;
    if (everywhereKinds.has(kind)) return `meta.v1.${kind}`;
    const metaGroup = group === 'meta.k8s.io' || (group === '' && kind === 'Status');
    if (metaGroup && version === 'v1' && metaGroupKinds.has(kind)) return `meta.v1.${kind}`;
    return undefined;
  }
}
