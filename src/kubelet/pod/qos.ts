// The pod's QoS class as upstream computes it (pkg/apis/core/v1/helper/qos): only cpu and memory count;
// Guaranteed when every container limits both and the summed requests equal the summed limits, BestEffort
// when nothing is requested or limited, Burstable otherwise.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../../api/quantity.js';

/** The QoS classes. */
export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const qosResources = ['cpu', 'memory'] as const;

function q(v: string | number | undefined): Quantity | undefined {
  if (v === undefined) return undefined;
  const parsed = Quantity.parse(String(v));
  return parsed.isZero() ? undefined : parsed;
}

/** Computes status.qosClass; a pod that already has one keeps it (the class never changes). */
export function podQOSClass(pod: Pod): QOSClass {
  const existing = pod.status?.qosClass;
  if (existing === 'Guaranteed' || existing === 'Burstable' || existing === 'BestEffort') return existing;
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const all: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of all) {
    for (const name of qosResources) {
      const r = q(c.resources?.requests?.[name]);
      if (r) requests.set(name, requests.get(name)?.add(r) ?? r);
    }
    const found = new Set<string>();
    for (const name of qosResources) {
      const l = q(c.resources?.limits?.[name]);
      if (!l) continue;
      found.add(name);
      limits.set(name, limits.get(name)?.add(l) ?? l);
    }
    if (found.size !== qosResources.length) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, r] of requests) {
      const l = limits.get(name);
      if (!l || l.cmp(r) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
