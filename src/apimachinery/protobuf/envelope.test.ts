import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEnvelope, encodeEnvelope, hasProtobufPrefix } from './envelope.js';
import { ProtobufError } from './protobuf-error.js';
import { ProtobufWriter, wireType } from './wire.js';

function fails(data: Uint8Array, message: string): void {
  assert.throws(
    () => decodeEnvelope(data),
    (err: unknown) => err instanceof ProtobufError && err.message === message,
  );
}

const prefix = [0x6b, 0x38, 0x73, 0x00];

describe('the protobuf envelope', () => {
  it('round-trips runtime.Unknown with its type, raw bytes and content fields', () => {
    const unknown = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      raw: Uint8Array.of(10, 0, 18, 0),
      contentEncoding: 'gzip',
      contentType: 'application/vnd.kubernetes.protobuf',
    };
    const data = encodeEnvelope(unknown);
    assert.ok(hasProtobufPrefix(data));
    const back = decodeEnvelope(data);
    assert.deepEqual({ ...back, raw: [...(back.raw ?? [])] }, { ...unknown, raw: [10, 0, 18, 0] });
  });

  it('writes the fields in upstream order: typeMeta, raw, contentEncoding and contentType even when empty', () => {
    const data = encodeEnvelope({
      apiVersion: 'v1',
      kind: 'Pod',
      raw: Uint8Array.of(),
      contentEncoding: '',
      contentType: '',
    });
    assert.deepEqual(
      [...data],
      [
        ...prefix,
        0x0a,
        0x09,
        0x0a,
        0x02,
        0x76,
        0x31,
        0x12,
        0x03,
        0x50,
        0x6f,
        0x64,
        0x12,
        0x00,
        0x1a,
        0x00,
        0x22,
        0x00,
      ],
    );
  });

  it('skips fields it does not know and reads fields in any order', () => {
    const w = new ProtobufWriter();
    w.tag(4, wireType.bytes).string('ct');
    w.tag(9, wireType.varint).uint32(1);
    w.tag(1, wireType.bytes).fork().tag(2, wireType.bytes).string('Pod').tag(7, wireType.fixed32).fixed32(1);
    w.tag(1, wireType.bytes).string('v1').ldelim();
    const data = Uint8Array.from([...prefix, ...w.finish()]);
    assert.deepEqual(decodeEnvelope(data), {
      apiVersion: 'v1',
      kind: 'Pod',
      raw: undefined,
      contentEncoding: '',
      contentType: 'ct',
    });
  });

  it("refuses what is not a protobuf body with the serializer's words", () => {
    fails(Uint8Array.of(), 'empty data');
    fails(
      Buffer.from('{"kind":"Pod"}'),
      'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
    );
    fails(
      Uint8Array.of(0x6b, 0x38),
      'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
    );
    fails(Uint8Array.from(prefix), 'empty body');
    fails(Uint8Array.from([...prefix, 0x0a, 0x05, 0x0a]), 'unexpected EOF');
    fails(Uint8Array.from([...prefix, 0x08, 0x01]), 'proto: wrong wireType = 0 for field TypeMeta');
    fails(Uint8Array.from([...prefix, 0x02, 0x00]), 'proto: Unknown: illegal tag 0 (wire type 2)');
    fails(Uint8Array.from([...prefix, 0x0c]), 'proto: Unknown: wiretype end group for non-group');
  });
});
