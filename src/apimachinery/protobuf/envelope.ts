// The envelope of every Kubernetes protobuf body (application/vnd.kubernetes.protobuf): the four bytes
// "k8s\0", then a runtime.Unknown message that names the object's apiVersion and kind and carries the
// object's own protobuf bytes in `raw`.
import { ProtobufError, protobufErrors } from './protobuf-error.js';
import { ProtobufReader, ProtobufWriter, wireType } from './wire.js';

/** The magic prefix of a Kubernetes protobuf body. */
export const protobufPrefix: Uint8Array = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** runtime.Unknown with its TypeMeta flattened. */
export interface RuntimeUnknown {
  apiVersion: string;
  kind: string;
  /** The object's message bytes; undefined when the envelope carries none. */
  raw: Uint8Array | undefined;
  contentEncoding: string;
  contentType: string;
}

/** True when `data` starts with the protobuf envelope's prefix. */
export function hasProtobufPrefix(data: Uint8Array): boolean {
  return data.length >= protobufPrefix.length && protobufPrefix.every((b, i) => data[i] === b);
}

function readTypeMeta(r: ProtobufReader, into: RuntimeUnknown): void {
  while (!r.done) {
    const { field, wireType: wt } = r.tag();
    if (wt === wireType.endGroup)
      throw new ProtobufError('proto: TypeMeta: wiretype end group for non-group');
    if (field <= 0) throw protobufErrors.illegalTag('TypeMeta', field, wt);
    if (field === 1 || field === 2) {
      if (wt !== wireType.bytes) throw protobufErrors.wrongWireType(wt, field === 1 ? 'APIVersion' : 'Kind');
      if (field === 1) into.apiVersion = r.string();
      else into.kind = r.string();
    } else r.skip(wt, field);
  }
}

const unknownFieldNames = ['', 'TypeMeta', 'Raw', 'ContentEncoding', 'ContentType'];

/** Reads a body's envelope, with the errors upstream's protobuf serializer gives for a bad one. */
export function decodeEnvelope(data: Uint8Array): RuntimeUnknown {
  if (data.length === 0) throw new ProtobufError('empty data');
  if (!hasProtobufPrefix(data)) {
    throw new ProtobufError(
      `provided data does not appear to be a protobuf message, expected prefix [${protobufPrefix.join(' ')}]`,
    );
  }
  if (data.length === protobufPrefix.length) throw new ProtobufError('empty body');
  const out: RuntimeUnknown = {
    apiVersion: '',
    kind: '',
    raw: undefined,
    contentEncoding: '',
    contentType: '',
  };
  const r = new ProtobufReader(data, protobufPrefix.length);
  while (!r.done) {
    const { field, wireType: wt } = r.tag();
    if (wt === wireType.endGroup) throw new ProtobufError('proto: Unknown: wiretype end group for non-group');
    if (field <= 0) throw protobufErrors.illegalTag('Unknown', field, wt);
    if (field > 4) {
      r.skip(wt, field);
      continue;
    }
    if (wt !== wireType.bytes) throw protobufErrors.wrongWireType(wt, unknownFieldNames[field] ?? '');
    switch (field) {
      case 1:
        readTypeMeta(r.sub(), out);
        break;
      case 2:
        out.raw = r.bytes();
        break;
      case 3:
        out.contentEncoding = r.string();
        break;
      default:
        out.contentType = r.string();
    }
  }
  return out;
}

/** Writes a body: the prefix and the envelope, fields as upstream's serializer writes them. */
export function encodeEnvelope(unknown: RuntimeUnknown): Uint8Array {
  const w = new ProtobufWriter();
  w.tag(1, wireType.bytes).fork();
  w.tag(1, wireType.bytes).string(unknown.apiVersion);
  w.tag(2, wireType.bytes).string(unknown.kind);
  w.ldelim();
  if (unknown.raw !== undefined) w.tag(2, wireType.bytes).bytes(unknown.raw);
  w.tag(3, wireType.bytes).string(unknown.contentEncoding);
  w.tag(4, wireType.bytes).string(unknown.contentType);
  const body = w.finish();
  const out = new Uint8Array(protobufPrefix.length + body.length);
  out.set(protobufPrefix);
  out.set(body, protobufPrefix.length);
  return out;
}
