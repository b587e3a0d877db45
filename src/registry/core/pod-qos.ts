// A pod's quality-of-service class, computed as upstream's qos.ComputePodQOS does from the cpu and memory
// requests and limits of its regular and init containers (ephemeral containers have no resources).
import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';
import { Quantity, QuantityParseError } from '../../api/quantity.js';

/** Guaranteed, Burstable or BestEffort. */
export type PodQOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const qosResources = new Set(['cpu', 'memory']);

function positive(value: unknown): Quantity | undefined {
  try {
    const q = Quantity.fromJSON(value);
    return q.sign() > 0 ? q : undefined;
  } catch (err) {
    if (err instanceof QuantityParseError) return undefined;
    throw err;
  }
}

function accumulate(into: Map<string, Quantity>, list: Record<string, unknown> | undefined): Set<string> {
  const found = new Set<string>();
  for (const [name, value] of Object.entries(list ?? {})) {
    if (!qosResources.has(name)) continue;
    const q = positive(value);
    if (!q) continue;
    found.add(name);
    const sum = into.get(name);
    into.set(name, sum ? q.add(sum) : q);
  }
  return found;
}

/** The QoS class of a pod spec (upstream's ComputePodQOS, without pod-level resources, which 1.33 gates off). */
export function computePodQOS(spec: PodSpec | undefined): PodQOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const containers: Container[] = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  for (const c of containers) {
    accumulate(requests, c.resources?.requests);
    const limitsFound = accumulate(limits, c.resources?.limits);
    if (!limitsFound.has('cpu') || !limitsFound.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || lim.cmp(req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
