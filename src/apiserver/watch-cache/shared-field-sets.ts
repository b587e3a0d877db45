// Cached objects share their managedFields' field sets. Every object a controller or client writes the same
// way carries the same FieldsV1 tree: for a pod, some thirty small JSON objects, most of them the empty `{}`
// that marks a leaf, decoded anew for each pod. In the watch cache they are most of an object's JS objects,
// so they are most of what each young-generation collection copies and most of the old generation's
// growth. Equal trees are therefore kept once, frozen, and shared by every cached object that has them.
import { deepFreeze } from '../../base/deep-freeze.js';

/** The shared trees by their JSON. Bounded: past the limit it starts again (sharing is only a saving). */
const shared = new Map<string, object>();
const limit = 4096;

/** Replaces each managedFields entry's fieldsV1 of a freshly decoded object by the shared equal tree. */
export function shareFieldSets(obj: { metadata?: { managedFields?: unknown } }): void {
  const entries = obj.metadata?.managedFields;
  if (!Array.isArray(entries)) return;
  for (const entry of entries as { fieldsV1?: unknown }[]) {
    const fields = entry?.fieldsV1;
    if (fields === null || typeof fields !== 'object') continue;
    const key = JSON.stringify(fields);
    let tree = shared.get(key);
    if (tree === undefined) {
      if (shared.size >= limit) shared.clear();
      tree = deepFreeze(fields);
      shared.set(key, tree);
    }
    entry.fieldsV1 = tree;
  }
}
