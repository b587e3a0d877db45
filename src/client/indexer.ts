// The informer's cache: objects by key ("namespace/name", or "name" when cluster-scoped) plus any number of
// secondary indices. JavaScript runs one callback at a time, so the cache needs no locks; what it does need
// is that nobody mutates what it hands out, hence objects are deep-frozen as they enter.
import { deepFreeze } from '../base/deep-freeze.js';
import type { KubeObject } from './rest-client.js';

export { deepFreeze };

/** Maps an object to the index values it is filed under. */
export type IndexFunc<T> = (obj: T) => string[];

/** Upstream's tombstone for an object deleted while the watch was down: its last known state may be stale. */
export class DeletedFinalStateUnknown<T> {
  readonly key: string;
  readonly obj: T;
  constructor(key: string, obj: T) {
    this.key = key;
    this.obj = obj;
  }
}

/** The cache key of an object: "namespace/name", or "name" for cluster-scoped objects. */
export function metaNamespaceKey(obj: KubeObject | DeletedFinalStateUnknown<KubeObject>): string {
  if (obj instanceof DeletedFinalStateUnknown) return obj.key;
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace ?? '';
  return ns === '' ? name : `${ns}/${name}`;
}

/** Splits a key from metaNamespaceKey into namespace ('' when cluster-scoped) and name. */
export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The index name of `namespaceIndexFunc`, as upstream spells it. */
export const namespaceIndex = 'namespace';

/** Files objects by metadata.namespace. */
export const namespaceIndexFunc: IndexFunc<KubeObject> = (obj) => [obj.metadata?.namespace ?? ''];

/** A keyed store of frozen objects with secondary indices. */
export class Indexer<T extends KubeObject = KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn);
  }

  /** Adds an index; existing items are filed under it. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers.has(name)) throw new Error(`indexer conflict: ${name}`);
    this.#indexers.set(name, fn);
    this.#indices.set(name, new Map());
    for (const [key, obj] of this.#items) this.#file(name, fn, key, obj);
  }

  /** Adds or replaces the object under its key; returns the frozen stored object. */
  set(obj: T): T {
    const key = metaNamespaceKey(obj);
    this.#unfile(key);
    const frozen = deepFreeze(obj);
    this.#items.set(key, frozen);
    for (const [name, fn] of this.#indexers) this.#file(name, fn, key, frozen);
    return frozen;
  }

  /** Removes the object with this key; returns what was stored. */
  deleteKey(key: string): T | undefined {
    const old = this.#items.get(key);
    this.#unfile(key);
    this.#items.delete(key);
    return old;
  }

  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  listKeys(): string[] {
    return [...this.#items.keys()];
  }

  get size(): number {
    return this.#items.size;
  }

  /** The objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    return this.indexKeys(name, value).map((k) => this.#items.get(k)!);
  }

  /** The keys filed under `value` in index `name`. */
  indexKeys(name: string, value: string): string[] {
    const index = this.#indices.get(name);
    if (!index) throw new Error(`index with name ${name} does not exist`);
    return [...(index.get(value) ?? [])];
  }

  #file(name: string, fn: IndexFunc<T>, key: string, obj: T): void {
    const index = this.#indices.get(name)!;
    for (const v of fn(obj)) {
      let set = index.get(v);
      if (!set) index.set(v, (set = new Set()));
      set.add(key);
    }
  }

  #unfile(key: string): void {
    const old = this.#items.get(key);
    if (!old) return;
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name)!;
      for (const v of fn(old)) {
        const set = index.get(v);
        set?.delete(key);
        if (set?.size === 0) index.delete(v);
      }
    }
  }
}
