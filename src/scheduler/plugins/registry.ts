// The in-tree plugins by upstream name, and upstream's default profile (v1's multiPoint list and weights).
import type { PluginFactory } from '../framework.js';
import { newDefaultBinder } from './default-binder.js';
import { newDefaultPreemption } from './default-preemption.js';
import { newImageLocality } from './image-locality.js';
import { newInterPodAffinity } from './inter-pod-affinity.js';
import { newNodeAffinity } from './node-affinity.js';
import { newNodeName } from './node-name.js';
import { newNodePorts } from './node-ports.js';
import { newBalancedAllocation } from './node-resources-balanced-allocation.js';
import { newNodeResourcesFit } from './node-resources-fit.js';
import { newNodeUnschedulable } from './node-unschedulable.js';
import { newPodTopologySpread } from './pod-topology-spread.js';
import { newPrioritySort } from './priority-sort.js';
import { newSchedulingGates } from './scheduling-gates.js';
import { newTaintToleration } from './taint-toleration.js';
import { newVolumePlaceholder, volumePluginNames } from './volume-placeholders.js';

/** Every in-tree plugin. */
export function inTreeRegistry(): Map<string, PluginFactory> {
  const r = new Map<string, PluginFactory>([
    ['SchedulingGates', () => newSchedulingGates()],
    ['PrioritySort', () => newPrioritySort()],
    ['NodeUnschedulable', () => newNodeUnschedulable()],
    ['NodeName', () => newNodeName()],
    ['TaintToleration', () => newTaintToleration()],
    ['NodeAffinity', (args) => newNodeAffinity(args)],
    ['NodePorts', () => newNodePorts()],
    ['NodeResourcesFit', (args) => newNodeResourcesFit(args)],
    ['PodTopologySpread', (args, h) => newPodTopologySpread(args, h)],
    ['InterPodAffinity', (args, h) => newInterPodAffinity(args, h)],
    ['DefaultPreemption', (args, h) => newDefaultPreemption(args, h)],
    ['NodeResourcesBalancedAllocation', (args) => newBalancedAllocation(args)],
    ['ImageLocality', (args, h) => newImageLocality(args, h)],
    ['DefaultBinder', (args, h) => newDefaultBinder(args, h)],
  ]);
  for (const name of volumePluginNames) r.set(name, () => newVolumePlaceholder(name));
  return r;
}

/** Upstream's default multiPoint plugins, in order, with their score weights. */
export const defaultMultiPoint: { name: string; weight?: number }[] = [
  { name: 'SchedulingGates' },
  { name: 'PrioritySort' },
  { name: 'NodeUnschedulable' },
  { name: 'NodeName' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'VolumeRestrictions' },
  { name: 'NodeVolumeLimits' },
  { name: 'VolumeBinding' },
  { name: 'VolumeZone' },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'DefaultPreemption' },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultBinder' },
];
