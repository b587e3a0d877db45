// The cluster's certificate authorities: a self-signed CA that issues serving and client certificates, as
// k3s's server-ca and client-ca do (k3s pkg/daemons/control/deps). Keys are ECDSA P-256 signed with SHA-256,
// as k3s makes them. Certificates are built with node:crypto and our own DER encoder (der.ts): a general
// X.509 library cost the server's start-up a tenth of a second to load. Verification runs on Node's own
// X509Certificate (OpenSSL), which is synchronous and so fits a per-request authentication filter.
import type {
  KeyObject} from 'node:crypto';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';
import * as der from './der.js';

/** Who a verified client certificate names: its subject's CN is the user, every O a group. */
export interface CertificateUser {
  user: string;
  groups: string[];
}

/** A certificate and its private key, both PEM. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

/** The extended key usages we issue; upstream's x509 authenticator accepts only clientAuth. */
export type CertificateUsage = 'serverAuth' | 'clientAuth';

/** What a certificate to issue says about its holder. */
export interface CertificateRequest {
  commonName: string;
  /** Subject O values (for client certificates: the groups). */
  organizations?: readonly string[];
  /** Subject alternative names. */
  dnsNames?: readonly string[];
  /** IPv4 or IPv6 addresses, as subject alternative names. */
  ipAddresses?: readonly string[];
  usages: readonly CertificateUsage[];
  /** The time to issue at (default: now). */
  now?: Date;
  /** Default: one year, as k3s issues its leaf certificates. */
  validityDays?: number;
}

/** The fields of a certificate that callers decide on: names, validity, usages, issuer. */
export interface CertificateInfo {
  /** Hex, as the certificate carries it. */
  serialNumber: string;
  commonName: string;
  organizations: string[];
  issuerCommonName: string;
  dnsNames: string[];
  /** Canonical text form (lower case, IPv6 compressed). */
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  /** Extended key usages by name where known, else OID; empty when the certificate has none. */
  extKeyUsages: string[];
}

/** A client certificate that did not verify; the message follows Go's crypto/x509 wording. */
export class CertificateVerificationError extends Error {
  override name = 'CertificateVerificationError';
}

/** Ten years, as k3s gives its self-signed CAs. */
const caValidityDays = 3650;
const leafValidityDays = 365;
const dayMs = 24 * 60 * 60 * 1000;
/** Leaf certificates start a little before they are made, so that a node whose clock lags accepts them. */
const backdateMs = 5 * 60 * 1000;
const anyExtendedKeyUsage = '2.5.29.37.0';
/** Longest chain of intermediates followed from a client certificate to the CA. */
const maxChainDepth = 8;

const usageOids: Record<CertificateUsage, string> = {
  serverAuth: der.oid.serverAuth,
  clientAuth: der.oid.clientAuth,
};

/** How a CA key signs: the key, the digest and the signature algorithm's identifier. */
interface SigningKey {
  key: KeyObject;
  hash: 'sha256' | 'sha384';
  /** The DER AlgorithmIdentifier written into certificates this key signs. */
  algorithm: Buffer;
}

/** Key usage bits (RFC 5280 4.2.1.3), numbered from the most significant bit of the first byte. */
const keyUsageBit = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** The fields of a certificate we read (see parseCertificate). */
interface ParsedCertificate {
  serialNumber: string;
  subject: { type: string; value: string }[];
  /** The subject Name's DER, written as the issuer of what this certificate signs. */
  subjectDer: Buffer;
  issuer: { type: string; value: string }[];
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  /** Undefined when the certificate has no extKeyUsage extension. */
  extKeyUsages: string[] | undefined;
  dnsNames: string[];
  ipAddresses: string[];
  /** Hex. */
  subjectKeyId: string | undefined;
  authorityKeyId: string | undefined;
}

/** A self-signed CA that issues certificates; create it once, then load it from its PEM on every start. */
export class CertificateAuthority {
  /** The CA certificate, PEM: what clients (server CA) or the API server (client CA) trust. */
  readonly certPem: string;
  /** The CA's private key, PEM. */
  readonly keyPem: string;
  readonly #cert: ParsedCertificate;
  readonly #nodeCert: X509Certificate;
  readonly #signer: SigningKey;

  private constructor(certPem: string, keyPem: string, signer: SigningKey) {
    const [first] = certificatesFromPem(certPem);
    if (first === undefined) throw new Error('no certificate found in the CA certificate PEM');
    this.certPem = certPem;
    this.keyPem = keyPem;
    // A CA file may hold a chain up to a root; the CA is its first certificate.
    this.#cert = parseCertificate(first);
    this.#nodeCert = new X509Certificate(first);
    this.#signer = signer;
  }

  /**
   * Makes a new CA named "<prefix>-ca@<unix seconds>", as k3s names its CAs (k3s-server-ca@1700000000), so
   * that a re-created CA never has the same subject as the one it replaces.
   */
  static create(options: {
    prefix: string;
    now?: Date;
    validityDays?: number;
  }): Promise<CertificateAuthority> {
    return settle(() => {
      const now = options.now ?? new Date();
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const signer = signingKey(privateKey);
      const subject = der.name([
        { type: der.oid.commonName, value: `${options.prefix}-ca@${Math.floor(now.getTime() / 1000)}` },
      ]);
      const certDer = signCertificate(signer, {
        subject,
        issuer: subject,
        notBefore: now,
        notAfter: new Date(now.getTime() + (options.validityDays ?? caValidityDays) * dayMs),
        publicKey,
        extensions: [
          extension(der.oid.basicConstraints, true, der.sequence(der.boolean(true))),
          extension(der.oid.keyUsage, true, keyUsage(['digitalSignature', 'keyCertSign', 'cRLSign'])),
          extension(der.oid.subjectKeyIdentifier, false, der.octetString(subjectKeyId(publicKey))),
        ],
      });
      return new CertificateAuthority(certificateToPem(certDer), privateKeyToPem(privateKey), signer);
    });
  }

  /** Loads a CA from its certificate and key; fails when they do not belong together or it is not a CA. */
  static load(certPem: string, keyPem: string): Promise<CertificateAuthority> {
    return settle(() => {
      const [first] = certificatesFromPem(certPem);
      if (first === undefined) throw new Error('no certificate found in the CA certificate PEM');
      const cert = new X509Certificate(first);
      if (!cert.ca) throw new Error(`certificate "${cert.subject}" is not a CA certificate`);
      const privateKey = createPrivateKey(keyPem);
      if (!keyMatchesCertificate(privateKey, cert)) {
        throw new Error(`the CA key does not match the public key of CA certificate "${cert.subject}"`);
      }
      // The file's bytes stay as they are: the join token pins their hash.
      return new CertificateAuthority(certPem, keyPem, signingKey(privateKey));
    });
  }

  /** The CA certificate's subject CN, e.g. "k8ts-server-ca@1700000000". */
  get commonName(): string {
    return describe(this.#cert).commonName;
  }

  /** The CA certificate's validity and names. */
  get info(): CertificateInfo {
    return describe(this.#cert);
  }

  /** Issues a certificate with a fresh P-256 key. */
  issue(request: CertificateRequest): Promise<CertificateAndKey> {
    return settle(() => {
      const now = request.now ?? new Date();
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const notBefore = new Date(Math.max(now.getTime() - backdateMs, this.#cert.notBefore.getTime()));
      const notAfter = new Date(now.getTime() + (request.validityDays ?? leafValidityDays) * dayMs);
      const extensions = [
        extension(der.oid.basicConstraints, true, der.sequence()),
        extension(der.oid.keyUsage, true, keyUsage(['digitalSignature'])),
        extension(
          der.oid.extKeyUsage,
          false,
          der.sequence(...request.usages.map((u) => der.objectId(usageOids[u]))),
        ),
        extension(der.oid.subjectKeyIdentifier, false, der.octetString(subjectKeyId(publicKey))),
      ];
      const caKeyId = this.#cert.subjectKeyId;
      if (caKeyId !== undefined) {
        extensions.push(
          extension(
            der.oid.authorityKeyIdentifier,
            false,
            der.sequence(der.context(0, false, Buffer.from(caKeyId, 'hex'))),
          ),
        );
      }
      const altNames = [
        ...(request.dnsNames ?? []).map((dns) => der.context(2, false, Buffer.from(dns, 'ascii'))),
        ...(request.ipAddresses ?? []).map((ip) => der.context(7, false, ipBytes(ip))),
      ];
      if (altNames.length > 0)
        extensions.push(extension(der.oid.subjectAltName, false, der.sequence(...altNames)));
      // O before CN, the order in which Go's pkix.Name writes a subject.
      const subject = der.name([
        ...(request.organizations ?? []).map((value) => ({ type: der.oid.organization, value })),
        { type: der.oid.commonName, value: request.commonName },
      ]);
      const certDer = signCertificate(this.#signer, {
        subject,
        issuer: this.#cert.subjectDer,
        notBefore,
        notAfter,
        publicKey,
        extensions,
      });
      return { certPem: certificateToPem(certDer), keyPem: privateKeyToPem(privateKey) };
    });
  }

  /** Issues a serving certificate (extKeyUsage serverAuth) for the given DNS names and IP addresses. */
  issueServingCertificate(request: {
    commonName: string;
    dnsNames: readonly string[];
    ipAddresses: readonly string[];
    now?: Date;
    validityDays?: number;
  }): Promise<CertificateAndKey> {
    return this.issue({ ...request, usages: ['serverAuth'] });
  }

  /** Issues a client certificate (extKeyUsage clientAuth): CN is the user name, one O per group. */
  issueClientCertificate(request: {
    user: string;
    groups?: readonly string[];
    now?: Date;
    validityDays?: number;
  }): Promise<CertificateAndKey> {
    return this.issue({
      commonName: request.user,
      organizations: request.groups ?? [],
      now: request.now,
      validityDays: request.validityDays,
      usages: ['clientAuth'],
    });
  }

  /** True when this CA signed the certificate (the first one in `pem`). Dates are not checked. */
  signed(certPemOrDer: string | Uint8Array): boolean {
    const bytes = typeof certPemOrDer === 'string' ? certificatesFromPem(certPemOrDer)[0] : certPemOrDer;
    if (bytes === undefined) return false;
    const cert = new X509Certificate(bytes);
    return cert.checkIssued(this.#nodeCert) && cert.verify(this.#nodeCert.publicKey);
  }

  /**
   * Verifies a client certificate chain as upstream's x509 authenticator does: the leaf is within its
   * validity, allows clientAuth, and leads through the given intermediates to this CA. Returns the user
   * and groups it names, or undefined when its CN is empty (upstream then leaves the request to the next
   * authenticator). Throws CertificateVerificationError when it does not verify.
   */
  verifyClientCertificate(
    chain: string | readonly Uint8Array[],
    now: Date = new Date(),
  ): CertificateUser | undefined {
    const ders = typeof chain === 'string' ? certificatesFromPem(chain) : chain;
    const [leafDer, ...intermediateDers] = ders;
    if (leafDer === undefined) throw new CertificateVerificationError('no client certificate given');
    const leaf = parseCertificate(leafDer);
    const failure = (reason: string): CertificateVerificationError =>
      new CertificateVerificationError(`verifying certificate ${identify(leaf)} failed: ${reason}`);
    const expiry = validityError(leaf, now);
    if (expiry !== undefined) throw failure(expiry);
    const usages = leaf.extKeyUsages;
    if (
      usages !== undefined &&
      !usages.includes(der.oid.clientAuth) &&
      !usages.includes(anyExtendedKeyUsage)
    ) {
      throw failure('x509: certificate specifies an incompatible key usage');
    }
    const intermediates = intermediateDers.map((d) => ({
      node: new X509Certificate(d),
      info: parseCertificate(d),
    }));
    let current = new X509Certificate(leafDer);
    for (let depth = 0; ; depth++) {
      if (current.checkIssued(this.#nodeCert) && current.verify(this.#nodeCert.publicKey)) {
        const caExpiry = validityError(this.#cert, now);
        if (caExpiry !== undefined) throw failure(caExpiry);
        break;
      }
      const from = current;
      const next = intermediates.find(
        (c) =>
          c.node.ca &&
          from.checkIssued(c.node) &&
          from.verify(c.node.publicKey) &&
          !validityError(c.info, now),
      );
      if (next === undefined || depth >= maxChainDepth) {
        throw failure('x509: certificate signed by unknown authority');
      }
      current = next.node;
    }
    const { commonName, organizations } = describe(leaf);
    return commonName === '' ? undefined : { user: commonName, groups: organizations };
  }
}

/** Reads the names, validity and usages of the first certificate in a PEM string (or of DER bytes). */
export function inspectCertificate(certPemOrDer: string | Uint8Array): CertificateInfo {
  const bytes = typeof certPemOrDer === 'string' ? certificatesFromPem(certPemOrDer)[0] : certPemOrDer;
  if (bytes === undefined) throw new Error('no certificate found in PEM');
  return describe(parseCertificate(bytes));
}

/** The DER bytes of every CERTIFICATE block in a PEM string, in order. */
export function certificatesFromPem(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g)) {
    out.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

/** PEM text of one DER certificate, ending in a newline. */
export function certificateToPem(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** True when the PEM private key is the one whose public half the certificate carries. */
export function keyMatchesCertificate(key: KeyObject | string, cert: X509Certificate | string): boolean {
  const privateKey = typeof key === 'string' ? createPrivateKey(key) : key;
  const x509 = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fromCert = x509.publicKey.export({ type: 'spki', format: 'der' });
  return fromKey.equals(fromCert);
}

/** The canonical text of an IP address (IPv6 compressed and lower case), as certificates compare them. */
export function canonicalIp(address: string): string {
  const family = isIP(address);
  if (family === 0) throw new Error(`"${address}" is not an IP address`);
  // The WHATWG URL parser serialises IPv6 hosts in RFC 5952 form, IPv4 in dotted decimal.
  const host = new URL(family === 6 ? `http://[${address}]/` : `http://${address}/`).hostname;
  return family === 6 ? host.slice(1, -1) : host;
}

function describe(cert: ParsedCertificate): CertificateInfo {
  const field = (name: { type: string; value: string }[], type: string): string[] =>
    name.filter((a) => a.type === type).map((a) => a.value);
  return {
    serialNumber: cert.serialNumber,
    // Go's pkix.Name keeps the last CN when a subject has several; so does the user it names.
    commonName: field(cert.subject, der.oid.commonName).at(-1) ?? '',
    organizations: field(cert.subject, der.oid.organization),
    issuerCommonName: field(cert.issuer, der.oid.commonName)[0] ?? '',
    dnsNames: cert.dnsNames,
    ipAddresses: cert.ipAddresses,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCA: cert.isCA,
    extKeyUsages: (cert.extKeyUsages ?? []).map((oid) =>
      oid === usageOids.serverAuth ? 'serverAuth' : oid === usageOids.clientAuth ? 'clientAuth' : oid,
    ),
  };
}

/** Go's wording for a certificate used outside its validity, or undefined when `now` is inside it. */
function validityError(cert: ParsedCertificate, now: Date): string | undefined {
  if (now < cert.notBefore) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is before ${rfc3339(cert.notBefore)}`;
  }
  if (now > cert.notAfter) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is after ${rfc3339(cert.notAfter)}`;
  }
  return undefined;
}

/** "SN=<decimal>, SKID=<AA:BB..>, AKID=<..>": how upstream's x509 authenticator names a certificate in errors. */
export function certificateIdentifier(bytes: Uint8Array): string {
  return identify(parseCertificate(bytes));
}

function identify(cert: ParsedCertificate): string {
  const colonHex = (hex: string | undefined): string =>
    (hex ?? '').toUpperCase().match(/../g)?.join(':') ?? '';
  const skid = cert.subjectKeyId;
  const akid = cert.authorityKeyId;
  return `SN=${BigInt('0x' + (cert.serialNumber || '0')).toString()}, SKID=${colonHex(skid)}, AKID=${colonHex(akid)}`;
}

/** Runs synchronous work as a promise: what it throws becomes the rejection. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

/** How a CA key signs, from the key's type (and, for EC, its curve). */
function signingKey(key: KeyObject): SigningKey {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    // A CA brought by the user may use P-384; sign with the hash that matches its strength, as Go does.
    if (curve === 'prime256v1')
      return { key, hash: 'sha256', algorithm: der.sequence(der.objectId(der.oid.ecdsaWithSha256)) };
    if (curve === 'secp384r1')
      return { key, hash: 'sha384', algorithm: der.sequence(der.objectId(der.oid.ecdsaWithSha384)) };
    throw new Error(`unsupported CA key curve ${curve ?? 'unknown'}`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    return {
      key,
      hash: 'sha256',
      algorithm: der.sequence(der.objectId(der.oid.sha256WithRsa), der.tlv(der.tag.null)),
    };
  }
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

/** Builds and signs a version 3 certificate (RFC 5280 4.1). */
function signCertificate(
  signer: SigningKey,
  fields: {
    subject: Buffer;
    issuer: Buffer;
    notBefore: Date;
    notAfter: Date;
    publicKey: KeyObject;
    extensions: Buffer[];
  },
): Buffer {
  const tbs = der.sequence(
    der.context(0, true, der.integer(Buffer.of(2))),
    der.integer(randomSerialNumber()),
    signer.algorithm,
    fields.issuer,
    der.sequence(der.time(wholeSeconds(fields.notBefore)), der.time(wholeSeconds(fields.notAfter))),
    fields.subject,
    fields.publicKey.export({ type: 'spki', format: 'der' }),
    der.context(3, true, der.sequence(...fields.extensions)),
  );
  // ECDSA signatures in DER (r, s), as X.509 carries them; RSA keys sign with PKCS #1 v1.5.
  const signature = sign(signer.hash, tbs, { key: signer.key, dsaEncoding: 'der' });
  return der.sequence(tbs, signer.algorithm, der.bitString(signature));
}

/** One Extension: its OID, critical when it is, and the DER of its value. */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.objectId(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** The keyUsage BIT STRING, with the trailing unused bits DER asks for. */
function keyUsage(usages: (keyof typeof keyUsageBit)[]): Buffer {
  let bits = 0;
  for (const u of usages) bits |= 0x8000 >> keyUsageBit[u];
  const bytes = bits & 0xff ? Buffer.of(bits >> 8, bits & 0xff) : Buffer.of(bits >> 8);
  const last = bytes[bytes.length - 1]!;
  let unused = 0;
  while (unused < 7 && (last & (1 << unused)) === 0) unused++;
  return der.bitString(bytes, unused);
}

/** RFC 5280's first method: the SHA-1 of the subjectPublicKey bits, as Go computes it. */
function subjectKeyId(publicKey: KeyObject): Buffer {
  const spki = der.read(publicKey.export({ type: 'spki', format: 'der' }));
  const bits = der.children(spki)[1];
  if (bits === undefined) throw new Error('public key without its bits');
  return createHash('sha1').update(der.contents(bits).subarray(1)).digest();
}

/** The 4 or 16 bytes of an IP address, for a subjectAltName. */
function ipBytes(address: string): Buffer {
  const text = canonicalIp(address);
  if (isIP(text) === 4) return Buffer.from(text.split('.').map(Number));
  // Expand "::" to the zero groups it stands for (an embedded IPv4 tail is rewritten by canonicalIp).
  const [head, tail] = text.split('::') as [string, string | undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** The text of a subjectAltName IP address. */
function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return canonicalIp(groups.join(':'));
}

/** Reads the fields we use from a DER certificate. */
function parseCertificate(bytes: Uint8Array): ParsedCertificate {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [tbsNode] = der.children(der.read(buf));
  if (tbsNode === undefined) throw new Error('not a certificate');
  const fields = der.children(tbsNode);
  if (fields[0]?.tag === 0xa0) fields.shift(); // version
  const [serial, , issuer, validity, subject, , ...rest] = fields;
  if (!serial || !issuer || !validity || !subject) throw new Error('not a certificate');
  const [notBefore, notAfter] = der.children(validity);
  const parsed: ParsedCertificate = {
    serialNumber: der
      .contents(serial)
      .toString('hex')
      .replace(/^(00)+(?=.)/, ''),
    subject: der.decodeName(subject),
    subjectDer: Buffer.from(der.whole(subject)),
    issuer: der.decodeName(issuer),
    notBefore: der.decodeTime(notBefore!),
    notAfter: der.decodeTime(notAfter!),
    isCA: false,
    extKeyUsages: undefined,
    dnsNames: [],
    ipAddresses: [],
    subjectKeyId: undefined,
    authorityKeyId: undefined,
  };
  const extensions = rest.find((n) => n.tag === 0xa3);
  for (const ext of extensions ? der.children(der.children(extensions)[0]!) : []) {
    const parts = der.children(ext);
    const id = der.decodeObjectId(parts[0]!);
    const value = der.read(der.contents(parts[parts.length - 1]!));
    switch (id) {
      case der.oid.basicConstraints: {
        const first = der.children(value)[0];
        parsed.isCA = first?.tag === der.tag.boolean && der.contents(first)[0] !== 0;
        break;
      }
      case der.oid.extKeyUsage:
        parsed.extKeyUsages = der.children(value).map(der.decodeObjectId);
        break;
      case der.oid.subjectKeyIdentifier:
        parsed.subjectKeyId = der.contents(value).toString('hex');
        break;
      case der.oid.authorityKeyIdentifier: {
        const keyId = der.children(value).find((n) => n.tag === 0x80);
        if (keyId) parsed.authorityKeyId = der.contents(keyId).toString('hex');
        break;
      }
      case der.oid.subjectAltName:
        for (const n of der.children(value)) {
          if (n.tag === 0x82) parsed.dnsNames.push(der.contents(n).toString('ascii'));
          else if (n.tag === 0x87) parsed.ipAddresses.push(ipText(der.contents(n)));
        }
        break;
    }
  }
  return parsed;
}

/** SEC 1 "EC PRIVATE KEY" PEM, the form k3s and kubeadm write EC keys in. */
function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'sec1', format: 'pem' }).toString();
}

/** A positive 128-bit serial whose DER encoding needs no leading zero byte. */
function randomSerialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes;
}

/** X.509 times have whole seconds; rounding keeps what we read back equal to what we wrote. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
