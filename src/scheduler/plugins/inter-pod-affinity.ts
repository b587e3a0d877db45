// InterPodAffinity: required pod affinity and anti-affinity (the pod's own terms, and existing pods'
// anti-affinity terms that select the pod), and preferred terms in scoring. Counts per topology domain come
// from the cache, which keeps them per distinct term, so a cycle reads a few maps instead of every pod.
import type { EnqueueExtensions, FilterPlugin, FrameworkHandle, PluginArgs, PreFilterExtensions, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { AffinityTerm, PodInfo } from '../pod-info.js';
import { termMatches } from '../pod-info.js';
import type { CycleState, NodeScoreList } from '../types.js';
import { maxNodeScore, Status } from '../types.js';

export const interPodAffinityName = 'InterPodAffinity';
export const errReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const errReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";
export const errReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";

const preFilterKey = 'PreFilter' + interPodAffinityName;
const preScoreKey = 'PreScore' + interPodAffinityName;

interface Counted {
  term: AffinityTerm;
  counts: ReadonlyMap<string, number>;
}

class FilterState {
  affinity: Counted[] = [];
  anti: Counted[] = [];
  existing: Counted[] = [];
  /** No pod anywhere matches the affinity terms, but the pod matches them itself: the first of its group. */
  allowFirst = false;
  delta: Map<string, number> | undefined;

  count(group: string, i: number, c: Counted, value: string): number {
    const base = c.counts.get(value) ?? 0;
    return this.delta ? base + (this.delta.get(`${group}${i}|${value}`) ?? 0) : base;
  }

  adjust(group: string, i: number, value: string, by: number): void {
    this.delta ??= new Map();
    const k = `${group}${i}|${value}`;
    this.delta.set(k, (this.delta.get(k) ?? 0) + by);
  }

  clone(): FilterState {
    const c = new FilterState();
    c.affinity = this.affinity;
    c.anti = this.anti;
    c.existing = this.existing;
    c.allowFirst = this.allowFirst;
    c.delta = this.delta ? new Map(this.delta) : undefined;
    return c;
  }
}

interface ScoreTerm {
  topologyKey: string;
  weight: number;
  counts: ReadonlyMap<string, number>;
}

export function newInterPodAffinity(args: PluginArgs | undefined, handle: FrameworkHandle): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions {
  const hardPodAffinityWeight = (args?.hardPodAffinityWeight as number | undefined) ?? 1;
  const cache = handle.cache;
  const matches = (t: AffinityTerm, p: PodInfo): boolean => termMatches(t, p.namespace, p.labels, cache.nsLabels);

  const extensions: PreFilterExtensions = {
    addPod: (state, pod, other, node) => adjust(state, pod, other, node, 1),
    removePod: (state, pod, other, node) => adjust(state, pod, other, node, -1),
  };
  function adjust(cs: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, by: number): void {
    const s = cs.read<FilterState>(preFilterKey);
    if (!s) return;
    s.affinity.forEach((c, i) => {
      const v = node.labels[c.term.topologyKey];
      if (v !== undefined && matches(c.term, other)) s.adjust('a', i, v, by);
    });
    s.anti.forEach((c, i) => {
      const v = node.labels[c.term.topologyKey];
      if (v !== undefined && matches(c.term, other)) s.adjust('n', i, v, by);
    });
    for (const t of other.requiredAntiAffinity) {
      if (!matches(t, pod)) continue;
      const i = s.existing.findIndex((e) => e.term.key === t.key);
      const v = node.labels[t.topologyKey];
      if (i >= 0 && v !== undefined) s.adjust('e', i, v, by);
    }
  }

  return {
    name: interPodAffinityName,
    events: () => ['AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete', 'NodeAdd', 'NodeUpdate'],
    preFilterExtensions: extensions,
    preFilter(state, pod) {
      if (pod.parseError) return new Status('UnschedulableAndUnresolvable', [pod.parseError]);
      const s = new FilterState();
      for (const e of cache.existingTerms()) {
        if (e.kind === 'requiredAntiAffinity' && matches(e.term, pod)) s.existing.push({ term: e.term, counts: e.counts });
      }
      for (const t of pod.requiredAffinity) s.affinity.push({ term: t, counts: cache.termCounts(t) });
      for (const t of pod.requiredAntiAffinity) s.anti.push({ term: t, counts: cache.termCounts(t) });
      if (s.existing.length === 0 && s.affinity.length === 0 && s.anti.length === 0) return new Status('Skip');
      if (s.affinity.length > 0 && s.affinity.every((c) => c.counts.size === 0)) {
        s.allowFirst = pod.requiredAffinity.every((t) => matches(t, pod));
      }
      state.write(preFilterKey, s);
      return null;
    },
    filter(state, _pod, node) {
      const s = state.read<FilterState>(preFilterKey);
      if (!s) return null;
      const labels = node.labels;
      if (s.affinity.length > 0) {
        let all = true;
        for (let i = 0; i < s.affinity.length; i++) {
          const c = s.affinity[i]!;
          const v = labels[c.term.topologyKey];
          if (v === undefined || s.count('a', i, c, v) <= 0) {
            all = false;
            break;
          }
        }
        if (!all && !(s.allowFirst && s.affinity.every((c) => labels[c.term.topologyKey] !== undefined))) {
          return new Status('UnschedulableAndUnresolvable', [errReasonAffinityRulesNotMatch], interPodAffinityName);
        }
      }
      for (let i = 0; i < s.anti.length; i++) {
        const c = s.anti[i]!;
        const v = labels[c.term.topologyKey];
        if (v !== undefined && s.count('n', i, c, v) > 0) return new Status('Unschedulable', [errReasonAntiAffinityRulesNotMatch], interPodAffinityName);
      }
      for (let i = 0; i < s.existing.length; i++) {
        const c = s.existing[i]!;
        const v = labels[c.term.topologyKey];
        if (v !== undefined && s.count('e', i, c, v) > 0) return new Status('Unschedulable', [errReasonExistingAntiAffinityRulesNotMatch], interPodAffinityName);
      }
      return null;
    },
    preScore(state, pod) {
      const terms: ScoreTerm[] = [];
      for (const w of [...pod.preferredAffinity, ...pod.preferredAntiAffinity]) {
        if (w.weight !== 0) terms.push({ topologyKey: w.term.topologyKey, weight: w.weight, counts: cache.termCounts(w.term) });
      }
      for (const e of cache.existingTerms()) {
        if (e.kind === 'requiredAntiAffinity') continue;
        const weight = e.kind === 'requiredAffinity' ? hardPodAffinityWeight : e.weight;
        if (weight !== 0 && matches(e.term, pod)) terms.push({ topologyKey: e.term.topologyKey, weight, counts: e.counts });
      }
      if (terms.length === 0) return new Status('Skip');
      state.write(preScoreKey, terms);
      return null;
    },
    score(state, _pod, node) {
      const terms = state.read<ScoreTerm[]>(preScoreKey) ?? [];
      let s = 0;
      for (const t of terms) {
        const v = node.labels[t.topologyKey];
        if (v !== undefined) s += t.weight * (t.counts.get(v) ?? 0);
      }
      return s;
    },
    normalizeScore(_state, _pod, scores: NodeScoreList) {
      let min = Infinity;
      let max = -Infinity;
      for (const s of scores) {
        if (s.score < min) min = s.score;
        if (s.score > max) max = s.score;
      }
      const diff = max - min;
      for (const s of scores) s.score = diff > 0 ? Math.trunc((maxNodeScore * (s.score - min)) / diff) : 0;
    },
  };
}
