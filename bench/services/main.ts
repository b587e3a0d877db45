// Service creates per second against one `k8ts server` (API server alone): ClusterIP services, whose creation
// allocates a cluster IP, and NodePort services, which also allocate a node port. Measures what the allocator
// costs on the write path.
//
//   node --import tsx bench/services/main.ts [--count 1000] [--concurrency 10]
import { request } from 'node:https';
import { parseArgs } from 'node:util';
import { adminConnection } from '../lib/admin-agent.js';
import { startBenchServer } from '../lib/k8ts-server.js';
import { fmt, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({
  options: { count: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '10' } },
});
const count = Number(flags.count);
const concurrency = Number(flags.concurrency);

const server = await startBenchServer(
  'services',
  ['--disable-scheduler', '--disable-cloud-controller', '--disable-controller-manager', '--disable', 'coredns,servicelb'],
  /"msg":"API server ready"/,
);
const { port, agent } = adminConnection(server.kubeconfig);

function post(p: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: p, agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * Creates `n` services named prefix-i with `concurrency` clients; resolves with creates per second and the
 * server's CPU milliseconds per create (steadier than the rate on a shared machine).
 */
async function createMany(prefix: string, type: 'ClusterIP' | 'NodePort', n: number): Promise<{ rate: number; cpuMs: number }> {
  let next = 0;
  let failed = 0;
  const cpu0 = server.cpuSeconds();
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const code = await post('/api/v1/namespaces/default/services', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `${prefix}-${i}` },
        spec: { type, selector: { app: 'x' }, ports: [{ port: 80 }] },
      });
      if (code !== 201) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = ((server.cpuSeconds() - cpu0) * 1000) / n;
  if (failed > 0) throw new Error(`${failed} creates failed`);
  return { rate: n / seconds, cpuMs };
}

try {
  // A short warm-up so that the JIT has seen the path.
  await createMany('warm', 'ClusterIP', 100);
  const clusterIP = await createMany('cip', 'ClusterIP', count);
  // The node port range holds 2,768 ports: stay well inside it.
  const nodePort = await createMany('np', 'NodePort', Math.min(count, 1500));
  printTable(
    ['case', 'services', 'clients', 'creates/s', 'server CPU ms/create'],
    [
      ['ClusterIP', String(count), String(concurrency), fmt(clusterIP.rate, 0), fmt(clusterIP.cpuMs, 2)],
      ['NodePort', String(Math.min(count, 1500)), String(concurrency), fmt(nodePort.rate, 0), fmt(nodePort.cpuMs, 2)],
    ],
  );
  console.log(`(${server.build})`);
} finally {
  agent.destroy();
  await server.stop();
}
