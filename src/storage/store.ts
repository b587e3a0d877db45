// The store contract: what the API server needs from a key-value store, modelled on etcd v3 as
// Kubernetes' storage layer (k8s.io/apiserver/pkg/storage/etcd3) uses it. Every backend implements it
// and passes the one conformance suite in ./testing/conformance.ts.

/** One stored key at one revision. */
export interface KeyValue {
  key: string;
  value: Uint8Array;
  /** The revision of the write that created the key (a re-created key starts anew). */
  createRevision: number;
  /** The revision of the last write to the key. */
  modRevision: number;
}

/** A change to a key. `kv` is the key after the change (absent for a delete); `prevKv` before it. */
export type WatchEvent =
  | { type: 'created'; revision: number; key: string; kv: KeyValue }
  | { type: 'updated'; revision: number; key: string; kv: KeyValue; prevKv: KeyValue }
  | { type: 'deleted'; revision: number; key: string; prevKv: KeyValue };

export interface GetOptions {
  /** Read the key as it was at this revision (0 or absent: the latest). */
  revision?: number;
}

export interface GetResult {
  kv: KeyValue | undefined;
  /** The revision the read was served at. */
  revision: number;
}

export interface ListOptions {
  /** List as of this revision (0 or absent: the latest). A continued list passes the first page's revision. */
  revision?: number;
  /** At most this many keys (0 or absent: no limit). */
  limit?: number;
  /** Start after this key (exclusive): the last key of the previous page. */
  after?: string;
}

export interface ListResult {
  kvs: KeyValue[];
  /** The revision the list is consistent at. */
  revision: number;
  /** True when keys beyond the returned ones exist under the prefix. */
  more: boolean;
  /** How many keys under the prefix come after the returned ones. */
  remaining: number;
}

export interface WriteOptions {
  /** Time to live: the key is deleted (with a delete event) this many seconds after the write. */
  ttlSeconds?: number;
}

export interface DeleteOptions {
  /** Delete only if the key's modRevision is still this one; otherwise fail with a Conflict. */
  expectedModRevision?: number;
}

export interface WatchOptions {
  /** Deliver every change with a revision greater than this one. */
  afterRevision: number;
  /** Ends the watch; the iterator then finishes without an error. */
  signal?: AbortSignal;
}

/**
 * A revisioned key-value store. One global revision grows by one per successful write (create, update,
 * delete, and deletes by time-to-live); reads and lists are consistent at one revision; updates and
 * guarded deletes are compare-and-swap on the key's modRevision.
 */
export interface Store {
  /** The backend's name, for logs and benchmarks ("sqlite", "etcd"). */
  readonly backend: string;
  /** The newest revision. */
  currentRevision(): Promise<number>;
  /** The oldest revision that can still be read or watched from (0 when nothing was compacted). */
  compactedRevision(): Promise<number>;
  get(key: string, options?: GetOptions): Promise<GetResult>;
  /** Keys under a prefix in key order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** How many keys lie under a prefix, at the latest revision. */
  count(prefix: string): Promise<{ count: number; revision: number }>;
  /** Creates a key; fails with KeyExists if it exists. */
  create(key: string, value: Uint8Array, options?: WriteOptions): Promise<KeyValue>;
  /**
   * Replaces a key's value if its modRevision is still `expectedModRevision`. Fails with KeyNotFound if the
   * key does not exist, and with Conflict (carrying the current value) if it changed meanwhile.
   */
  update(key: string, value: Uint8Array, expectedModRevision: number, options?: WriteOptions): Promise<KeyValue>;
  /** Deletes a key and returns what it held; fails with KeyNotFound or (when guarded) Conflict. */
  delete(key: string, options?: DeleteOptions): Promise<{ revision: number; prevKv: KeyValue }>;
  /**
   * Every change under a prefix after a revision, in revision order, each exactly once, in batches. Fails
   * with Compacted if that revision is older than the compaction point.
   */
  watch(prefix: string, options: WatchOptions): AsyncIterable<WatchEvent[]>;
  /** Drops the history before `revision`: reads and watches from older revisions then fail with Compacted. */
  compact(revision: number): Promise<void>;
  /** Stops background work and releases the backend; pending watches end. */
  close(): Promise<void>;
}

/** The largest value a store accepts, as etcd's default --max-request-bytes (1.5 MiB). */
export const maxValueBytes = 1.5 * 1024 * 1024;

/** The end of the key range that holds every key starting with `prefix` (etcd's "range end"). */
export function prefixEnd(prefix: string): string {
  if (prefix === '') return '\u{10FFFF}';
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
