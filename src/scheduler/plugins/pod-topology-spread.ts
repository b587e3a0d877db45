// PodTopologySpread: a pod's topologySpreadConstraints keep the number of matching pods per domain within
// maxSkew of the emptiest domain (DoNotSchedule filters, ScheduleAnyway scores), and pods without
// constraints are spread by the cluster defaults (zone skew 5, hostname skew 3, ScheduleAnyway) over the
// Services and controller that select them.
import type { TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from '../../api/labels.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import type { EnqueueExtensions, FilterPlugin, FrameworkHandle, PluginArgs, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { AffinityTerm, PodInfo } from '../pod-info.js';
import type { CycleState, NodeScoreList } from '../types.js';
import { maxNodeScore, Status } from '../types.js';
import { findUntoleratedTaint } from '../../api/node-scheduling.js';
import { hasNodeConstraints, podMatchesNodeSelectorAndAffinity } from './node-affinity.js';

export const podTopologySpreadName = 'PodTopologySpread';
export const errReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const errReasonNodeLabelNotMatch = errReasonConstraintsNotMatch + ' (missing required label)';
const hostnameKey = 'kubernetes.io/hostname';

/** The cluster-level default constraints (defaultingType System). */
export const systemDefaultConstraints: TopologySpreadConstraint[] = [
  { topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
  { topologyKey: hostnameKey, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
];

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
  selector: LabelSelector;
  term: AffinityTerm;
  selfMatch: boolean;
}

class SpreadState {
  constraints: Constraint[] = [];
  counts: ReadonlyMap<string, number>[] = [];
  min: number[] = [];
  delta: Map<string, number> | undefined;
  count(i: number, v: string): number {
    const base = this.counts[i]!.get(v) ?? 0;
    return this.delta ? base + (this.delta.get(`${i}|${v}`) ?? 0) : base;
  }
  clone(): SpreadState {
    const c = new SpreadState();
    c.constraints = this.constraints;
    c.counts = this.counts;
    c.min = this.min;
    c.delta = this.delta ? new Map(this.delta) : undefined;
    return c;
  }
}

function toConstraint(pod: PodInfo, c: TopologySpreadConstraint, selector: LabelSelector): Constraint {
  const term: AffinityTerm = {
    namespaces: new Set([pod.namespace]),
    namespaceSelector: undefined,
    selector,
    topologyKey: c.topologyKey,
    key: JSON.stringify(['spread', pod.namespace, selector.toString(), selector.isNothing(), c.topologyKey]),
  };
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    minDomains: c.minDomains ?? 1,
    honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorTaints: c.nodeTaintsPolicy === 'Honor',
    selector,
    term,
    selfMatch: selector.matches(pod.labels),
  };
}

function podConstraints(pod: PodInfo, hard: boolean): Constraint[] {
  const out: Constraint[] = [];
  for (const c of pod.pod.spec?.topologySpreadConstraints ?? []) {
    if ((c.whenUnsatisfiable === 'DoNotSchedule') !== hard) continue;
    let sel = c.labelSelector;
    if (c.matchLabelKeys && c.matchLabelKeys.length > 0 && sel) {
      const extra: Record<string, string> = {};
      for (const k of c.matchLabelKeys) if (pod.labels[k] !== undefined) extra[k] = pod.labels[k];
      sel = { ...sel, matchLabels: { ...sel.matchLabels, ...extra } };
    }
    out.push(toConstraint(pod, c, labelSelectorAsSelector(sel)));
  }
  return out;
}

export function newPodTopologySpread(args: PluginArgs | undefined, handle: FrameworkHandle): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions {
  const cache = handle.cache;
  const defaultingType = (args?.defaultingType as string | undefined) ?? 'System';
  const defaults = defaultingType === 'System' ? systemDefaultConstraints : ((args?.defaultConstraints as TopologySpreadConstraint[] | undefined) ?? []);
  const preFilterKey = 'PreFilter' + podTopologySpreadName;
  const preScoreKey = 'PreScore' + podTopologySpreadName;

  const eligible = (pod: PodInfo, cs: Constraint[], node: NodeInfo, requireAll: boolean): boolean => {
    if (requireAll) for (const c of cs) if (node.labels[c.topologyKey] === undefined) return false;
    if (cs.some((c) => c.honorAffinity) && !podMatchesNodeSelectorAndAffinity(pod, node)) return false;
    if (cs.some((c) => c.honorTaints) && findUntoleratedTaint(node.hardTaints, pod.tolerations)) return false;
    return true;
  };

  /** Counts and domains per constraint, from the cache's running counts when every node qualifies. */
  const countAll = (pod: PodInfo, cs: Constraint[], requireAll: boolean): { counts: ReadonlyMap<string, number>[]; domains: ReadonlyMap<string, number>[] } => {
    const n = cache.nodeCount;
    const fast = !cs.some((c) => c.honorTaints) && (!hasNodeConstraints(pod) || !cs.some((c) => c.honorAffinity)) && (!requireAll || cs.every((c) => sum(cache.domains(c.topologyKey)) === n));
    if (fast) return { counts: cs.map((c) => cache.termCounts(c.term, true)), domains: cs.map((c) => cache.domains(c.topologyKey)) };
    const counts = cs.map(() => new Map<string, number>());
    const domains = cs.map(() => new Map<string, number>());
    for (const node of cache.nodeList()) {
      if (!eligible(pod, cs, node, requireAll)) continue;
      cs.forEach((c, i) => {
        const v = node.labels[c.topologyKey];
        if (v === undefined) return;
        domains[i]!.set(v, (domains[i]!.get(v) ?? 0) + 1);
        let k = 0;
        for (const p of node.pods.values()) {
          if (p.namespace === pod.namespace && !p.pod.metadata?.deletionTimestamp && c.selector.matches(p.labels)) k++;
        }
        if (k > 0) counts[i]!.set(v, (counts[i]!.get(v) ?? 0) + k);
      });
    }
    return { counts, domains };
  };

  const plugin: PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions = {
    name: podTopologySpreadName,
    events: () => ['AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete', 'NodeAdd', 'NodeUpdate', 'NodeDelete'],
    preFilterExtensions: {
      addPod: (st, pod, other, node) => adjust(st, pod, other, node, 1),
      removePod: (st, pod, other, node) => adjust(st, pod, other, node, -1),
    },
    preFilter(state, pod) {
      const cs = podConstraints(pod, true);
      if (cs.length === 0) return new Status('Skip');
      const s = new SpreadState();
      s.constraints = cs;
      const { counts, domains } = countAll(pod, cs, true);
      s.counts = counts;
      s.min = cs.map((c, i) => {
        const d = domains[i]!;
        if (d.size < c.minDomains) return 0;
        const cnt = counts[i]!;
        // Counts hold only non-empty domains: a domain missing from them holds no matching pod.
        let missing = false;
        for (const v of d.keys()) if (!cnt.has(v)) missing = true;
        if (missing) return 0;
        let m = Infinity;
        for (const v of d.keys()) m = Math.min(m, cnt.get(v)!);
        return m === Infinity ? 0 : m;
      });
      state.write(preFilterKey, s);
      return null;
    },
    filter(state, _pod, node) {
      const s = state.read<SpreadState>(preFilterKey);
      if (!s) return null;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i]!;
        const v = node.labels[c.topologyKey];
        if (v === undefined) return new Status('UnschedulableAndUnresolvable', [errReasonNodeLabelNotMatch], podTopologySpreadName);
        const skew = s.count(i, v) + (c.selfMatch ? 1 : 0) - s.min[i]!;
        if (skew > c.maxSkew) return new Status('Unschedulable', [errReasonConstraintsNotMatch], podTopologySpreadName);
      }
      return null;
    },
    preScore(state, pod, nodes) {
      let cs = podConstraints(pod, false);
      let requireAll = true;
      if (cs.length === 0) {
        if ((pod.pod.spec?.topologySpreadConstraints ?? []).length > 0 || defaults.length === 0) return new Status('Skip');
        const sel = handle.defaultSelector?.(pod);
        if (!sel || sel.empty() || sel.isNothing()) return new Status('Skip');
        cs = defaults.map((c) => toConstraint(pod, c, c.labelSelector ? labelSelectorAsSelector(c.labelSelector as never) : sel));
        requireAll = false;
      }
      const { counts, domains } = countAll(pod, cs, requireAll);
      const weights = cs.map((c, i) => Math.log((c.topologyKey === hostnameKey ? nodes.length : domains[i]!.size) + 2));
      state.write(preScoreKey, { cs, counts, weights, requireAll });
      return null;
    },
    score(state, _pod, node) {
      const s = state.read<{ cs: Constraint[]; counts: ReadonlyMap<string, number>[]; weights: number[]; requireAll: boolean }>(preScoreKey);
      if (!s) return 0;
      let score = 0;
      for (let i = 0; i < s.cs.length; i++) {
        const c = s.cs[i]!;
        const v = node.labels[c.topologyKey];
        if (v === undefined) {
          if (s.requireAll) return -1;
          continue;
        }
        score += (s.counts[i]!.get(v) ?? 0) * s.weights[i]! + (c.maxSkew - 1);
      }
      return Math.round(score);
    },
    normalizeScore(_state: CycleState, _pod, scores: NodeScoreList) {
      let min = Infinity;
      let max = 0;
      for (const s of scores) {
        if (s.score < 0) continue;
        if (s.score < min) min = s.score;
        if (s.score > max) max = s.score;
      }
      for (const s of scores) {
        if (s.score < 0) s.score = 0;
        else if (max === 0) s.score = maxNodeScore;
        else s.score = Math.trunc((maxNodeScore * (max + min - s.score)) / max);
      }
    },
  };

  function adjust(cs: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, by: number): void {
    const s = cs.read<SpreadState>(preFilterKey);
    if (!s || other.namespace !== pod.namespace || other.pod.metadata?.deletionTimestamp) return;
    s.constraints.forEach((c, i) => {
      const v = node.labels[c.topologyKey];
      if (v === undefined || !c.selector.matches(other.labels)) return;
      s.delta ??= new Map();
      s.delta.set(`${i}|${v}`, (s.delta.get(`${i}|${v}`) ?? 0) + by);
    });
  }

  return plugin;
}

function sum(m: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}
