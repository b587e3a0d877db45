// PrioritySort: higher spec.priority first, then the pod that entered the queue earlier.
import type { QueuedPodInfo, QueueSortPlugin } from '../framework.js';

export const prioritySortName = 'PrioritySort';

export function newPrioritySort(): QueueSortPlugin {
  return {
    name: prioritySortName,
    less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
      const pa = a.info.priority;
      const pb = b.info.priority;
      return pa > pb || (pa === pb && a.timestamp < b.timestamp);
    },
  };
}
