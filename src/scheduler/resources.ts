// Resource arithmetic as the scheduler sees it: cpu in millicores, memory and storage in bytes, extended
// resources as integers, summed from a pod's containers, init containers and overhead as upstream does.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../api/quantity.js';

/** An amount of every resource the scheduler accounts for. */
export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  allowedPodNumber: number;
  /** Extended and hugepages resources, by name; undefined when none. */
  scalar: Map<string, number> | undefined;
}

/** Requests the scheduler assumes for containers without cpu or memory requests, when scoring. */
export const defaultMilliCPURequest = 100;
export const defaultMemoryRequest = 200 * 1024 * 1024;

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: undefined };
}

const parsed = new Map<string, number>();
const parsedMilli = new Map<string, number>();

/** A quantity's value (rounded up to an integer), memoised: the same few strings recur in every pod. */
export function quantityValue(q: string | number | undefined): number {
  if (q === undefined) return 0;
  const s = String(q);
  let v = parsed.get(s);
  if (v === undefined) {
    try {
      v = Number(Quantity.parse(s).value());
    } catch {
      v = 0;
    }
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(s, v);
  }
  return v;
}

/** A quantity in thousandths (cpu in millicores), memoised. */
export function quantityMilli(q: string | number | undefined): number {
  if (q === undefined) return 0;
  const s = String(q);
  let v = parsedMilli.get(s);
  if (v === undefined) {
    try {
      v = Number(Quantity.parse(s).milliValue());
    } catch {
      v = 0;
    }
    if (parsedMilli.size > 10_000) parsedMilli.clear();
    parsedMilli.set(s, v);
  }
  return v;
}

/** True for the resources the scheduler tracks as scalars (extended resources, hugepages, attachable volumes). */
export function isScalarResourceName(name: string): boolean {
  return name !== 'cpu' && name !== 'memory' && name !== 'ephemeral-storage' && name !== 'pods' && name !== 'storage';
}

/** Adds a ResourceList (requests, allocatable) into `r`. */
export function addResourceList(r: Resource, list: Record<string, string | number> | undefined): void {
  if (!list) return;
  for (const name in list) {
    const q = list[name];
    switch (name) {
      case 'cpu':
        r.milliCPU += quantityMilli(q);
        break;
      case 'memory':
        r.memory += quantityValue(q);
        break;
      case 'ephemeral-storage':
        r.ephemeralStorage += quantityValue(q);
        break;
      case 'pods':
        r.allowedPodNumber += quantityValue(q);
        break;
      default:
        if (isScalarResourceName(name)) {
          r.scalar ??= new Map();
          r.scalar.set(name, (r.scalar.get(name) ?? 0) + quantityValue(q));
        }
    }
  }
}

function addInto(r: Resource, x: Resource): void {
  r.milliCPU += x.milliCPU;
  r.memory += x.memory;
  r.ephemeralStorage += x.ephemeralStorage;
  if (x.scalar) {
    r.scalar ??= new Map();
    for (const [k, v] of x.scalar) r.scalar.set(k, (r.scalar.get(k) ?? 0) + v);
  }
}

function maxInto(r: Resource, x: Resource): void {
  r.milliCPU = Math.max(r.milliCPU, x.milliCPU);
  r.memory = Math.max(r.memory, x.memory);
  r.ephemeralStorage = Math.max(r.ephemeralStorage, x.ephemeralStorage);
  if (x.scalar) {
    r.scalar ??= new Map();
    for (const [k, v] of x.scalar) r.scalar.set(k, Math.max(r.scalar.get(k) ?? 0, v));
  }
}

function containerRequests(c: Container, nonZero: boolean): Resource {
  const r = emptyResource();
  const req = c.resources?.requests;
  addResourceList(r, req);
  if (nonZero) {
    if (req?.cpu === undefined) r.milliCPU = defaultMilliCPURequest;
    if (req?.memory === undefined) r.memory = defaultMemoryRequest;
  }
  return r;
}

/**
 * A pod's effective requests: the sum of its containers (and sidecars, the restartable init containers),
 * or the largest init container step if that is more, plus the pod's overhead. With `nonZero`, containers
 * that request no cpu or memory count upstream's defaults (100m, 200Mi), as scoring does.
 */
export function podRequests(pod: Pod, nonZero = false): Resource {
  const reqs = emptyResource();
  for (const c of pod.spec?.containers ?? []) addInto(reqs, containerRequests(c, nonZero));
  const sidecars = emptyResource();
  const initMax = emptyResource();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    let step: Resource;
    if (c.restartPolicy === 'Always') {
      addInto(reqs, r);
      addInto(sidecars, r);
      step = { ...sidecars, scalar: sidecars.scalar ? new Map(sidecars.scalar) : undefined };
    } else {
      step = r;
      addInto(step, sidecars);
    }
    maxInto(initMax, step);
  }
  maxInto(reqs, initMax);
  const overhead = pod.spec?.overhead;
  if (overhead) addResourceList(reqs, overhead);
  return reqs;
}
