// CRI v1 as a gRPC package definition, built from our compact descriptor (descriptor.ts, generated from
// upstream's field numbers) so that no .proto file has to ship next to the compiled code.
import { fromJSON } from '@grpc/proto-loader';
import type { Options, PackageDefinition } from '@grpc/proto-loader';
import { criEnums, criMessages, criServices } from './descriptor.js';

type NamespaceSpec = Parameters<typeof fromJSON>[0];
interface FieldSpec {
  type: string;
  id: number;
  rule?: 'repeated';
  keyType?: string;
}
interface TypeSpec {
  fields?: Record<string, FieldSpec>;
  values?: Record<string, number>;
  methods?: Record<string, unknown>;
  nested?: Record<string, TypeSpec>;
}

function parseField(spec: string): [string, FieldSpec] {
  const m = /^(\*?)([A-Za-z_][A-Za-z0-9_]*):(?:map<(\w+),([\w.]+)>|([\w.]+))=(\d+)$/.exec(spec);
  if (!m) throw new Error(`bad CRI field spec ${spec}`);
  const [, repeated, name, keyType, valueType, type, id] = m as unknown as string[];
  const field: FieldSpec = { type: (keyType ? valueType : type)!, id: Number(id) };
  if (keyType) field.keyType = keyType;
  else if (repeated) field.rule = 'repeated';
  return [camelCase(name!), field];
}

/**
 * protobufjs' rule for keepCase: false (an underscore before a lower-case letter goes and the letter is
 * raised). fromJSON takes names as given, so the descriptor gets the camelCase names itself; only field
 * numbers reach the wire.
 */
function camelCase(name: string): string {
  return name[0] + name.slice(1).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Places a type at its dotted path ("Outer.Inner") under the package namespace. */
function place(pkg: Record<string, TypeSpec>, dotted: string, spec: TypeSpec): void {
  const parts = dotted.split('.');
  let ns = pkg;
  for (const part of parts.slice(0, -1)) {
    const outer = (ns[part] ??= {});
    ns = outer.nested ??= {};
  }
  const last = parts[parts.length - 1]!;
  ns[last] = { ...ns[last], ...spec };
}

function buildNamespace(): NamespaceSpec {
  const v1: Record<string, TypeSpec> = {};
  for (const [name, fields] of Object.entries(criMessages)) {
    place(v1, name, { fields: Object.fromEntries(fields.map(parseField)) });
  }
  for (const [name, values] of Object.entries(criEnums)) place(v1, name, { values });
  for (const [service, methods] of Object.entries(criServices)) {
    const table: Record<string, unknown> = {};
    for (const [method, requestType, responseType, responseStream] of methods) {
      // protobufjs' typings want a comment on every method.
      table[method] = { requestType, responseType, responseStream, comment: '' };
    }
    v1[service] = { methods: table };
  }
  return { nested: { runtime: { nested: { v1: { nested: v1 } } } } };
}

/**
 * How messages are decoded: camelCase field names, 64-bit integers as JS numbers, enums by name, absent
 * fields left out except repeated and map fields (empty arrays and objects), bytes as Buffers. See types.ts.
 */
export const criLoaderOptions: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: false,
  arrays: true,
  objects: true,
  oneofs: true,
};

/** The loaded CRI API: services "runtime.v1.RuntimeService" and "runtime.v1.ImageService". */
export const criRpc: PackageDefinition = fromJSON(buildNamespace(), criLoaderOptions);

/** The gRPC service names. */
export const runtimeServiceName = 'runtime.v1.RuntimeService';
export const imageServiceName = 'runtime.v1.ImageService';

/** A type name as referenced from message `scope` (protobuf's lookup: innermost enclosing scope first). */
function resolveType(scope: string, type: string): string | undefined {
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const name = [...parts.slice(0, i), type].join('.');
    if (name in criMessages || name in criEnums) return name;
  }
  return undefined;
}

const parsedFields = new Map<string, [string, FieldSpec, string | undefined][]>();
function fieldsOf(message: string): [string, FieldSpec, string | undefined][] {
  let f = parsedFields.get(message);
  if (!f) {
    f = (criMessages[message] ?? []).map(parseField).map(([name, spec]): [string, FieldSpec, string | undefined] => [name, spec, resolveType(message, spec.type)]);
    parsedFields.set(message, f);
  }
  return f;
}

/**
 * Fills in the enum fields a peer left out of a decoded `message`, recursively. proto3 does not send a
 * field at its zero value, so Go runtimes (containerd) omit SANDBOX_READY, CONTAINER_CREATED and the like,
 * and decoding with `defaults: false` would leave them undefined instead of the value they mean.
 */
export function fillEnumDefaults(message: string, value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const [name, spec, resolved] of fieldsOf(message)) {
    if (resolved === undefined) continue;
    if (resolved in criEnums) {
      if (obj[name] === undefined && spec.rule === undefined && spec.keyType === undefined) {
        const zero = Object.entries(criEnums[resolved]!).find(([, n]) => n === 0);
        if (zero) obj[name] = zero[0];
      }
      continue;
    }
    const v = obj[name];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) fillEnumDefaults(resolved, x);
    else if (spec.keyType !== undefined) for (const x of Object.values(v as Record<string, unknown>)) fillEnumDefaults(resolved, x);
    else fillEnumDefaults(resolved, v);
  }
}
