// A custom scheduler built on the k8ts client library (docs/scheduler.md walks through it). It binds the pods
// whose spec.schedulerName is "my-scheduler" to the Ready node that runs the fewest pods, and records the
// same "Scheduled" event the default scheduler does. Pods for any other scheduler are left alone.
//
//   node --import tsx test/examples/my-scheduler.ts /path/to/kubeconfig.yaml
import type { KubeObject } from '../../src/client/index.js';
import { EventRecorder, loadKubeconfig, RESTClient, SharedInformer } from '../../src/client/index.js';

interface Pod extends KubeObject {
  spec?: { schedulerName?: string; nodeName?: string };
}
interface Node extends KubeObject {
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Runs the scheduler until `signal` aborts. */
export async function runMyScheduler(client: RESTClient, signal: AbortSignal, schedulerName = 'my-scheduler'): Promise<void> {
  const pods = SharedInformer.forResource<Pod>(client, { group: '', version: 'v1', resource: 'pods' });
  const nodes = SharedInformer.forResource<Node>(client, { group: '', version: 'v1', resource: 'nodes' });
  const events = new EventRecorder({ client, component: schedulerName });
  const binding = new Set<string>();

  const ready = (n: Node): boolean => !n.spec?.unschedulable && (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const mine = (p: Pod): boolean => p.spec?.schedulerName === schedulerName && !p.spec.nodeName && !p.metadata?.deletionTimestamp;

  async function schedule(pod: Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const key = `${ns}/${name}`;
    if (binding.has(key)) return;
    // Count the pods on each Ready node and take the emptiest.
    const load = new Map<string, number>();
    for (const n of nodes.lister.list()) if (ready(n)) load.set(n.metadata?.name ?? '', 0);
    for (const p of pods.lister.list()) {
      const on = p.spec?.nodeName;
      if (on && load.has(on)) load.set(on, load.get(on)! + 1);
    }
    const [node] = [...load].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0] ?? [];
    if (node === undefined) return; // no node yet: retried when one is added
    binding.add(key);
    try {
      await client.create(
        { group: '', version: 'v1', resource: 'pods', namespace: ns },
        { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
        { subresource: 'binding', name },
      );
      events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${node}`);
    } catch (err) {
      events.event(pod, 'Warning', 'FailedScheduling', `Binding rejected: ${(err as Error).message}`);
    } finally {
      binding.delete(key);
    }
  }

  const consider = (p: Pod): void => {
    if (mine(p)) void schedule(p);
  };
  pods.addEventHandler({ onAdd: consider, onUpdate: (_old, p) => consider(p) });
  // A new node may be what a waiting pod needs.
  nodes.addEventHandler({ onAdd: () => pods.lister.list().forEach(consider) });
  await Promise.all([pods.run(signal), nodes.run(signal)]);
  await events.flush();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  process.once('SIGTERM', () => ac.abort());
  const client = new RESTClient({ ...loadKubeconfig(process.argv[2]), userAgent: 'my-scheduler' });
  await runMyScheduler(client, ac.signal);
  client.close();
}
