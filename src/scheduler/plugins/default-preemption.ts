// DefaultPreemption (PostFilter): when no node fits, find nodes where evicting lower-priority pods would
// make room, keep as few and as unimportant victims as possible (each victim is tried back, most important
// first), pick the node whose victims matter least, nominate the pod there and evict the victims.
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

export function newDefaultPreemption(args: PluginArgs | undefined, handle: FrameworkHandle): PostFilterPlugin & { selectVictimsOnNode(state: CycleState, pod: PodInfo, node: NodeInfo): { victims?: PodInfo[]; status?: Status } } {
  const minPct = (args?.minCandidateNodesPercentage as number | undefined) ?? 10;
  const minAbs = (args?.minCandidateNodesAbsolute as number | undefined) ?? 100;

  function selectVictimsOnNode(state: CycleState, pod: PodInfo, node: NodeInfo): { victims?: PodInfo[]; status?: Status } {
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
    const victims: PodInfo[] = [];
    for (const p of potential) {
      add(p);
      if (fw.runFilterWithNominated(st, pod, clone, nominated) !== null) {
        remove(p);
        victims.push(p);
      }
    }
    return { victims };
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
          if (r.victims) candidates.push({ node: n.name, victims: r.victims });
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

/** Upstream's ranking: lowest highest-priority victim, lowest priority sum, fewest victims, then the first. */
export function pickOneNodeForPreemption(candidates: Candidate[]): Candidate {
  const offset = 2 ** 31;
  let best = candidates[0]!;
  const key = (c: Candidate): [number, number, number] => {
    let highest = -Infinity;
    let sum = 0;
    for (const v of c.victims) {
      highest = Math.max(highest, v.priority);
      sum += v.priority + offset;
    }
    return [c.victims.length === 0 ? -Infinity : highest, sum, c.victims.length];
  };
  let bk = key(best);
  for (const c of candidates.slice(1)) {
    const k = key(c);
    if (k[0] < bk[0] || (k[0] === bk[0] && (k[1] < bk[1] || (k[1] === bk[1] && k[2] < bk[2])))) {
      best = c;
      bk = k;
    }
  }
  return best;
}
