// The JSON object the API works with → protobuf, byte for byte as upstream's generated Go marshallers write
// the Go struct that the JSON decodes into: fields in number order, non-pointer scalars and structs always
// written (zero when the JSON lacks them), pointers and slices only when set, map entries sorted by key.
import type { FieldDescriptor, MessageDescriptor, MessageRegistry } from './message-registry.js';
import { ProtobufError } from './protobuf-error.js';
import { parseRFC3339 } from './rfc3339.js';
import { ProtobufWriter, wireType } from './wire.js';

type JsonObject = Record<string, unknown>;

const maxDepth = 64;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class Encoder {
  private readonly registry: MessageRegistry;

  constructor(registry: MessageRegistry) {
    this.registry = registry;
  }

  private fail(path: string, expected: string, v: unknown): never {
    throw new ProtobufError(`cannot encode ${path || '<root>'}: expected ${expected}, got ${describe(v)}`);
  }

  /** Writes the fields of a message (without tag or length) for its JSON value. */
  message(w: ProtobufWriter, name: string, value: unknown, path: string, depth: number): void {
    if (depth > maxDepth) throw new ProtobufError(`cannot encode ${path}: nested too deeply`);
    const d = this.registry.require(name);
    switch (d.form) {
      case 'struct':
        if (value !== undefined && value !== null && !isObject(value)) this.fail(path, 'object', value);
        this.struct(w, d, value ?? {}, path, depth);
        return;
      case 'list':
        if (value !== undefined && value !== null && !Array.isArray(value)) this.fail(path, 'array', value);
        for (const [i, item] of ((value ?? []) as unknown[]).entries())
          this.single(w, d.item, item, `${path}[${i}]`, depth);
        return;
      case 'time':
      case 'microtime': {
        if (value === undefined || value === null) return;
        if (typeof value !== 'string') this.fail(path, 'an RFC 3339 time', value);
        const t = parseRFC3339(value);
        if (t === undefined)
          throw new ProtobufError(`cannot encode ${path}: ${JSON.stringify(value)} is not an RFC 3339 time`);
        // Time keeps whole seconds; MicroTime whole microseconds. Both write nanos, zero or not.
        const nanos = d.form === 'microtime' ? t.nanos - (t.nanos % 1000) : 0;
        w.tag(1, wireType.varint).int64(t.seconds);
        w.tag(2, wireType.varint).int32(nanos);
        return;
      }
      case 'quantity': {
        if (value !== undefined && value !== null && typeof value !== 'string' && typeof value !== 'number') {
          this.fail(path, 'a quantity', value);
        }
        w.tag(1, wireType.bytes).string(value === undefined || value === null ? '0' : String(value));
        return;
      }
      case 'intorstring': {
        const isString = typeof value === 'string';
        if (value !== undefined && value !== null && !isString && typeof value !== 'number')
          this.fail(path, 'an integer or a string', value);
        if (typeof value === 'number' && !Number.isInteger(value))
          this.fail(path, 'an integer or a string', value);
        w.tag(1, wireType.varint).int64(isString ? 1 : 0);
        w.tag(2, wireType.varint).int32(isString ? 0 : (value ?? 0));
        w.tag(3, wireType.bytes).string(isString ? value : '');
        return;
      }
      case 'rawjson':
        if (value === undefined || value === null) return;
        w.tag(1, wireType.bytes).string(JSON.stringify(value));
        return;
    }
  }

  private struct(
    w: ProtobufWriter,
    d: MessageDescriptor & { form: 'struct' },
    obj: JsonObject,
    path: string,
    depth: number,
  ): void {
    for (const f of d.wireOrder) {
      if (f.json === '') {
        // An embedded struct: its fields are the parent's JSON keys.
        w.tag(f.number, wireType.bytes).fork();
        this.message(w, f.type, obj, path, depth + 1);
        w.ldelim();
        continue;
      }
      const v = Object.hasOwn(obj, f.json) ? obj[f.json] : undefined;
      const p = path === '' ? f.json : `${path}.${f.json}`;
      if (f.label === 'repeated') {
        if (v === undefined || v === null) continue;
        if (!Array.isArray(v)) this.fail(p, 'array', v);
        for (const [i, item] of v.entries()) this.single(w, f, item, `${p}[${i}]`, depth);
        continue;
      }
      if (f.label === 'map') {
        if (v === undefined || v === null) continue;
        if (!isObject(v)) this.fail(p, 'object', v);
        for (const key of Object.keys(v).sort(compareKeys))
          this.mapEntry(w, f, key, v[key], `${p}.${key}`, depth);
        continue;
      }
      if (v === undefined || v === null) {
        if (f.pointer) continue;
        if (f.scalar && f.type === 'bytes') continue;
        if (!f.scalar && this.registry.require(f.type).form === 'list') continue;
      }
      this.single(w, f, v, p, depth);
    }
  }

  /** One value of a field, with its tag. */
  private single(w: ProtobufWriter, f: FieldDescriptor, v: unknown, path: string, depth: number): void {
    if (f.scalar) {
      w.tag(
        f.number,
        f.type === 'string' || f.type === 'bytes'
          ? wireType.bytes
          : f.type === 'double'
            ? wireType.fixed64
            : f.type === 'float'
              ? wireType.fixed32
              : wireType.varint,
      );
      this.scalar(w, f.type, v, path);
      return;
    }
    w.tag(f.number, wireType.bytes).fork();
    this.message(w, f.type, v, path, depth + 1);
    w.ldelim();
  }

  private mapEntry(
    w: ProtobufWriter,
    f: FieldDescriptor,
    key: string,
    v: unknown,
    path: string,
    depth: number,
  ): void {
    w.tag(f.number, wireType.bytes).fork();
    w.tag(1, wireType.bytes).string(key);
    // Go writes a []byte map value only when it is not nil; every other value always.
    if (!(f.scalar && f.type === 'bytes' && (v === undefined || v === null)))
      this.single(w, { ...f, number: 2 }, v, path, depth);
    w.ldelim();
  }

  private scalar(w: ProtobufWriter, type: string, v: unknown, path: string): void {
    switch (type) {
      case 'string':
        if (v !== undefined && v !== null && typeof v !== 'string') this.fail(path, 'string', v);
        w.string(v ?? '');
        return;
      case 'bytes': {
        if (v !== undefined && v !== null && typeof v !== 'string') this.fail(path, 'base64 string', v);
        w.bytes(Buffer.from(v ?? '', 'base64'));
        return;
      }
      case 'bool':
        if (v !== undefined && v !== null && typeof v !== 'boolean') this.fail(path, 'boolean', v);
        w.bool(v === true);
        return;
      case 'double':
      case 'float': {
        if (v !== undefined && v !== null && typeof v !== 'number') this.fail(path, 'number', v);
        const n = v ?? 0;
        if (type === 'double') w.double(n);
        else w.float(n);
        return;
      }
      default: {
        if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isInteger(v)))
          this.fail(path, 'integer', v);
        const n = v ?? 0;
        if (type === 'int32') w.int32(n);
        else if (type === 'uint32') w.uint32(n);
        else w.int64(n);
      }
    }
  }
}

/** Encodes the JSON form of a message of the named type into protobuf (the message's fields, no envelope). */
export function encodeMessage(registry: MessageRegistry, name: string, value: unknown): Uint8Array {
  const w = new ProtobufWriter();
  new Encoder(registry).message(w, name, value, '', 0);
  return w.finish();
}
