// The in-memory bitmaps behind service allocation (upstream's bitmap allocator with its two bands): for
// cluster IPs a hint of which addresses are taken, for node ports the content of the stored snapshot.
import type { CIDR, IPFamily } from '../../api/ip.js';
import { cidrContains, cidrSize, formatCIDR, formatIP, parseCIDR, parseIP } from '../../api/ip.js';

/** Upstream's allocator errors, as their messages read. */
export class AllocationError extends Error {
  readonly reason: 'Allocated' | 'NotInRange' | 'Full' | 'Mismatched';
  constructor(reason: 'Allocated' | 'NotInRange' | 'Full' | 'Mismatched', message: string) {
    super(message);
    this.reason = reason;
  }
}

/** At most this many addresses of a large (IPv6) range are used, as upstream's bitmap allocator limits them. */
const maxRangeSize = 65536;

/**
 * A bitmap over a range of small integers with upstream's two bands: requests for a specific value may take
 * any free one; dynamic allocation prefers the upper band so that the lower one stays free for static
 * requests (kubernetes' service IP, the DNS service IP), and falls back to the lower band when full.
 */
class RangeBitmap {
  private readonly used: Uint8Array;
  private count = 0;
  readonly size: number;
  private readonly offset: number;

  constructor(size: number) {
    this.size = size;
    this.used = new Uint8Array(size);
    this.offset = Math.min(Math.max(16, Math.floor(size / 16)), 256, size);
  }

  has(i: number): boolean {
    return this.used[i] === 1;
  }

  /** Copies another bitmap of the same size into this one. */
  copyFrom(other: RangeBitmap): void {
    this.used.set(other.used);
    this.count = other.count;
  }

  /** True when both mark the same values. */
  equals(other: RangeBitmap): boolean {
    if (this.count !== other.count || this.size !== other.size) return false;
    for (let i = 0; i < this.size; i++) if (this.used[i] !== other.used[i]) return false;
    return true;
  }

  take(i: number): boolean {
    if (this.used[i] === 1) return false;
    this.used[i] = 1;
    this.count++;
    return true;
  }

  free(i: number): void {
    if (this.used[i] === 1) {
      this.used[i] = 0;
      this.count--;
    }
  }

  get available(): number {
    return this.size - this.count;
  }

  /** A free index, random within the upper band first; undefined when the range is full. */
  next(): number | undefined {
    if (this.count >= this.size) return undefined;
    const scan = (lo: number, hi: number): number | undefined => {
      if (hi <= lo) return undefined;
      const start = lo + Math.floor(Math.random() * (hi - lo));
      for (let k = 0; k < hi - lo; k++) {
        const i = lo + ((start - lo + k) % (hi - lo));
        if (this.used[i] !== 1) return i;
      }
      return undefined;
    };
    return scan(this.offset, this.size) ?? scan(0, this.offset);
  }
}

/** Cluster IPs of one service CIDR. */
export class IPAllocator {
  readonly cidr: CIDR;
  readonly family: IPFamily;
  private readonly bitmap: RangeBitmap;
  /** The first usable address: IPv4 skips the network address, IPv6 the subnet-router anycast address. */
  private readonly first: bigint;

  constructor(cidrText: string) {
    const cidr = parseCIDR(cidrText);
    if (!cidr) throw new Error(`invalid service CIDR ${cidrText}`);
    this.cidr = cidr;
    this.family = cidr.family;
    const total = cidrSize(cidr);
    // IPv4 loses the network and broadcast addresses, IPv6 the subnet-router address.
    const usable = cidr.family === 'IPv4' ? total - 2n : total - 1n;
    if (usable < 1n) throw new Error(`service CIDR ${cidrText} is too small`);
    this.first = cidr.base + 1n;
    this.bitmap = new RangeBitmap(Number(usable > BigInt(maxRangeSize) ? BigInt(maxRangeSize) : usable));
  }

  /** The range as text, as upstream's messages show it. */
  get rangeText(): string {
    return formatCIDR(this.cidr);
  }

  /** The address at index i of the range (index 0 is the first usable address). */
  addressAt(i: number): string {
    return formatIP({ family: this.family, value: this.first + BigInt(i) });
  }

  private indexOf(ip: string): number | undefined {
    const parsed = parseIP(ip);
    if (!parsed || !cidrContains(this.cidr, parsed)) return undefined;
    const i = parsed.value - this.first;
    return i < 0n || i >= BigInt(this.bitmap.size) ? undefined : Number(i);
  }

  /** Marks an address taken (a no-op outside the bitmap's window). */
  mark(ip: string): void {
    const i = this.indexOf(ip);
    if (i !== undefined) this.bitmap.take(i);
  }

  /** True for an address of the range that may be allocated: not the network address, nor IPv4's broadcast. */
  usable(value: bigint): boolean {
    const total = cidrSize(this.cidr);
    const last = this.cidr.base + total - (this.family === 'IPv4' ? 2n : 1n);
    return value >= this.first && value <= last;
  }

  /** True when the address lies in the range's usable part. */
  contains(ip: string): boolean {
    const parsed = parseIP(ip);
    return parsed !== undefined && cidrContains(this.cidr, parsed) && this.usable(parsed.value);
  }

  /** The number of addresses the bitmap covers (at most 65,536 of a large IPv6 range). */
  get size(): number {
    return this.bitmap.size;
  }

  /** Reserves any free address; `reserve` false only picks one (dry run). */
  allocateNext(reserve = true): string {
    const i = this.bitmap.next();
    if (i === undefined) throw new AllocationError('Full', `range is full`);
    if (reserve) this.bitmap.take(i);
    return this.addressAt(i);
  }

  release(ip: string): void {
    const i = this.indexOf(ip);
    if (i !== undefined) this.bitmap.free(i);
  }

  has(ip: string): boolean {
    const i = this.indexOf(ip);
    return i !== undefined && this.bitmap.has(i);
  }

  /** Free addresses left. */
  get free(): number {
    return this.bitmap.available;
  }
}

/** Node ports of the --service-node-port-range. */
export class PortAllocator {
  readonly base: number;
  readonly size: number;
  private readonly bitmap: RangeBitmap;

  constructor(range: { base: number; size: number }) {
    this.base = range.base;
    this.size = range.size;
    this.bitmap = new RangeBitmap(range.size);
  }

  get rangeText(): string {
    return `${this.base}-${this.base + this.size - 1}`;
  }

  private index(port: number): number {
    const i = port - this.base;
    if (i < 0 || i >= this.size) {
      throw new AllocationError('NotInRange', `provided port is not in the valid range. The range of valid ports is ${this.rangeText}`);
    }
    return i;
  }

  allocate(port: number): void {
    if (!this.bitmap.take(this.index(port))) throw new AllocationError('Allocated', 'provided port is already allocated');
  }

  check(port: number): void {
    if (this.bitmap.has(this.index(port))) throw new AllocationError('Allocated', 'provided port is already allocated');
  }

  allocateNext(reserve = true): number {
    const i = this.bitmap.next();
    if (i === undefined) throw new AllocationError('Full', 'range is full');
    if (reserve) this.bitmap.take(i);
    return this.base + i;
  }

  release(port: number): void {
    const i = port - this.base;
    if (i >= 0 && i < this.size) this.bitmap.free(i);
  }

  has(port: number): boolean {
    const i = port - this.base;
    return i >= 0 && i < this.size && this.bitmap.has(i);
  }

  /** A copy of this bitmap. */
  clone(): PortAllocator {
    const out = new PortAllocator({ base: this.base, size: this.size });
    out.bitmap.copyFrom(this.bitmap);
    return out;
  }

  /** True when both hold the same ports of the same range. */
  equals(other: PortAllocator): boolean {
    return this.base === other.base && this.bitmap.equals(other.bitmap);
  }

  /** The ports taken, ascending. */
  used(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.bitmap.has(i)) out.push(this.base + i);
    return out;
  }

  /** The bitmap as base64, one bit per port of the range (the snapshot's data). */
  encode(): string {
    const bytes = new Uint8Array(Math.ceil(this.size / 8));
    for (let i = 0; i < this.size; i++) if (this.bitmap.has(i)) bytes[i >> 3]! |= 1 << (i & 7);
    return Buffer.from(bytes).toString('base64');
  }

  /** A bitmap over `range` holding the ports of an encoded snapshot of `stored` (ports outside `range` are dropped). */
  static decode(range: { base: number; size: number }, stored: { base: number; size: number }, data: string): PortAllocator {
    const out = new PortAllocator(range);
    const bytes = Buffer.from(data, 'base64');
    for (let i = 0; i < stored.size; i++) {
      if (((bytes[i >> 3] ?? 0) >> (i & 7)) & 1) {
        const port = stored.base + i;
        if (port >= range.base && port < range.base + range.size) out.bitmap.take(port - range.base);
      }
    }
    return out;
  }
}

/** Parses --service-node-port-range ("30000-32767", or a single port). */
export function parsePortRange(text: string): { base: number; size: number } {
  const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(text);
  const lo = Number(m?.[1]);
  const hi = m?.[2] === undefined ? lo : Number(m[2]);
  if (!m || !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || hi < lo) {
    throw new Error(`invalid port range ${JSON.stringify(text)}: want a range such as 30000-32767`);
  }
  return { base: lo, size: hi - lo + 1 };
}

/** Parses --service-cidr: one CIDR or two of different families, the primary first. */
export function parseServiceCIDRs(text: string): string[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const cidrs = parts.map((p) => {
    const c = parseCIDR(p);
    if (!c) throw new Error(`invalid service CIDR ${JSON.stringify(p)}`);
    return c;
  });
  if (cidrs.length === 0 || cidrs.length > 2 || (cidrs.length === 2 && cidrs[0]!.family === cidrs[1]!.family)) {
    throw new Error(`invalid service CIDRs ${JSON.stringify(text)}: want one CIDR, or one IPv4 and one IPv6`);
  }
  return cidrs.map(formatCIDR);
}

