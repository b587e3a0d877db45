// The API server benchmark: a real `k8ts server` process over HTTPS with client certificates, driven the way
// clients drive it. Prints time to ready, pod creates per second at 1, 10 and 50 concurrent clients, GET
// latency under load, LIST of 10,000 pods (JSON and Table), watch fan-out, and the server's resident memory.
//
//   npm run build && npm run bench:apiserver [-- --quick] [-- --with-controllers]
//   K8TS_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the server.
//   K8TS_BENCH_GET_DUMP=FILE keeps every GET latency of the GET phase (JSON: starts as epoch ms, latencies).
// The create clients send their requests through LeanConnection (bench/lib/lean-https.ts): on these 2 cores
// Node's https client took about 0.3 ms of CPU per request, a third of a core at 2,500 creates/s, from the
// server being measured.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { adminConnection } from '../lib/admin-agent.js';
import { LeanConnection } from '../lib/lean-https.js';
import { fmt, percentile, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, 'with-controllers': { type: 'boolean', default: false } },
});
const scale = flags.quick ? 0.1 : 1;
const n = (x: number): number => Math.max(10, Math.round(x * scale));
const root = path.resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-apiserver-'));

// Prefer the compiled CLI (what users run); fall back to the sources through tsx.
const dist = path.join(root, 'dist', 'cli', 'main.js');
const cmd = existsSync(dist) ? [dist] : ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')];
// The API server alone by default, as upstream benchmarks kube-apiserver; --with-controllers adds the
// controller manager that `k8ts server` runs in the same process.
// The other components of `k8ts server` (scheduler, cluster DNS, cloud controller, kube-proxy) are left out:
// with no nodes, the scheduler would write a condition and an event for every pod created here.
const serverArgs = ['server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1'];
serverArgs.push('--disable-kube-proxy', '--disable-agent', '--disable-scheduler', '--disable-cloud-controller', '--disable', 'coredns,servicelb');
// Without controllers no default ServiceAccount exists: the ServiceAccount admission plugin goes too.
if (!flags['with-controllers']) serverArgs.push('--disable-controller-manager', '--disable-admission-plugins', 'ServiceAccount');
// K8TS_BENCH_NODE_ARGS passes flags to the server's node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
const nodeArgs = (process.env.K8TS_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
// K8TS_BENCH_SERVER_LOG=FILE keeps the server's output (with K8TS_BENCH_NODE_ARGS=--trace-gc, its GC pauses).
const serverLog = process.env.K8TS_BENCH_SERVER_LOG;

/** Spawns the server on `dir` and resolves with the port its log names once it says it is ready. */
async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const started = spawn(process.execPath, [...nodeArgs, ...cmd, ...serverArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  started.stderr.on('data', (d: Buffer) => (log += d.toString()));
  started.stdout.on('data', (d: Buffer) => (log += d.toString()));
  if (serverLog) {
    started.stdout.on('data', (d: Buffer) => appendFileSync(serverLog, d));
    started.stderr.on('data', (d: Buffer) => appendFileSync(serverLog, d));
  }
  const readyPort = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /"msg":"API server ready","port":(\d+)/.exec(log);
      if (m) {
        clearInterval(timer);
        resolve(Number(m[1]));
      } else if (started.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(log));
      }
    }, 2);
  });
  return { child: started, port: readyPort };
}

let t0 = performance.now();
let { child, port } = await startServer();
const { agent, tls } = adminConnection(path.join(dir, 'kubeconfig.yaml'));

function call(method: string, p: string, body?: unknown, accept = 'application/json'): Promise<{ code: number; text: string }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path: p, agent, headers: { Accept: accept, 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Time to ready: from spawning the process to the first 200 from /readyz. */
async function untilReady(): Promise<number> {
  while ((await call('GET', '/readyz').catch(() => ({ code: 0 }))).code !== 200) await new Promise((r) => setTimeout(r, 2));
  return performance.now() - t0;
}
const readyMs = await untilReady();

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
});

/** CPU seconds (utime + stime) the server process has used, all threads. */
const serverCpu = (): number => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
/** The server's CPU ms per pod created, per phase: steadier than rates on a shared machine. */
const cpuPerCreate: string[] = [];

let created = 0;
/** The create clients' connections, one per client, kept across phases. */
const leanPool: LeanConnection[] = [];
async function createPods(clients: number, total: number, onLatency?: (ms: number) => void): Promise<number> {
  let next = 0;
  const cpu0 = serverCpu();
  const t = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const conn = (leanPool[c] ??= new LeanConnection(port, tls));
      for (let i = next++; i < total; i = next++) {
        const s = performance.now();
        const r = await conn.request('POST', '/api/v1/namespaces/default/pods', JSON.stringify(pod(`p-${created + i}`)));
        if (r.code !== 201) throw new Error(`create answered ${r.code}: ${r.text}`);
        onLatency?.(performance.now() - s);
      }
    }),
  );
  const rate = total / ((performance.now() - t) / 1000);
  cpuPerCreate.push(fmt(((serverCpu() - cpu0) * 1000) / total));
  created += total;
  return rate;
}

const rows: [string, string][] = [['time from start to /readyz (ms)', fmt(readyMs)]];
for (const clients of [1, 10, 50]) {
  const total = n(clients === 1 ? 1000 : 3000);
  rows.push([`pod creates/s, ${clients} client${clients > 1 ? 's' : ''}`, fmt(await createPods(clients, total))]);
}

// GET latency while 10 clients keep creating, from a worker thread of its own (see get-probe.ts).
// The benchmark runs through tsx, so the worker registers tsx before it imports the probe's source.
const probeUrl = new URL('./get-probe.ts', import.meta.url).href;
const probe = new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(probeUrl)}); });`, {
  eval: true,
  workerData: {
    port,
    path: '/api/v1/namespaces/default/pods/p-0',
    ...tls,
  },
});
const probed = new Promise<number[]>((resolve) => probe.once('message', resolve));
if (serverLog) appendFileSync(serverLog, `=== GET phase starts\n`);
rows.push(['pod creates/s, 10 clients, while GETs run', fmt(await createPods(10, n(3000)))]);
probe.postMessage('stop');
if (serverLog) appendFileSync(serverLog, `=== GET phase ends\n`);
const getLat = await probed;
await probe.terminate();
rows.push(['GET p50 under load (ms)', fmt(percentile(getLat, 50))]);
rows.push(['GET p99 under load (ms)', fmt(percentile(getLat, 99))]);

// Fill up to 10,000 pods, then LIST them all.
const target = n(10_000);
if (created < target) await createPods(50, target - created);
for (const [name, accept] of [
  ['JSON', 'application/json'],
  ['Table', 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json'],
] as const) {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    const r = await call('GET', '/api/v1/pods', undefined, accept);
    times.push(performance.now() - s);
    if (r.code !== 200) throw new Error(`list answered ${r.code}`);
  }
  rows.push([`LIST ${target} pods, ${name}, p50 (ms)`, fmt(percentile(times, 50))]);
}
rows.push(['server CPU ms per create, by phase', cpuPerCreate.join(' / ')]);
const rssMb = (): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
};
rows.push([`server RSS with ${target} pods (MB)`, fmt(rssMb())]);

// Watch fan-out: 100 watchers, each receiving every one of the events.
const watchers = 100;
const events = n(10_000);
await call('POST', '/api/v1/namespaces', { metadata: { name: 'fan' } });
const start = JSON.parse((await call('GET', '/api/v1/namespaces/fan/configmaps')).text).metadata.resourceVersion as string;
let received = 0;
const done = new Promise<void>((resolve) => {
  for (let w = 0; w < watchers; w++) {
    const req = request({ host: '127.0.0.1', port, path: `/api/v1/namespaces/fan/configmaps?watch=true&resourceVersion=${start}`, agent }, (res) => {
      let seen = 0;
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        seen += parts.length;
        received += parts.length;
        if (seen >= events) {
          req.destroy();
          if (received >= watchers * events) resolve();
        }
      });
    });
    req.on('error', () => undefined);
    req.end();
  }
});
const tw = performance.now();
const fanCpu0 = serverCpu();
let next = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    for (let i = next++; i < events; i = next++) await call('POST', '/api/v1/namespaces/fan/configmaps', { metadata: { name: `c-${i}` }, data: { i: String(i) } });
  }),
);
const writeMs = performance.now() - tw;
await done;
const fanMs = performance.now() - tw;
rows.push([`watch fan-out: ${watchers} watchers x ${events} events, all delivered (s)`, fmt(fanMs / 1000)]);
rows.push(['watch fan-out: events delivered/s', fmt((watchers * events) / (fanMs / 1000))]);
rows.push([`watch fan-out: the ${events} writes alone (s)`, fmt(writeMs / 1000)]);
rows.push(['watch fan-out: server CPU ms per write (100 watchers)', fmt(((serverCpu() - fanCpu0) * 1000) / events)]);
rows.push(['server RSS at the end (MB)', fmt(rssMb())]);

for (const c of leanPool) c.close();
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
// A restart on the same data: every object written above is in the store.
t0 = performance.now();
({ child, port } = await startServer());
rows.push([`time from restart (${created + events} objects stored) to /readyz (ms)`, fmt(await untilReady())]);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
agent.destroy();
rmSync(dir, { recursive: true, force: true });
console.log(
  `apiserver benchmark (node ${process.version}, ${existsSync(dist) ? 'dist build' : 'tsx sources'}, ${flags['with-controllers'] ? 'with' : 'without'} the controller manager, ${new Date().toISOString()})`,
);
printTable(['figure', 'value'], rows);
