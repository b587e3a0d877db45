// The DNS wire format (RFC 1035, AAAA from RFC 3596, SRV from RFC 2782, OPT from RFC 6891): messages with
// a header, questions and resource records; names with compression on both decode and encode. Records
// this server makes (A, AAAA, CNAME, PTR, SRV, SOA, NS, TXT) have typed data; any other type and OPT are
// kept as raw bytes.
import { formatIP, parseIP } from '../api/ip.js';

/** Record types by name. */
export const RRType = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
/** Response codes. */
export const RCode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const classIN = 1;

export interface Question {
  name: string;
  type: number;
  class: number;
}

export type RData =
  | { address: string } // A, AAAA
  | { target: string } // CNAME, PTR, NS
  | { priority: number; weight: number; port: number; target: string } // SRV
  | { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number } // SOA
  | { texts: string[] } // TXT
  | { raw: Uint8Array }; // anything else

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: RData;
}

export interface Message {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

/** A decoding failure (the server answers FORMERR). */
export class DNSFormatError extends Error {}

/** Lowercases a name and drops the trailing dot: the form names are compared in. */
export function canonicalName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

class Reader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DNSFormatError('message truncated');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A possibly compressed name, read from the current position. */
  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    let hops = 0;
    for (;;) {
      if (pos >= this.buf.length) throw new DNSFormatError('name runs past the message');
      const len = this.buf[pos]!;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new DNSFormatError('bad compression pointer');
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        if (++hops > 64) throw new DNSFormatError('compression loop');
        pos = target;
        continue;
      }
      if (len > 63) throw new DNSFormatError('bad label length');
      pos++;
      if (len === 0) break;
      if (pos + len > this.buf.length) throw new DNSFormatError('label runs past the message');
      labels.push(new TextDecoder().decode(this.buf.subarray(pos, pos + len)));
      pos += len;
    }
    if (!jumped) this.pos = pos;
    return labels.length === 0 ? '.' : labels.join('.') + '.';
  }
}

function readRecord(r: Reader): ResourceRecord {
  const name = r.name();
  const type = r.u16();
  const cls = r.u16();
  const ttl = r.u32();
  const len = r.u16();
  const end = r.pos + len;
  let data: RData;
  switch (type) {
    case RRType.A:
    case RRType.AAAA: {
      const b = r.bytes(len);
      const value = b.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
      data = { address: formatIP({ family: len === 4 ? 'IPv4' : 'IPv6', value }) };
      break;
    }
    case RRType.CNAME:
    case RRType.PTR:
    case RRType.NS:
      data = { target: r.name() };
      break;
    case RRType.SRV:
      data = { priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() };
      break;
    case RRType.SOA:
      data = { mname: r.name(), rname: r.name(), serial: r.u32(), refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32() };
      break;
    case RRType.TXT: {
      const texts: string[] = [];
      while (r.pos < end) texts.push(new TextDecoder().decode(r.bytes(r.u8())));
      data = { texts };
      break;
    }
    default:
      data = { raw: r.bytes(len) };
  }
  if (r.pos !== end) throw new DNSFormatError('record data length mismatch');
  return { name, type, class: cls, ttl, data };
}

/** Decodes a message. */
export function decodeMessage(buf: Uint8Array): Message {
  const r = new Reader(buf);
  const id = r.u16();
  const flags = r.u16();
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()];
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]!; i++) questions.push({ name: r.name(), type: r.u16(), class: r.u16() });
  const section = (n: number): ResourceRecord[] => Array.from({ length: n }, () => readRecord(r));
  const answers = section(counts[1]!);
  const authorities = section(counts[2]!);
  const additionals = section(counts[3]!);
  return {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
    authorities,
    additionals,
  };
}

class Writer {
  private buf = new Uint8Array(512);
  private view = new DataView(this.buf.buffer);
  len = 0;
  /** Offsets of names already written (lowercase suffix → offset) for compression. */
  private readonly names = new Map<string, number>();

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.grow(1);
    this.buf[this.len++] = v;
  }

  u16(v: number): void {
    this.grow(2);
    this.view.setUint16(this.len, v);
    this.len += 2;
  }

  u32(v: number): void {
    this.grow(4);
    this.view.setUint32(this.len, v >>> 0);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  setU16(at: number, v: number): void {
    this.view.setUint16(at, v);
  }

  name(name: string, compress = true): void {
    const labels = canonicalName(name) === '' ? [] : name.replace(/\.$/, '').split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = this.names.get(suffix);
      if (compress && at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.len < 0x3fff) this.names.set(suffix, this.len);
      const bytes = new TextEncoder().encode(labels[i]);
      if (bytes.length === 0 || bytes.length > 63) throw new DNSFormatError(`bad label in ${name}`);
      this.u8(bytes.length);
      this.bytes(bytes);
    }
    this.u8(0);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function writeRecord(w: Writer, rr: ResourceRecord): void {
  w.name(rr.name);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.len;
  w.u16(0);
  const start = w.len;
  const d = rr.data;
  if ('address' in d) {
    const ip = parseIP(d.address);
    if (!ip) throw new DNSFormatError(`bad address ${d.address}`);
    const n = ip.family === 'IPv4' ? 4 : 16;
    for (let i = n - 1; i >= 0; i--) w.u8(Number((ip.value >> BigInt(i * 8)) & 0xffn));
  } else if ('priority' in d) {
    w.u16(d.priority);
    w.u16(d.weight);
    w.u16(d.port);
    w.name(d.target, false);
  } else if ('target' in d) {
    w.name(d.target);
  } else if ('mname' in d) {
    w.name(d.mname);
    w.name(d.rname);
    for (const v of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) w.u32(v);
  } else if ('texts' in d) {
    for (const t of d.texts) {
      const b = new TextEncoder().encode(t).slice(0, 255);
      w.u8(b.length);
      w.bytes(b);
    }
  } else {
    w.bytes(d.raw);
  }
  w.setU16(lenAt, w.len - start);
}

/** Encodes a message. */
export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer();
  w.u16(m.id);
  const flags =
    (m.qr ? 0x8000 : 0) | ((m.opcode & 0xf) << 11) | (m.aa ? 0x0400 : 0) | (m.tc ? 0x0200 : 0) | (m.rd ? 0x0100 : 0) | (m.ra ? 0x0080 : 0) | (m.rcode & 0xf);
  w.u16(flags);
  for (const n of [m.questions.length, m.answers.length, m.authorities.length, m.additionals.length]) w.u16(n);
  for (const q of m.questions) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const rr of [...m.answers, ...m.authorities, ...m.additionals]) writeRecord(w, rr);
  return w.result();
}

/** A query message for one question (for clients and tests). */
export function makeQuery(id: number, name: string, type: number, rd = true): Uint8Array {
  return encodeMessage({
    id,
    qr: false,
    opcode: 0,
    aa: false,
    tc: false,
    rd,
    ra: false,
    rcode: 0,
    questions: [{ name, type, class: classIN }],
    answers: [],
    authorities: [],
    additionals: [],
  });
}
