// SchedulingGates (PreEnqueue): a pod with spec.schedulingGates stays out of the active queue until every
// gate is removed.
import type { PreEnqueuePlugin } from '../framework.js';
import { Status } from '../types.js';

export const schedulingGatesName = 'SchedulingGates';

export function newSchedulingGates(): PreEnqueuePlugin {
  return {
    name: schedulingGatesName,
    preEnqueue(pod) {
      const gates = pod.pod.spec?.schedulingGates ?? [];
      if (gates.length === 0) return null;
      return new Status('UnschedulableAndUnresolvable', [`waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`], schedulingGatesName);
    },
  };
}
