// One store watch on one etcd Watch stream. Streams are not shared between watches: HTTP/2 multiplexes them
// on the one connection anyway, and a stream of its own lets each watch fail, resume and be cancelled
// without bookkeeping of watch IDs across watches.
//
// The watch remembers the revision up to which it delivered every event (`delivered`): after the newest
// event it passed on, or the revision of a progress notification. If the stream breaks (etcd restarted,
// the connection dropped), it opens a new one from there, so no event is lost or repeated.
//
// It asks etcd for history from `delivered` itself rather than `delivered + 1`, and drops the events at
// that revision: etcd refuses a start revision older than its compaction point, so the watch fails exactly
// when `delivered` is older than the compaction point, as the contract asks. Asking from one revision later
// would let etcd accept `delivered` = compaction point - 1 and then send events whose previous values are
// already compacted away.
import { status } from '@grpc/grpc-js';
import { StoreError } from '../errors.js';
import type { WatchEvent } from '../store.js';
import type { WatchQueue } from '../watch-queue.js';
import type { EtcdClient, WatchStream } from './etcd-client.js';
import { isServiceError } from './etcd-client.js';
import type { RpcEvent, WatchResponse } from './etcd-rpc.js';

/** What a watch needs from its store. */
export interface EtcdWatchSpec {
  client: EtcdClient;
  key: Buffer;
  rangeEnd: Buffer;
  afterRevision: number;
  queue: WatchQueue;
  /** Maps etcd's events to the contract's; throws when a previous value is missing. */
  toEvents: (events: RpcEvent[]) => WatchEvent[];
  /** The error for a start revision that etcd compacted (`compactRevision` is etcd's compaction point). */
  compacted: (requested: number, compactRevision: number) => Error;
}

const minBackoffMs = 100;
const maxBackoffMs = 2000;

/** gRPC codes after which reopening the stream cannot help. */
const permanent = new Set<status>([
  status.INVALID_ARGUMENT,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
  status.UNIMPLEMENTED,
]);

/** Feeds a WatchQueue from etcd, reopening the stream as needed until stopped. */
export class EtcdWatch {
  private readonly spec: EtcdWatchSpec;
  private delivered: number;
  private stream: WatchStream | undefined;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = minBackoffMs;
  private stopped = false;

  constructor(spec: EtcdWatchSpec) {
    this.spec = spec;
    this.delivered = spec.afterRevision;
  }

  start(): void {
    this.open();
  }

  /** Ends the stream for good; the queue is the caller's to end. */
  stop(): void {
    this.stopped = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    const s = this.stream;
    this.stream = undefined;
    s?.cancel();
  }

  private fail(err: unknown): void {
    this.stop();
    this.spec.queue.fail(err);
  }

  private open(): void {
    if (this.stopped) return;
    let stream: WatchStream;
    try {
      stream = this.spec.client.watch();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.stream = stream;
    let finished = false;
    const finish = (err?: unknown): void => {
      if (finished) return;
      finished = true;
      if (this.stream !== stream) return; // replaced or stopped
      this.stream = undefined;
      stream.cancel();
      if (this.stopped) return;
      if (isServiceError(err) && permanent.has(err.code)) {
        this.fail(
          new StoreError('InvalidArgument', `etcd refused the watch: ${err.details}`, { cause: err }),
        );
        return;
      }
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.open();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, maxBackoffMs);
    };
    stream.on('data', (resp: WatchResponse) => {
      if (this.stream === stream) this.onResponse(stream, resp);
    });
    stream.on('error', (err: unknown) => finish(err));
    stream.on('end', () => finish());
    stream.write({
      create_request: {
        key: this.spec.key,
        range_end: this.spec.rangeEnd,
        // 0 would mean "from now"; the first revision of any etcd is 1.
        start_revision: Math.max(1, this.delivered),
        prev_kv: true,
        progress_notify: true,
      },
    });
  }

  private onResponse(stream: WatchStream, resp: WatchResponse): void {
    const compactRevision = Number(resp.compact_revision);
    if (compactRevision > 0) {
      this.fail(this.spec.compacted(this.delivered, compactRevision));
      return;
    }
    if (resp.canceled) {
      if (resp.created) {
        this.fail(
          new StoreError('InvalidArgument', `etcd refused the watch: ${resp.cancel_reason || 'canceled'}`),
        );
      } else {
        stream.cancel(); // etcd dropped the watch (e.g. it lagged too far behind): open it again
      }
      return;
    }
    if (resp.created) {
      this.backoffMs = minBackoffMs;
      return;
    }
    if (resp.events.length === 0) {
      // A progress notification: every event up to the header's revision has been sent.
      const progress = Number(resp.header?.revision ?? 0);
      if (progress > this.delivered) this.delivered = progress;
      return;
    }
    const fresh = resp.events.filter((e) => Number(e.kv?.mod_revision ?? 0) > this.delivered);
    if (fresh.length === 0) return;
    let events: WatchEvent[];
    try {
      events = this.spec.toEvents(fresh);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.delivered = events[events.length - 1]!.revision;
    this.spec.queue.push(events);
  }
}
