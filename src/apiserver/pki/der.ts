// The few pieces of ASN.1 DER that the cluster's certificates need (RFC 5280), written for node:crypto alone:
// a TLV encoder for the TBSCertificate we sign, and a reader for the fields we look at in a certificate
// (names, validity, the extensions we issue). Loading a general X.509 library cost the server's start-up
// a tenth of a second; node:crypto's X509Certificate still does every verification.

/** Universal and context tags used below. */
export const tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Object identifiers of the names, algorithms and extensions we write or read. */
export const oid = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

// ---- encoding ----

/** One TLV: the tag, the DER length and the contents. */
export function tlv(t: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  let header: number[];
  if (n < 0x80) header = [t, n];
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    header = [t, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(header), body]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(tag.sequence, ...items);

/** A non-negative INTEGER from its big-endian bytes (a zero byte goes first when the top bit is set). */
export function integer(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1]! & 0x80) === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(
    tag.integer,
    (trimmed[0] ?? 0) & 0x80
      ? Buffer.concat([Buffer.of(0), trimmed])
      : trimmed.length
        ? trimmed
        : Buffer.of(0),
  );
}

export function objectId(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    out.push(...groups);
  }
  return tlv(tag.oid, Buffer.from(out));
}

export const boolean = (value: boolean): Buffer => tlv(tag.boolean, Buffer.of(value ? 0xff : 0));
export const octetString = (bytes: Uint8Array): Buffer => tlv(tag.octetString, bytes);
/** A BIT STRING of whole bytes. */
export const bitString = (bytes: Uint8Array, unusedBits = 0): Buffer =>
  tlv(tag.bitString, Buffer.of(unusedBits), bytes);
/** Context-specific tag `n`, constructed (EXPLICIT) or primitive (IMPLICIT of a primitive type). */
export const context = (n: number, constructed: boolean, ...contents: Uint8Array[]): Buffer =>
  tlv((constructed ? 0xa0 : 0x80) | n, ...contents);

/** PrintableString when the text allows it, as Go writes names, else UTF8String. */
export function directoryString(text: string): Buffer {
  return tlv(
    /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text) ? tag.printableString : tag.utf8String,
    Buffer.from(text, 'utf8'),
  );
}

/** UTCTime through 2049, GeneralizedTime after, in whole seconds (RFC 5280 4.1.2.5). */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  return date.getUTCFullYear() < 2050
    ? tlv(tag.utcTime, Buffer.from(digits.slice(2) + 'Z'))
    : tlv(tag.generalizedTime, Buffer.from(digits + 'Z'));
}

/** A Name of one attribute per RDN, in the order given. */
export function name(attributes: readonly { type: string; value: string }[]): Buffer {
  return sequence(
    ...attributes.map((a) => tlv(tag.set, sequence(objectId(a.type), directoryString(a.value)))),
  );
}

// ---- reading ----

/** One decoded TLV: its tag and where its contents lie in `bytes`. */
export interface Node {
  tag: number;
  bytes: Buffer;
  /** The whole TLV, header included. */
  start: number;
  contentStart: number;
  end: number;
}

export function read(bytes: Buffer, offset = 0): Node {
  const t = bytes[offset];
  let len = bytes[offset + 1];
  if (t === undefined || len === undefined) throw new Error('DER: truncated');
  let contentStart = offset + 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 4) throw new Error('DER: unsupported length');
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + bytes[contentStart + i]!;
    contentStart += count;
  }
  const end = contentStart + len;
  if (end > bytes.length) throw new Error('DER: truncated');
  return { tag: t, bytes, start: offset, contentStart, end };
}

export const contents = (n: Node): Buffer => n.bytes.subarray(n.contentStart, n.end);
export const whole = (n: Node): Buffer => n.bytes.subarray(n.start, n.end);

/** The TLVs inside a constructed one. */
export function children(n: Node): Node[] {
  const out: Node[] = [];
  for (let at = n.contentStart; at < n.end;) {
    const c = read(n.bytes, at);
    out.push(c);
    at = c.end;
  }
  return out;
}

export function decodeObjectId(n: Node): string {
  const b = contents(n);
  const first = b[0] ?? 0;
  const arcs = [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80];
  let v = 0;
  for (const byte of b.subarray(1)) {
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

export function decodeTime(n: Node): Date {
  const s = contents(n).toString('latin1');
  const full = n.tag === tag.utcTime ? (Number(s.slice(0, 2)) < 50 ? '20' : '19') + s : s;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?/.exec(full);
  if (!m) throw new Error(`DER: bad time "${s}"`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0)));
}

/** The attributes of a Name, in order, as dotted OID and text. */
export function decodeName(n: Node): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  for (const rdn of children(n)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (!type || !value) continue;
      const raw = contents(value);
      // BMPString is UTF-16BE; every other string type we may meet is ASCII or UTF-8.
      const text = value.tag === 0x1e ? Buffer.from(raw).swap16().toString('utf16le') : raw.toString('utf8');
      out.push({ type: decodeObjectId(type), value: text });
    }
  }
  return out;
}
