// NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint.
import type { EnqueueExtensions, FilterPlugin } from '../framework.js';
import { Status } from '../types.js';
import { toleratesTaint } from '../../api/node-scheduling.js';

export const nodeUnschedulableName = 'NodeUnschedulable';
export const errReasonUnschedulable = 'node(s) were unschedulable';
const unschedulableTaint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export function newNodeUnschedulable(): FilterPlugin & EnqueueExtensions {
  return {
    name: nodeUnschedulableName,
    events: () => ['NodeAdd', 'NodeUpdate'],
    filter(_state, pod, node) {
      if (!node.unschedulable) return null;
      if (pod.tolerations.some((t) => toleratesTaint(t, unschedulableTaint))) return null;
      return new Status('UnschedulableAndUnresolvable', [errReasonUnschedulable], nodeUnschedulableName);
    },
  };
}
