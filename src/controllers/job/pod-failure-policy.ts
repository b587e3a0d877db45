// A Job's podFailurePolicy applied to one failed pod (upstream's matchPodFailurePolicy): the first rule
// that matches decides whether the job fails at once (FailJob, with upstream's message), whether the
// failure counts against backoffLimit (Count) or not (Ignore). FailIndex needs backoffLimitPerIndex,
// which this controller does not implement, so it counts like Count.
import type { PodFailurePolicy } from 'kubernetes-types/batch/v1.js';
import type { Pod } from '../replicaset/pod.js';

/** A container status as far as the policy reads it. */
interface ContainerStatusLike {
  name?: string;
  state?: { terminated?: { exitCode?: number } };
}

export interface PolicyMatch {
  /** Set when a FailJob rule matched: the message of the job's FailureTarget and Failed conditions. */
  failJobMessage?: string;
  /** Whether the failure counts against backoffLimit. */
  countFailed: boolean;
  /** The matched rule's action, if a rule matched. */
  action?: string;
}

/** Upstream's matchPodFailurePolicy. */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PolicyMatch {
  if (!policy) return { countFailed: true };
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    let failMessage: string | undefined;
    if (rule.onExitCodes) {
      const req = rule.onExitCodes;
      const status = pod.status as { initContainerStatuses?: ContainerStatusLike[]; containerStatuses?: ContainerStatusLike[] } | undefined;
      const all = [...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? [])];
      const hit = all.find((c) => {
        const code = c.state?.terminated?.exitCode;
        if (code === undefined || code === 0) return false;
        if (req.containerName && req.containerName !== c.name) return false;
        const listed = req.values.includes(code);
        return req.operator === 'In' ? listed : !listed;
      });
      if (!hit) continue;
      failMessage = `Container ${hit.name ?? ''} for pod ${ns}/${name} failed with exit code ${hit.state?.terminated?.exitCode ?? 0} matching ${rule.action} rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const cond = (pod.status?.conditions ?? []).find((c) =>
        (rule.onPodConditions ?? []).some((p) => p.type === c.type && (p.status ?? 'True') === c.status),
      );
      if (!cond) continue;
      failMessage = `Pod ${ns}/${name} has condition ${cond.type} matching ${rule.action} rule at index ${index}`;
    } else {
      continue;
    }
    switch (rule.action) {
      case 'Ignore':
        return { countFailed: false, action: rule.action };
      case 'FailJob':
        return { failJobMessage: failMessage, countFailed: true, action: rule.action };
      case 'Count':
      case 'FailIndex':
        return { countFailed: true, action: rule.action };
      default:
        continue;
    }
  }
  return { countFailed: true };
}
