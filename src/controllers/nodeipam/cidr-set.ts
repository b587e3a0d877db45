// A set of equal-sized subnets carved from one cluster CIDR (upstream's ipam/cidrset): each node gets
// the next free one, round-robin from where the last allocation stopped, and gives it back when deleted.

/** An IPv4 or IPv6 network. */
export interface Network {
  family: 4 | 6;
  /** The address as an integer, host bits cleared. */
  base: bigint;
  prefix: number;
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(Number(p));
  }
  return v;
}

function parseIPv6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

/** Formats an address as Go's net.IP String() does (RFC 5952 for IPv6). */
export function formatIP(family: 4 | 6, v: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const g = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - i * 16)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::".
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Parses "a.b.c.d/n" or an IPv6 CIDR; host bits are cleared. Throws on bad syntax. */
export function parseCIDR(s: string): Network {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s.trim());
  if (!m) throw new Error(`invalid CIDR address: ${s}`);
  const family = m[1]!.includes(':') ? 6 : 4;
  const v = family === 4 ? parseIPv4(m[1]!) : parseIPv6(m[1]!);
  const prefix = Number(m[2]);
  const bits = family === 4 ? 32 : 128;
  if (v === undefined || prefix > bits) throw new Error(`invalid CIDR address: ${s}`);
  const hostBits = BigInt(bits - prefix);
  return { family, base: (v >> hostBits) << hostBits, prefix };
}

/** Formats a network as "address/prefix". */
export function formatCIDR(n: Network): string {
  return `${formatIP(n.family, n.base)}/${n.prefix}`;
}

/** The most subnets one cluster CIDR is split into, as upstream's limit (a 16-bit difference). */
const maxPrefixDiff = 16;

/** The subnets of one cluster CIDR and which are taken. */
export class CidrSet {
  readonly cluster: Network;
  readonly maskSize: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  private next = 0;

  constructor(clusterCIDR: string, maskSize: number) {
    this.cluster = parseCIDR(clusterCIDR);
    const bits = this.cluster.family === 4 ? 32 : 128;
    if (!Number.isInteger(maskSize) || maskSize < this.cluster.prefix || maskSize > bits) {
      throw new Error(`node CIDR mask size ${maskSize} does not fit cluster CIDR ${clusterCIDR}`);
    }
    if (maskSize - this.cluster.prefix > maxPrefixDiff) {
      throw new Error(`New CIDR set failed; the node CIDR size is too big (cluster ${clusterCIDR}, node mask /${maskSize})`);
    }
    this.maskSize = maskSize;
    this.size = 2 ** (maskSize - this.cluster.prefix);
  }

  get family(): 4 | 6 {
    return this.cluster.family;
  }

  private subnet(i: number): string {
    const bits = this.cluster.family === 4 ? 32 : 128;
    return formatCIDR({ family: this.cluster.family, base: this.cluster.base + (BigInt(i) << BigInt(bits - this.maskSize)), prefix: this.maskSize });
  }

  /** The index of a subnet of this set, or undefined when it is not one. */
  private indexOf(cidr: string): number | undefined {
    let n: Network;
    try {
      n = parseCIDR(cidr);
    } catch {
      return undefined;
    }
    if (n.family !== this.cluster.family || n.prefix !== this.maskSize) return undefined;
    const bits = this.cluster.family === 4 ? 32 : 128;
    const i = (n.base - this.cluster.base) >> BigInt(bits - this.maskSize);
    return i >= 0n && i < BigInt(this.size) ? Number(i) : undefined;
  }

  /** Takes the next free subnet; undefined when all are taken. */
  allocateNext(): string | undefined {
    for (let k = 0; k < this.size; k++) {
      const i = (this.next + k) % this.size;
      if (!this.used.has(i)) {
        this.used.add(i);
        this.next = (i + 1) % this.size;
        return this.subnet(i);
      }
    }
    return undefined;
  }

  /** Marks a subnet taken (a node that already has it); false when it is not one of this set's. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used.add(i);
    return true;
  }

  /** Gives a subnet back. */
  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }

  /** How many subnets are taken. */
  get allocated(): number {
    return this.used.size;
  }
}
