// The embedded default store: etcd's revision model on one SQLite file, as kine does it, with two
// differences that kine's users ask for: watches are pushed to watchers as writes commit (never polled),
// and compaction gives disk space back to the file system (auto_vacuum=INCREMENTAL).
//
// One append-only table `log` holds every write: the row's primary key is the write's revision. A delete
// writes a tombstone row. `current` maps each live key to its latest row, so that reads at the newest
// revision touch only live data. Compaction deletes the rows that no read at or after the compaction
// revision can need. See docs/adr/0002-sqlite-store.md.
import Database from 'better-sqlite3';
import { storeErrors, StoreError } from '../errors.js';
import type {
  DeleteOptions,
  GetOptions,
  GetResult,
  KeyValue,
  ListOptions,
  ListResult,
  Store,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../store.js';
import { maxValueBytes, prefixEnd } from '../store.js';
import { WatchQueue } from '../watch-queue.js';
import { WalCheckpointer } from './wal-checkpointer.js';

export interface SqliteStoreOptions {
  /** The database file, or ":memory:" for a store that lives as long as the process. */
  path: string;
  /**
   * "normal" (default): a write that returned survives a crash of the process (kill -9), not a power loss.
   * "full": every commit is also fsynced, as etcd does, to survive a power loss.
   */
  sync?: 'normal' | 'full';
  /**
   * How often the store compacts itself, in ms (0: never). Each run compacts to the revision the previous
   * run saw, so that at least one interval of history stays watchable, as kube-apiserver's compactor does
   * (its --etcd-compaction-interval defaults to 5 minutes).
   */
  compactIntervalMs?: number;
  /** How often expired keys are deleted, in ms. */
  ttlSweepIntervalMs?: number;
  /** The clock for time-to-live; tests may inject one. */
  now?: () => number;
  /** Commits between WAL checkpoints (run on a worker thread); tests lower it. */
  checkpointEveryWrites?: number;
  /**
   * WAL frames (pages) past which the checkpoint worker restarts the WAL, holding one commit back while it
   * does: 16,384 by default (64 MiB of 4 KiB pages, etcd's WAL segment size), so that under a stream of
   * writes the hold, an fsync of the database file, comes about once per 4,000 commits.
   */
  checkpointRestartFrames?: number;
}

interface LogRow {
  revision: number;
  key: string;
  create_revision: number;
  prev_revision: number;
  deleted: number;
  expires_at: number | null;
  value: Buffer | null;
}

interface EventRow extends LogRow {
  prev_value: Buffer | null;
  prev_create_revision: number | null;
}

interface Watcher {
  prefix: string;
  end: string;
  queue: WatchQueue;
}

const schema = `
CREATE TABLE IF NOT EXISTS log (
  revision INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  expires_at INTEGER,
  value BLOB
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE INDEX IF NOT EXISTS log_expires_at ON log (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS current (key TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/**
 * Revisions compaction covers per transaction, so that a large compaction never blocks for long; the WAL is
 * checkpointed between two transactions, so it grows by one window at most.
 */
const compactBatchRevisions = 5_000;

const asBuffer = (v: Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

function toKeyValue(row: LogRow): KeyValue {
  return {
    key: row.key,
    value: row.value ?? Buffer.alloc(0),
    createRevision: row.create_revision,
    modRevision: row.revision,
  };
}

/**
 * Takes the lock that keeps a second store off a database file: `<file>-lock`, a tiny SQLite database held in
 * EXCLUSIVE locking mode with its write lock taken, for as long as the store is open. The database itself uses
 * the normal locking mode, so that the checkpoint worker's connection can share it. The lock is an fcntl
 * lock through SQLite, so it goes with the process however that ends; SQLite also tracks it within one
 * process, so a second store in the same process is refused as well.
 */
function lockDatabase(file: string): Database.Database {
  const lock = new Database(`${file}-lock`, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.pragma('journal_mode = OFF');
    // A write is what makes SQLite take the exclusive lock, and in this mode it never gives it back.
    lock.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;');
    lock.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
    lock.exec('COMMIT');
    return lock;
  } catch (err) {
    lock.close();
    if (err instanceof Error && /locked|busy/i.test(err.message)) {
      throw new StoreError('Unavailable', `the datastore ${file} is in use by another process`, { cause: err });
    }
    throw err;
  }
}

/** The store on SQLite. Single process: the file is locked while it is open. */
export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  private readonly db: Database.Database;
  /** The single-process guard (see lockDatabase); none for an in-memory store. */
  private readonly lock: Database.Database | undefined;
  private readonly checkpointer: WalCheckpointer | undefined;
  private readonly now: () => number;
  private readonly watchers = new Set<Watcher>();
  private readonly timers: NodeJS.Timeout[] = [];
  private head: number;
  private compacted: number;
  private closed = false;
  private closing: Promise<void> | undefined;
  private compacting: Promise<void> | undefined;
  private lastCompactionTarget = 0;
  /** The write transactions, made once (better-sqlite3 wraps a function per transaction() call). */
  private readonly txn: {
    create: Database.Transaction<(key: string, value: Uint8Array, expiresAt: number | null) => WatchEvent & { type: 'created' }>;
    update: Database.Transaction<
      (key: string, value: Uint8Array, expectedModRevision: number, expiresAt: number | null) => WatchEvent & { type: 'updated' }
    >;
    delete: Database.Transaction<(key: string, expectedModRevision: number | undefined) => WatchEvent & { type: 'deleted' }>;
  };

  private readonly stmt: {
    latest: Database.Statement<[string], LogRow>;
    atRevision: Database.Statement<[string, number], LogRow>;
    insert: Database.Statement<[number, string, number, number, number, number | null, Buffer | null]>;
    setCurrent: Database.Statement<[string, number]>;
    dropCurrent: Database.Statement<[string]>;
    listHead: Database.Statement<[string, string, string, number], LogRow>;
    listAt: Database.Statement<[string, string, string, number, number], LogRow>;
    countHead: Database.Statement<[string, string, string], { n: number }>;
    countAt: Database.Statement<[string, string, string, number], { n: number }>;
    history: Database.Statement<[number, string, string], EventRow>;
    expired: Database.Statement<[number, number], { key: string; revision: number }>;
    setMeta: Database.Statement<[string, number]>;
    compactSuperseded: Database.Statement<[number, number]>;
    compactTombstones: Database.Statement<[number, number]>;
  };

  constructor(options: SqliteStoreOptions) {
    this.now = options.now ?? Date.now;
    const inMemory = options.path === ':memory:' || options.path === '';
    this.lock = inMemory ? undefined : lockDatabase(options.path);
    // With sync=full every commit fsyncs on this thread anyway, and a worker's checkpoints made those fsyncs
    // wait for the database file's writes (ext4 commits them together): 40% fewer commits/s in bench:store.
    // So that mode keeps SQLite's automatic checkpoints; the default mode checkpoints on the worker.
    const checkpointWorker = !inMemory && options.sync !== 'full';
    try {
      this.db = new Database(options.path);
    } catch (err) {
      this.lock?.close();
      throw err;
    }
    try {
      this.db.pragma('auto_vacuum = INCREMENTAL'); // takes effect only on a new file
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('journal_size_limit = 16777216');
      this.db.pragma('busy_timeout = 2000');
      // Checkpoints run on the worker thread below; a commit never runs one.
      if (checkpointWorker) this.db.pragma('wal_autocheckpoint = 0');
      this.db.exec(schema);
    } catch (err) {
      this.db.close();
      this.lock?.close();
      throw err;
    }
    const db = this.db;
    this.stmt = {
      latest: db.prepare('SELECT l.* FROM current c JOIN log l ON l.revision = c.revision WHERE c.key = ?'),
      atRevision: db.prepare('SELECT * FROM log WHERE key = ? AND revision <= ? ORDER BY revision DESC LIMIT 1'),
      insert: db.prepare(
        'INSERT INTO log (revision, key, create_revision, prev_revision, deleted, expires_at, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      setCurrent: db.prepare('INSERT OR REPLACE INTO current (key, revision) VALUES (?, ?)'),
      dropCurrent: db.prepare('DELETE FROM current WHERE key = ?'),
      listHead: db.prepare(
        'SELECT l.* FROM current c JOIN log l ON l.revision = c.revision WHERE c.key >= ? AND c.key > ? AND c.key < ? ORDER BY c.key LIMIT ?',
      ),
      // SQLite takes a bare column's value from the row where max() found its maximum.
      listAt: db.prepare(
        `SELECT revision, key, create_revision, prev_revision, deleted, expires_at, value, max(revision) AS m
         FROM log WHERE key >= ? AND key > ? AND key < ? AND revision <= ?
         GROUP BY key HAVING deleted = 0 ORDER BY key LIMIT ?`,
      ),
      countHead: db.prepare('SELECT count(*) AS n FROM current WHERE key >= ? AND key > ? AND key < ?'),
      countAt: db.prepare(
        `SELECT count(*) AS n FROM (SELECT deleted, max(revision) FROM log
         WHERE key >= ? AND key > ? AND key < ? AND revision <= ? GROUP BY key HAVING deleted = 0)`,
      ),
      history: db.prepare(
        `SELECT l.*, p.value AS prev_value, p.create_revision AS prev_create_revision
         FROM log l LEFT JOIN log p ON p.revision = l.prev_revision
         WHERE l.revision > ? AND l.key >= ? AND l.key < ? ORDER BY l.revision`,
      ),
      // Joined on the key as well, so that SQLite walks the expiry index and looks each row up in
      // `current`, rather than scanning every live key on each sweep.
      expired: db.prepare(
        `SELECT l.key, l.revision FROM log l JOIN current c ON c.key = l.key AND c.revision = l.revision
         WHERE l.expires_at IS NOT NULL AND l.expires_at <= ? LIMIT ?`,
      ),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)'),
      compactSuperseded: db.prepare(
        `DELETE FROM log WHERE revision IN (SELECT prev_revision FROM log
         WHERE revision > ? AND revision <= ? AND prev_revision > 0)`,
      ),
      compactTombstones: db.prepare('DELETE FROM log WHERE revision >= ? AND revision < ? AND deleted = 1'),
    };
    this.txn = {
      create: db.transaction((key: string, value: Uint8Array, expiresAt: number | null) => {
        if (this.stmt.latest.get(key)) throw storeErrors.keyExists(key);
        const rev = this.head + 1;
        this.stmt.insert.run(rev, key, rev, 0, 0, expiresAt, asBuffer(value));
        this.stmt.setCurrent.run(key, rev);
        this.head = rev;
        const kv: KeyValue = { key, value, createRevision: rev, modRevision: rev };
        return { type: 'created', revision: rev, key, kv } satisfies WatchEvent;
      }),
      update: db.transaction((key: string, value: Uint8Array, expectedModRevision: number, expiresAt: number | null) => {
        const cur = this.stmt.latest.get(key);
        if (!cur) throw storeErrors.keyNotFound(key);
        if (cur.revision !== expectedModRevision) throw storeErrors.conflict(key, toKeyValue(cur));
        const rev = this.head + 1;
        this.stmt.insert.run(rev, key, cur.create_revision, cur.revision, 0, expiresAt, asBuffer(value));
        this.stmt.setCurrent.run(key, rev);
        this.head = rev;
        const kv: KeyValue = { key, value, createRevision: cur.create_revision, modRevision: rev };
        return { type: 'updated', revision: rev, key, kv, prevKv: toKeyValue(cur) } satisfies WatchEvent;
      }),
      delete: db.transaction((key: string, expectedModRevision: number | undefined) => {
        const cur = this.stmt.latest.get(key);
        if (!cur) throw storeErrors.keyNotFound(key);
        if (expectedModRevision !== undefined && cur.revision !== expectedModRevision) {
          throw storeErrors.conflict(key, toKeyValue(cur));
        }
        const rev = this.head + 1;
        this.stmt.insert.run(rev, key, cur.create_revision, cur.revision, 1, null, null);
        this.stmt.dropCurrent.run(key);
        this.head = rev;
        return { type: 'deleted', revision: rev, key, prevKv: toKeyValue(cur) } satisfies WatchEvent;
      }),
    };
    this.head = (db.prepare('SELECT max(revision) AS r FROM log').get() as { r: number | null }).r ?? 0;
    const meta = db.prepare("SELECT value FROM meta WHERE name = 'compacted'").get() as { value: number } | undefined;
    this.compacted = meta?.value ?? 0;

    if (checkpointWorker) {
      this.checkpointer = new WalCheckpointer({
        path: options.path,
        sync: options.sync ?? 'normal',
        everyWrites: options.checkpointEveryWrites ?? 256,
        intervalMs: 1000,
        restartFrames: options.checkpointRestartFrames ?? 16_384,
        checkpointHere: () => this.db.pragma('wal_checkpoint(RESTART)'),
      });
    }

    const sweep = options.ttlSweepIntervalMs ?? 500;
    if (sweep > 0) this.timers.push(setInterval(() => this.deleteExpired(), sweep).unref());
    const interval = options.compactIntervalMs ?? 5 * 60_000;
    if (interval > 0) {
      this.timers.push(
        setInterval(() => {
          const target = this.lastCompactionTarget;
          this.lastCompactionTarget = this.head;
          if (target > this.compacted) this.compact(target).catch(() => undefined);
        }, interval).unref(),
      );
    }
  }

  currentRevision(): Promise<number> {
    this.checkOpen();
    return Promise.resolve(this.head);
  }

  compactedRevision(): Promise<number> {
    this.checkOpen();
    return Promise.resolve(this.compacted);
  }

  private checkOpen(): void {
    if (this.closed) throw storeErrors.closed();
  }

  private checkReadRevision(revision: number): void {
    if (revision > this.head) throw storeErrors.futureRevision(revision, this.head);
    if (revision < this.compacted) throw storeErrors.compacted(revision, this.compacted);
  }

  private checkSize(key: string, value: Uint8Array): void {
    const size = Buffer.byteLength(key) + value.byteLength;
    if (size > maxValueBytes) throw storeErrors.tooLarge(key, size, maxValueBytes);
  }

  get(key: string, options: GetOptions = {}): Promise<GetResult> {
    return this.run(() => {
      const rev = options.revision ?? 0;
      if (rev <= 0) {
        const row = this.stmt.latest.get(key);
        return { kv: row ? toKeyValue(row) : undefined, revision: this.head };
      }
      this.checkReadRevision(rev);
      const row = this.stmt.atRevision.get(key, rev);
      return { kv: row && !row.deleted ? toKeyValue(row) : undefined, revision: rev };
    });
  }

  list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    return this.run(() => {
      const end = prefixEnd(prefix);
      const after = options.after ?? '';
      const limit = options.limit && options.limit > 0 ? options.limit : -1;
      const fetch = limit > 0 ? limit + 1 : -1;
      const rev = options.revision ?? 0;
      let rows: LogRow[];
      let revision = this.head;
      // At the newest revision, the live rows are the answer: `current` finds them without the history scan.
      if (rev <= 0 || rev === this.head) {
        rows = this.stmt.listHead.all(prefix, after, end, fetch);
        if (rev > 0) revision = rev;
      } else {
        this.checkReadRevision(rev);
        revision = rev;
        rows = this.stmt.listAt.all(prefix, after, end, rev, fetch);
      }
      const more = limit > 0 && rows.length > limit;
      if (more) rows.length = limit;
      let remaining = 0;
      if (more) {
        const last = rows[rows.length - 1]!.key;
        remaining = (rev <= 0 || rev === this.head ? this.stmt.countHead.get(prefix, last, end) : this.stmt.countAt.get(prefix, last, end, rev))!.n;
      }
      return { kvs: rows.map(toKeyValue), revision, more, remaining };
    });
  }

  count(prefix: string): Promise<{ count: number; revision: number }> {
    return this.run(() => ({ count: this.stmt.countHead.get(prefix, '', prefixEnd(prefix))!.n, revision: this.head }));
  }

  create(key: string, value: Uint8Array, options: WriteOptions = {}): Promise<KeyValue> {
    return this.run(() => {
      this.checkSize(key, value);
      const event = this.txn.create.immediate(key, value, this.expiry(options));
      this.dispatch(event);
      return event.kv;
    });
  }

  update(key: string, value: Uint8Array, expectedModRevision: number, options: WriteOptions = {}): Promise<KeyValue> {
    return this.run(() => {
      this.checkSize(key, value);
      const event = this.txn.update.immediate(key, value, expectedModRevision, this.expiry(options));
      this.dispatch(event);
      return event.kv;
    });
  }

  delete(key: string, options: DeleteOptions = {}): Promise<{ revision: number; prevKv: KeyValue }> {
    return this.run(() => {
      const event = this.deleteNow(key, options.expectedModRevision);
      return { revision: event.revision, prevKv: event.prevKv };
    });
  }

  private deleteNow(key: string, expectedModRevision: number | undefined): WatchEvent & { type: 'deleted' } {
    const event = this.txn.delete.immediate(key, expectedModRevision);
    this.dispatch(event);
    return event;
  }

  watch(prefix: string, options: WatchOptions): AsyncIterable<WatchEvent[]> {
    const watcher: Watcher = { prefix, end: prefixEnd(prefix), queue: undefined as unknown as WatchQueue };
    watcher.queue = new WatchQueue(() => this.watchers.delete(watcher), options.signal);
    if (watcher.queue.closed) return watcher.queue;
    try {
      this.checkOpen();
      if (options.afterRevision < this.compacted) throw storeErrors.compacted(options.afterRevision, this.compacted);
      // Replaying history and joining the live stream happen in one synchronous step, so no write can fall
      // between them.
      if (options.afterRevision < this.head) {
        const rows = this.stmt.history.all(options.afterRevision, prefix, watcher.end);
        watcher.queue.push(rows.map(historyEvent));
      }
      this.watchers.add(watcher);
    } catch (err) {
      watcher.queue.fail(err);
    }
    return watcher.queue;
  }

  compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.head) return Promise.reject(storeErrors.futureRevision(revision, this.head));
    if (revision <= this.compacted) return Promise.resolve();
    const previous = this.compacting ?? Promise.resolve();
    const run = previous.then(() => this.compactNow(revision));
    this.compacting = run.finally(() => {
      if (this.compacting === run) this.compacting = undefined;
    });
    return run;
  }

  private async compactNow(target: number): Promise<void> {
    if (this.closed || target <= this.compacted) return;
    const from = this.compacted;
    // Refuse reads below the target first: the rows go in several transactions.
    this.stmt.setMeta.run('compacted', target);
    this.compacted = target;
    for (let lo = from; lo < target; lo += compactBatchRevisions) {
      if (this.closed) return;
      const hi = Math.min(lo + compactBatchRevisions, target);
      this.db.transaction(() => {
        // A row is no longer needed once a newer row of its key exists at or before the target: rows
        // written in (from, target] name the rows they superseded, whatever those rows' own revision.
        this.stmt.compactSuperseded.run(lo, hi);
        // Tombstones before the target: no read at or after it needs them.
        this.stmt.compactTombstones.run(lo, hi);
      })();
      if (this.checkpointer) await this.checkpointer.checkpoint('PASSIVE').catch(() => undefined);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.closed) return;
    this.db.pragma('incremental_vacuum');
    if (this.checkpointer) await this.checkpointer.checkpoint('TRUNCATE').catch(() => undefined);
    else this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Deletes keys whose time to live ran out; each delete is an ordinary write with a watch event. */
  deleteExpired(): number {
    if (this.closed) return 0;
    let n = 0;
    for (const row of this.stmt.expired.all(this.now(), 1000)) {
      try {
        this.deleteNow(row.key, row.revision);
        n += 1;
      } catch {
        // Rewritten or deleted since the query: nothing to expire.
      }
    }
    return n;
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const w of [...this.watchers]) w.queue.end();
    this.closing = (async () => {
      // The worker checkpoints and closes first; the last connection, ours, then finds an empty WAL.
      await this.checkpointer?.close();
      this.db.close();
      this.lock?.close();
    })();
    return this.closing;
  }

  private expiry(options: WriteOptions): number | null {
    return options.ttlSeconds && options.ttlSeconds > 0 ? this.now() + options.ttlSeconds * 1000 : null;
  }

  private dispatch(event: WatchEvent): void {
    this.checkpointer?.noteWrite();
    const batch = [event];
    for (const w of this.watchers) {
      if (event.key >= w.prefix && event.key < w.end) w.queue.push(batch);
    }
  }

  /** Runs a synchronous operation as a promise, turning throws into rejections. */
  private run<T>(fn: () => T): Promise<T> {
    try {
      this.checkOpen();
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

function historyEvent(row: EventRow): WatchEvent {
  const prevKv = (): KeyValue => ({
    key: row.key,
    value: row.prev_value ?? Buffer.alloc(0),
    createRevision: row.prev_create_revision ?? row.create_revision,
    modRevision: row.prev_revision,
  });
  if (row.deleted) return { type: 'deleted', revision: row.revision, key: row.key, prevKv: prevKv() };
  if (row.prev_revision === 0) return { type: 'created', revision: row.revision, key: row.key, kv: toKeyValue(row) };
  return { type: 'updated', revision: row.revision, key: row.key, kv: toKeyValue(row), prevKv: prevKv() };
}
