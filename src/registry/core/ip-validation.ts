// IP addresses and CIDRs in API fields, parsed as upstream's netutils.ParseIPSloppy and ParseCIDRSloppy do
// (IPv4 octets may carry leading zeros, zones are refused), with apimachinery's messages and core's checks
// for addresses a Service or an endpoint may not use.
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field } from '../../apimachinery/validation/field-errors.js';
import { formatCIDR, formatIP, parseCIDR, parseIP } from '../../api/ip.js';

/** A parsed address: 16 bytes, IPv4 held as an IPv4-mapped IPv6 address like Go's net.IP. */
export interface ParsedIP {
  bytes: number[];
  /** 4 when the address is an IPv4 one (including the ::ffff:a.b.c.d form), else 6. */
  family: 4 | 6;
}

const v4InV6Prefix = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  if (s.includes('%')) return undefined;
  let tail: number[] = [];
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = v4;
    text = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  let words: number[];
  if (halves.length === 2) {
    if (head.length + rest.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    if (head.length !== 8) return undefined;
    words = head;
  }
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** Parses an address as upstream's ParseIPSloppy; undefined when it is not one. */
export function parseIPSloppy(s: string): ParsedIP | undefined {
  if (!s.includes(':')) {
    const v4 = parseIPv4(s);
    return v4 === undefined ? undefined : { bytes: [...v4InV6Prefix, ...v4], family: 4 };
  }
  const bytes = parseIPv6(s);
  if (bytes === undefined) return undefined;
  const mapped = v4InV6Prefix.every((b, i) => bytes[i] === b);
  return { bytes, family: mapped ? 4 : 6 };
}

/** True for an IPv6 address that is not an IPv4 one (upstream's IsIPv6String). */
export function isIPv6String(s: string): boolean {
  return parseIPSloppy(s)?.family === 6;
}

/** A parsed CIDR: the address as written, the network address and the prefix length in its family. */
export interface ParsedCIDR {
  ip: ParsedIP;
  network: number[];
  prefix: number;
}

/** Parses a CIDR as upstream's ParseCIDRSloppy; undefined when it is not one. */
export function parseCIDRSloppy(s: string): ParsedCIDR | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ipText = s.slice(0, slash);
  const lenText = s.slice(slash + 1);
  if (!/^[0-9]+$/.test(lenText)) return undefined;
  // Go parses the address in the family its text is written in: "::ffff:1.2.3.4/120" is an IPv6 CIDR.
  const v6Text = ipText.includes(':');
  const ip = parseIPSloppy(ipText);
  if (ip === undefined) return undefined;
  const bits = v6Text ? 128 : 32;
  const prefix = Number(lenText);
  if (prefix > bits) return undefined;
  const full = v6Text ? prefix : prefix + 96;
  const network = ip.bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, full - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  return { ip: { bytes: ip.bytes, family: v6Text ? 6 : 4 }, network, prefix };
}

/** True when `inner`'s address lies in `outer`'s network. */
export function cidrContains(outer: ParsedCIDR, address: number[]): boolean {
  const full = outer.ip.family === 6 ? outer.prefix : outer.prefix + 96;
  return address.every((b, i) => {
    const keep = Math.max(0, Math.min(8, full - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    return (b & mask) === outer.network[i];
  });
}

/** An IP address field (apimachinery's IsValidIP). */
export function isValidIP(path: Path, value: string): ErrorList {
  if (parseIPSloppy(value) !== undefined) return [];
  return [
    field
      .invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')
      .withOrigin('format=ip-sloppy'),
  ];
}

/** An IPv4 address field. */
export function isValidIPv4Address(path: Path, value: string): ErrorList {
  return parseIPSloppy(value)?.family === 4
    ? []
    : [field.invalid(path, value, 'must be a valid IPv4 address')];
}

/** An IPv6 address field. */
export function isValidIPv6Address(path: Path, value: string): ErrorList {
  return parseIPSloppy(value)?.family === 6
    ? []
    : [field.invalid(path, value, 'must be a valid IPv6 address')];
}

/** A CIDR field (apimachinery's IsValidCIDR). */
export function isValidCIDR(path: Path, value: string): ErrorList {
  if (parseCIDRSloppy(value) !== undefined) return [];
  return [field.invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/** True when the list holds both an IPv4 and an IPv6 address (upstream's IsDualStackIPStrings). */
export function isDualStack(families: readonly (4 | 6 | undefined)[]): boolean {
  return families.length >= 2 && families.includes(4) && families.includes(6);
}

/**
 * Addresses that make no sense as an endpoint or external IP: unspecified, loopback, link-local unicast and
 * link-local multicast (core's ValidateNonSpecialIP).
 */
export function validateNonSpecialIP(value: string, path: Path): ErrorList {
  const ip = parseIPSloppy(value);
  if (ip === undefined)
    return [field.invalid(path, value, 'must be a valid IP address').withOrigin('format=ip-sloppy')];
  const b = ip.bytes;
  const errs: ErrorList = [];
  const v4 = ip.family === 4;
  if (v4 ? b[12] === 0 && b[13] === 0 && b[14] === 0 && b[15] === 0 : b.every((x) => x === 0)) {
    errs.push(
      field.invalid(path, value, `may not be unspecified (${value})`).withOrigin('format=non-special-ip'),
    );
  }
  if (v4 ? b[12] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1) {
    errs.push(
      field
        .invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')
        .withOrigin('format=non-special-ip'),
    );
  }
  if (v4 ? b[12] === 169 && b[13] === 254 : b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) {
    errs.push(
      field
        .invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')
        .withOrigin('format=non-special-ip'),
    );
  }
  if (v4 ? b[12] === 224 && b[13] === 0 && b[14] === 0 : b[0] === 0xff && (b[1]! & 0x0f) === 0x02) {
    errs.push(
      field
        .invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')
        .withOrigin('format=non-special-ip'),
    );
  }
  return errs;
}

/** True for an IPv6 text form of an IPv4-mapped address (::ffff:a.b.c.d), as Go's Is4In6 reports it. */
function isIPv4MappedText(value: string): boolean {
  return value.includes(':') && parseIPSloppy(value)?.family === 4;
}

/**
 * An address field of the newer kinds (apimachinery's strict IsValidIP): parseable, no leading zeros, not
 * IPv4-mapped, and in canonical form.
 */
export function isValidIPStrict(path: Path, value: string): ErrorList {
  if (parseIPSloppy(value) === undefined) {
    return [field.invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)').withOrigin('format=ip-strict')];
  }
  const errs: ErrorList = [];
  const exact = parseIP(value);
  if (exact === undefined) errs.push(field.invalid(path, value, 'must not have leading 0s').withOrigin('format=ip-strict'));
  if (isIPv4MappedText(value)) errs.push(field.invalid(path, value, 'must not be an IPv4-mapped IPv6 address').withOrigin('format=ip-strict'));
  if (errs.length > 0 || exact === undefined) return errs;
  const canonical = formatIP(exact);
  if (canonical !== value) {
    errs.push(field.invalid(path, value, `must be in canonical form (${JSON.stringify(canonical)})`).withOrigin('format=ip-strict'));
  }
  return errs;
}

/**
 * A subnet field of the newer kinds (apimachinery's strict IsValidCIDR): parseable, no leading zeros, not
 * IPv4-mapped, no bits past the prefix length, and in canonical form.
 */
export function isValidCIDRStrict(path: Path, value: string): ErrorList {
  const sloppy = parseCIDRSloppy(value);
  if (sloppy === undefined) return isValidCIDR(path, value);
  const slash = value.indexOf('/');
  const ipText = value.slice(0, slash);
  const lenText = value.slice(slash + 1);
  const exact = parseIP(ipText);
  if (exact === undefined || (lenText.length > 1 && lenText.startsWith('0'))) {
    return [field.invalid(path, value, 'must not have leading 0s in IP or prefix length')];
  }
  if (isIPv4MappedText(ipText)) return [field.invalid(path, value, 'must not have an IPv4-mapped IPv6 address')];
  const cidr = parseCIDR(value);
  if (cidr === undefined) return isValidCIDR(path, value);
  if (cidr.base !== exact.value) return [field.invalid(path, value, 'must not have bits set beyond the prefix length')];
  const canonical = formatCIDR(cidr);
  if (canonical !== value) return [field.invalid(path, value, `must be in canonical form (${JSON.stringify(canonical)})`)];
  return [];
}
