// Writing responses and reading request bodies: JSON out, Status objects for every failure, and the
// request size limit upstream enforces (3 MiB bodies).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatusError } from '../../apimachinery/errors/status-error.js';
import { apiErrors, isStatusError } from '../../apimachinery/errors/status-error.js';

/** Upstream's limit on request bodies (apiserver's MaxRequestBodyBytes): 3 MiB. */
export const maxRequestBodyBytes = 3 * 1024 * 1024;

/** Writes a JSON body (already serialized or not) with a status code. */
export function writeJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Lists with more elements than this are streamed (see writeJsonList); smaller ones go in one piece. */
const streamedListLength = 500;
/** How much JSON text a streamed list gathers before it writes a chunk. */
const listChunkChars = 64 * 1024;

/**
 * Writes a JSON object whose last member is a long array (a list's items, a Table's rows): `head` is the
 * object with that member empty, `elements` its elements. A long list goes out in chunks of about 64 KiB,
 * waiting while the socket is full, so that it never exists as one large string and other requests are
 * served between two chunks; the text is the same as JSON.stringify of the whole object.
 */
export async function writeJsonList(res: ServerResponse, head: object, elements: readonly unknown[], contentType = 'application/json'): Promise<void> {
  const empty = JSON.stringify(head);
  if (elements.length <= streamedListLength || !empty.endsWith('[]}')) {
    const last = Object.keys(head).at(-1);
    writeJson(res, 200, last === undefined ? head : { ...head, [last]: elements }, contentType);
    return;
  }
  res.writeHead(200, { 'Content-Type': contentType });
  let chunk = empty.slice(0, -2);
  for (let i = 0; i < elements.length; i++) {
    chunk += (i === 0 ? '' : ',') + (JSON.stringify(elements[i]) ?? 'null');
    if (chunk.length >= listChunkChars) {
      const more = res.write(chunk);
      chunk = '';
      if (!more && !(await drained(res))) return;
    }
  }
  res.end(chunk + ']}');
}

/** Resolves true when the response can take more, false when its connection closed first. */
function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Turns any error into the Status answer: StatusErrors as they are, anything else as a 500 InternalError. */
export function toStatusError(err: unknown): StatusError {
  if (isStatusError(err)) return err;
  return apiErrors.internal(err);
}

/** Writes a failure as a Status object. */
export function writeError(res: ServerResponse, err: unknown): void {
  const se = toStatusError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  const retry = se.status.details?.retryAfterSeconds;
  if (retry !== undefined && retry > 0) headers['Retry-After'] = String(retry);
  const text = JSON.stringify(se.status);
  res.writeHead(se.code, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads the whole body, refusing more than the limit with 413 as upstream does. */
export async function readBody(req: IncomingMessage, limit = maxRequestBodyBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw apiErrors.requestEntityTooLarge(`limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw apiErrors.requestEntityTooLarge(`limit is ${limit}`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The media type of a Content-Type or Accept entry, lower-cased and without parameters. */
export function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

/** One entry of an Accept header: its media type and parameters (as=Table, g=..., v=...). */
export interface AcceptEntry {
  type: string;
  params: Record<string, string>;
}

/** Parses an Accept header into its entries, in the order given. */
export function parseAccept(header: string | undefined): AcceptEntry[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [type = '', ...params] = part.split(';');
    const entry: AcceptEntry = { type: type.trim().toLowerCase(), params: {} };
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq > 0) entry.params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
    return entry;
  });
}
