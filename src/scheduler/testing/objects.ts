// Builders of nodes and pods for the scheduler's tests and benchmark.
import type { Node, Pod } from '../types.js';

/** A Ready node with the given capacity (default 4 cpu, 32Gi, 110 pods) and labels. */
export function makeNode(name: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: { key: string; value?: string; effect: string }[]; unschedulable?: boolean; images?: { names: string[]; sizeBytes: number }[]; extra?: Record<string, string> } = {}): Node {
  const capacity = { cpu: opts.cpu ?? '4', memory: opts.memory ?? '32Gi', pods: opts.pods ?? '110', ...opts.extra };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: { ...(opts.taints ? { taints: opts.taints } : {}), ...(opts.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True' }],
      ...(opts.images ? { images: opts.images } : {}),
    },
  };
}

/** A pod with one container asking for the given requests. */
export function makePod(name: string, opts: { namespace?: string; cpu?: string; memory?: string; labels?: Record<string, string>; priority?: number; priorityClassName?: string; schedulerName?: string; spec?: Partial<NonNullable<Pod['spec']>>; uid?: string; nodeName?: string } = {}): Pod {
  const requests: Record<string, string> = {};
  if (opts.cpu) requests.cpu = opts.cpu;
  if (opts.memory) requests.memory = opts.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'default', ...(opts.labels ? { labels: opts.labels } : {}), ...(opts.uid ? { uid: opts.uid } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', ...(Object.keys(requests).length ? { resources: { requests } } : {}) }],
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.priorityClassName ? { priorityClassName: opts.priorityClassName } : {}),
      ...(opts.schedulerName ? { schedulerName: opts.schedulerName } : {}),
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      ...opts.spec,
    },
  };
}
