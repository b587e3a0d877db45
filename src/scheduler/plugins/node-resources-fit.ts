// NodeResourcesFit: the pod's requests (cpu, memory, ephemeral-storage, extended resources, and one pod
// slot) must fit in what the node has left; scoring by LeastAllocated (default), MostAllocated or
// RequestedToCapacityRatio over the configured resources and weights.
import type { EnqueueExtensions, FilterPlugin, PluginArgs, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { maxNodeScore, Status } from '../types.js';

export const nodeResourcesFitName = 'NodeResourcesFit';

/** A resource with its weight in scoring. */
export interface ResourceSpec {
  name: string;
  weight: number;
}

/** Upstream's default scoring resources: cpu and memory, weight 1 each. */
export const defaultScoringResources: ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

/** The allocatable amount of one resource on a node (scoring's view). */
export function allocatableOf(node: NodeInfo, resource: string): number {
  switch (resource) {
    case 'cpu':
      return node.allocatable.milliCPU;
    case 'memory':
      return node.allocatable.memory;
    case 'ephemeral-storage':
      return node.allocatable.ephemeralStorage;
    default:
      return node.allocatable.scalar?.get(resource) ?? 0;
  }
}

/** The requested amount of one resource on a node with the pod placed (non-zero defaults for cpu and memory). */
export function requestedWith(node: NodeInfo, pod: PodInfo, resource: string): number {
  switch (resource) {
    case 'cpu':
      return node.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU;
    case 'memory':
      return node.nonZeroRequested.memory + pod.nonZeroRequests.memory;
    case 'ephemeral-storage':
      return node.requested.ephemeralStorage + pod.requests.ephemeralStorage;
    default:
      return (node.requested.scalar?.get(resource) ?? 0) + (pod.requests.scalar?.get(resource) ?? 0);
  }
}

/** Why the pod does not fit, in upstream's order: pods, cpu, memory, ephemeral-storage, then the rest. */
export function insufficientResources(pod: PodInfo, node: NodeInfo, ignored: ReadonlySet<string> = new Set(), ignoredGroups: readonly string[] = []): string[] {
  const reasons: string[] = [];
  const alloc = node.allocatable;
  const used = node.requested;
  const req = pod.requests;
  if (node.pods.size + 1 > alloc.allowedPodNumber) reasons.push('Too many pods');
  if (req.milliCPU === 0 && req.memory === 0 && req.ephemeralStorage === 0 && (!req.scalar || req.scalar.size === 0)) return reasons;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) reasons.push('Insufficient cpu');
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) reasons.push('Insufficient memory');
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) reasons.push('Insufficient ephemeral-storage');
  if (req.scalar) {
    for (const [name, amount] of req.scalar) {
      if (amount === 0 || ignored.has(name)) continue;
      const slash = name.indexOf('/');
      if (slash > 0 && ignoredGroups.includes(name.slice(0, slash))) continue;
      if (amount > (alloc.scalar?.get(name) ?? 0) - (used.scalar?.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
    }
  }
  return reasons;
}

/** A piecewise-linear function through the shape points (utilization 0..100 → score 0..100). */
function brokenLinear(shape: { utilization: number; score: number }[]): (u: number) => number {
  return (u) => {
    for (let i = 0; i < shape.length; i++) {
      const p = shape[i]!;
      if (u <= p.utilization) {
        if (i === 0) return shape[0]!.score;
        const q = shape[i - 1]!;
        return q.score + Math.trunc(((p.score - q.score) * (u - q.utilization)) / (p.utilization - q.utilization));
      }
    }
    return shape[shape.length - 1]!.score;
  };
}

type Scorer = (requested: number, allocatable: number) => number;

function scorerFor(args: PluginArgs | undefined): { type: string; resources: ResourceSpec[]; score: Scorer } {
  const strategy = (args?.scoringStrategy ?? {}) as { type?: string; resources?: ResourceSpec[]; requestedToCapacityRatio?: { shape?: { utilization: number; score: number }[] } };
  const type = strategy.type ?? 'LeastAllocated';
  const resources = strategy.resources ?? defaultScoringResources;
  switch (type) {
    case 'LeastAllocated':
      return { type, resources, score: (r, a) => (a === 0 || r > a ? 0 : Math.trunc(((a - r) * maxNodeScore) / a)) };
    case 'MostAllocated':
      return { type, resources, score: (r, a) => (a === 0 ? 0 : Math.trunc((Math.min(r, a) * maxNodeScore) / a)) };
    case 'RequestedToCapacityRatio': {
      // Shape scores are 0..10 in the API and scaled to 0..100 here, as upstream does.
      const shape = (strategy.requestedToCapacityRatio?.shape ?? [
        { utilization: 0, score: 10 },
        { utilization: 100, score: 0 },
      ]).map((p) => ({ utilization: p.utilization, score: p.score * (maxNodeScore / 10) }));
      const f = brokenLinear(shape);
      return { type, resources, score: (r, a) => (a === 0 ? f(100) : f(Math.min(100, Math.trunc((r * 100) / a)))) };
    }
    default:
      throw new Error(`scoringStrategy.type: Unsupported value: "${type}": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"`);
  }
}

export function newNodeResourcesFit(args: PluginArgs | undefined): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin & EnqueueExtensions {
  const ignored = new Set((args?.ignoredResources as string[] | undefined) ?? []);
  const ignoredGroups = (args?.ignoredResourceGroups as string[] | undefined) ?? [];
  const scoring = scorerFor(args);
  const round = scoring.type === 'RequestedToCapacityRatio';
  return {
    name: nodeResourcesFitName,
    events: () => ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete', 'AssignedPodUpdate'],
    preFilter() {
      return null;
    },
    filter(_state, pod, node) {
      // The common case, checked without building a list of reasons.
      const a = node.allocatable;
      const u = node.requested;
      const r = pod.requests;
      if (
        node.pods.size + 1 <= a.allowedPodNumber &&
        r.milliCPU <= a.milliCPU - u.milliCPU &&
        r.memory <= a.memory - u.memory &&
        r.ephemeralStorage <= a.ephemeralStorage - u.ephemeralStorage &&
        (!r.scalar || r.scalar.size === 0)
      ) {
        return null;
      }
      const reasons = insufficientResources(pod, node, ignored, ignoredGroups);
      if (reasons.length === 0) return null;
      return new Status('Unschedulable', reasons, nodeResourcesFitName);
    },
    preScore() {
      return null;
    },
    score(_state, pod, node) {
      let total = 0;
      let weights = 0;
      const resources = scoring.resources;
      for (let i = 0; i < resources.length; i++) {
        const r = resources[i]!;
        const alloc = allocatableOf(node, r.name);
        if (alloc === 0 && r.name !== 'cpu' && r.name !== 'memory') continue;
        total += scoring.score(requestedWith(node, pod, r.name), alloc) * r.weight;
        weights += r.weight;
      }
      if (weights === 0) return 0;
      return round ? Math.round(total / weights) : Math.trunc(total / weights);
    },
  };
}
