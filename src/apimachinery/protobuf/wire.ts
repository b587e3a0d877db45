// The protobuf wire format: varints, fixed-width numbers and length-delimited fields. The reader checks
// every length against the bytes it has, so malformed input ends in a ProtobufError, never a loop or a read
// past the end; the writer produces what Go's generated marshallers produce for the same values.
import { protobufErrors } from './protobuf-error.js';

/** The wire types of protobuf (groups only to skip them). */
export const wireType = { varint: 0, fixed64: 1, bytes: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

const two32 = 4294967296;
const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();
// Unknown groups nest; bound the nesting as Go's skip functions do implicitly through their stack.
const maxGroupDepth = 100;

/** Reads protobuf fields from a byte range. */
export class ProtobufReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** The high 32 bits of the last varint read, for 64-bit values. */
  private hi = 0;
  private view: DataView | undefined;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** True when every byte of the range has been read. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint and returns its low 32 bits as an unsigned number (the high bits go to this.hi). */
  private varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; ; i++) {
      if (i >= 10) throw protobufErrors.intOverflow();
      if (pos >= this.end) throw protobufErrors.unexpectedEOF();
      const b = buf[pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) break;
    }
    this.pos = pos;
    this.hi = hi >>> 0;
    return lo >>> 0;
  }

  /** A field's tag: its number and wire type. Field number 0 is illegal, as in Go. */
  tag(): { field: number; wireType: number } {
    const lo = this.varint();
    // Go keeps the tag in 64 bits and takes field = int32(tag >> 3), so high bits make the number wrap.
    const field = (lo >>> 3) | (this.hi << 29) | 0;
    return { field, wireType: lo & 7 };
  }

  uint32(): number {
    return this.varint();
  }

  /** An int32 as Go reads it: the low 32 bits of the varint, signed. */
  int32(): number {
    return this.varint() | 0;
  }

  /** An int64 as a number (exact up to 2^53, as JSON numbers are). */
  int64(): number {
    const lo = this.varint();
    return (this.hi | 0) * two32 + lo;
  }

  uint64(): number {
    const lo = this.varint();
    return this.hi * two32 + lo;
  }

  bool(): boolean {
    const lo = this.varint();
    return lo !== 0 || this.hi !== 0;
  }

  private dataView(): DataView {
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.view;
  }

  private need(n: number): number {
    if (this.end - this.pos < n) throw protobufErrors.unexpectedEOF();
    const at = this.pos;
    this.pos += n;
    return at;
  }

  fixed32(): number {
    return this.dataView().getUint32(this.need(4), true);
  }

  fixed64(): number {
    const at = this.need(8);
    return this.dataView().getUint32(at + 4, true) * two32 + this.dataView().getUint32(at, true);
  }

  double(): number {
    return this.dataView().getFloat64(this.need(8), true);
  }

  float(): number {
    return this.dataView().getFloat32(this.need(4), true);
  }

  /** The length of a length-delimited field, checked against the bytes left. */
  length(): number {
    const lo = this.varint();
    // Go converts the 64-bit length to int: a set top bit makes it negative.
    if (this.hi >= 0x80000000) throw protobufErrors.negativeLength();
    if (this.hi !== 0 || lo > this.end - this.pos) throw protobufErrors.unexpectedEOF();
    return lo;
  }

  /** A length-delimited field's bytes (a view into the input, not a copy). */
  bytes(): Uint8Array {
    const n = this.length();
    const at = this.pos;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** A reader over the next length-delimited field, which this reader steps over. */
  sub(): ProtobufReader {
    const n = this.length();
    const r = new ProtobufReader(this.buf, this.pos, this.pos + n);
    r.view = this.view;
    this.pos += n;
    return r;
  }

  /** Steps over a field whose tag was just read. */
  skip(type: number, field = 0, depth = 0): void {
    switch (type) {
      case wireType.varint:
        this.varint();
        return;
      case wireType.fixed64:
        this.need(8);
        return;
      case wireType.bytes: {
        const n = this.length();
        this.pos += n;
        return;
      }
      case wireType.fixed32:
        this.need(4);
        return;
      case wireType.startGroup: {
        if (depth >= maxGroupDepth) throw protobufErrors.tooDeep();
        for (;;) {
          if (this.done) throw protobufErrors.unexpectedEOF();
          const t = this.tag();
          if (t.wireType === wireType.endGroup) {
            if (t.field !== field) throw protobufErrors.unexpectedEndGroup();
            return;
          }
          this.skip(t.wireType, t.field, depth + 1);
        }
      }
      case wireType.endGroup:
        throw protobufErrors.unexpectedEndGroup();
      default:
        throw protobufErrors.illegalWireType(type);
    }
  }
}

/** Writes protobuf fields into a growing buffer. */
export class ProtobufWriter {
  private buf = new Uint8Array(256);
  private pos = 0;
  private readonly forks: number[] = [];
  private view = new DataView(this.buf.buffer);

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private varint32(v: number): void {
    this.ensure(5);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  private varint64(lo: number, hi: number): void {
    this.ensure(10);
    while (hi !== 0 || lo > 0x7f) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  tag(field: number, type: number): this {
    this.varint32(((field << 3) | type) >>> 0);
    return this;
  }

  uint32(v: number): this {
    this.varint32(v >>> 0);
    return this;
  }

  /** An int32; negative values take ten bytes, sign-extended to 64 bits as Go writes them. */
  int32(v: number): this {
    const n = v | 0;
    if (n >= 0) this.varint32(n);
    else this.varint64(n >>> 0, 0xffffffff);
    return this;
  }

  /** An int64 (or uint64) from a number, two's complement for negative values. */
  int64(v: number): this {
    if (!Number.isInteger(v)) throw new RangeError(`not an integer: ${v}`);
    if (v >= 0 && v < two32) {
      this.varint32(v);
      return this;
    }
    const big = BigInt.asUintN(64, BigInt(v));
    this.varint64(Number(big & 0xffffffffn), Number(big >> 32n));
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  fixed32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
    return this;
  }

  fixed64(v: number): this {
    this.ensure(8);
    const big = BigInt.asUintN(64, BigInt(v));
    this.view.setBigUint64(this.pos, big, true);
    this.pos += 8;
    return this;
  }

  double(v: number): this {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
    return this;
  }

  float(v: number): this {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.varint32(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  string(s: string): this {
    // Most strings are short ASCII: reserve one length byte and move the text only when the length needs more.
    this.ensure(1 + s.length * 3);
    const start = this.pos + 1;
    const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(start));
    this.pos = start - 1;
    this.finishLength(start, written);
    return this;
  }

  /** Starts a length-delimited field (after its tag); ldelim() ends it. */
  fork(): this {
    this.ensure(1);
    this.pos += 1;
    this.forks.push(this.pos);
    return this;
  }

  /** Ends the field that the last fork() started and writes its length in front of it. */
  ldelim(): this {
    const start = this.forks.pop();
    if (start === undefined) throw new Error('ProtobufWriter.ldelim without fork');
    const n = this.pos - start;
    this.pos = start - 1;
    this.finishLength(start, n);
    return this;
  }

  /** With this.pos at the reserved length byte before `start`, writes length `n` and moves the body if needed. */
  private finishLength(start: number, n: number): void {
    if (n < 0x80) {
      this.buf[this.pos] = n;
      this.pos = start + n;
      return;
    }
    let size = 1;
    for (let v = n >>> 7; v > 0; v >>>= 7) size++;
    this.ensure(start + n + size - 1 - this.pos);
    this.buf.copyWithin(start + size - 1, start, start + n);
    this.varint32(n);
    this.pos += n;
  }

  /** The bytes written (a copy). */
  finish(): Uint8Array {
    if (this.forks.length > 0) throw new Error('ProtobufWriter.finish with an open length-delimited field');
    return this.buf.slice(0, this.pos);
  }
}
