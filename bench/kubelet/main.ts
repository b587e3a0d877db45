// The kubelet benchmark: a `k8ts server` and, in a second process, `k8ts agent --simulate-nodes 1000`
// joined with the server's token. Prints the agent's CPU and memory while its 1,000 simulated nodes
// heartbeat (leases every 10 s, status checks every 10 s), the server's CPU meanwhile, and pod startup
// latency on simulated nodes (create → the kubelet reports Running) for 100 pods, p50 and p99. With
// --runtime (root), also pod startup on the built-in runtime: the server's own kubelet on a runtime fixture's
// CRI socket, busybox already in the store. --runtime-only skips the simulated nodes; --server-log FILE keeps
// the runtime server's log (with --v 4, the kubelet logs the milliseconds of each step of a pod's sync); --prof-dir DIR writes the
// servers' CPU profiles there; --interval MS creates the pods at that pace (pod i at i × MS) instead of
// all at once, which measures the latency of each pod rather than the time to drain a burst.
//
//   npm run bench:kubelet [-- --nodes 1000 --pods 100 --runtime] [--runtime-only --server-log FILE --v 4]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import type { Kube } from '../../src/kubelet/api-types.js';
import { fmt, percentile, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({
  options: { nodes: { type: 'string', default: '1000' }, pods: { type: 'string', default: '100' }, runtime: { type: 'boolean', default: false }, inflight: { type: 'string', default: '10' },
    'runtime-only': { type: 'boolean', default: false }, 'server-log': { type: 'string' }, 'prof-dir': { type: 'string' }, interval: { type: 'string', default: '0' }, v: { type: 'string', default: '0' } },
});
const nodeCount = Number(flags.nodes);
const podCount = Number(flags.pods);
const root = path.resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-kubelet-'));
const dist = path.join(root, 'dist', 'cli', 'main.js');
const cmd = existsSync(dist) ? [dist] : ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')];

function start(args: string[]): { child: ChildProcess; log: () => string } {
  const prof = flags['prof-dir'] ? ['--cpu-prof', '--cpu-prof-dir', flags['prof-dir']] : [];
  const child = spawn(process.execPath, [...prof, ...cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  return { child, log: () => log };
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const t = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cpuSeconds = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const rssMB = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** Creates `count` pods bound round the given nodes, `inflight` at a time; create → Running latencies (ms). */
async function podStartup(c: RESTClient, prefix: string, count: number, nodeFor: (i: number) => string, image: string): Promise<number[]> {
  const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const ac = new AbortController();
  const watching = (async () => {
    for await (const e of c.watch<Kube<Pod>>(podsRef, {}, ac.signal)) {
      const name = e.object.metadata?.name ?? '';
      if (e.object.status?.phase === 'Running' && !running.has(name)) running.set(name, performance.now());
    }
  })().catch(() => undefined);
  await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(flags.inflight) }, async () => {
      while (next < count) {
        const i = next++;
        const name = `${prefix}-${i}`;
        if (Number(flags.interval) > 0) await new Promise((r) => setTimeout(r, Number(flags.interval) * i - (performance.now() - t0)));
        created.set(name, performance.now());
        await c.create(podsRef, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name },
          spec: { nodeName: nodeFor(i), terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
        });
      }
    }),
  );
  await until('all pods Running', () => (running.size >= count ? true : undefined), 300_000);
  ac.abort();
  await watching;
  return [...created].map(([n, t]) => running.get(n)! - t);
}

const rows: [string, string][] = [];

/** The simulated fleet: 1,000 nodes heartbeating, and pod startup on them. */
async function simulated(): Promise<void> {
  // The server's own kubelet stays off: the nodes are the agent's.
  const server = start(['server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1', '--datastore-endpoint', 'memory://', '--disable-agent']);
  const port = await until('server', () => /"msg":"API server ready","port":(\d+)/.exec(server.log())?.[1]);
  const tokenRun = start(['token', 'create', '--data-dir', dir]);
  await new Promise((r) => tokenRun.child.once('exit', r));
  const token = tokenRun.log().trim();
  const client = new RESTClient({ ...loadKubeconfig(path.join(dir, 'kubeconfig.yaml')), qps: 1000, burst: 1000 });

  const t0 = performance.now();
  const agent = start(['agent', '--server', `https://127.0.0.1:${port}`, '--token', token, '--simulate-nodes', String(nodeCount), '--data-dir', path.join(dir, 'agent')]);
  await until(`${nodeCount} Ready nodes`, async () => {
    const nodes = (await client.list<Kube<Node>>({ group: '', version: 'v1', resource: 'nodes' })).items;
    const ready = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    return ready === nodeCount ? true : undefined;
  });
  rows.push([`${nodeCount} simulated nodes: agent start to all Ready (s)`, fmt((performance.now() - t0) / 1000)]);

  // Heartbeating: let registration settle, then sample both processes for 30 s (three lease rounds).
  await new Promise((r) => setTimeout(r, 5000));
  const a0 = cpuSeconds(agent.child.pid!);
  const s0 = cpuSeconds(server.child.pid!);
  const window = 30;
  await new Promise((r) => setTimeout(r, window * 1000));
  rows.push([`agent CPU, ${nodeCount} nodes heartbeating (% of one core)`, fmt(((cpuSeconds(agent.child.pid!) - a0) / window) * 100)]);
  rows.push([`agent RSS, ${nodeCount} nodes (MB)`, fmt(rssMB(agent.child.pid!))]);
  rows.push([`server CPU meanwhile (% of one core)`, fmt(((cpuSeconds(server.child.pid!) - s0) / window) * 100)]);
  rows.push([`server RSS (MB)`, fmt(rssMB(server.child.pid!))]);

  // Pod startup: pods bound at creation (spec.nodeName, no scheduler in the path).
  const lat = await podStartup(client, 'startup', podCount, (i) => `sim-node-${(i * 7) % nodeCount}`, 'busybox:1.36');
  rows.push([`pod startup, ${podCount} pods on simulated nodes, ${flags.inflight} in flight: p50 (ms)`, fmt(percentile(lat, 50))]);
  rows.push([`pod startup on simulated nodes: p99 (ms)`, fmt(percentile(lat, 99))]);

  client.close();
  for (const p of [agent.child, server.child]) {
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
}
if (flags['runtime-only']) rmSync(dir, { recursive: true, force: true });
else await simulated();

if (flags.runtime) {
  // The built-in runtime: a fixture serving CRI, and a server whose own kubelet uses it.
  const { runtimeSkipReason, startRuntimeFixture } = await import('../../src/runtime/testing/runtime-fixture.js');
  const skip = runtimeSkipReason();
  if (skip) throw new Error(skip);
  const fx = await startRuntimeFixture();
  const rdir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-kubelet-rt-'));
  const node = 'bench-node';
  const srv = start(['server', '--data-dir', rdir, '--https-listen-port', '0', '--bind-address', '127.0.0.1', '--datastore-endpoint', 'memory://',
    '--container-runtime-endpoint', `unix://${fx.socket}`, '--node-name', node, '--kubelet-root-dir', path.join(rdir, 'kubelet'), '--pod-logs-dir', path.join(rdir, 'logs'), '--kubelet-port', '0', '--v', flags.v]); // prettier-ignore
  try {
    await until('kubelet', () => (/"msg":"kubelet running"/.test(srv.log()) ? true : undefined));
    const c = new RESTClient({ ...loadKubeconfig(path.join(rdir, 'kubeconfig.yaml')), qps: 1000, burst: 1000 });
    const rl = await podStartup(c, 'rt', podCount, () => node, fx.image);
    rows.push([`pod startup, ${podCount} pods on the built-in runtime, ${Number(flags.interval) > 0 ? `one every ${flags.interval} ms` : `${flags.inflight} in flight`}: p50 (ms)`, fmt(percentile(rl, 50))]);
    rows.push([`pod startup on the built-in runtime: p99 (ms)`, fmt(percentile(rl, 99))]);
    await c.deleteCollection({ group: '', version: 'v1', resource: 'pods', namespace: 'default' }, { gracePeriodSeconds: 0 });
    await until('pods gone', async () => ((await c.list({ group: '', version: 'v1', resource: 'pods', namespace: 'default' })).items.length === 0 ? true : undefined), 120_000);
    c.close();
  } finally {
    srv.child.kill('SIGTERM');
    await new Promise((r) => srv.child.once('exit', r));
    if (flags['server-log']) writeFileSync(flags['server-log'], srv.log());
    const { items } = await fx.client.runtime.listPodSandbox({});
    for (const sb of items ?? []) await fx.client.runtime.removePodSandbox({ podSandboxId: sb.id! }).catch(() => undefined);
    await fx.close();
    rmSync(rdir, { recursive: true, force: true });
  }
}
console.log(`kubelet benchmark (node ${process.version}, ${existsSync(dist) ? 'dist build' : 'tsx sources'}, ${new Date().toISOString()})`);
printTable(['figure', 'value'], rows);
