// Which pods a shrinking ReplicaSet deletes: the least valuable first, in upstream's ActivePodsWithRanks
// order. Unscheduled before scheduled; Pending before Unknown before Running; not ready before ready; lower
// controller.kubernetes.io/pod-deletion-cost first; pods sharing a node with more of their siblings first;
// ready for a shorter time first; more container restarts first; newer first. Ready times and creation
// times are compared on a log2 scale of their age (LogarithmicScaleDown, on by default), so pods of about
// the same age are told apart by UID, which spreads deletions pseudo-randomly among equals.
import type { Pod } from './pod.js';
import { isPodActive, isPodReady, readyCondition } from './pod.js';

const deletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';
const phaseOrdinal: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * The `count` pods of `pods` to delete first. `related` are the active and inactive pods of every
 * ReplicaSet with the same controller (a Deployment's generations), used to rank pods by how many
 * siblings share their node.
 */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number, nowMs: number): Pod[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const node = p.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((a, b) => (deleteFirst(a, b, nowMs) ? -1 : deleteFirst(b, a, nowMs) ? 1 : 0));
  return ranked.slice(0, count).map((r) => r.pod);
}

interface Ranked {
  pod: Pod;
  rank: number;
}

/** True when `a` should go before `b` (upstream's ActivePodsWithRanks.Less). */
function deleteFirst(a: Ranked, b: Ranked, nowMs: number): boolean {
  const pa = a.pod;
  const pb = b.pod;
  const nodeA = pa.spec?.nodeName ?? '';
  const nodeB = pb.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  const phaseA = phaseOrdinal[pa.status?.phase ?? ''] ?? 0;
  const phaseB = phaseOrdinal[pb.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA < phaseB;
  const readyA = isPodReady(pa);
  const readyB = isPodReady(pb);
  if (readyA !== readyB) return !readyA;
  const costA = deletionCost(pa);
  const costB = deletionCost(pb);
  if (costA !== costB) return costA < costB;
  if (a.rank !== b.rank) return a.rank > b.rank;
  if (readyA && readyB) {
    const tA = parseTime(readyCondition(pa)?.lastTransitionTime);
    const tB = parseTime(readyCondition(pb)?.lastTransitionTime);
    if (tA !== tB) return laterOnLogScale(tA, tB, nowMs, pa, pb);
  }
  const restartsA = maxRestarts(pa);
  const restartsB = maxRestarts(pb);
  if (restartsA !== restartsB) return restartsA > restartsB;
  const cA = parseTime(pa.metadata?.creationTimestamp as string | undefined);
  const cB = parseTime(pb.metadata?.creationTimestamp as string | undefined);
  if (cA !== cB) return laterOnLogScale(cA, cB, nowMs, pa, pb);
  return false;
}

/** Milliseconds since the epoch, 0 for a missing or unreadable time (Go's zero time). */
function parseTime(s: string | undefined): number {
  if (!s) return 0;
  const t = Date.parse(s);
  return Number.isNaN(t) ? 0 : t;
}

/** Whether t1 counts as later (younger) than t2: a zero time is latest; equal log2 ages fall back to UID order. */
function laterOnLogScale(t1: number, t2: number, nowMs: number, p1: Pod, p2: Pod): boolean {
  if (t1 === 0 || t2 === 0) return t1 === 0;
  const diff = logRank(nowMs - t1) - logRank(nowMs - t2);
  if (diff === 0) return (p1.metadata?.uid ?? '') < (p2.metadata?.uid ?? '');
  return diff < 0;
}

/** floor(log2) of an age in nanoseconds, as upstream ranks durations; -1 for none. */
function logRank(ageMs: number): number {
  return ageMs > 0 ? Math.trunc(Math.log2(ageMs * 1e6)) : -1;
}

function maxRestarts(pod: Pod): number {
  let max = 0;
  for (const c of pod.status?.containerStatuses ?? []) max = Math.max(max, c.restartCount ?? 0);
  return max;
}

/** The pod-deletion-cost annotation as an int32; absent or malformed counts as 0, as upstream. */
function deletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[deletionCostAnnotation];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}
