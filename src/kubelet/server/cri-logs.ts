// Reading container logs in the CRI log format (one entry per line: RFC 3339 timestamp with nanoseconds,
// stream "stdout" or "stderr", tag "F" for a full line or "P" for a partial one, then the content), with the
// options of `kubectl logs`: tailLines, sinceTime/sinceSeconds, timestamps, limitBytes and follow.
import { open, stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/** One parsed log entry. */
export interface CriLogEntry {
  /** Nanoseconds since the epoch. */
  time: bigint;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  content: string;
}

/** The options of a log request. */
export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  /** Nanoseconds since the epoch: entries before it are skipped. */
  since?: bigint;
  timestamps?: boolean;
  limitBytes?: number;
}

/** Parses an RFC 3339 time with up to nine fraction digits to nanoseconds since the epoch; undefined if invalid. */
export function parseRfc3339Nano(text: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0'));
  return BigInt(ms) * 1_000_000n + frac;
}

/** Formats nanoseconds since the epoch as upstream's RFC3339NanoFixed in UTC (always nine digits). */
export function formatRfc3339NanoFixed(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${base}.${frac}Z`;
}

/** Parses one line of a CRI log (without its newline); undefined for a malformed line. */
export function parseCriLogLine(line: string): CriLogEntry | undefined {
  const a = line.indexOf(' ');
  const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const c = line.indexOf(' ', b + 1);
  const time = parseRfc3339Nano(line.slice(0, a));
  const stream = line.slice(a + 1, b);
  if (time === undefined || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
  const tags = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  return { time, stream, partial: tags.split(':')[0] === 'P', content: c < 0 ? '' : line.slice(c + 1) };
}

/** What an entry prints as. */
function render(entry: CriLogEntry, timestamps: boolean): string {
  const text = entry.partial ? entry.content : `${entry.content}\n`;
  return timestamps ? `${formatRfc3339NanoFixed(entry.time)} ${text}` : text;
}

/** Writes text to a writable and waits for drain when it asks. */
async function put(out: Writable, text: string): Promise<void> {
  if (out.destroyed || out.writableEnded) return;
  if (!out.write(text)) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      out.once('drain', done);
      out.once('close', done);
    });
  }
}

/**
 * Copies a CRI log to `out` under the options. With follow, keeps reading what the container appends until
 * `running()` turns false (and the file is drained) or `signal` aborts. Resolves when done; does not end `out`.
 */
export async function copyCriLog(
  path: string,
  out: Writable,
  options: LogOptions,
  running: () => Promise<boolean>,
  signal: AbortSignal,
  pollMs = 100,
): Promise<void> {
  let budget = options.limitBytes ?? Infinity;
  const emit = async (entry: CriLogEntry): Promise<boolean> => {
    if (options.since !== undefined && entry.time < options.since) return true;
    let text = render(entry, options.timestamps === true);
    const bytes = Buffer.byteLength(text);
    if (bytes > budget) {
      text = Buffer.from(text).subarray(0, budget).toString('utf8');
      budget = 0;
      await put(out, text);
      return false;
    }
    budget -= bytes;
    await put(out, text);
    return budget > 0;
  };

  let fh = await open(path, 'r');
  try {
    let offset = 0;
    let rest = '';
    /** After rotation (the path names a new file), continue in the new file once the old one is drained. */
    const reopenIfRotated = async (): Promise<boolean> => {
      const now = await stat(path).catch(() => undefined);
      if (!now || now.ino === (await fh.stat()).ino) return false;
      await fh.close();
      fh = await open(path, 'r');
      offset = 0;
      rest = '';
      return true;
    };
    const readMore = async (): Promise<string[]> => {
      const size = (await fh.stat()).size;
      if (size < offset) {
        // Truncated or rotated in place: start over.
        offset = 0;
        rest = '';
      }
      if (size === offset) return [];
      const buf = Buffer.alloc(size - offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      offset += bytesRead;
      const text = rest + buf.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      return lines;
    };
    let lines = await readMore();
    if (options.tailLines !== undefined) lines = options.tailLines === 0 ? [] : lines.slice(-options.tailLines);
    for (const line of lines) {
      const entry = parseCriLogLine(line);
      if (entry && !(await emit(entry))) return;
    }
    if (!options.follow) return;
    while (!signal.aborted && !out.destroyed) {
      const more = await readMore();
      for (const line of more) {
        const entry = parseCriLogLine(line);
        if (entry && !(await emit(entry))) return;
      }
      if (more.length === 0) {
        if (await reopenIfRotated()) continue;
        if (!(await running())) {
          // One last read: the container may have written right before it stopped.
          const last = await readMore();
          for (const line of last) {
            const entry = parseCriLogLine(line);
            if (entry && !(await emit(entry))) return;
          }
          return;
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    }
  } finally {
    await fh.close();
  }
}

/** True when a log file exists (a container that never started has none). */
export async function logExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
