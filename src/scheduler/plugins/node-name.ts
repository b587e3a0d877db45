// NodeName: a pod that names its node (spec.nodeName) fits only that node.
import type { EnqueueExtensions, FilterPlugin } from '../framework.js';
import { Status } from '../types.js';

export const nodeNameName = 'NodeName';
export const errReasonNodeName = "node(s) didn't match the requested node name";

export function newNodeName(): FilterPlugin & EnqueueExtensions {
  return {
    name: nodeNameName,
    events: () => ['NodeAdd', 'NodeUpdate'],
    filter(_state, pod, node) {
      const want = pod.pod.spec?.nodeName;
      if (!want || want === node.name) return null;
      return new Status('UnschedulableAndUnresolvable', [errReasonNodeName], nodeNameName);
    },
  };
}
