// A shared informer: one reflector feeding one indexed cache, fanning changes out to any number of event
// handlers. The cache hands out deep-frozen objects; controllers read them through a Lister and must copy
// (structuredClone) an object before changing it, because every handler and lister shares the same one.
//
// Handlers run synchronously, in registration order, right after the cache changed; they should only
// enqueue keys and return. A handler that throws is logged and does not disturb the others.
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import type { Clock, TimerHandle } from './clock.js';
import { realClock } from './clock.js';
import type { IndexFunc } from './indexer.js';
import {
  deepFreeze,
  DeletedFinalStateUnknown,
  Indexer,
  metaNamespaceKey,
  namespaceIndex,
  namespaceIndexFunc,
} from './indexer.js';
import type { ListerWatcher } from './list-watch.js';
import { listWatch } from './list-watch.js';
import { Lister } from './lister.js';
import type { ReflectorOptions, ReflectorStore } from './reflector.js';
import { Reflector } from './reflector.js';
import type { KubeObject, ResourceRef, RESTClient } from './rest-client.js';

/** Callbacks for cache changes. onUpdate also fires on resyncs and relists with old === new content. */
export interface ResourceEventHandler<T> {
  onAdd?(obj: T, isInInitialList: boolean): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

/** What addEventHandler returns. */
export interface HandlerRegistration {
  /** True once the handler has been told about everything in the first list. */
  hasSynced(): boolean;
  remove(): void;
}

/** Options of a SharedInformer. */
export interface SharedInformerOptions<T> extends ReflectorOptions {
  /** Default resync period of handlers in ms (0: none). */
  resyncPeriodMs?: number;
  /** Extra indices; a "namespace" index is always present. */
  indexers?: Record<string, IndexFunc<T>>;
}

interface Listener<T> {
  handler: ResourceEventHandler<T>;
  resyncPeriodMs: number;
  timer?: TimerHandle;
  synced: boolean;
}

/** Watches one kind of object into a shared cache and notifies handlers of changes. */
export class SharedInformer<T extends KubeObject = KubeObject> implements ReflectorStore<T> {
  readonly indexer: Indexer<T>;
  readonly lister: Lister<T>;
  readonly #reflector: Reflector<T>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #resyncPeriodMs: number;
  #listeners: Listener<T>[] = [];
  #synced = false;
  #running: { ac: AbortController; done: Promise<void> } | undefined;
  #syncWaiters: (() => void)[] = [];

  constructor(lw: ListerWatcher<T>, options: SharedInformerOptions<T> = {}) {
    this.#clock = options.clock ?? realClock;
    this.#log = options.log ?? logger('informer');
    this.#resyncPeriodMs = options.resyncPeriodMs ?? 0;
    this.indexer = new Indexer<T>({ [namespaceIndex]: namespaceIndexFunc, ...options.indexers });
    this.lister = new Lister(this.indexer);
    this.#reflector = new Reflector(lw, this, { ...options, clock: this.#clock, log: this.#log });
  }

  /** An informer for one resource through a REST client. */
  static forResource<T extends KubeObject = KubeObject>(
    client: RESTClient,
    ref: ResourceRef,
    options: SharedInformerOptions<T> & { labelSelector?: string; fieldSelector?: string } = {},
  ): SharedInformer<T> {
    const { labelSelector, fieldSelector, ...rest } = options;
    return new SharedInformer<T>(
      listWatch<T>(client, ref, {
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
      }),
      { ...rest, log: rest.log ?? logger('informer', { resource: ref.resource }) },
    );
  }

  /** The reflector's last resourceVersion. */
  get lastSyncResourceVersion(): string {
    return this.#reflector.lastSyncResourceVersion;
  }

  /** How many lists the reflector made (1 plus one per relist). */
  get listCount(): number {
    return this.#reflector.listCount;
  }

  /** True once the first list is in the cache. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves when the first list is in the cache, or rejects when `signal` aborts first. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal!.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /**
   * Registers a handler. One added after the cache synced first gets an onAdd for every cached object, as
   * upstream does, so that late handlers see the same world as early ones.
   */
  addEventHandler(
    handler: ResourceEventHandler<T>,
    resyncPeriodMs: number = this.#resyncPeriodMs,
  ): HandlerRegistration {
    const l: Listener<T> = { handler, resyncPeriodMs, synced: false };
    this.#listeners.push(l);
    if (this.#synced) {
      for (const obj of this.indexer.list()) this.#call(() => handler.onAdd?.(obj, true));
      l.synced = true;
    }
    if (this.#running) this.#scheduleResync(l);
    return {
      hasSynced: () => l.synced,
      remove: () => {
        if (l.timer) this.#clock.clearTimeout(l.timer);
        this.#listeners = this.#listeners.filter((x) => x !== l);
      },
    };
  }

  /** Starts list and watch in the background; `stop` ends it. */
  start(): void {
    if (this.#running) return;
    const ac = new AbortController();
    const done = this.#reflector.run(ac.signal);
    this.#running = { ac, done };
    for (const l of this.#listeners) this.#scheduleResync(l);
  }

  /** Stops watching and resync timers; resolves when the reflector has wound down. */
  async stop(): Promise<void> {
    const r = this.#running;
    if (!r) return;
    this.#running = undefined;
    r.ac.abort();
    for (const l of this.#listeners) if (l.timer) this.#clock.clearTimeout(l.timer);
    await r.done;
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.start();
    if (!signal.aborted)
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await this.stop();
  }

  // ReflectorStore: the reflector's writes become cache changes and notifications.

  replace(items: T[], _resourceVersion: string): void {
    const initial = !this.#synced;
    const seen = new Set<string>();
    for (const item of items) {
      const key = metaNamespaceKey(item);
      seen.add(key);
      const old = this.indexer.getByKey(key);
      const stored = this.indexer.set(item);
      if (old) this.#notify((h) => h.onUpdate?.(old, stored));
      else this.#notify((h) => h.onAdd?.(stored, initial));
    }
    for (const key of this.indexer.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.indexer.deleteKey(key)!;
      // Its deletion happened while we were not watching: the last state we knew may be stale.
      const tombstone = new DeletedFinalStateUnknown(key, old);
      this.#notify((h) => h.onDelete?.(tombstone));
    }
    if (!this.#synced) {
      this.#synced = true;
      for (const l of this.#listeners) l.synced = true;
      for (const w of this.#syncWaiters.splice(0)) w();
    }
  }

  add(obj: T): void {
    const old = this.indexer.getByKey(metaNamespaceKey(obj));
    const stored = this.indexer.set(obj);
    if (old) this.#notify((h) => h.onUpdate?.(old, stored));
    else this.#notify((h) => h.onAdd?.(stored, false));
  }

  update(obj: T): void {
    this.add(obj);
  }

  delete(obj: T): void {
    const key = metaNamespaceKey(obj);
    this.indexer.deleteKey(key);
    const frozen = deepFreeze(obj);
    this.#notify((h) => h.onDelete?.(frozen));
  }

  #notify(fn: (h: ResourceEventHandler<T>) => void): void {
    for (const l of this.#listeners) this.#call(() => fn(l.handler));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error('event handler failed', { error: err as Error });
    }
  }

  #scheduleResync(l: Listener<T>): void {
    if (l.resyncPeriodMs <= 0) return;
    l.timer = this.#clock.setTimeout(() => {
      if (!this.#running || !this.#listeners.includes(l)) return;
      if (this.#synced)
        for (const obj of this.indexer.list()) this.#call(() => l.handler.onUpdate?.(obj, obj));
      this.#scheduleResync(l);
    }, l.resyncPeriodMs);
  }
}
