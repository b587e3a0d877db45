import { createHash, type Hash } from 'node:crypto';

/** The digest algorithms go-digest registers, with the length of their hex encoding. */
const algorithms: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

const anyDigest = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** A content digest split into its algorithm and hex encoding. */
export interface ParsedDigest {
  algorithm: string;
  hex: string;
}

/**
 * Checks a digest string as go-digest's Parse does and returns the reason it is invalid, worded as go-digest
 * words it, or undefined when it is valid.
 */
export function digestProblem(value: string): string | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon + 1 === value.length) return 'invalid checksum digest format';
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  const length = algorithms[algorithm];
  if (length === undefined) {
    return anyDigest.test(value) ? 'unsupported digest algorithm' : 'invalid checksum digest format';
  }
  if (hex.length !== length) return 'invalid checksum digest length';
  if (!/^[a-f0-9]+$/.test(hex)) return 'invalid checksum digest format';
  return undefined;
}

/** Parses a digest, or throws an Error with go-digest's reason. */
export function parseDigest(value: string): ParsedDigest {
  const problem = digestProblem(value);
  if (problem !== undefined) throw new Error(`${problem}: ${JSON.stringify(value)}`);
  const colon = value.indexOf(':');
  return { algorithm: value.slice(0, colon), hex: value.slice(colon + 1) };
}

/** A running hash for the algorithm of `digest` (sha256 when none is given). */
export function digester(digest?: string): { hash: Hash; algorithm: string } {
  const algorithm = digest === undefined ? 'sha256' : parseDigest(digest).algorithm;
  return { hash: createHash(algorithm), algorithm };
}

/** The sha256 digest of a buffer, as "sha256:<hex>". */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The digest of `data` in the algorithm of `like`. */
export function digestOf(data: Buffer, like: string): string {
  const { algorithm } = parseDigest(like);
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
