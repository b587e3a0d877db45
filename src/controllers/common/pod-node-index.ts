// An index of the shared pod informer by spec.nodeName, which several node controllers read.
import type { KubeObject, SharedInformer } from '../../client/index.js';

/** The index name. */
export const nodeNameIndex = 'spec.nodeName';

/** The pods bound to a node, from the shared pod informer (adds the index on first use). */
export function podsOnNode<T extends KubeObject>(pods: SharedInformer<T>, nodeName: string): T[] {
  try {
    return pods.indexer.byIndex(nodeNameIndex, nodeName);
  } catch {
    pods.indexer.addIndexer(nodeNameIndex, (p) => {
      const n = (p.spec as { nodeName?: string } | undefined)?.nodeName;
      return n ? [n] : [];
    });
    return pods.indexer.byIndex(nodeNameIndex, nodeName);
  }
}
