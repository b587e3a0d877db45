// A stand-in for the kubelet in tests that need pods to run but have no nodes: when the cluster has no node
// it registers one (fake-node, with room for many pods), leaves binding to the scheduler, and reports every
// pod bound to a node Running and Ready through pods/status, as the kubelet would; pods being deleted are
// removed at once, as a kubelet would after their containers stopped.
import type { KubeObject } from '../../src/client/index.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';

/** Starts playing the kubelet for every namespace; stop with the returned function. */
export function startFakeKubelet(kubeconfig: string): () => Promise<void> {
  const client = new RESTClient({ ...loadKubeconfig(kubeconfig), qps: 1000, burst: 1000 });
  const pods = { group: '', version: 'v1', resource: 'pods' };
  const ac = new AbortController();
  const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const handle = async (pod: KubeObject): Promise<void> => {
    const ref = { ...pods, namespace: pod.metadata?.namespace ?? 'default' };
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp) {
      await client.delete(ref, name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (!spec.nodeName) return;
    if ((pod.status as { phase?: string } | undefined)?.phase === 'Running') return;
    const t = now();
    const conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: t }));
    await client.patch(ref, name, { status: { phase: 'Running', conditions, podIP: '10.42.0.9', startTime: t } }, 'merge', { subresource: 'status' }).catch(() => undefined);
  };
  const nodes = { group: '', version: 'v1', resource: 'nodes' };
  const registered = (async () => {
    const existing = await client.list(nodes, { limit: 1 }).catch(() => undefined);
    if (existing && existing.items.length > 0) return;
    const capacity = { cpu: '1000', memory: '4Ti', pods: '100000' };
    await client
      .create(nodes, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'fake-node', labels: { 'kubernetes.io/hostname': 'fake-node', 'kubernetes.io/os': 'linux' } },
        status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
      })
      .catch(() => undefined);
  })();
  const done = (async () => {
    await registered;
    while (!ac.signal.aborted) {
      try {
        for await (const e of client.watch(pods, {}, ac.signal)) if (e.type !== 'DELETED') void handle(e.object);
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  return async () => {
    ac.abort();
    await done;
  };
}
