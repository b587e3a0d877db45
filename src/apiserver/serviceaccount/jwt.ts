// Compact JSON Web Tokens signed with RS256 (RFC 7515/7519), as kube-apiserver issues service account
// tokens: the header names the key by its ID (base64url SHA-256 of the public key's PKIX DER, upstream's
// key ID), the payload is a JSON object of claims. Only node:crypto; no JOSE library.
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** A signing key (or only a verifying one) with the ID tokens carry in their `kid` header. */
export interface JwtKey {
  /** Absent for keys that only verify (extra --service-account-key-file keys). */
  privateKey?: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** A token's parts, decoded but not yet trusted. */
export interface DecodedJwt {
  header: { alg?: unknown; kid?: unknown; typ?: unknown };
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Upstream's key ID: base64url (no padding) of SHA-256 over the public key's PKIX (SPKI) DER encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

/** Reads a PEM private key (PKCS#1 or PKCS#8) into a signing key. */
export function signingKeyFromPem(pem: string): JwtKey {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Reads a PEM public key (or the public half of a private key) into a verifying key. */
export function verifyingKeyFromPem(pem: string): JwtKey {
  const publicKey = createPublicKey(pem);
  return { publicKey, keyId: keyIdOf(publicKey) };
}

/**
 * Serialises claims the way Go's encoding/json writes a map: keys in sorted order, at every level, so that
 * our tokens decode to the same text as upstream's.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Signs claims with RS256 into a compact JWT. */
export function signJwt(claims: Record<string, unknown>, key: JwtKey): string {
  if (!key.privateKey) throw new Error('the key cannot sign: it has no private half');
  const header = b64url(canonicalJson({ alg: 'RS256', kid: key.keyId }));
  const input = `${header}.${b64url(canonicalJson(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key.privateKey))}`;
}

/** Splits and decodes a compact JWT; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]+$/.test(h) || !/^[A-Za-z0-9_-]+$/.test(p) || !/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown;
    if (header === null || typeof header !== 'object' || Array.isArray(header)) return undefined;
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return { header: header, payload: payload as Record<string, unknown>, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
  } catch {
    return undefined;
  }
}

/** True when one of the keys made the token's RS256 signature (the `kid` picks the key when it names one). */
export function verifyJwtSignature(jwt: DecodedJwt, keys: readonly JwtKey[]): boolean {
  if (jwt.header.alg !== 'RS256') return false;
  const kid = typeof jwt.header.kid === 'string' ? jwt.header.kid : undefined;
  const candidates = kid ? keys.filter((k) => k.keyId === kid) : keys;
  return candidates.some((k) => verify('sha256', Buffer.from(jwt.signingInput), k.publicKey, jwt.signature));
}

/** A key as the issuer's JWKS document lists it (RFC 7517). */
export function publicJwk(key: JwtKey): Record<string, string> {
  const jwk = key.publicKey.export({ format: 'jwk' }) as { kty?: string; n?: string; e?: string };
  return { use: 'sig', kty: jwk.kty ?? 'RSA', kid: key.keyId, alg: 'RS256', n: jwk.n ?? '', e: jwk.e ?? '' };
}
