// Protobuf → the JSON object the API works with. The result is what Go's encoding/json writes for the Go
// struct that upstream's generated code unmarshals the same bytes into: fields in struct order, omitempty
// fields left out when zero, pointer fields present only when the sender set them, embedded structs
// inlined, and the types with their own JSON form (Time, Quantity, IntOrString, RawExtension, ...) in it.
// Protobuf cannot tell an empty slice or map from a nil one, and Go reads both as nil: so a slice, map or
// []byte field that the body leaves out is `null` in the JSON unless the field is omitempty, as in Go.
import type { FieldDescriptor, MessageDescriptor, MessageRegistry } from './message-registry.js';
import { ProtobufError, protobufErrors } from './protobuf-error.js';
import { formatRFC3339, goZeroTimeSeconds } from './rfc3339.js';
import { ProtobufReader, wireType } from './wire.js';

/** Options of decodeMessage. */
export interface DecodeOptions {
  /** Decodes an embedded object (a RawExtension's bytes that start with the protobuf envelope). */
  decodeEmbedded?: (raw: Uint8Array) => unknown;
}

type JsonObject = Record<string, unknown>;

// The API types do not nest this deep; the bound keeps hostile input from exhausting the stack.
const maxDepth = 64;
const emptyBytes = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8');
// Go writes a time's JSON only for years 0 to 9999.
const minJSONSeconds = -62167219200;
const maxJSONSeconds = 253402300799;

/** Go's name for a field in its error messages: the exported field name. */
function goFieldName(f: FieldDescriptor): string {
  const name = f.json === '' ? f.type.slice(f.type.lastIndexOf('.') + 1) : f.json;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function shortName(message: string): string {
  return message.slice(message.lastIndexOf('.') + 1);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function scalarWireType(type: string): number {
  switch (type) {
    case 'string':
    case 'bytes':
      return wireType.bytes;
    case 'double':
      return wireType.fixed64;
    case 'float':
      return wireType.fixed32;
    default:
      return wireType.varint;
  }
}

function readScalar(r: ProtobufReader, type: string): unknown {
  switch (type) {
    case 'string':
      return r.string();
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'bool':
      return r.bool();
    case 'int32':
      return r.int32();
    case 'uint32':
      return r.uint32();
    case 'int64':
      return r.int64();
    case 'uint64':
      return r.uint64();
    case 'double':
      return r.double();
    case 'float':
      return r.float();
    default:
      throw new ProtobufError(`unknown scalar type ${type}`);
  }
}

function zeroScalar(type: string): unknown {
  switch (type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}

class Decoder {
  private readonly registry: MessageRegistry;
  private readonly options: DecodeOptions;

  constructor(registry: MessageRegistry, options: DecodeOptions) {
    this.registry = registry;
    this.options = options;
  }

  /** The JSON value of a whole message of the named type. */
  message(name: string, data: Uint8Array, depth: number): unknown {
    if (depth > maxDepth) throw protobufErrors.tooDeep();
    const d = this.registry.require(name);
    switch (d.form) {
      case 'struct':
        return this.struct(d, data, depth);
      case 'list':
        return this.list(d, data, depth);
      case 'time':
      case 'microtime':
        return this.time(d, data);
      case 'quantity': {
        const s = this.singleString(d, data);
        return s === '' ? '0' : s;
      }
      case 'intorstring':
        return this.intOrString(d, data);
      case 'rawjson':
        return this.rawJSON(d, data);
    }
  }

  /** Reads a message's fields: scalars decoded, message fields as their byte ranges. */
  private fields(
    d: MessageDescriptor & { form: 'struct' | 'list' },
    fields: ReadonlyMap<number, FieldDescriptor>,
    data: Uint8Array,
    depth: number,
  ): Map<number, unknown> {
    const values = new Map<number, unknown>();
    const r = new ProtobufReader(data);
    while (!r.done) {
      const { field, wireType: wt } = r.tag();
      if (wt === wireType.endGroup)
        throw new ProtobufError(`proto: ${shortName(d.name)}: wiretype end group for non-group`);
      if (field <= 0) throw protobufErrors.illegalTag(shortName(d.name), field, wt);
      const f = fields.get(field);
      if (f === undefined) {
        r.skip(wt, field);
        continue;
      }
      if (f.label === 'map') {
        if (wt !== wireType.bytes) throw protobufErrors.wrongWireType(wt, goFieldName(f));
        const entries = (values.get(field) as Map<string, unknown> | undefined) ?? new Map<string, unknown>();
        const [key, value] = this.mapEntry(f, r.sub(), depth);
        entries.set(key, value);
        values.set(field, entries);
        continue;
      }
      if (f.scalar) {
        const expected = scalarWireType(f.type);
        if (f.label === 'repeated' && wt === wireType.bytes && expected !== wireType.bytes) {
          // A packed repeated scalar: Go's generated code accepts both encodings.
          const list = (values.get(field) as unknown[] | undefined) ?? [];
          const packed = r.sub();
          while (!packed.done) list.push(readScalar(packed, f.type));
          values.set(field, list);
          continue;
        }
        if (wt !== expected) throw protobufErrors.wrongWireType(wt, goFieldName(f));
        const v = readScalar(r, f.type);
        if (f.label === 'repeated') {
          const list = (values.get(field) as unknown[] | undefined) ?? [];
          list.push(v);
          values.set(field, list);
        } else values.set(field, v);
        continue;
      }
      if (wt !== wireType.bytes) throw protobufErrors.wrongWireType(wt, goFieldName(f));
      const bytes = r.bytes();
      if (f.label === 'repeated') {
        const list = (values.get(field) as unknown[] | undefined) ?? [];
        list.push(this.message(f.type, bytes, depth + 1));
        values.set(field, list);
      } else {
        // A message field that occurs twice is merged, which is what decoding the concatenation does.
        const parts = (values.get(field) as Uint8Array[] | undefined) ?? [];
        parts.push(bytes);
        values.set(field, parts);
      }
    }
    return values;
  }

  private mapEntry(f: FieldDescriptor, r: ProtobufReader, depth: number): [string, unknown] {
    let key = '';
    let value: unknown;
    const valueScalar = f.scalar;
    while (!r.done) {
      const { field, wireType: wt } = r.tag();
      if (field <= 0) throw protobufErrors.illegalTag(`${goFieldName(f)}Entry`, field, wt);
      if (field === 1) {
        if (wt !== wireType.bytes) throw protobufErrors.wrongWireType(wt, `${goFieldName(f)} key`);
        key = r.string();
      } else if (field === 2) {
        const expected = valueScalar ? scalarWireType(f.type) : wireType.bytes;
        if (wt !== expected) throw protobufErrors.wrongWireType(wt, `${goFieldName(f)} value`);
        value = valueScalar ? readScalar(r, f.type) : this.message(f.type, r.bytes(), depth + 1);
      } else r.skip(wt, field);
    }
    if (value === undefined)
      value = valueScalar ? zeroScalar(f.type) : this.message(f.type, emptyBytes, depth + 1);
    return [key, value];
  }

  private struct(d: MessageDescriptor & { form: 'struct' }, data: Uint8Array, depth: number): JsonObject {
    const values = this.fields(d, d.byNumber, data, depth);
    const out: JsonObject = {};
    for (const f of d.fields) {
      const v = values.get(f.number);
      if (v === undefined && this.isNil(f)) {
        // Go's nil pointer, slice, map or []byte: null, or nothing when omitempty.
        if (!f.omitempty) out[f.json] = null;
        continue;
      }
      if (f.label === 'map') {
        const sorted = [...(v as Map<string, unknown>)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        out[f.json] = Object.fromEntries(sorted);
      } else if (f.label === 'repeated' || f.pointer) {
        out[f.json] =
          f.scalar || f.label === 'repeated' ? v : this.message(f.type, concat(v as Uint8Array[]), depth + 1);
      } else if (f.scalar) {
        const value = v ?? zeroScalar(f.type);
        if (!(f.omitempty && value === zeroScalar(f.type))) out[f.json] = value;
      } else {
        // A struct held by value: Go writes it even when empty (omitempty does not apply to structs).
        const value = this.message(
          f.type,
          v === undefined ? emptyBytes : concat(v as Uint8Array[]),
          depth + 1,
        );
        if (f.json === '') Object.assign(out, value);
        else out[f.json] = value;
      }
    }
    return out;
  }

  /** True for a field whose Go zero value is nil: a pointer, slice, map, []byte or named slice. */
  private isNil(f: FieldDescriptor): boolean {
    if (f.pointer || f.label !== 'single') return true;
    if (f.scalar) return f.type === 'bytes';
    return this.registry.require(f.type).form === 'list';
  }

  private list(d: MessageDescriptor & { form: 'list' }, data: Uint8Array, depth: number): unknown[] {
    const values = this.fields(d, new Map([[1, d.item]]), data, depth);
    return (values.get(1) as unknown[] | undefined) ?? [];
  }

  /** Reads the fields of a small fixed message by number: varints as numbers, length-delimited as bytes. */
  private simple(d: MessageDescriptor, data: Uint8Array): Map<number, number | Uint8Array> {
    const out = new Map<number, number | Uint8Array>();
    const r = new ProtobufReader(data);
    while (!r.done) {
      const { field, wireType: wt } = r.tag();
      if (field <= 0) throw protobufErrors.illegalTag(shortName(d.name), field, wt);
      if (wt === wireType.varint) out.set(field, r.int64());
      else if (wt === wireType.bytes) out.set(field, r.bytes());
      else r.skip(wt, field);
    }
    return out;
  }

  private time(d: MessageDescriptor, data: Uint8Array): string | null {
    // An empty Timestamp is Go's zero time, whose JSON is null.
    if (data.length === 0) return null;
    const f = this.simple(d, data);
    const seconds = this.number(f, 1, 'Seconds');
    const rawNanos = this.number(f, 2, 'Nanos') | 0;
    // metav1.Time drops the nanoseconds when it reads protobuf; MicroTime keeps whole microseconds.
    const nanos = d.form === 'microtime' ? rawNanos - (rawNanos % 1000) : 0;
    if (seconds === goZeroTimeSeconds && nanos === 0) return null;
    if (seconds < minJSONSeconds || seconds > maxJSONSeconds || nanos < 0 || nanos >= 1e9) {
      throw new ProtobufError('Time.MarshalJSON: year outside of range [0,9999]');
    }
    return formatRFC3339(seconds, nanos, d.form === 'microtime');
  }

  private number(f: Map<number, number | Uint8Array>, field: number, name: string): number {
    const v = f.get(field) ?? 0;
    if (typeof v !== 'number') throw protobufErrors.wrongWireType(wireType.bytes, name);
    return v;
  }

  private singleString(d: MessageDescriptor, data: Uint8Array): string {
    const v = this.simple(d, data).get(1);
    if (v === undefined) return '';
    if (typeof v === 'number') throw protobufErrors.wrongWireType(wireType.varint, 'String_');
    return utf8.decode(v);
  }

  private intOrString(d: MessageDescriptor, data: Uint8Array): number | string {
    const f = this.simple(d, data);
    const type = f.get(1) ?? 0;
    if (type === 0) {
      const v = f.get(2) ?? 0;
      if (typeof v !== 'number') throw protobufErrors.wrongWireType(wireType.bytes, 'IntVal');
      return v | 0;
    }
    if (type === 1) {
      const v = f.get(3);
      if (typeof v === 'number') throw protobufErrors.wrongWireType(wireType.varint, 'StrVal');
      return v === undefined ? '' : utf8.decode(v);
    }
    throw new ProtobufError('impossible IntOrString.Type');
  }

  private rawJSON(d: MessageDescriptor, data: Uint8Array): unknown {
    const raw = this.simple(d, data).get(1);
    if (raw === undefined || typeof raw === 'number' || raw.length === 0) return null;
    if (
      raw.length >= 4 &&
      raw[0] === 0x6b &&
      raw[1] === 0x38 &&
      raw[2] === 0x73 &&
      raw[3] === 0 &&
      this.options.decodeEmbedded
    ) {
      return this.options.decodeEmbedded(raw);
    }
    try {
      return JSON.parse(utf8.decode(raw)) as unknown;
    } catch (err) {
      throw new ProtobufError(`${shortName(d.name)} does not hold JSON: ${(err as Error).message}`);
    }
  }
}

/** Decodes a protobuf message of the named type (as in the message table) into its JSON form. */
export function decodeMessage(
  registry: MessageRegistry,
  name: string,
  data: Uint8Array,
  options: DecodeOptions = {},
): unknown {
  return new Decoder(registry, options).message(name, data, 0);
}
