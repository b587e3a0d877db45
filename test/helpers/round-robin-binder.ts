// A stand-in for the scheduler in kubelet tests (the scheduler is another branch's work): binds every pod
// without a node to the Ready nodes in turn through pods/binding, as the scheduler's final write does.
import type { KubeObject } from '../../src/client/index.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';

/** Starts binding pending pods round-robin over Ready nodes; stop with the returned function. */
export function startRoundRobinBinder(kubeconfig: string): () => Promise<void> {
  const client = new RESTClient({ ...loadKubeconfig(kubeconfig), qps: 1000, burst: 1000 });
  const pods = { group: '', version: 'v1', resource: 'pods' };
  const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
  const ac = new AbortController();
  let next = 0;
  let nodes: string[] = [];
  const readyNodes = async (): Promise<string[]> => {
    const list = await client.list(nodesRef);
    return list.items
      .filter((n) => ((n.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata?.name ?? '')
      .sort();
  };
  const bind = async (pod: KubeObject): Promise<void> => {
    if ((pod.spec as { nodeName?: string } | undefined)?.nodeName || pod.metadata?.deletionTimestamp) return;
    if (nodes.length === 0) nodes = await readyNodes();
    if (nodes.length === 0) return;
    const node = nodes[next++ % nodes.length]!;
    const name = pod.metadata?.name ?? '';
    await client
      .create(
        { ...pods, namespace: pod.metadata?.namespace ?? 'default' },
        { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
        { subresource: 'binding', name },
      )
      .catch(() => undefined);
  };
  const done = (async () => {
    while (!ac.signal.aborted) {
      try {
        nodes = await readyNodes();
        for await (const e of client.watch(pods, { fieldSelector: 'spec.nodeName=' }, ac.signal)) {
          if (e.type === 'ADDED' || e.type === 'MODIFIED') void bind(e.object);
        }
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  return async () => {
    ac.abort();
    await done;
    client.close();
  };
}
