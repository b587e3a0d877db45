// TaintToleration: a node's NoSchedule and NoExecute taints keep out pods that do not tolerate them;
// PreferNoSchedule taints the pod does not tolerate lower the node's score.
import type { EnqueueExtensions, FilterPlugin, PreScorePlugin, ScorePlugin } from '../framework.js';
import { defaultNormalizeScore } from '../framework.js';
import { maxNodeScore, Status } from '../types.js';
import { findUntoleratedTaint, toleratesTaint } from '../../api/node-scheduling.js';

export const taintTolerationName = 'TaintToleration';

export function newTaintToleration(): FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions {
  const stateKey = 'PreScore' + taintTolerationName;
  return {
    name: taintTolerationName,
    events: () => ['NodeAdd', 'NodeUpdate'],
    filter(_state, pod, node) {
      if (node.hardTaints.length === 0) return null;
      const taint = findUntoleratedTaint(node.hardTaints, pod.tolerations);
      if (!taint) return null;
      return new Status('UnschedulableAndUnresolvable', [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`], taintTolerationName);
    },
    preScore(state, pod) {
      state.write(stateKey, pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule'));
      return null;
    },
    score(state, _pod, node) {
      if (node.softTaints.length === 0) return 0;
      const tolerations = state.read<typeof _pod.tolerations>(stateKey) ?? [];
      let n = 0;
      for (const taint of node.softTaints) if (!tolerations.some((t) => toleratesTaint(t, taint))) n++;
      return n;
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(maxNodeScore, true, scores);
    },
  };
}
