// Taints and tolerations as the node controllers, the taint-eviction controller and the DaemonSet
// controller use them (upstream's v1helper.TolerationsTolerateTaint, taints.TaintExists and
// controller.SwapNodeControllerTaint), and the well-known taint keys.
import type { Node, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { toleratesTaint, tolerationsTolerate } from '../../api/node-scheduling.js';
import type { KubeObject, RESTClient } from '../../client/index.js';
import { isStatus } from '../../client/index.js';

export type { Node, Taint, Toleration };
export { toleratesTaint, tolerationsTolerate };

/** The node taint keys upstream's node controllers manage. */
export const taintKeys = {
  notReady: 'node.kubernetes.io/not-ready',
  unreachable: 'node.kubernetes.io/unreachable',
  unschedulable: 'node.kubernetes.io/unschedulable',
  memoryPressure: 'node.kubernetes.io/memory-pressure',
  diskPressure: 'node.kubernetes.io/disk-pressure',
  pidPressure: 'node.kubernetes.io/pid-pressure',
  networkUnavailable: 'node.kubernetes.io/network-unavailable',
} as const;

/** True when both name the same taint: key and effect. */
export function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

/** metav1.Time of now, seconds precision. */
export function timeNow(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Adds `add` and removes `remove` from a node's taints with a read-modify-write that retries on
 * conflict; taints added get timeAdded. Returns false when the node is gone. No write when nothing changes.
 */
export async function swapNodeTaints(client: RESTClient, nodeName: string, add: Taint[], remove: Taint[], nowMs: number): Promise<boolean> {
  const ref = { group: '', version: 'v1', resource: 'nodes' };
  for (let attempt = 0; ; attempt++) {
    let node: Node;
    try {
      node = (await client.get(ref, nodeName)) as Node;
    } catch (err) {
      if (isStatus(err, 404)) return false;
      throw err;
    }
    const current = node.spec?.taints ?? [];
    let next = current.filter((t) => !remove.some((r) => sameTaint(r, t)));
    for (const a of add) if (!next.some((t) => sameTaint(t, a))) next = [...next, { ...a, timeAdded: timeNow(nowMs) }];
    if (next.length === current.length && next.every((t, i) => t === current[i])) return true;
    const spec: Record<string, unknown> = { ...node.spec, taints: next };
    if (next.length === 0) delete spec.taints;
    try {
      await client.update(ref, { ...node, spec } as KubeObject);
      return true;
    } catch (err) {
      if (!isStatus(err, 409) || attempt >= 5) throw err;
    }
  }
}
