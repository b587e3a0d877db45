// The cluster's certificate authorities: a self-signed CA that issues serving and client certificates, as
// k3s's server-ca and client-ca do (k3s pkg/daemons/control/deps). Keys are ECDSA P-256 signed with SHA-256,
// as k3s makes them. Certificates are built with @peculiar/x509 on WebCrypto; verification runs on Node's
// own X509Certificate (OpenSSL), which is synchronous and so fits a per-request authentication filter.
//
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API: the polyfill
// must be evaluated before the library, hence the first import.
import 'reflect-metadata';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate as PeculiarCertificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
import type { Extension, JsonGeneralName, JsonName } from '@peculiar/x509';
import {
  createPrivateKey,
  createPublicKey,
  KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';

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

const leafKeyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const usageOids: Record<CertificateUsage, string> = {
  serverAuth: ExtendedKeyUsage.serverAuth,
  clientAuth: ExtendedKeyUsage.clientAuth,
};

/** How a CA key signs: WebCrypto's import and signing parameters for the key's type. */
interface SigningKey {
  key: webcrypto.CryptoKey;
  algorithm: { name: string; hash: string };
}

/** A self-signed CA that issues certificates; create it once, then load it from its PEM on every start. */
export class CertificateAuthority {
  /** The CA certificate, PEM: what clients (server CA) or the API server (client CA) trust. */
  readonly certPem: string;
  /** The CA's private key, PEM. */
  readonly keyPem: string;
  readonly #cert: PeculiarCertificate;
  readonly #nodeCert: X509Certificate;
  readonly #signer: SigningKey;

  private constructor(certPem: string, keyPem: string, signer: SigningKey) {
    const [der] = certificatesFromPem(certPem);
    if (der === undefined) throw new Error('no certificate found in the CA certificate PEM');
    this.certPem = certPem;
    this.keyPem = keyPem;
    // A CA file may hold a chain up to a root; the CA is its first certificate.
    this.#cert = new PeculiarCertificate(der);
    this.#nodeCert = new X509Certificate(der);
    this.#signer = signer;
  }

  /**
   * Makes a new CA named "<prefix>-ca@<unix seconds>", as k3s names its CAs (k3s-server-ca@1700000000), so
   * that a re-created CA never has the same subject as the one it replaces.
   */
  static async create(options: {
    prefix: string;
    now?: Date;
    validityDays?: number;
  }): Promise<CertificateAuthority> {
    const now = options.now ?? new Date();
    const keys = await webcrypto.subtle.generateKey(leafKeyAlgorithm, true, ['sign', 'verify']);
    const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' };
    const cert = await X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: randomSerialNumber(),
        name: [{ CN: [`${options.prefix}-ca@${Math.floor(now.getTime() / 1000)}`] }],
        notBefore: wholeSeconds(now),
        notAfter: wholeSeconds(new Date(now.getTime() + (options.validityDays ?? caValidityDays) * dayMs)),
        keys,
        signingAlgorithm,
        extensions: [
          new BasicConstraintsExtension(true, undefined, true),
          new KeyUsagesExtension(
            KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature,
            true,
          ),
          await SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        ],
      },
      webcrypto,
    );
    return new CertificateAuthority(cert.toString('pem') + '\n', privateKeyToPem(keys.privateKey), {
      key: keys.privateKey,
      algorithm: signingAlgorithm,
    });
  }

  /** Loads a CA from its certificate and key; fails when they do not belong together or it is not a CA. */
  static async load(certPem: string, keyPem: string): Promise<CertificateAuthority> {
    const [der] = certificatesFromPem(certPem);
    if (der === undefined) throw new Error('no certificate found in the CA certificate PEM');
    const cert = new X509Certificate(der);
    if (!cert.ca) throw new Error(`certificate "${cert.subject}" is not a CA certificate`);
    const privateKey = createPrivateKey(keyPem);
    if (!keyMatchesCertificate(privateKey, cert)) {
      throw new Error(`the CA key does not match the public key of CA certificate "${cert.subject}"`);
    }
    const signer = await importSigningKey(privateKey);
    // The file's bytes stay as they are: the join token pins their hash.
    return new CertificateAuthority(certPem, keyPem, signer);
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
  async issue(request: CertificateRequest): Promise<CertificateAndKey> {
    const now = request.now ?? new Date();
    const keys = await webcrypto.subtle.generateKey(leafKeyAlgorithm, true, ['sign', 'verify']);
    const notBefore = new Date(Math.max(now.getTime() - backdateMs, this.#cert.notBefore.getTime()));
    const notAfter = new Date(now.getTime() + (request.validityDays ?? leafValidityDays) * dayMs);
    const extensions: Extension[] = [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      new ExtendedKeyUsageExtension(request.usages.map((u) => usageOids[u])),
      await SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
    ];
    const caKeyId = this.#cert.getExtension(SubjectKeyIdentifierExtension)?.keyId;
    if (caKeyId !== undefined) extensions.push(new AuthorityKeyIdentifierExtension(caKeyId));
    const altNames: JsonGeneralName[] = [
      ...(request.dnsNames ?? []).map((value): JsonGeneralName => ({ type: 'dns', value })),
      ...(request.ipAddresses ?? []).map((value): JsonGeneralName => ({
        type: 'ip',
        value: canonicalIp(value),
      })),
    ];
    if (altNames.length > 0) extensions.push(new SubjectAlternativeNameExtension(altNames));
    // O before CN, the order in which Go's pkix.Name writes a subject.
    const subject: JsonName = [
      ...(request.organizations ?? []).map((o) => ({ O: [o] })),
      { CN: [request.commonName] },
    ];
    const cert = await X509CertificateGenerator.create(
      {
        serialNumber: randomSerialNumber(),
        subject,
        issuer: this.#cert.subjectName,
        notBefore: wholeSeconds(notBefore),
        notAfter: wholeSeconds(notAfter),
        publicKey: keys.publicKey,
        signingKey: this.#signer.key,
        signingAlgorithm: this.#signer.algorithm,
        extensions,
      },
      webcrypto,
    );
    return { certPem: cert.toString('pem') + '\n', keyPem: privateKeyToPem(keys.privateKey) };
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
    const der = typeof certPemOrDer === 'string' ? certificatesFromPem(certPemOrDer)[0] : certPemOrDer;
    if (der === undefined) return false;
    const cert = new X509Certificate(der);
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
    const leaf = new PeculiarCertificate(leafDer);
    const failure = (reason: string): CertificateVerificationError =>
      new CertificateVerificationError(`verifying certificate ${identify(leaf)} failed: ${reason}`);
    const expiry = validityError(leaf, now);
    if (expiry !== undefined) throw failure(expiry);
    const usages = leaf.getExtension(ExtendedKeyUsageExtension)?.usages.map(String);
    if (
      usages !== undefined &&
      !usages.includes(ExtendedKeyUsage.clientAuth) &&
      !usages.includes(anyExtendedKeyUsage)
    ) {
      throw failure('x509: certificate specifies an incompatible key usage');
    }
    const intermediates = intermediateDers.map((d) => ({
      node: new X509Certificate(d),
      info: new PeculiarCertificate(d),
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
  const der = typeof certPemOrDer === 'string' ? certificatesFromPem(certPemOrDer)[0] : certPemOrDer;
  if (der === undefined) throw new Error('no certificate found in PEM');
  return describe(new PeculiarCertificate(der));
}

/** The DER bytes of every CERTIFICATE block in a PEM string, in order. */
export function certificatesFromPem(pem: string): Buffer[] {
  return PemConverter.decodeWithHeaders(pem)
    .filter((block) => block.type === 'CERTIFICATE')
    .map((block) => Buffer.from(block.rawData));
}

/** PEM text of one DER certificate, ending in a newline. */
export function certificateToPem(der: Uint8Array): string {
  const copy = new Uint8Array(der);
  return PemConverter.encode(copy.buffer, 'CERTIFICATE') + '\n';
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

function describe(cert: PeculiarCertificate): CertificateInfo {
  const san = cert.getExtension(SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  return {
    serialNumber: cert.serialNumber,
    // Go's pkix.Name keeps the last CN when a subject has several; so does the user it names.
    commonName: cert.subjectName.getField('CN').at(-1) ?? '',
    organizations: cert.subjectName.getField('O'),
    issuerCommonName: cert.issuerName.getField('CN')[0] ?? '',
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => canonicalIp(n.value)),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCA: cert.getExtension(BasicConstraintsExtension)?.ca ?? false,
    extKeyUsages: [...(cert.getExtension(ExtendedKeyUsageExtension)?.usages ?? [])].map((u) => {
      const oid = String(u);
      return oid === usageOids.serverAuth ? 'serverAuth' : oid === usageOids.clientAuth ? 'clientAuth' : oid;
    }),
  };
}

/** Go's wording for a certificate used outside its validity, or undefined when `now` is inside it. */
function validityError(cert: PeculiarCertificate, now: Date): string | undefined {
  if (now < cert.notBefore) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is before ${rfc3339(cert.notBefore)}`;
  }
  if (now > cert.notAfter) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is after ${rfc3339(cert.notAfter)}`;
  }
  return undefined;
}

/** "SN=<decimal>, SKID=<AA:BB..>, AKID=<..>": how upstream's x509 authenticator names a certificate in errors. */
export function certificateIdentifier(der: Uint8Array): string {
  return identify(new PeculiarCertificate(der));
}

function identify(cert: PeculiarCertificate): string {
  const colonHex = (hex: string | undefined): string =>
    (hex ?? '').toUpperCase().match(/../g)?.join(':') ?? '';
  const skid = cert.getExtension(SubjectKeyIdentifierExtension)?.keyId;
  const akid = cert.getExtension(AuthorityKeyIdentifierExtension)?.keyId;
  return `SN=${BigInt('0x' + (cert.serialNumber || '0')).toString()}, SKID=${colonHex(skid)}, AKID=${colonHex(akid)}`;
}

async function importSigningKey(privateKey: KeyObject): Promise<SigningKey> {
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  if (privateKey.asymmetricKeyType === 'ec') {
    const curve = privateKey.asymmetricKeyDetails?.namedCurve;
    // A CA brought by the user may use P-384; sign with the hash that matches its strength, as Go does.
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
    if (namedCurve === undefined) throw new Error(`unsupported CA key curve ${curve ?? 'unknown'}`);
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, [
      'sign',
    ]);
    return { key, algorithm: { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' } };
  }
  if (privateKey.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    return { key, algorithm };
  }
  throw new Error(`unsupported CA key type ${privateKey.asymmetricKeyType ?? 'unknown'}`);
}

/** SEC 1 "EC PRIVATE KEY" PEM, the form k3s and kubeadm write EC keys in. */
function privateKeyToPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'sec1', format: 'pem' }).toString();
}

/** A positive 128-bit serial whose DER encoding needs no leading zero byte. */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString('hex');
}

/** X.509 times have whole seconds; rounding keeps what we read back equal to what we wrote. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
