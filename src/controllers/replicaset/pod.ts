// The parts of core/v1 Pod and meta/v1 OwnerReference the ReplicaSet controller reads, and upstream's
// predicates on them (podutil.IsPodReady, IsPodAvailable, controller.IsPodActive, metav1.GetControllerOf).
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../client/index.js';

/** meta/v1 OwnerReference. */
/** metav1.OwnerReference. */
export type { OwnerReference };

/** A pod condition. */
export interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

/** The pod fields the controller reads. */
export interface Pod extends KubeObject {
  spec?: { nodeName?: string; [key: string]: unknown };
  status?: {
    phase?: string;
    conditions?: PodCondition[];
    containerStatuses?: { restartCount?: number }[];
    [key: string]: unknown;
  };
}

/** The owner reference marked controller, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  const refs = obj.metadata?.ownerReferences as OwnerReference[] | undefined;
  return refs?.find((r) => r.controller === true);
}

/** A pod that still counts as a replica: not terminating and not finished. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** The Ready condition when it is True. */
export function readyCondition(pod: Pod): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod) !== undefined;
}

/** Ready, and for more than minReadySeconds (at once when that is 0). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const c = readyCondition(pod);
  if (!c) return false;
  if (minReadySeconds === 0) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 < nowMs;
}

/** "namespace/name", the key expectations track deletions by (upstream's controller.PodKey). */
export function podKey(pod: KubeObject): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}
