// k3s's join token, which an agent uses to trust the server and to be trusted by it (k3s
// pkg/clientaccess/token.go). The full ("secure") form is K10<ca hash>::<credentials>: the hash is the hex
// SHA-256 of the server CA bundle as the server serves it at /cacerts, so that the agent can check the CA it
// downloads before sending anything secret; the credentials are user:password, or a kubeadm-style
// bootstrap token id.secret. A short token (no K10 prefix) is the credentials alone, without a CA check.
import { createHash, X509Certificate } from 'node:crypto';
import { certificatesFromPem } from './certificate-authority.js';

/** The parts of a join token. */
export interface JoinToken {
  /** Lower-case hex SHA-256 of the CA bundle; '' when the token carries none (a short token). */
  caHash: string;
  credentials: JoinTokenCredentials;
}

/** Either a user and password (k3s's server and node tokens), or a bootstrap token. */
export type JoinTokenCredentials =
  | { kind: 'password'; username: string; password: string }
  | { kind: 'bootstrap'; id: string; secret: string };

const tokenPrefix = 'K10';
const caHashLength = 64;
/** kubeadm's bootstrap token form: a public id and a secret. */
const bootstrapTokenPattern = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

/** Parses a full or short join token; throws with k3s's messages when it is malformed. */
export function parseJoinToken(token: string): JoinToken {
  if (token.length === 0) throw new Error('token must not be empty');
  let rest = token;
  if (!rest.startsWith(tokenPrefix)) {
    // A bare password has an empty user; a bare bootstrap token stands as it is.
    rest = tokenPrefix + (bootstrapTokenPattern.test(rest) ? '::' : ':::') + rest;
  }
  rest = rest.slice(tokenPrefix.length);
  let caHash = '';
  const sep = rest.indexOf('::');
  if (sep >= 0) {
    caHash = rest.slice(0, sep);
    if (caHash.length > 0 && caHash.length !== caHashLength) throw new Error('invalid token CA hash length');
    rest = rest.slice(sep + 2);
  }
  const bootstrap = bootstrapTokenPattern.exec(rest);
  if (bootstrap !== null) {
    return { caHash, credentials: { kind: 'bootstrap', id: bootstrap[1]!, secret: bootstrap[2]! } };
  }
  const colon = rest.indexOf(':');
  if (colon < 0 || colon === rest.length - 1) throw new Error('invalid token format');
  return {
    caHash,
    credentials: { kind: 'password', username: rest.slice(0, colon), password: rest.slice(colon + 1) },
  };
}

/** The full K10 form of a token, with the hash of `caBundle` (the server CA file's bytes). */
export function formatJoinToken(caBundle: string | Uint8Array, credentials: JoinTokenCredentials): string {
  const creds =
    credentials.kind === 'bootstrap'
      ? `${credentials.id}.${credentials.secret}`
      : `${credentials.username}:${credentials.password}`;
  return `${tokenPrefix}${hashCABundle(caBundle)}::${creds}`;
}

/**
 * The hash a token pins: for a bundle of one certificate, the SHA-256 of the bundle's bytes exactly as
 * stored; for a longer bundle, of the DER of the root that its first certificate chains to, so that a CA
 * signed by a lasting root can be renewed without changing tokens. Throws when the bundle has no certificate.
 */
export function hashCABundle(caBundle: string | Uint8Array): string {
  const bytes = typeof caBundle === 'string' ? Buffer.from(caBundle) : Buffer.from(caBundle);
  const ders = certificatesFromPem(bytes.toString('utf8'));
  if (ders.length === 0) throw new Error('no certificates found in the CA bundle');
  let hashed: Buffer = bytes;
  if (ders.length > 1) {
    const root = rootOf(ders.map((d) => new X509Certificate(d)));
    if (root !== undefined) hashed = root.raw;
  }
  return createHash('sha256').update(hashed).digest('hex');
}

/** Checks a downloaded CA bundle against the hash a token pins; throws with k3s's message when they differ. */
export function validateCABundle(token: JoinToken | string, caBundle: string | Uint8Array): void {
  const { caHash } = typeof token === 'string' ? parseJoinToken(token) : token;
  // A short token pins nothing: the agent then trusts whatever CA it is given, as k3s warns.
  if (caHash === '') return;
  const actual = hashCABundle(caBundle);
  if (actual !== caHash.toLowerCase()) {
    throw new Error(`token CA hash does not match the Cluster CA certificate hash: ${caHash} != ${actual}`);
  }
}

/** The self-signed root reached from the first certificate through the others, if there is one. */
function rootOf(certs: X509Certificate[]): X509Certificate | undefined {
  let current = certs[0];
  for (let depth = 0; current !== undefined && depth < certs.length; depth++) {
    const from: X509Certificate = current;
    const issuer = certs.slice(1).find((c) => from.checkIssued(c) && from.verify(c.publicKey));
    if (issuer === undefined) return undefined;
    if (issuer.checkIssued(issuer)) return issuer;
    current = issuer;
  }
  return undefined;
}
