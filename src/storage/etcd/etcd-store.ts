// The store on etcd v3, spoken to over its gRPC API, as kube-apiserver's etcd3 storage uses it: a create is
// a transaction guarded on the key's create revision, an update and a guarded delete are guarded on its mod
// revision, and the losing branch reads the key so that a failure can say what is there now. Other API
// servers may write the same etcd at any time: nothing here caches a revision or a value for correctness.
//
// Keys live under `prefix` in etcd; the store's callers never see it. Keys with a time to live are
// attached to etcd leases (see lease-manager.ts); etcd deletes them when the lease runs out, which watchers
// see as an ordinary delete. Compaction is etcd's: compact() calls it, and an optional compactor shared by
// every API server on the cluster (compactor.ts) calls it periodically.
import * as grpc from '@grpc/grpc-js';
import { isStoreError, StoreError, storeErrors } from '../errors.js';
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
import { maxValueBytes } from '../store.js';
import { WatchQueue } from '../watch-queue.js';
import { Compactor } from './compactor.js';
import { EtcdClient, isServiceError } from './etcd-client.js';
import type { RequestOp, RpcEvent, RpcKeyValue } from './etcd-rpc.js';
import { EtcdWatch } from './etcd-watch.js';
import { LeaseManager } from './lease-manager.js';

export interface EtcdStoreOptions {
  /** Client URLs of the etcd members, e.g. ["http://127.0.0.1:2379"]. */
  endpoints: string[];
  /** Every key lives under this prefix in etcd (kube-apiserver's --etcd-prefix); default none. */
  prefix?: string;
  /**
   * How often the shared compactor runs, in ms (0: never). Default 5 minutes, as kube-apiserver's
   * --etcd-compaction-interval.
   */
  compactIntervalMs?: number;
  /** How long a call waits for a connection to etcd before failing with Unavailable; default 20 s. */
  dialTimeoutMs?: number;
  /** How long one call to etcd may take in all; default 60 s. */
  requestTimeoutMs?: number;
  /** PEM material for https endpoints. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** The end of the etcd key range holding every key that starts with `prefix` ("\0" alone: all keys). */
export function byteRangeEnd(prefix: Uint8Array): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** The smallest key, "\0": as a range's start it is the first key, as a range's end it means "no end". */
const allKeys = Buffer.from([0]);
/** How long to wait for etcd to name its compaction point after it said a revision was compacted. */
const compactionProbeMs = 2000;

/** The store on etcd v3. Several stores, in one process or many, may share one etcd. */
export class EtcdStore implements Store {
  readonly backend = 'etcd';
  private readonly client: EtcdClient;
  private readonly prefix: string;
  private readonly leases: LeaseManager;
  private readonly compactor: Compactor | undefined;
  private readonly watches = new Map<WatchQueue, EtcdWatch>();
  private compacted = 0;
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    this.prefix = options.prefix ?? '';
    this.client = new EtcdClient({
      endpoints: options.endpoints,
      dialTimeoutMs: options.dialTimeoutMs ?? 20_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      ...(options.tls ? { tls: options.tls } : {}),
    });
    this.leases = new LeaseManager(async (ttl) => {
      const resp = await this.client.leaseGrant({ TTL: ttl });
      if (resp.error) throw new StoreError('Unavailable', `etcd: lease grant failed: ${resp.error}`);
      return resp.ID;
    });
    const interval = options.compactIntervalMs ?? 5 * 60_000;
    if (interval > 0) {
      this.compactor = new Compactor(this.client, interval, (rev) => this.noteCompacted(rev));
      this.compactor.start();
    }
  }

  async currentRevision(): Promise<number> {
    const resp = await this.call(() => this.client.range({ key: allKeys, count_only: true }), {});
    return Number(resp.header.revision);
  }

  compactedRevision(): Promise<number> {
    if (this.closed) return Promise.reject(storeErrors.closed());
    return Promise.resolve(this.compacted);
  }

  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    const revision = options.revision && options.revision > 0 ? options.revision : 0;
    const resp = await this.call(() => this.client.range({ key: this.encode(key), revision }), {
      key,
      revision,
    });
    const kv = resp.kvs[0];
    return { kv: kv ? this.toKeyValue(kv) : undefined, revision: revision || Number(resp.header.revision) };
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const revision = options.revision && options.revision > 0 ? options.revision : 0;
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const from = this.encode(prefix);
    const end = byteRangeEnd(from);
    let start = from.length === 0 ? allKeys : from;
    if (options.after) {
      // The first key after `after`: `after` followed by the smallest byte.
      const next = Buffer.concat([this.encode(options.after), allKeys]);
      if (Buffer.compare(next, start) > 0) start = next;
    }
    const resp = await this.call(() => this.client.range({ key: start, range_end: end, limit, revision }), {
      key: prefix,
      revision,
    });
    const kvs = resp.kvs.map((kv) => this.toKeyValue(kv));
    const more = resp.more;
    return {
      kvs,
      revision: revision || Number(resp.header.revision),
      more,
      remaining: more ? Number(resp.count) - kvs.length : 0,
    };
  }

  async count(prefix: string): Promise<{ count: number; revision: number }> {
    const from = this.encode(prefix);
    const resp = await this.call(
      () =>
        this.client.range({
          key: from.length === 0 ? allKeys : from,
          range_end: byteRangeEnd(from),
          count_only: true,
        }),
      { key: prefix },
    );
    return { count: Number(resp.count), revision: Number(resp.header.revision) };
  }

  async create(key: string, value: Uint8Array, options: WriteOptions = {}): Promise<KeyValue> {
    const k = this.encode(key);
    const bytes = this.checkSize(key, k, value);
    const resp = await this.withLease(options, (lease) =>
      this.call(
        () =>
          this.client.txn({
            compare: [{ result: 'EQUAL', target: 'CREATE', key: k, create_revision: 0 }],
            success: [put(k, value, lease, false)],
            failure: [{ request_range: { key: k } }],
          }),
        { key, bytes },
      ),
    );
    if (!resp.succeeded) throw storeErrors.keyExists(key);
    const rev = Number(resp.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(
    key: string,
    value: Uint8Array,
    expectedModRevision: number,
    options: WriteOptions = {},
  ): Promise<KeyValue> {
    const k = this.encode(key);
    const bytes = this.checkSize(key, k, value);
    const resp = await this.withLease(options, (lease) =>
      this.call(
        () =>
          this.client.txn({
            compare: [
              { result: 'EQUAL', target: 'MOD', key: k, mod_revision: expectedModRevision },
              // A missing key's mod revision is 0: without this, an update expecting 0 would create it.
              { result: 'GREATER', target: 'CREATE', key: k, create_revision: 0 },
            ],
            success: [put(k, value, lease, true)],
            failure: [{ request_range: { key: k } }],
          }),
        { key, bytes },
      ),
    );
    if (!resp.succeeded) {
      const cur = resp.responses[0]?.response_range?.kvs[0];
      if (cur === undefined) throw storeErrors.keyNotFound(key);
      throw storeErrors.conflict(key, this.toKeyValue(cur));
    }
    const rev = Number(resp.header.revision);
    const prev = resp.responses[0]?.response_put?.prev_kv;
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<{ revision: number; prevKv: KeyValue }> {
    const k = this.encode(key);
    const expected = options.expectedModRevision;
    const resp = await this.call(
      () =>
        this.client.txn({
          compare:
            expected === undefined
              ? [{ result: 'GREATER', target: 'CREATE', key: k, create_revision: 0 }]
              : [{ result: 'EQUAL', target: 'MOD', key: k, mod_revision: expected }],
          success: [{ request_delete_range: { key: k, prev_kv: true } }],
          failure: [{ request_range: { key: k } }],
        }),
      { key },
    );
    if (!resp.succeeded) {
      const cur = resp.responses[0]?.response_range?.kvs[0];
      if (cur === undefined || expected === undefined) throw storeErrors.keyNotFound(key);
      throw storeErrors.conflict(key, this.toKeyValue(cur));
    }
    const prev = resp.responses[0]?.response_delete_range?.prev_kvs[0];
    if (prev === undefined) throw storeErrors.keyNotFound(key); // guarded on mod revision 0 of a missing key
    return { revision: Number(resp.header.revision), prevKv: this.toKeyValue(prev) };
  }

  watch(prefix: string, options: WatchOptions): AsyncIterable<WatchEvent[]> {
    const queue: WatchQueue = new WatchQueue(() => {
      this.watches.get(queue)?.stop();
      this.watches.delete(queue);
    }, options.signal);
    if (queue.closed) return queue;
    if (this.closed) {
      queue.fail(storeErrors.closed());
      return queue;
    }
    const from = this.encode(prefix);
    const feed = new EtcdWatch({
      client: this.client,
      key: from.length === 0 ? allKeys : from,
      rangeEnd: byteRangeEnd(from),
      afterRevision: options.afterRevision,
      queue,
      toEvents: (events) => events.map((e) => this.toWatchEvent(e)),
      compacted: (requested, compactRevision) => {
        this.noteCompacted(compactRevision);
        return storeErrors.compacted(requested, compactRevision);
      },
    });
    this.watches.set(queue, feed);
    feed.start();
    return queue;
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    try {
      await this.client.compact({ revision });
    } catch (err) {
      // Compacting to a revision at or before the compaction point changes nothing.
      if (isServiceError(err) && err.details.includes('required revision has been compacted')) {
        this.noteCompacted(revision);
        return;
      }
      throw await this.translate(err, { revision });
    }
    this.noteCompacted(revision);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.compactor?.stop();
    for (const q of [...this.watches.keys()]) q.end();
    this.client.close();
    return Promise.resolve();
  }

  private checkOpen(): void {
    if (this.closed) throw storeErrors.closed();
  }

  private noteCompacted(revision: number): void {
    if (revision > this.compacted) this.compacted = revision;
  }

  private encode(key: string): Buffer {
    return Buffer.from(this.prefix + key, 'utf8');
  }

  private decodeKey(key: Buffer): string {
    const full = key.toString('utf8');
    return full.startsWith(this.prefix) ? full.slice(this.prefix.length) : full;
  }

  private toKeyValue(kv: RpcKeyValue): KeyValue {
    return {
      key: this.decodeKey(kv.key),
      value: kv.value,
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  private toWatchEvent(e: RpcEvent): WatchEvent {
    if (e.kv === null) throw new StoreError('Unavailable', 'etcd sent a watch event without a key');
    const revision = Number(e.kv.mod_revision);
    const key = this.decodeKey(e.kv.key);
    const created = e.type === 'PUT' && e.kv.create_revision === e.kv.mod_revision;
    if (created) return { type: 'created', revision, key, kv: this.toKeyValue(e.kv) };
    // etcd leaves the previous value out only when it was compacted before the event could be sent.
    if (e.prev_kv === null) throw storeErrors.compacted(revision - 1, Math.max(this.compacted, revision));
    const prevKv = this.toKeyValue(e.prev_kv);
    if (e.type === 'DELETE') return { type: 'deleted', revision, key, prevKv };
    return { type: 'updated', revision, key, kv: this.toKeyValue(e.kv), prevKv };
  }

  private checkSize(key: string, encoded: Buffer, value: Uint8Array): number {
    const size = encoded.byteLength + value.byteLength;
    if (size > maxValueBytes) throw storeErrors.tooLarge(key, size, maxValueBytes);
    return size;
  }

  /** Runs a write with a lease when it has a time to live; once more with a new lease if etcd lost it. */
  private async withLease<T>(
    options: WriteOptions,
    write: (lease: string | undefined) => Promise<T>,
  ): Promise<T> {
    const ttl = options.ttlSeconds && options.ttlSeconds > 0 ? Math.ceil(options.ttlSeconds) : 0;
    if (ttl === 0) return write(undefined);
    this.checkOpen();
    const lease = await this.call(() => this.leases.getLease(ttl), {});
    try {
      return await write(lease);
    } catch (err) {
      if (!isStoreError(err, 'Unavailable') || !/lease not found/.test(err.message)) throw err;
      this.leases.forget(lease);
      return write(await this.call(() => this.leases.getLease(ttl), {}));
    }
  }

  /** Calls etcd and turns its failures into the contract's errors. */
  private async call<T>(fn: () => Promise<T>, ctx: ErrorContext): Promise<T> {
    this.checkOpen();
    try {
      return await fn();
    } catch (err) {
      throw await this.translate(err, ctx);
    }
  }

  private async translate(err: unknown, ctx: ErrorContext): Promise<Error> {
    if (err instanceof StoreError) return err;
    if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
    const details = err.details || err.message;
    if (details.includes('required revision has been compacted')) {
      return storeErrors.compacted(ctx.revision ?? 0, await this.probeCompacted(ctx.revision ?? 0));
    }
    if (details.includes('required revision is a future revision')) {
      const current = await this.currentRevision().catch(() => 0);
      return storeErrors.futureRevision(ctx.revision ?? 0, current);
    }
    if (
      details.includes('request is too large') ||
      (err.code === grpc.status.RESOURCE_EXHAUSTED && details.includes('larger than max'))
    ) {
      return storeErrors.tooLarge(ctx.key ?? '', ctx.bytes ?? 0, maxValueBytes);
    }
    if (err.code === grpc.status.INVALID_ARGUMENT) {
      return new StoreError('InvalidArgument', `etcd: ${details}`, { cause: err });
    }
    return new StoreError('Unavailable', `etcd at ${this.client.endpoints} failed: ${details}`, {
      cause: err,
    });
  }

  /**
   * Asks etcd where its compaction point is. Range only says "compacted"; a watch from revision 1 is
   * answered with the compaction revision, which is the one way etcd 3.4 tells it cheaply.
   */
  private probeCompacted(atLeastAbove: number): Promise<number> {
    const fallback = Math.max(this.compacted, atLeastAbove + 1);
    return new Promise((resolve) => {
      let stream: ReturnType<EtcdClient['watch']>;
      try {
        stream = this.client.watch();
      } catch {
        resolve(fallback);
        return;
      }
      let settled = false;
      const done = (rev: number): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stream.cancel();
        this.noteCompacted(rev);
        resolve(Math.max(rev, this.compacted));
      };
      const timer = setTimeout(() => done(fallback), compactionProbeMs);
      stream.on('data', (resp: { compact_revision: string }) => {
        const rev = Number(resp.compact_revision);
        if (rev > 0) done(rev);
      });
      stream.on('error', () => done(fallback));
      stream.write({ create_request: { key: allKeys, start_revision: 1 } });
    });
  }
}

interface ErrorContext {
  key?: string;
  bytes?: number;
  revision?: number;
}

function put(key: Buffer, value: Uint8Array, lease: string | undefined, prevKv: boolean): RequestOp {
  return { request_put: { key, value, ...(lease === undefined ? {} : { lease }), prev_kv: prevKv } };
}
