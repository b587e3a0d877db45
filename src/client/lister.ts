// Read access to an informer's cache by namespace and name or by label selector. What it returns is the
// cache's own frozen objects: copy (structuredClone) before changing one.
import { LabelSelector } from '../api/labels.js';
import type { Indexer } from './indexer.js';
import { namespaceIndex } from './indexer.js';
import type { KubeObject } from './rest-client.js';

/** Reads a cache. */
export class Lister<T extends KubeObject = KubeObject> {
  readonly #indexer: Indexer<T>;

  constructor(indexer: Indexer<T>) {
    this.#indexer = indexer;
  }

  /** The object, or undefined; namespace '' for cluster-scoped objects. */
  get(namespace: string, name: string): T | undefined {
    return this.#indexer.getByKey(namespace === '' ? name : `${namespace}/${name}`);
  }

  /** Every object matching the selector (a LabelSelector or its string form; default everything). */
  list(selector: LabelSelector | string = LabelSelector.everything()): T[] {
    const sel = toSelector(selector);
    return this.#indexer.list().filter((o) => sel.matches(o.metadata?.labels));
  }

  /** The objects of one namespace matching the selector; uses the namespace index when the cache has one. */
  listNamespace(namespace: string, selector: LabelSelector | string = LabelSelector.everything()): T[] {
    const sel = toSelector(selector);
    let items: T[];
    try {
      items = this.#indexer.byIndex(namespaceIndex, namespace);
    } catch {
      items = this.#indexer.list().filter((o) => (o.metadata?.namespace ?? '') === namespace);
    }
    return items.filter((o) => sel.matches(o.metadata?.labels));
  }

  /** The objects an index files under `value`. */
  byIndex(indexName: string, value: string): T[] {
    return this.#indexer.byIndex(indexName, value);
  }
}

function toSelector(s: LabelSelector | string): LabelSelector {
  return typeof s === 'string' ? LabelSelector.parse(s) : s;
}
