// NodePorts: a pod's hostPorts must be free on the node (same protocol and port on the same or a wildcard
// address is a conflict).
import type { EnqueueExtensions, FilterPlugin, PreFilterPlugin } from '../framework.js';
import type { HostPort } from '../pod-info.js';
import { Status } from '../types.js';

export const nodePortsName = 'NodePorts';
export const errReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

function conflicts(want: HostPort, used: HostPort): boolean {
  if (want.port !== used.port || want.protocol !== used.protocol) return false;
  return want.ip === used.ip || want.ip === '0.0.0.0' || used.ip === '0.0.0.0';
}

export function newNodePorts(): PreFilterPlugin & FilterPlugin & EnqueueExtensions {
  return {
    name: nodePortsName,
    events: () => ['NodeAdd', 'AssignedPodDelete'],
    preFilter(_state, pod) {
      return pod.hostPorts.length === 0 ? new Status('Skip') : null;
    },
    filter(_state, pod, node) {
      if (node.usedPorts.length === 0) return null;
      for (const w of pod.hostPorts) {
        for (const u of node.usedPorts) if (conflicts(w, u)) return new Status('Unschedulable', [errReasonNodePorts], nodePortsName);
      }
      return null;
    },
  };
}
