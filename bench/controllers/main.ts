// The controllers benchmark: a real `k8ts server` (API server, controller manager and scheduler in one
// process) and, in this process, a stand-in for the kubelet that registers one roomy node and marks every
// pod bound to it Running and Ready through pods/status. Prints the time for a Deployment of 1,000 replicas to become available, for a
// rolling update of it, and the server's CPU and memory while idle with 10,000 pods.
//
//   npm run build && npm run bench:controllers [-- --quick]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../src/client/index.js';
import { startFakeKubelet } from '../../test/helpers/fake-kubelet.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { startBenchServer } from '../lib/k8ts-server.js';
import { fmt, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const replicas = flags.quick ? 100 : 1000;
const idlePods = flags.quick ? 1000 : 10_000;
const server = await startBenchServer('controllers');
const child = server.child;
const client = new RESTClient({ ...loadKubeconfig(server.kubeconfig), qps: 5000, burst: 5000 });
const deployments = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' };

// The stand-in for the kubelet (the same one the e2e tests use): the scheduler binds pods to its node; it
// reports them Running and Ready, and removes pods being deleted at once.
const stopKubelet = startFakeKubelet(server.kubeconfig);

async function waitFor(what: string, cond: (d: KubeObject) => boolean, timeoutMs = 600_000): Promise<number> {
  const t = performance.now();
  for (;;) {
    const d = await client.get(deployments, 'bench');
    if (cond(d)) return performance.now() - t;
    if (performance.now() - t > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const status = (d: KubeObject) => (d.status ?? {}) as { availableReplicas?: number; updatedReplicas?: number; replicas?: number; observedGeneration?: number };

const rows: [string, string][] = [];
const t0 = performance.now();
await client.create(deployments, {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'bench' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'bench' } },
    template: { metadata: { labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } },
  },
});
await waitFor('available', (d) => status(d).availableReplicas === replicas);
rows.push([`deployment of ${replicas}: create to all available (s)`, fmt((performance.now() - t0) / 1000)]);
const t1 = performance.now();
await client.patch(deployments, 'bench', { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] } } } }, 'strategic');
await waitFor('rolled', (d) => {
  const s = status(d);
  return (d.metadata?.generation ?? 0) === s.observedGeneration && s.updatedReplicas === replicas && s.availableReplicas === replicas && s.replicas === replicas;
});
rows.push([`rolling update of ${replicas} (25% surge/unavailable) (s)`, fmt((performance.now() - t1) / 1000)]);

// Idle with many pods: scale up, let everything settle, then sample the server's CPU for 10 s.
await client.patch(deployments, 'bench', { spec: { replicas: idlePods } }, 'merge');
await waitFor('scaled', (d) => status(d).availableReplicas === idlePods);
await new Promise((r) => setTimeout(r, 3000));
const c0 = server.cpuSeconds();
await new Promise((r) => setTimeout(r, 10_000));
const c1 = server.cpuSeconds();
const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
rows.push([`server CPU while idle with ${idlePods} pods (% of one core)`, fmt(((c1 - c0) / 10) * 100)]);
rows.push([`server RSS while idle with ${idlePods} pods (MB)`, fmt(rss)]);

await stopKubelet();
await server.stop();
console.log(`controllers benchmark (node ${process.version}, ${server.build}, ${new Date().toISOString()})`);
printTable(['figure', 'value'], rows);
