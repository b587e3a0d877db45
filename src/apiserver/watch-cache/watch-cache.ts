// The watch cache (upstream's cacher): every stored object and a window of recent changes, kept in memory
// from one watch on the whole store, so that lists and watches are served without touching the store and
// each change is decoded and serialized once however many watchers receive it.
//
// One watch covers every key, so the cache's revision follows the store's global revision: a list that must
// be consistent asks the store for its current revision and waits until the cache has seen it.
import type { Logger } from '../../base/log.js';
import type { KObject, RegistryStore } from '../../registry/generic/index.js';
import { isStoreError } from '../../storage/errors.js';
import type { KeyValue, Store, WatchEvent } from '../../storage/store.js';
import { shareFieldSets } from './shared-field-sets.js';

/** One change as the cache keeps it: objects in their stored form (RegistryStore.served converts). */
export interface CachedEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly revision: number;
  readonly key: string;
  readonly object: KObject;
  /** The object before the change (for selector transitions); undefined for ADDED. */
  readonly prevObject: KObject | undefined;
  /** The JSON line of the event per apiVersion it was served as, made on first use and shared by watchers. */
  wire?: Map<string, string>;
  /**
   * The selectable fields of object and prevObject, worked out by the first filtered watcher and shared, with
   * the registry they were worked out for (resources sharing a cache, such as the two Event APIs, differ).
   */
  fields?: { registry: RegistryStore; values: Record<string, string> };
  prevFields?: { registry: RegistryStore; values: Record<string, string> };
}

const textDecoder = new TextDecoder();

/**
 * A cached object, kept as its stored JSON text until something reads it, then decoded once (its field sets
 * shared, see shareFieldSets) and frozen. Under a burst of writes that nobody watches, most objects are not
 * read before the next change; as text, an object is one flat string, which a young-generation garbage
 * collection copies in one piece, where the decoded object is some twenty small JS objects to trace and copy.
 */
class CachedObject {
  readonly revision: number;
  #text: string | undefined;
  #object: KObject | undefined;
  readonly #registry: RegistryStore;

  constructor(registry: RegistryStore, kv: KeyValue) {
    this.#registry = registry;
    this.revision = kv.modRevision;
    this.#text = textDecoder.decode(kv.value);
  }

  get object(): KObject {
    if (this.#object === undefined) {
      const object = this.#registry.decodeStoredText(this.#text!, this.revision);
      shareFieldSets(object);
      this.#object = Object.freeze(object);
      this.#text = undefined;
    }
    return this.#object;
  }
}

/** A change in the window: its objects are the cache's entries, read (and decoded) only when asked for. */
class WindowEvent implements CachedEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly revision: number;
  readonly key: string;
  wire?: Map<string, string>;
  fields?: { registry: RegistryStore; values: Record<string, string> };
  prevFields?: { registry: RegistryStore; values: Record<string, string> };
  readonly #current: CachedObject | undefined;
  readonly #prev: CachedObject | undefined;
  #deleted: KObject | undefined;

  constructor(type: CachedEvent['type'], revision: number, key: string, current: CachedObject | undefined, prev: CachedObject | undefined) {
    this.type = type;
    this.revision = revision;
    this.key = key;
    this.#current = current;
    this.#prev = prev;
  }

  get object(): KObject {
    if (this.#current !== undefined) return this.#current.object;
    // The deleted object carries the revision of its deletion, as upstream's watch reports it.
    if (this.#deleted === undefined) {
      const base = this.#prev!.object;
      this.#deleted = Object.freeze({ ...base, metadata: { ...base.metadata, resourceVersion: String(this.revision) } });
    }
    return this.#deleted;
  }

  get prevObject(): KObject | undefined {
    return this.#prev?.object;
  }
}

/** A watcher's subscription: its key prefix and where its events go. */
interface Subscriber {
  prefix: string;
  deliver: (events: CachedEvent[]) => void;
}

/** The cache of one resource (one storage prefix). */
export class ResourceCache {
  readonly registry: RegistryStore;
  readonly prefix: string;
  private readonly objects = new Map<string, CachedObject>();
  private sortedKeys: string[] | undefined;
  /** The window of recent changes: events[first..] (the entries before `first` are dropped ones). */
  private events: CachedEvent[] = [];
  private first = 0;
  /** Every change after this revision is in `events`. */
  private completeAfter = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly capacity: number;

  constructor(registry: RegistryStore, prefix: string, capacity: number) {
    this.registry = registry;
    this.prefix = prefix;
    this.capacity = capacity;
  }

  /** Loads the objects as of a revision (the cache's start). */
  load(kvs: Iterable<KeyValue>, revision: number): void {
    this.objects.clear();
    for (const kv of kvs) this.objects.set(kv.key, new CachedObject(this.registry, kv));
    this.sortedKeys = undefined;
    this.completeAfter = revision;
  }

  /** Records a change; `publish` hands it to the subscribers. */
  apply(e: WatchEvent): CachedEvent {
    let ev: WindowEvent;
    const prev = this.objects.get(e.key);
    switch (e.type) {
      case 'created':
      case 'updated': {
        const current = new CachedObject(this.registry, e.kv);
        if (prev === undefined) this.sortedKeys = undefined;
        this.objects.set(e.key, current);
        ev = e.type === 'created' ? new WindowEvent('ADDED', e.revision, e.key, current, undefined) : new WindowEvent('MODIFIED', e.revision, e.key, current, prev);
        break;
      }
      case 'deleted': {
        this.objects.delete(e.key);
        this.sortedKeys = undefined;
        ev = new WindowEvent('DELETED', e.revision, e.key, undefined, prev ?? new CachedObject(this.registry, e.prevKv));
        break;
      }
    }
    this.events.push(ev);
    if (this.events.length - this.first > this.capacity) {
      // Drop the oldest by moving `first`; the array is cut down only now and then, so a full window costs
      // O(1) per change rather than shifting every kept event each time.
      this.completeAfter = this.events[this.first]!.revision;
      this.events[this.first] = undefined as unknown as CachedEvent;
      this.first++;
      if (this.first >= 1024 && this.first * 2 >= this.events.length) {
        this.events = this.events.slice(this.first);
        this.first = 0;
      }
    }
    return ev;
  }

  /** Hands recorded changes to the subscribers, each its matching ones in one call. */
  publish(events: CachedEvent[]): void {
    for (const s of this.subscribers) {
      if (s.prefix === this.prefix) {
        s.deliver(events);
        continue;
      }
      const mine = events.filter((ev) => ev.key.startsWith(s.prefix));
      if (mine.length > 0) s.deliver(mine);
    }
  }

  /** The objects under a key prefix, in key order. */
  list(prefix: string): { key: string; object: KObject }[] {
    this.sortedKeys ??= [...this.objects.keys()].sort();
    const out: { key: string; object: KObject }[] = [];
    // Binary search to the first key of the prefix, then walk while keys share it.
    let lo = 0;
    let hi = this.sortedKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sortedKeys[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sortedKeys.length; i++) {
      const k = this.sortedKeys[i]!;
      if (!k.startsWith(prefix)) break;
      out.push({ key: k, object: this.objects.get(k)!.object });
    }
    return out;
  }

  /** The object under a key, if the cache holds one. */
  get(key: string): KObject | undefined {
    return this.objects.get(key)?.object;
  }

  /** The number of objects held. */
  get size(): number {
    return this.objects.size;
  }

  /**
   * Subscribes to changes under a prefix after a revision: the buffered ones first, then live ones. Returns
   * undefined when changes right after `afterRevision` were already dropped from the window (410 Gone).
   */
  subscribe(prefix: string, afterRevision: number, deliver: (events: CachedEvent[]) => void): { cancel: () => void; oldest: number } | undefined {
    if (afterRevision < this.completeAfter) return undefined;
    const backlog: CachedEvent[] = [];
    for (let i = this.first; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (e.revision > afterRevision && e.key.startsWith(prefix)) backlog.push(e);
    }
    const sub: Subscriber = { prefix, deliver };
    this.subscribers.add(sub);
    if (backlog.length > 0) deliver(backlog);
    return { cancel: () => this.subscribers.delete(sub), oldest: this.completeAfter };
  }

  /** The oldest revision a watch may start after. */
  get oldestRevision(): number {
    return this.completeAfter;
  }
}

export interface WatchCacheOptions {
  /** Changes kept per resource for watches that resume from an older revision (upstream: 100 by default, more when busy). */
  capacity?: number;
  log?: Logger;
}

/** The caches of every resource, fed by one watch on the store. */
export class WatchCache {
  private readonly store: Store;
  private readonly caches: ResourceCache[] = [];
  private readonly byPrefix = new Map<string, ResourceCache>();
  private revision = 0;
  private readonly waiters = new Set<{ revision: number; resolve: () => void }>();
  private readonly ac = new AbortController();
  private running: Promise<void> | undefined;
  private readonly capacity: number;
  private readonly log: Logger | undefined;

  constructor(store: Store, registries: Iterable<RegistryStore>, options: WatchCacheOptions = {}) {
    this.store = store;
    this.capacity = options.capacity ?? 10_000;
    this.log = options.log;
    // Resources that share a storage prefix (core and events.k8s.io Events) share one cache.
    for (const reg of registries) {
      const prefix = reg.keyPrefix('');
      if (this.byPrefix.has(prefix)) continue;
      const cache = new ResourceCache(reg, prefix, this.capacity);
      this.caches.push(cache);
      this.byPrefix.set(prefix, cache);
    }
    // Longest prefix first, so that nested prefixes (services/specs vs services/endpoints) route right.
    this.caches.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** Lists everything once, then follows the store's changes until stop(). */
  async start(): Promise<void> {
    const rev = await this.store.currentRevision();
    for (const cache of this.caches) {
      const items: KeyValue[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await this.store.list(cache.prefix, { revision: rev, limit: 10_000, ...(after ? { after } : {}) });
        for (const kv of page.kvs) items.push(kv);
        if (!page.more || page.kvs.length === 0) break;
        after = page.kvs[page.kvs.length - 1]!.key;
      }
      cache.load(items, rev);
    }
    this.revision = rev;
    this.running = this.follow(rev);
  }

  private async follow(from: number): Promise<void> {
    let after = from;
    while (!this.ac.signal.aborted) {
      try {
        for await (const batch of this.store.watch('', { afterRevision: after, signal: this.ac.signal })) {
          // A batch's changes reach each watcher in one delivery (one socket write), not one per change.
          const changed = new Map<ResourceCache, CachedEvent[]>();
          for (const e of batch) {
            const cache = this.caches.find((c) => e.key.startsWith(c.prefix));
            if (cache) {
              const ev = cache.apply(e);
              const list = changed.get(cache);
              if (list) list.push(ev);
              else changed.set(cache, [ev]);
            }
            after = e.revision;
          }
          for (const [cache, events] of changed) cache.publish(events);
          this.advance(after);
        }
      } catch (err) {
        if (this.ac.signal.aborted) return;
        if (isStoreError(err, 'Compacted')) {
          // Fell behind the compaction point: start over from a fresh list (upstream's cacher relists too).
          this.log?.warn('watch cache fell behind compaction; reloading', { error: err });
          const rev = await this.store.currentRevision();
          for (const cache of this.caches) {
            cache.load((await this.store.list(cache.prefix, { revision: rev })).kvs, rev);
          }
          after = rev;
          this.advance(rev);
          continue;
        }
        this.log?.error('watch cache lost its watch; retrying', { error: err });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private advance(rev: number): void {
    if (rev <= this.revision) return;
    this.revision = rev;
    for (const w of [...this.waiters]) {
      if (w.revision <= rev) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** The newest revision the cache has applied. */
  get currentRevision(): number {
    return this.revision;
  }

  /** Waits until the cache has applied `revision`; resolves false after the timeout. */
  waitFor(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.revision >= revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Waits until the cache reflects every write the store has acknowledged; false if it could not in time. */
  async waitUntilFresh(timeoutMs = 3000): Promise<boolean> {
    return this.waitFor(await this.store.currentRevision(), timeoutMs);
  }

  /** The cache of a resource. */
  cacheFor(registry: RegistryStore): ResourceCache | undefined {
    return this.byPrefix.get(registry.keyPrefix(''));
  }

  async stop(): Promise<void> {
    this.ac.abort();
    for (const w of this.waiters) w.resolve();
    await this.running;
  }
}
