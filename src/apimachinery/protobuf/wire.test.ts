import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { ProtobufError } from './protobuf-error.js';
import { ProtobufReader, ProtobufWriter, wireType } from './wire.js';

/** A small deterministic generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bytes = (...b: number[]) => Uint8Array.from(b);

function throwsProtobuf(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => err instanceof ProtobufError && err.message === message);
}

describe('ProtobufWriter', () => {
  it('writes what protobufjs writes for the same values', () => {
    const random = prng(7);
    for (let i = 0; i < 500; i++) {
      const int32 = Math.floor(random() * 2 ** 32) - 2 ** 31;
      const uint32 = Math.floor(random() * 2 ** 32);
      const int64 = Math.floor((random() - 0.5) * 2 ** 53);
      const dbl = (random() - 0.5) * 1e12;
      const text = 'ä€😀'.repeat(Math.floor(random() * 60)) + 'x'.repeat(Math.floor(random() * 300));
      const ours = new ProtobufWriter()
        .tag(1, wireType.varint)
        .int32(int32)
        .tag(2, wireType.varint)
        .uint32(uint32)
        .tag(3, wireType.varint)
        .int64(int64)
        .tag(4, wireType.fixed64)
        .double(dbl)
        .tag(5, wireType.bytes)
        .string(text)
        .tag(6, wireType.varint)
        .bool(i % 2 === 0)
        .tag(536870911, wireType.fixed32)
        .fixed32(uint32)
        .finish();
      const theirs = protobuf.Writer.create()
        .uint32((1 << 3) | 0)
        .int32(int32)
        .uint32((2 << 3) | 0)
        .uint32(uint32)
        .uint32((3 << 3) | 0)
        .int64(int64)
        .uint32((4 << 3) | 1)
        .double(dbl)
        .uint32((5 << 3) | 2)
        .string(text)
        .uint32((6 << 3) | 0)
        .bool(i % 2 === 0)
        .uint32(((536870911 << 3) | 5) >>> 0)
        .fixed32(uint32)
        .finish();
      assert.deepEqual(Buffer.from(ours), Buffer.from(theirs), `case ${i}`);
    }
  });

  it('writes nested length-delimited fields of every length class', () => {
    for (const n of [0, 1, 127, 128, 300, 16383, 16384, 70000, 2097152]) {
      const payload = new Uint8Array(n).fill(0x61);
      const w = new ProtobufWriter().tag(1, wireType.bytes).fork();
      w.tag(2, wireType.bytes).bytes(payload);
      w.ldelim().tag(3, wireType.varint).uint32(9);
      const r = new ProtobufReader(w.finish());
      assert.deepEqual(r.tag(), { field: 1, wireType: wireType.bytes });
      const inner = r.sub();
      assert.deepEqual(inner.tag(), { field: 2, wireType: wireType.bytes });
      assert.equal(inner.bytes().length, n);
      assert.ok(inner.done);
      assert.deepEqual(r.tag(), { field: 3, wireType: wireType.varint });
      assert.equal(r.uint32(), 9);
      assert.ok(r.done);
    }
  });

  it('sign-extends negative int32 to ten bytes, as Go does', () => {
    assert.deepEqual(
      [...new ProtobufWriter().int32(-1).finish()],
      [255, 255, 255, 255, 255, 255, 255, 255, 255, 1],
    );
    assert.deepEqual(
      [...new ProtobufWriter().int64(-2).finish()],
      [254, 255, 255, 255, 255, 255, 255, 255, 255, 1],
    );
  });
});

describe('ProtobufReader', () => {
  it('reads what protobufjs writes', () => {
    const random = prng(11);
    for (let i = 0; i < 500; i++) {
      const int32 = Math.floor(random() * 2 ** 32) - 2 ** 31;
      const int64 = Math.floor((random() - 0.5) * 2 ** 53);
      const uint64 = Math.floor(random() * 2 ** 53);
      const flt = Math.fround((random() - 0.5) * 1000);
      const data = protobuf.Writer.create()
        .int32(int32)
        .int64(int64)
        .uint64(uint64)
        .float(flt)
        .fixed64(uint64)
        .bytes(Uint8Array.of(1, 2, 3))
        .finish();
      const r = new ProtobufReader(data);
      assert.equal(r.int32(), int32);
      assert.equal(r.int64(), int64);
      assert.equal(r.uint64(), uint64);
      assert.equal(r.float(), flt);
      assert.equal(r.fixed64(), uint64);
      assert.deepEqual([...r.bytes()], [1, 2, 3]);
      assert.ok(r.done);
    }
  });

  it('takes an int32 from the low 32 bits of a longer varint, as Go does', () => {
    const r = new ProtobufReader(new ProtobufWriter().int64(2 ** 32 + 5).finish());
    assert.equal(r.int32(), 5);
  });

  it('skips every wire type, including nested groups', () => {
    const w = new ProtobufWriter();
    w.tag(1, wireType.varint).int64(-1);
    w.tag(2, wireType.fixed64).double(1.5);
    w.tag(3, wireType.bytes).string('skip me');
    w.tag(4, wireType.fixed32).fixed32(7);
    w.tag(5, wireType.startGroup).tag(6, wireType.startGroup).tag(7, wireType.varint).uint32(1);
    w.tag(6, wireType.endGroup).tag(5, wireType.endGroup);
    w.tag(9, wireType.varint).uint32(42);
    const r = new ProtobufReader(w.finish());
    for (;;) {
      const t = r.tag();
      if (t.field === 9) break;
      r.skip(t.wireType, t.field);
    }
    assert.equal(r.uint32(), 42);
    assert.ok(r.done);
  });

  it('rejects malformed input with the errors Go gives', () => {
    throwsProtobuf(() => new ProtobufReader(bytes(0x80)).uint32(), 'unexpected EOF');
    throwsProtobuf(
      () => new ProtobufReader(bytes(...new Array<number>(11).fill(0xff), 1)).int64(),
      'proto: integer overflow',
    );
    throwsProtobuf(() => new ProtobufReader(bytes(5, 1, 2)).bytes(), 'unexpected EOF');
    throwsProtobuf(
      () => new ProtobufReader(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)).bytes(),
      'proto: negative length found during unmarshaling',
    );
    throwsProtobuf(() => new ProtobufReader(bytes(0x80, 0x80, 0x80, 0x80, 0x10)).bytes(), 'unexpected EOF');
    throwsProtobuf(() => new ProtobufReader(bytes(1, 2, 3)).fixed32(), 'unexpected EOF');
    throwsProtobuf(() => new ProtobufReader(bytes()).skip(6), 'proto: illegal wireType 6');
    throwsProtobuf(
      () => new ProtobufReader(bytes((2 << 3) | 4)).skip(wireType.startGroup, 1),
      'proto: unexpected end of group',
    );
    throwsProtobuf(
      () => new ProtobufReader(bytes((1 << 3) | 3)).skip(wireType.startGroup, 1),
      'unexpected EOF',
    );
    const deep = new Uint8Array(200).fill((1 << 3) | 3);
    throwsProtobuf(
      () => new ProtobufReader(deep).skip(wireType.startGroup, 1),
      'proto: message nested too deeply',
    );
  });

  it('never reads past the end of a sub-message', () => {
    const w = new ProtobufWriter().tag(1, wireType.bytes).fork();
    w.tag(1, wireType.bytes).bytes(Uint8Array.of(1, 2, 3, 4));
    w.ldelim();
    const data = w.finish();
    // Claim a longer inner field than the sub-message holds: the inner reader must stop at its own end.
    data[3] = 6;
    const r = new ProtobufReader(data);
    r.tag();
    const inner = r.sub();
    inner.tag();
    throwsProtobuf(() => inner.bytes(), 'unexpected EOF');
  });
});
