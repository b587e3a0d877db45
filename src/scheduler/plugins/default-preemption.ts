// DefaultPreemption (PostFilter): when no node fits, find nodes where evicting lower-priority pods would
// make room, keep as few and as unimportant victims as possible (each victim is tried back, those whose
// eviction would break a PodDisruptionBudget first, then most important first), pick the node whose victims
// break the fewest budgets and matter least, nominate the pod there and evict the victims.
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import type { FrameworkHandle, PluginArgs, PostFilterPlugin, PostFilterResult } from '../framework.js';
import { fitErrorMessage } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import type { CycleState } from '../types.js';
import { Status } from '../types.js';

export const defaultPreemptionName = 'DefaultPreemption';
export const notHelpful = 'Preemption is not helpful for scheduling';
export const noVictims = 'No preemption victims found for incoming pod';

/** One node where preemption would work. */
export interface Candidate {
  node: string;
  victims: PodInfo[];
  /** How many victims would break a PodDisruptionBudget. */
  pdbViolations?: number;
}

function startTime(p: PodInfo): number {
  const t = p.pod.status?.startTime ?? p.pod.metadata?.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** Upstream's MoreImportantPod: higher priority, then the one that started earlier. */
function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return startTime(a) - startTime(b);
}

/**
 * Splits pods (most important first) into those whose eviction would break a PodDisruptionBudget and the
 * rest, as upstream's filterPodsWithPDBViolation: each matching budget's disruptionsAllowed is spent pod by
 * pod; a pod already in its status.disruptedPods does not spend it; a budget with an empty selector matches
 * nothing.
 */
export function splitByPDBViolation(pods: PodInfo[], pdbs: readonly PodDisruptionBudget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((b) => b.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((b) => {
    try {
      const sel = labelSelectorAsSelector(b.spec?.selector ?? {});
      return sel.empty() ? undefined : sel;
    } catch {
      return undefined;
    }
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const p of pods) {
    let violated = false;
    if (Object.keys(p.labels).length > 0) {
      pdbs.forEach((b, i) => {
        const sel = selectors[i];
        if (b.metadata?.namespace !== p.namespace || !sel || !sel.matches(p.labels)) return;
        if (b.status?.disruptedPods?.[p.pod.metadata?.name ?? ''] !== undefined) return;
        allowed[i]! -= 1;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(p);
  }
  return { violating, nonViolating };
}

type VictimSelection = { victims?: PodInfo[]; pdbViolations?: number; status?: Status };

export function newDefaultPreemption(args: PluginArgs | undefined, handle: FrameworkHandle): PostFilterPlugin & { selectVictimsOnNode(state: CycleState, pod: PodInfo, node: NodeInfo): VictimSelection } {
  const minPct = (args?.minCandidateNodesPercentage as number | undefined) ?? 10;
  const minAbs = (args?.minCandidateNodesAbsolute as number | undefined) ?? 100;

  function selectVictimsOnNode(state: CycleState, pod: PodInfo, node: NodeInfo): VictimSelection {
    const fw = handle.framework();
    const clone = node.clone();
    const st = state.clone();
    const remove = (p: PodInfo): void => {
      clone.removePod(p.uid);
      for (const pf of fw.preFilter) pf.preFilterExtensions?.removePod(st, pod, p, clone);
    };
    const add = (p: PodInfo): void => {
      clone.addPod(p);
      for (const pf of fw.preFilter) pf.preFilterExtensions?.addPod(st, pod, p, clone);
    };
    const potential: PodInfo[] = [];
    for (const p of node.pods.values()) if (p.priority < pod.priority) potential.push(p);
    for (const p of potential) remove(p);
    if (potential.length === 0) return { status: new Status('UnschedulableAndUnresolvable', [noVictims]) };
    const nominated = handle.nominatedPods(node.name);
    const s = fw.runFilterWithNominated(st, pod, clone, nominated);
    if (s !== null) return { status: s };
    potential.sort(moreImportant);
    const { violating, nonViolating } = splitByPDBViolation(potential, handle.podDisruptionBudgets?.() ?? []);
    const victims: PodInfo[] = [];
    /** Tries to keep the pod; true when the preemptor still fits with it there. */
    const reprieve = (p: PodInfo): boolean => {
      add(p);
      if (fw.runFilterWithNominated(st, pod, clone, nominated) === null) return true;
      remove(p);
      victims.push(p);
      return false;
    };
    let pdbViolations = 0;
    for (const p of violating) if (!reprieve(p)) pdbViolations++;
    for (const p of nonViolating) reprieve(p);
    if (violating.length > 0 && nonViolating.length > 0) victims.sort(moreImportant);
    return { victims, pdbViolations };
  }

  return {
    name: defaultPreemptionName,
    selectVictimsOnNode,
    postFilter(state, pod, statuses): PostFilterResult {
      const fail = (msg: string): PostFilterResult => ({ status: new Status('Unschedulable', [`preemption: ${msg}`], defaultPreemptionName) });
      if (pod.pod.spec?.preemptionPolicy === 'Never') return fail('not eligible due to preemptionPolicy=Never.');
      const nominatedName = pod.pod.status?.nominatedNodeName;
      if (nominatedName) {
        const ns = statuses.get(nominatedName);
        const node = handle.cache.node(nominatedName);
        if (node && ns?.code !== 'UnschedulableAndUnresolvable') {
          for (const p of node.pods.values()) {
            if (p.pod.metadata?.deletionTimestamp && p.priority < pod.priority) return fail('not eligible due to a terminating pod on the nominated node.');
          }
        }
      }
      const nodes = handle.cache.nodeList();
      const out = new Map<string, Status>();
      const potential: NodeInfo[] = [];
      for (const n of nodes) {
        const s = statuses.get(n.name);
        if (s && s.code === 'UnschedulableAndUnresolvable') out.set(n.name, new Status('UnschedulableAndUnresolvable', [notHelpful]));
        else potential.push(n);
      }
      const candidates: Candidate[] = [];
      if (potential.length > 0) {
        const want = Math.min(potential.length, Math.max(Math.trunc((potential.length * minPct) / 100), minAbs));
        const offset = Math.floor(Math.random() * potential.length);
        for (let k = 0; k < potential.length && candidates.length < want; k++) {
          const n = potential[(offset + k) % potential.length]!;
          const r = selectVictimsOnNode(state, pod, n);
          if (r.victims) candidates.push({ node: n.name, victims: r.victims, pdbViolations: r.pdbViolations ?? 0 });
          else if (r.status) out.set(n.name, r.status);
        }
      }
      if (candidates.length === 0) {
        for (const n of nodes) if (!out.has(n.name)) out.set(n.name, new Status('UnschedulableAndUnresolvable', [notHelpful]));
        const msg = fitErrorMessage(nodes.length, { nodeStatuses: out, unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' });
        return { status: new Status('Unschedulable', [`preemption: ${msg}`], defaultPreemptionName) };
      }
      const best = pickOneNodeForPreemption(candidates);
      handle.preemptionActions?.nominate(pod, best.node);
      for (const v of best.victims) handle.preemptionActions?.evict(v, pod, best.node);
      return { nominatedNodeName: best.node, status: new Status('Success') };
    },
  };
}

/**
 * Upstream's ranking: fewest PodDisruptionBudget violations, lowest highest-priority victim, lowest priority
 * sum, fewest victims, the latest start among the highest-priority victims, then the first. A node that needs
 * no victims wins at once.
 */
export function pickOneNodeForPreemption(candidates: Candidate[]): Candidate {
  const offset = 2 ** 31;
  const key = (c: Candidate): number[] => {
    let highest = -Infinity;
    let sum = 0;
    for (const v of c.victims) {
      highest = Math.max(highest, v.priority);
      sum += v.priority + offset;
    }
    let earliest = Infinity;
    for (const v of c.victims) if (v.priority === highest) earliest = Math.min(earliest, startTime(v));
    // Every criterion is "smaller wins"; the start time is negated because a later start wins.
    return [c.pdbViolations ?? 0, highest, sum, c.victims.length, -earliest];
  };
  let best = candidates[0]!;
  let bk = key(best);
  for (const c of candidates) {
    if (c.victims.length === 0) return c;
    const k = key(c);
    const i = k.findIndex((x, j) => x !== bk[j]);
    if (i >= 0 && k[i]! < bk[i]!) {
      best = c;
      bk = k;
    }
  }
  return best;
}
