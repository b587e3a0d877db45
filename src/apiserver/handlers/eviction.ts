// POST pods/<name>/eviction (upstream's pkg/registry/core/pod/storage/eviction.go): deletes a pod unless
// that would break its PodDisruptionBudget. A pod under a budget is deleted only while the budget's
// status.disruptionsAllowed is above zero; the handler takes one off and records the pod in
// status.disruptedPods in the same optimistic write (retried on conflict), so two evictions can never
// spend the same allowance, and the disruption controller learns which deletions to expect. Otherwise the
// answer is 429 TooManyRequests with a DisruptionBudget cause, which kubectl drain retries.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import { apiErrors, StatusError } from '../../apimachinery/errors/status-error.js';
import type { KObject, RegistryStore } from '../../registry/generic/index.js';
import { formatTime } from '../../registry/generic/index.js';
import { readBody, writeJson } from '../http/respond.js';
import type { ResourceRequestInfo } from '../request-info.js';
import { decodeObjectBody } from './resource-handler.js';

/** Upstream's cap on status.disruptedPods before evictions are refused. */
const maxDisruptedPodSize = 2000;
/** Conflicting budget writes are retried this often before giving up (upstream's EvictionsRetry steps). */
const maxAttempts = 20;

interface Pod extends KObject {
  status?: { phase?: string; conditions?: { type: string; status: string }[]; [key: string]: unknown };
}
type Budget = PodDisruptionBudget & KObject;

interface EvictionBody {
  deleteOptions?: { gracePeriodSeconds?: number; dryRun?: string[]; preconditions?: { uid?: string; resourceVersion?: string } };
}

/** Terminal, pending and terminating pods cause no new disruption: their eviction skips the budget. */
function canIgnorePDB(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata?.deletionTimestamp !== undefined;
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function tooManyRequests(cause: string): StatusError {
  return new StatusError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
    causes: [{ reason: 'DisruptionBudget', message: cause }],
  });
}

const pdbResource = { group: 'policy', resource: 'poddisruptionbudget' };

/** Upstream's checkAndDecrement: spends one allowed disruption of the budget, or says why not. */
export function checkAndDecrement(podName: string, pdb: Budget, now: Date): Budget {
  const name = pdb.metadata?.name ?? '';
  const status = pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
  if ((status.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) {
    throw tooManyRequests(`The disruption budget ${name} is still being processed by the server.`);
  }
  if (status.disruptionsAllowed < 0) throw apiErrors.forbidden(pdbResource, name, 'pdb disruptions allowed is negative');
  if (Object.keys(status.disruptedPods ?? {}).length > maxDisruptedPodSize) {
    throw apiErrors.forbidden(pdbResource, name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  }
  if (status.disruptionsAllowed === 0) {
    throw tooManyRequests(`The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`);
  }
  const next = structuredClone(pdb);
  const s = next.status!;
  s.disruptionsAllowed--;
  if (s.disruptionsAllowed === 0) {
    const conditions = (s.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed');
    const old = s.conditions?.find((c) => c.type === 'DisruptionAllowed');
    conditions.push({
      type: 'DisruptionAllowed',
      status: 'False',
      reason: 'InsufficientPods',
      message: '',
      observedGeneration: s.observedGeneration ?? 0,
      lastTransitionTime: old?.status === 'False' ? old.lastTransitionTime : formatTime(now),
    });
    s.conditions = conditions;
  }
  s.disruptedPods = { ...s.disruptedPods, [podName]: formatTime(now) };
  return next;
}

/** Serves the eviction of one pod; `pdbs` is the PodDisruptionBudget registry. */
export async function serveEviction(
  req: IncomingMessage,
  res: ServerResponse,
  pods: RegistryStore,
  pdbs: RegistryStore | undefined,
  ri: ResourceRequestInfo,
  now: () => Date,
): Promise<void> {
  if (ri.verb !== 'create') throw apiErrors.methodNotSupported({ group: '', resource: 'pods/eviction' }, ri.verb);
  const eviction = decodeObjectBody(await readBody(req), req.headers['content-type']) as EvictionBody;
  const opts = eviction.deleteOptions ?? {};
  const dryRun = (opts.dryRun ?? []).includes('All');
  const deleteOptions = {
    ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
    ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
    dryRun,
  };
  const success = (): void => writeJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  const evict = async (pod: Pod, expectVersion?: string): Promise<void> => {
    if (!dryRun && pod.metadata?.deletionTimestamp === undefined) {
      // Upstream marks the pod with the DisruptionTarget condition before deleting it.
      await pods.guaranteedUpdate(ri.namespace, ri.name, (cur) => {
        if (expectVersion !== undefined && cur.metadata?.resourceVersion !== expectVersion) {
          throw apiErrors.conflict({ group: '', resource: 'pods' }, ri.name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        const status = (cur.status ?? {}) as { conditions?: { type: string }[] };
        const conditions = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
        conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: formatTime(now()) } as never);
        return { ...cur, status: { ...status, conditions } };
      }, { subresource: 'status' });
    }
    await pods.delete(ri.namespace, ri.name, deleteOptions);
    success();
  };

  for (let attempt = 0; ; attempt++) {
    const pod = (await pods.get(ri.namespace, ri.name)) as Pod;
    if (canIgnorePDB(pod) || !pdbs) return evict(pod);
    const labels = pod.metadata?.labels ?? {};
    const matching = (await pdbs.list(ri.namespace)).items.filter((p) => {
      try {
        const sel = labelSelectorAsSelector((p as Budget).spec?.selector);
        // policy/v1: an empty selector matches every pod of the namespace.
        return sel.matches(labels);
      } catch {
        return false;
      }
    }) as Budget[];
    if (matching.length > 1) {
      throw apiErrors.internal(new Error('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.'));
    }
    const pdb = matching[0];
    if (!pdb) return evict(pod);
    if (!isReady(pod)) {
      // An unready pod adds no disruption when the policy says so, or while the budget is met anyway.
      const st = pdb.status;
      if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return evict(pod, pod.metadata?.resourceVersion);
      if (st && st.currentHealthy >= st.desiredHealthy && st.desiredHealthy > 0) return evict(pod, pod.metadata?.resourceVersion);
    }
    const next = checkAndDecrement(ri.name, pdb, now());
    if (!dryRun) {
      try {
        await pdbs.update(ri.namespace, pdb.metadata?.name ?? '', next, { subresource: 'status' });
      } catch (err) {
        if (err instanceof StatusError && err.reason === 'Conflict' && attempt < maxAttempts) continue;
        throw err;
      }
    }
    return evict(pod);
  }
}
