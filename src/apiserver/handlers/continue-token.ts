// The continue token of a paged list: the list's revision and the key to start after, as upstream encodes
// it (base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"..."}). Clients treat it as opaque.
import { apiErrors } from '../../apimachinery/errors/status-error.js';

/** Encodes a continue token. `start` is the last key returned, relative to the list's key prefix. */
export function encodeContinue(revision: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: start + '\u0000' })).toString('base64url');
}

/** Decodes a continue token; a malformed one answers 400 as upstream does. */
export function decodeContinue(token: string): { revision: number; start: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw apiErrors.badRequest(`continue key is not valid: illegal base64 data or JSON`);
  }
  const c = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (c.v !== 'meta.k8s.io/v1') throw apiErrors.badRequest('continue key is not valid: server does not recognize this encoded version');
  if (typeof c.rv !== 'number' || !Number.isInteger(c.rv) || c.rv <= 0 || typeof c.start !== 'string') {
    throw apiErrors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  const start = c.start.endsWith('\u0000') ? c.start.slice(0, -1) : c.start;
  // The start key is relative to the list's prefix ("name", or "namespace/name" across namespaces).
  if (start.startsWith('/') || start.split('/').some((seg) => seg === '..' || seg === '.')) {
    throw apiErrors.badRequest('continue key is not valid: path traversal');
  }
  return { revision: c.rv, start };
}
