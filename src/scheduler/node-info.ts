// NodeInfo: a node with the sums the filters need kept up to date as pods come and go (requested
// resources, host ports, how many pods carry affinity terms), so a filter looks at a few numbers, not at
// every pod on the node.
import type { Taint } from 'kubernetes-types/core/v1.js';
import type { HostPort, PodInfo } from './pod-info.js';
import { hasAffinity } from './pod-info.js';
import type { Resource } from './resources.js';
import { addResourceList, emptyResource } from './resources.js';
import type { Node } from './types.js';

let generation = 0;
/** A process-wide counter: every change to any NodeInfo takes the next value. */
export function nextGeneration(): number {
  return ++generation;
}

function addResource(r: Resource, x: Resource, sign: number): void {
  r.milliCPU += sign * x.milliCPU;
  r.memory += sign * x.memory;
  r.ephemeralStorage += sign * x.ephemeralStorage;
  if (x.scalar) {
    r.scalar ??= new Map();
    for (const [k, v] of x.scalar) r.scalar.set(k, (r.scalar.get(k) ?? 0) + sign * v);
  }
}

/** A node and the pods on it (bound or assumed). */
export class NodeInfo {
  readonly name: string;
  node: Node | undefined;
  labels: Readonly<Record<string, string>> = {};
  allocatable: Resource = emptyResource();
  /** NoSchedule and NoExecute taints (what filtering looks at). */
  hardTaints: readonly Taint[] = [];
  /** PreferNoSchedule taints (what scoring looks at). */
  softTaints: readonly Taint[] = [];
  unschedulable = false;
  /** Image name → size in bytes, from node.status.images. */
  images = new Map<string, number>();
  readonly pods = new Map<string, PodInfo>();
  readonly requested: Resource = emptyResource();
  readonly nonZeroRequested: Resource = emptyResource();
  readonly usedPorts: HostPort[] = [];
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  generation = nextGeneration();

  constructor(name: string, node?: Node) {
    this.name = name;
    if (node) this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? {};
    const alloc = emptyResource();
    addResourceList(alloc, (node.status?.allocatable ?? node.status?.capacity));
    this.allocatable = alloc;
    const taints = node.spec?.taints ?? [];
    this.hardTaints = taints.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    this.softTaints = taints.filter((t) => t.effect === 'PreferNoSchedule');
    this.unschedulable = node.spec?.unschedulable === true;
    this.images = new Map();
    for (const img of node.status?.images ?? []) {
      for (const n of img.names ?? []) this.images.set(normalizedImageName(n), img.sizeBytes ?? 0);
    }
    this.generation = nextGeneration();
  }

  addPod(p: PodInfo): void {
    this.pods.set(p.uid, p);
    addResource(this.requested, p.requests, 1);
    addResource(this.nonZeroRequested, p.nonZeroRequests, 1);
    for (const hp of p.hostPorts) this.usedPorts.push(hp);
    if (hasAffinity(p)) this.podsWithAffinity++;
    if (p.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity++;
    this.generation = nextGeneration();
  }

  removePod(uid: string): PodInfo | undefined {
    const p = this.pods.get(uid);
    if (!p) return undefined;
    this.pods.delete(uid);
    addResource(this.requested, p.requests, -1);
    addResource(this.nonZeroRequested, p.nonZeroRequests, -1);
    for (const hp of p.hostPorts) {
      const i = this.usedPorts.findIndex((u) => u.ip === hp.ip && u.protocol === hp.protocol && u.port === hp.port);
      if (i >= 0) this.usedPorts.splice(i, 1);
    }
    if (hasAffinity(p)) this.podsWithAffinity--;
    if (p.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity--;
    this.generation = nextGeneration();
    return p;
  }

  /** A detached copy for "what if" evaluation (preemption removes victims from it). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.allocatable = this.allocatable;
    c.hardTaints = this.hardTaints;
    c.softTaints = this.softTaints;
    c.unschedulable = this.unschedulable;
    c.images = this.images;
    for (const p of this.pods.values()) c.addPod(p);
    return c;
  }
}

/** Image names as node status reports them: a name without a tag or digest means ":latest". */
export function normalizedImageName(name: string): string {
  const lastSlash = name.lastIndexOf('/');
  const tail = name.slice(lastSlash + 1);
  if (!tail.includes(':') && !tail.includes('@')) return `${name}:latest`;
  return name;
}
