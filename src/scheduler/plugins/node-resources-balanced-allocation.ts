// NodeResourcesBalancedAllocation: prefers nodes where, with the pod placed, the used fractions of the
// resources (cpu and memory by default) are close to each other: score = (1 - standard deviation) × 100.
import type { PluginArgs, PreScorePlugin, ScorePlugin } from '../framework.js';
import type { ResourceSpec } from './node-resources-fit.js';
import { allocatableOf, defaultScoringResources, requestedWith } from './node-resources-fit.js';
import { maxNodeScore, Status } from '../types.js';

export const balancedAllocationName = 'NodeResourcesBalancedAllocation';

export function newBalancedAllocation(args: PluginArgs | undefined): PreScorePlugin & ScorePlugin {
  const resources = (args?.resources as ResourceSpec[] | undefined) ?? defaultScoringResources;
  return {
    name: balancedAllocationName,
    preScore(_state, pod) {
      // A pod that requests none of the resources cannot change the balance: skip, as upstream does.
      const r = pod.requests;
      const any = resources.some((s) =>
        s.name === 'cpu' ? r.milliCPU > 0 : s.name === 'memory' ? r.memory > 0 : s.name === 'ephemeral-storage' ? r.ephemeralStorage > 0 : (r.scalar?.get(s.name) ?? 0) > 0,
      );
      return any ? null : new Status('Skip');
    },
    score(_state, pod, node) {
      let n = 0;
      let sum = 0;
      let f0 = 0;
      let f1 = 0;
      for (let i = 0; i < resources.length; i++) {
        const name = resources[i]!.name;
        const alloc = allocatableOf(node, name);
        if (alloc === 0) continue;
        const f = Math.min(1, requestedWith(node, pod, name) / alloc);
        if (n === 0) f0 = f;
        else if (n === 1) f1 = f;
        sum += f;
        n++;
      }
      let std = 0;
      if (n === 2) std = Math.abs(f0 - f1) / 2;
      else if (n > 2) {
        const mean = sum / n;
        let v = 0;
        for (let i = 0; i < resources.length; i++) {
          const name = resources[i]!.name;
          const alloc = allocatableOf(node, name);
          if (alloc === 0) continue;
          const f = Math.min(1, requestedWith(node, pod, name) / alloc);
          v += (f - mean) * (f - mean);
        }
        std = Math.sqrt(v / n);
      }
      return Math.trunc((1 - std) * maxNodeScore);
    },
  };
}
