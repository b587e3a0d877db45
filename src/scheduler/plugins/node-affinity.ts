// NodeAffinity: spec.nodeSelector and required node affinity filter nodes; preferred terms add their
// weights to a node's score. pluginConfig may add an affinity every pod of the profile must meet.
import type { NodeAffinity as NodeAffinitySpec, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import type { EnqueueExtensions, FilterPlugin, PluginArgs, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../framework.js';
import { defaultNormalizeScore } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import type { CycleState } from '../types.js';
import { maxNodeScore, Status } from '../types.js';
import { nodeSelectorMatches, nodeSelectorTermMatches } from '../../api/node-scheduling.js';

export const nodeAffinityName = 'NodeAffinity';
export const errReasonPod = "node(s) didn't match Pod's node affinity/selector";
export const errReasonEnforced = "node(s) didn't match scheduler-enforced node affinity";

/** Whether the node meets the pod's nodeSelector and required node affinity. */
export function podMatchesNodeSelectorAndAffinity(pod: PodInfo, node: NodeInfo): boolean {
  const spec = pod.pod.spec;
  const sel = spec?.nodeSelector;
  if (sel) for (const k in sel) if (node.labels[k] !== sel[k]) return false;
  const req = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req && !nodeSelectorMatches(req, node.labels, node.name)) return false;
  return true;
}

/** True when the pod restricts nodes by selector or required node affinity. */
export function hasNodeConstraints(pod: PodInfo): boolean {
  const spec = pod.pod.spec;
  return (spec?.nodeSelector !== undefined && Object.keys(spec.nodeSelector).length > 0) || spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution !== undefined;
}

export function newNodeAffinity(args: PluginArgs | undefined): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions {
  const added = args?.addedAffinity as NodeAffinitySpec | undefined;
  const addedPreferred: PreferredSchedulingTerm[] = added?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const stateKey = 'PreScore' + nodeAffinityName;
  return {
    name: nodeAffinityName,
    events: () => ['NodeAdd', 'NodeUpdate'],
    preFilter(_state, pod) {
      if (!hasNodeConstraints(pod) && !added?.requiredDuringSchedulingIgnoredDuringExecution) return new Status('Skip');
      return null;
    },
    filter(_state, pod, node) {
      const req = added?.requiredDuringSchedulingIgnoredDuringExecution;
      if (req && !nodeSelectorMatches(req, node.labels, node.name)) return new Status('UnschedulableAndUnresolvable', [errReasonEnforced], nodeAffinityName);
      if (!podMatchesNodeSelectorAndAffinity(pod, node)) return new Status('UnschedulableAndUnresolvable', [errReasonPod], nodeAffinityName);
      return null;
    },
    preScore(state: CycleState, pod) {
      const terms = [...(pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []), ...addedPreferred];
      if (terms.length === 0) return new Status('Skip');
      state.write(stateKey, terms);
      return null;
    },
    score(state, _pod, node) {
      const terms = state.read<PreferredSchedulingTerm[]>(stateKey) ?? [];
      let s = 0;
      for (const t of terms) if (t.weight !== 0 && nodeSelectorTermMatches(t.preference, node.labels, node.name)) s += t.weight;
      return s;
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(maxNodeScore, false, scores);
    },
  };
}
