// IP addresses and CIDRs as numbers, for the parts that count with them: the service IP allocator, the
// proxy's rules and DNS reverse names. Parsing is strict (canonical forms as the API stores them); the
// sloppy parsing of API validation lives in registry/core/ip-validation.ts.
import { isIPv4, isIPv6 } from 'node:net';

/** An IP family as the API names it. */
export type IPFamily = 'IPv4' | 'IPv6';

/** An address as a number in its family. */
export interface IPAddr {
  family: IPFamily;
  value: bigint;
}

/** A CIDR: its network address and prefix length. */
export interface CIDR {
  family: IPFamily;
  base: bigint;
  prefix: number;
}

const bitsOf = (family: IPFamily): number => (family === 'IPv4' ? 32 : 128);

/** The family of an address, or undefined when the text is not one. */
export function ipFamilyOf(text: string): IPFamily | undefined {
  if (isIPv4(text)) return 'IPv4';
  if (isIPv6(text) && !text.includes('%')) return 'IPv6';
  return undefined;
}

/** Parses an IPv4 or IPv6 address; undefined when it is not one. */
export function parseIP(text: string): IPAddr | undefined {
  const family = ipFamilyOf(text);
  if (family === 'IPv4') {
    const v = text.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
    return { family, value: v };
  }
  if (family !== 'IPv6') return undefined;
  let s = text;
  // A dotted IPv4 tail becomes two groups.
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (m) {
    const v4 = parseIP(m[2]!)!.value;
    s = `${m[1]!}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const hs = groups(head);
  const ts = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? hs : [...hs, ...new Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  const value = all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  return { family, value };
}

/** Formats an address in its canonical text form (RFC 5952 for IPv6). */
export function formatIP(ip: IPAddr): string {
  if (ip.family === 'IPv4') {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // The longest run of two or more zero words becomes "::".
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** The canonical form of an address text, or undefined when it is not one. */
export function canonicalIP(text: string): string | undefined {
  const ip = parseIP(text);
  return ip ? formatIP(ip) : undefined;
}

/** Parses "a.b.c.d/n" or "x::/n" to its network; undefined when it is not a CIDR. */
export function parseCIDR(text: string): CIDR | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!ip || !/^\d+$/.test(lenText)) return undefined;
  const prefix = Number(lenText);
  const bits = bitsOf(ip.family);
  if (prefix > bits) return undefined;
  const host = (1n << BigInt(bits - prefix)) - 1n;
  return { family: ip.family, base: ip.value & ~host, prefix };
}

/** The number of addresses in a CIDR. */
export function cidrSize(c: CIDR): bigint {
  return 1n << BigInt(bitsOf(c.family) - c.prefix);
}

/** True when the address lies in the CIDR. */
export function cidrContains(c: CIDR, ip: IPAddr): boolean {
  return ip.family === c.family && ip.value >= c.base && ip.value < c.base + cidrSize(c);
}

/** The text form of a CIDR. */
export function formatCIDR(c: CIDR): string {
  return `${formatIP({ family: c.family, value: c.base })}/${c.prefix}`;
}

/** The in-addr.arpa or ip6.arpa name of an address (without the trailing dot). */
export function reverseName(ip: IPAddr): string {
  if (ip.family === 'IPv4') return `${formatIP(ip).split('.').reverse().join('.')}.in-addr.arpa`;
  const nibbles = ip.value.toString(16).padStart(32, '0').split('').reverse();
  return `${nibbles.join('.')}.ip6.arpa`;
}

/** The address a reverse name stands for, or undefined when the name is not a complete one. */
export function parseReverseName(name: string): IPAddr | undefined {
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (lower.endsWith('.in-addr.arpa')) {
    const parts = lower.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return undefined;
    return parseIP(parts.reverse().join('.'));
  }
  if (lower.endsWith('.ip6.arpa')) {
    const parts = lower.slice(0, -'.ip6.arpa'.length).split('.');
    if (parts.length !== 32 || !parts.every((p) => /^[0-9a-f]$/.test(p))) return undefined;
    return { family: 'IPv6', value: BigInt(`0x${parts.reverse().join('')}`) };
  }
  return undefined;
}
