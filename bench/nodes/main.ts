// The node failure benchmark: a real `k8ts server` with shortened node timings and, in this process, the
// fake kubelet playing three nodes. One node stops its heartbeats; the figures are the time from its last
// Lease renewal to its NoExecute taint, to the first eviction, and to all of the Deployment's pods running
// and ready on the other nodes, and what the same would take with upstream's defaults (50 s grace, 5 s
// monitor period, 300 s default tolerations): those defaults plus the part measured beyond the configured
// timeouts.
//
//   npm run bench:nodes [-- --pods 30 --grace 3 --toleration 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../src/client/index.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { startFakeNodes } from '../../test/helpers/fake-kubelet.js';
import { K8tsProcess } from '../../test/helpers/k8ts-process.js';
import { fmt, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({
  options: { pods: { type: 'string', default: '30' }, grace: { type: 'string', default: '3' }, toleration: { type: 'string', default: '2' } },
});
const replicas = Number(flags.pods);
const graceS = Number(flags.grace);
const tolerationS = Number(flags.toleration);
const monitorS = 0.5;
const upstream = { grace: 50, monitor: 5, toleration: 300 };

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-nodes-'));
const server = new K8tsProcess([
  'server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1',
  '--node-monitor-grace-period', `${graceS}s`, '--node-monitor-period', `${monitorS * 1000}ms`, '--node-eviction-rate', '10',
  '--default-not-ready-toleration-seconds', String(tolerationS), '--default-unreachable-toleration-seconds', String(tolerationS),
]);
await server.waitForLog(/"msg":"started controllers"/, 60_000);
const kubeconfig = path.join(dir, 'kubeconfig.yaml');
const client = new RESTClient({ ...loadKubeconfig(kubeconfig), qps: 1000, burst: 1000 });
const nodes = await startFakeNodes(kubeconfig, ['n1', 'n2', 'n3'], { heartbeatMs: 1000 });
const deployments = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' };
const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };

interface PodView extends KubeObject {
  spec?: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[] };
}
const readyOn = async (): Promise<{ byNode: Map<string, number>; evicted: boolean }> => {
  const list = await client.list<PodView>(pods, { labelSelector: 'app=bench' });
  const byNode = new Map<string, number>();
  let evicted = false;
  for (const p of list.items) {
    if (p.metadata?.deletionTimestamp) {
      evicted = true;
      continue;
    }
    if (!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const n = p.spec?.nodeName ?? '';
    byNode.set(n, (byNode.get(n) ?? 0) + 1);
  }
  return { byNode, evicted };
};
const poll = async <T>(fn: () => Promise<T | undefined>): Promise<T> => {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

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
const before = await poll(async () => {
  const r = await readyOn();
  return [...r.byNode.values()].reduce((a, b) => a + b, 0) === replicas ? r.byNode : undefined;
});
const moved = before.get('n2') ?? 0;

nodes.stopHeartbeats('n2');
const stoppedAt = Date.now();
const last = nodes.lastHeartbeatAt('n2') ?? stoppedAt;
const tTaint = await poll(async () => {
  const n = await client.get(nodesRef, 'n2');
  const taints = ((n.spec as { taints?: { key: string; effect: string }[] } | undefined)?.taints ?? []);
  return taints.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? Date.now() : undefined;
});
let tEvict: number | undefined;
const tDone = await poll(async () => {
  const r = await readyOn();
  if (r.evicted) tEvict ??= Date.now();
  return (r.byNode.get('n1') ?? 0) + (r.byNode.get('n3') ?? 0) === replicas ? Date.now() : undefined;
});

await nodes.stop();
await server.stop();
rmSync(dir, { recursive: true, force: true });

const total = (tDone - last) / 1000;
const configured = graceS + tolerationS;
const overhead = total - configured;
// The monitor period adds on average half a period before the node is seen silent.
const upstreamEstimate = upstream.grace + upstream.toleration + (overhead - monitorS / 2) + upstream.monitor / 2;
console.log(`node failure benchmark (node ${process.version}, ${replicas} pods on 3 fake nodes, ${moved} on the failed one, ${new Date().toISOString()})`);
printTable(['figure', 'value'], [
  [`last heartbeat → NoExecute taint (s; grace ${graceS} s, monitor period ${monitorS} s)`, fmt((tTaint - last) / 1000)],
  [`taint → first eviction (s; tolerationSeconds ${tolerationS})`, fmt(((tEvict ?? tDone) - tTaint) / 1000)],
  [`first eviction → all ${replicas} pods ready on the other nodes (s)`, fmt((tDone - (tEvict ?? tDone)) / 1000)],
  ['last heartbeat → all pods ready elsewhere (s)', fmt(total)],
  ['of which beyond the configured grace + toleration (s)', fmt(overhead)],
  [`with upstream defaults (${upstream.grace} s grace, ${upstream.monitor} s period, ${upstream.toleration} s tolerations), estimated (s)`, fmt(upstreamEstimate)],
]);
