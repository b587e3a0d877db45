// Container stdio and the CRI log format. A container's stdout and stderr are FIFOs in its directory. The
// container is handed them opened read-write, so a writer never sees EPIPE while k8ts is down (output then
// waits in the pipe until the pump is back); k8ts reads them with its own pump and writes each line as
//   <RFC3339Nano time> <stdout|stderr> <F|P> <text>
// into the log file the kubelet named, F for a full line and P for a part of a line longer than
// maxLineBytes (containerd's 16 KiB). Attach subscribes to the same streams.
import { closeSync, constants, createWriteStream, mkdirSync, openSync, renameSync, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { execFileChecked } from './images/exec.js';

/** The longest piece of a line written as one log entry. */
export const maxLineBytes = 16 * 1024;

export type StreamName = 'stdout' | 'stderr';

/** Makes FIFOs (Node has no mkfifo), with one command for all. */
export async function makeFifos(files: string[]): Promise<void> {
  await Promise.all(files.map((f) => rm(f, { force: true })));
  await execFileChecked('mkfifo', ['-m', '0600', ...files]);
}

/**
 * Makes FIFOs by renaming spares that one `mkfifo` made ahead, a batch at a time, in a folder on the same
 * filesystem as the FIFOs' places: a container then costs no program run of its own for its stdio.
 */
export class FifoMaker {
  readonly spareDir: string;
  readonly batch: number;
  readonly #spares: string[] = [];
  #refill: Promise<void> | undefined;
  #seq = 0;

  constructor(spareDir: string, batch = 32) {
    this.spareDir = spareDir;
    this.batch = batch;
  }

  /** Drops spares left by an earlier process. */
  async clear(): Promise<void> {
    await rm(this.spareDir, { recursive: true, force: true });
  }

  /**
   * Makes `files` FIFOs (mode 0600), replacing what is there (a rename replaces a file in its way). The renames
   * are synchronous (cheaper than two trips through the thread pool), and the spares are refilled ahead, when
   * a quarter of the batch is left, so that a caller rarely waits for mkfifo.
   */
  async make(files: string[]): Promise<void> {
    for (const file of files) {
      const spare = this.#spares.pop() ?? (await this.#take());
      try {
        renameSync(spare, file);
      } catch (err) {
        // Another filesystem after all (EXDEV): make this one in place.
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        await rm(spare, { force: true });
        await makeFifos([file]);
      }
    }
    if (this.#spares.length < this.batch / 4) this.#startRefill().catch(() => undefined);
  }

  #startRefill(): Promise<void> {
    this.#refill ??= this.#fill().finally(() => (this.#refill = undefined));
    return this.#refill;
  }

  async #take(): Promise<string> {
    while (this.#spares.length === 0) await this.#startRefill();
    return this.#spares.pop()!;
  }

  async #fill(): Promise<void> {
    await mkdir(this.spareDir, { recursive: true, mode: 0o700 });
    const names = Array.from({ length: this.batch }, () => path.join(this.spareDir, `${process.pid}-${this.#seq++}`));
    await makeFifos(names);
    this.#spares.push(...names);
  }
}

/** Opens a FIFO read-write (never blocks, and keeps a reader alive for the holder). */
export function openFifoReadWrite(file: string): number {
  return openSync(file, constants.O_RDWR);
}

/** A timestamp as Go's time.RFC3339Nano prints it (UTC, trailing zeros of the fraction dropped). */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? '.' + frac : ''}Z`;
}

let lastNs = 0n;
/** Wall-clock nanoseconds, strictly increasing within this process. */
export function nowNs(): bigint {
  const hr = process.hrtime.bigint() % 1_000_000n;
  let ns = BigInt(Date.now()) * 1_000_000n + hr;
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}

/** Formats one CRI log entry. */
export function criLogLine(stream: StreamName, partial: boolean, text: Buffer, ns = nowNs()): Buffer {
  return Buffer.concat([
    Buffer.from(`${rfc3339Nano(ns)} ${stream} ${partial ? 'P' : 'F'} `),
    text,
    Buffer.from('\n'),
  ]);
}

/** Splits a byte stream into CRI log entries. */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #emit: (partial: boolean, text: Buffer) => void;

  constructor(emit: (partial: boolean, text: Buffer) => void) {
    this.#emit = emit;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      let piece = chunk.subarray(start, end);
      // Flush parts of an over-long line as P entries.
      while (this.#pendingBytes + piece.length > maxLineBytes) {
        const take = maxLineBytes - this.#pendingBytes;
        this.#pending.push(piece.subarray(0, take));
        this.#emit(true, Buffer.concat(this.#pending));
        this.#pending = [];
        this.#pendingBytes = 0;
        piece = piece.subarray(take);
      }
      if (nl < 0) {
        if (piece.length > 0) {
          this.#pending.push(piece);
          this.#pendingBytes += piece.length;
        }
        return;
      }
      this.#pending.push(piece);
      this.#emit(false, Buffer.concat(this.#pending));
      this.#pending = [];
      this.#pendingBytes = 0;
      start = nl + 1;
    }
  }

  /** At the end of the stream: what is left is a full entry. */
  end(): void {
    if (this.#pendingBytes > 0) this.#emit(false, Buffer.concat(this.#pending));
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

/** Receives a container's raw output (attach). */
export type OutputListener = (stream: StreamName, data: Buffer) => void;

/** Reads a container's output FIFOs into its CRI log file until the container's stdio closes. */
export class LogPump {
  readonly logPath: string;
  readonly #sockets: net.Socket[] = [];
  readonly #listeners = new Set<OutputListener>();
  #out: WriteStream | undefined;
  readonly done: Promise<void>;

  /** Starts pumping `fifos` (stdout only for a tty) into `logPath` ("" for no log). */
  constructor(logPath: string, fifos: Partial<Record<StreamName, string>>) {
    this.logPath = logPath;
    void this.reopenLog();
    const ends: Promise<void>[] = [];
    for (const [name, fifo] of Object.entries(fifos) as [StreamName, string][]) {
      // Non-blocking read-only open: a pipe handle in libuv, read on the event loop (not the thread pool).
      const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const socket = new net.Socket({ fd, readable: true, writable: false });
      this.#sockets.push(socket);
      const splitter = new LineSplitter((partial, text) => this.#write(criLogLine(name, partial, text)));
      socket.on('data', (chunk: Buffer) => {
        splitter.push(chunk);
        for (const l of this.#listeners) l(name, chunk);
      });
      ends.push(
        new Promise<void>((resolve) => {
          socket.once('close', () => {
            splitter.end();
            resolve();
          });
          socket.once('error', () => undefined);
        }),
      );
    }
    this.done = Promise.all(ends).then(() => this.#closeLog());
  }

  /** Opens (or reopens, after the kubelet rotated it) the log file; writes queue until it is open. */
  reopenLog(): Promise<void> {
    if (!this.logPath) return Promise.resolve();
    mkdirSync(path.dirname(this.logPath), { recursive: true });
    const previous = this.#out;
    this.#out = createWriteStream(this.logPath, { flags: 'a' });
    this.#out.on('error', () => undefined);
    return previous ? new Promise<void>((resolve) => previous.end(resolve)) : Promise.resolve();
  }

  /** Adds a listener of raw output; returns its removal. */
  subscribe(listener: OutputListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops reading (k8ts shutting down; the container keeps its FIFOs). */
  close(): void {
    for (const s of this.#sockets) s.destroy();
  }

  #write(line: Buffer): void {
    this.#out?.write(line);
  }

  async #closeLog(): Promise<void> {
    const out = this.#out;
    this.#out = undefined;
    if (out) await new Promise<void>((resolve) => out.end(resolve));
  }
}

/** Closes a file descriptor, ignoring errors. */
export function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
