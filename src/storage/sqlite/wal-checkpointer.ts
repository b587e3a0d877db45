// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that crosses
// wal_autocheckpoint pages and fsyncs the WAL and the database file there: on the main thread that is a
// pause of several milliseconds for whichever request committed. The store turns automatic checkpoints off
// on its own connection and lets this worker thread, with a connection of its own to the same file, copy
// the WAL back into the database. A PASSIVE checkpoint takes no lock that writers or readers wait for, so
// the main thread never waits on it; the next writer after a complete checkpoint starts the WAL over from
// its beginning, and journal_size_limit trims the file then, which keeps the WAL bounded.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How the store talks to the worker. */
type Request = { id: number; mode: 'PASSIVE' | 'TRUNCATE' | 'close' };
interface Reply {
  id: number;
  /** Frames in the WAL and frames copied back, as `PRAGMA wal_checkpoint` reports them (-1 when it failed). */
  log: number;
  checkpointed: number;
  error?: string;
}

export interface WalCheckpointerOptions {
  path: string;
  sync: 'normal' | 'full';
  /** Ask for a checkpoint after this many commits (about four WAL pages each for a typical object). */
  everyWrites: number;
  /** A checkpoint also runs on this timer, so that the WAL drains after a burst, in ms. */
  intervalMs: number;
  /** WAL frames past which a RESTART checkpoint makes the next writer start the WAL over. */
  restartFrames?: number;
  /**
   * The hard bound: when the WAL file grows past this many bytes all the same (the worker thread starved of
   * CPU, say), the store checkpoints on its own thread, as SQLite's automatic checkpoint would.
   */
  maxWalBytes?: number;
  /** Runs that checkpoint on the store's connection. */
  checkpointHere: () => void;
}

// Plain JavaScript run with `eval`, so that the worker needs no TypeScript loader in tests or from dist/.
//
// The store counts its commits in a shared word (control[0]) and wakes the worker through Atomics every
// everyWrites commits, which works even while the main thread never yields (a burst of writes that await
// nothing but each other). A PASSIVE checkpoint lets the writer start the WAL over only if it copied every
// frame and no write came in meanwhile; under a steady stream of writes that moment may not come, so once the
// WAL holds restartFrames frames the worker runs a RESTART checkpoint, which needs a moment with no writer.
// A writer that commits back to back leaves it almost none (SQLite's busy handler polls), so the worker
// asks through control[1], and the store waits after its next commit until the RESTART is done: a pause of
// the few frames written since the last PASSIVE, once per restartFrames frames, and only under a write
// stream that never lets the WAL start over by itself. The next writer then starts the WAL from its
// beginning (and journal_size_limit trims the file).
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const control = new Int32Array(workerData.control);
const db = new Database(workerData.path, { timeout: 5000 });
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('wal_autocheckpoint = 0');
const run = (mode) => {
  const [row] = db.pragma('wal_checkpoint(' + mode + ')');
  return { log: row.log, checkpointed: row.checkpointed };
};
let closing = false;
// control[1]: 0; 1 while the worker asks the store to hold its next commit back; 2 while the store holds
// (at the worker's request, or on its own when the WAL outgrew its hard bound).
const released = () => {
  Atomics.store(control, 1, 0);
  Atomics.notify(control, 1);
};
const restart = async () => {
  // Copy what came in during the last round first, so that the store is held for a few frames only.
  run('PASSIVE');
  if (Atomics.compareExchange(control, 1, 0, 1) === 0) {
    // The store sees the request at its next commit; if none comes within a few ms, no writer is in the way.
    const w = Atomics.waitAsync(control, 1, 1, 5);
    if (w.async) await w.value;
  }
  try { run('RESTART'); } finally { released(); }
};
const loop = async () => {
  let seen = Atomics.load(control, 0);
  while (!closing) {
    const now = Atomics.load(control, 0);
    if (now - seen < workerData.everyWrites && Atomics.load(control, 1) !== 2) {
      const w = Atomics.waitAsync(control, 0, now, workerData.intervalMs);
      if (w.async) await w.value;
      if (closing) break;
    }
    if (Atomics.load(control, 1) === 2) {
      try { run('RESTART'); } catch {} finally { released(); }
      continue;
    }
    // Woken by the timer with nothing written since the last round: nothing to copy.
    if (Atomics.load(control, 0) === seen) continue;
    seen = Atomics.load(control, 0);
    try {
      const r = run('PASSIVE');
      if (r.log >= workerData.restartFrames) await restart();
    } catch {}
    // Let messages (a checkpoint request, close) in between two rounds.
    await new Promise((resolve) => setImmediate(resolve));
  }
};
const done = loop();
parentPort.on('message', async (m) => {
  if (m.mode === 'close') {
    closing = true;
    Atomics.notify(control, 0); // the loop may be waiting for writes
    await done;
    let reply = { id: m.id, log: -1, checkpointed: -1 };
    try { reply = { id: m.id, ...run('TRUNCATE') }; } catch (err) { reply.error = String(err); }
    db.close();
    parentPort.postMessage(reply);
    parentPort.close();
    return;
  }
  try { parentPort.postMessage({ id: m.id, ...run(m.mode) }); }
  catch (err) { parentPort.postMessage({ id: m.id, log: -1, checkpointed: -1, error: String(err) }); }
});
`;

/** A worker thread that checkpoints one SQLite database's WAL. */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly everyWrites: number;
  /** [0]: commits so far, counted by the store; [1]: the RESTART handshake (see the worker's source). */
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private notified = 0;
  private readonly walFile: string;
  private readonly maxWalBytes: number;
  private readonly checkpointHere: () => void;
  /** Checkpoints the store had to run itself (see maxWalBytes); tests read it. */
  fallbacks = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private readonly exited: Promise<void>;
  private closing: Promise<void> | undefined;

  constructor(options: WalCheckpointerOptions) {
    this.everyWrites = Math.max(1, options.everyWrites);
    this.walFile = `${options.path}-wal`;
    // The hard bound sits half again above the RESTART point.
    this.maxWalBytes = options.maxWalBytes ?? Math.max(24 << 20, (options.restartFrames ?? 4096) * 4096 * 1.5);
    this.checkpointHere = options.checkpointHere;
    this.worker = new Worker(workerSource, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        path: options.path,
        synchronous: options.sync === 'full' ? 'FULL' : 'NORMAL',
        intervalMs: options.intervalMs,
        control: this.control.buffer,
        everyWrites: this.everyWrites,
        restartFrames: options.restartFrames ?? 4096,
      },
    });
    // The store's timers are unref'ed; its worker must not keep the process alive either.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const done = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.worker.unref();
      done?.(reply);
    });
    this.worker.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    void this.exited.then(() => {
      Atomics.store(this.control, 1, 0);
      for (const done of this.waiting.values()) done({ id: 0, log: -1, checkpointed: -1, error: 'the checkpoint worker exited' });
      this.waiting.clear();
    });
  }

  /** Counts a commit; every `everyWrites` commits, wakes the worker for a checkpoint. */
  noteWrite(): void {
    const n = Atomics.add(this.control, 0, 1) + 1;
    if (n - this.notified >= this.everyWrites) {
      this.notified = n;
      Atomics.notify(this.control, 0);
    }
    if (n % 64 === 0 && this.walBytes() > this.maxWalBytes) this.holdForRestart();
    // The worker wants a RESTART checkpoint: hold the next commit back until it is done (bounded wait, in
    // case the worker is gone).
    if (Atomics.compareExchange(this.control, 1, 1, 2) === 1) {
      Atomics.notify(this.control, 1);
      Atomics.wait(this.control, 1, 2, 1000);
    }
  }

  /**
   * Runs one checkpoint now and resolves when it is done: PASSIVE copies what it can without waiting for
   * anyone; TRUNCATE copies everything and truncates the WAL to zero bytes (after a compaction, say).
   */
  async checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): Promise<void> {
    if (this.closing) return;
    const reply = await this.send(mode);
    if (reply.error) throw new Error(`WAL checkpoint failed: ${reply.error}`);
  }

  /** Runs a last TRUNCATE checkpoint, closes the worker's connection and waits for the thread to end. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const timer = setTimeout(() => void this.worker.terminate(), 10_000);
      await Promise.race([this.send('close'), this.exited]);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.closing;
  }

  /** The WAL outgrew its hard bound: hold writes until the worker ran a RESTART checkpoint. */
  private holdForRestart(): void {
    this.fallbacks += 1;
    Atomics.store(this.control, 1, 2);
    Atomics.notify(this.control, 0);
    if (Atomics.wait(this.control, 1, 2, 1000) === 'timed-out') {
      // The worker does not answer: checkpoint here, as SQLite's automatic checkpoint would.
      Atomics.store(this.control, 1, 0);
      this.checkpointHere();
    }
  }

  private walBytes(): number {
    try {
      return statSync(this.walFile).size;
    } catch {
      return 0;
    }
  }

  private send(mode: Request['mode']): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      // Referenced while an answer is awaited, so that a caller's await is never cut short by the exit.
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, resolve);
      this.worker.postMessage({ id, mode } satisfies Request);
    });
  }
}
