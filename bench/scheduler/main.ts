// The scheduler benchmark, after upstream's scheduler_perf: a real `k8ts server` (API server and scheduler in
// one process, controllers off) with 5,000 Node objects, then 10,000 pods created through the API as fast as
// the server takes them. Per workload: pods/s from the first create to the last binding, and the p50/p99
// latency of each pod from its create request to the watch event showing it bound.
//
//   npm run build && npm run bench:scheduler [-- --nodes 5000 --pods 10000 --only basic,anti,spread]
//   npm run bench:scheduler -- --cycles-only   (the scheduling cycles alone, in this process, no API server)
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../src/client/index.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { newPodInfo } from '../../src/scheduler/pod-info.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { makeNode, makePod } from '../../src/scheduler/testing/objects.js';
import type { BenchServer } from '../lib/k8ts-server.js';
import { startBenchServer } from '../lib/k8ts-server.js';
import { fmt, percentile, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '10000' },
    only: { type: 'string', default: 'basic,anti,spread' },
    datastore: { type: 'string', default: '' },
    'cycles-only': { type: 'boolean', default: false },
  },
});
const numNodes = Number(flags.nodes);
const numPods = Number(flags.pods);
const zones = ['zone-a', 'zone-b', 'zone-c'];
/** Anti-affinity pods come in groups; each group's pods avoid each other per node (10,000 pods on 5,000 nodes fit). */
const antiGroups = 10;

interface Workload {
  name: string;
  pod(i: number): KubeObject;
}

const base = (i: number, labels: Record<string, string>) => makePod(`pod-${i}`, { cpu: '100m', memory: '500Mi', labels });
const workloads: Record<string, Workload> = {
  basic: { name: 'SchedulingBasic', pod: (i) => base(i, { app: 'basic' }) as KubeObject },
  anti: {
    name: `SchedulingPodAntiAffinity (${antiGroups} groups, hostname)`,
    pod: (i) => {
      const color = `group-${i % antiGroups}`;
      const p = base(i, { color });
      p.spec!.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color } }, topologyKey: 'kubernetes.io/hostname' }] } };
      return p as KubeObject;
    },
  },
  spread: {
    name: 'TopologySpreading (zone, maxSkew 1, DoNotSchedule)',
    pod: (i) => {
      const p = base(i, { color: 'blue' });
      p.spec!.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color: 'blue' } } }];
      return p as KubeObject;
    },
  },
};

let serverStarted = 0;
/** How the server ran ("dist build" or "tsx sources"); the cycles-only mode runs in this process. */
let build = 'this process';
/** The API server and the scheduler (controllers off), ready once the scheduler runs. */
function startServer(): Promise<BenchServer> {
  serverStarted = performance.now();
  const args = ['--disable-controller-manager', '--disable-admission-plugins', 'ServiceAccount', ...(flags.datastore ? ['--datastore-endpoint', flags.datastore] : [])];
  return startBenchServer('scheduler', args, /"msg":"started scheduling"/);
}

/** Each thread's user and system CPU ticks (100 Hz) by thread name (threads of one name summed). */
function threadTimes(pid: number): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      const [u, sy] = out.get(name) ?? [0, 0];
      out.set(name, [u + Number(f[11]), sy + Number(f[12])]);
    } catch {
      // The thread ended in between.
    }
  }
  return out;
}

/** Runs `fn` over 0..n-1 with `concurrency` requests in flight. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        await fn(i);
      }
    }),
  );
}

async function run(w: Workload): Promise<string[]> {
  const server = await startServer();
  build = server.build;
  const client = new RESTClient({ ...loadKubeconfig(server.kubeconfig), qps: 100_000, burst: 100_000 });
  const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
  const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
  await pool(numNodes, 50, (i) => client.create(nodesRef, makeNode(`node-${i}`, { labels: { 'topology.kubernetes.io/zone': zones[i % zones.length]! } }) as KubeObject));
  // Let the scheduler's informer take in every node before the clock starts.
  await new Promise((r) => setTimeout(r, 2000));
  const created = new Float64Array(numPods);
  const bound = new Float64Array(numPods);
  let boundCount = 0;
  let allBound: () => void = () => undefined;
  const done = new Promise<void>((r) => (allBound = r));
  const ac = new AbortController();
  const list = await client.list(podsRef, { limit: 1 });
  const watching = (async () => {
    for await (const e of client.watch(podsRef, { resourceVersion: list.metadata.resourceVersion ?? '0' }, ac.signal)) {
      const o = e.object as { metadata?: { name?: string }; spec?: { nodeName?: string } };
      if (!o.spec?.nodeName) continue;
      const i = Number(o.metadata?.name?.slice(4));
      if (bound[i] === 0) {
        bound[i] = performance.now();
        if (++boundCount === numPods) allBound();
      }
    }
  })().catch(() => undefined);
  const cpu0 = server.cpuSeconds();
  const main0 = server.cpuSeconds(true);
  const split0 = threadTimes(server.child.pid!);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  let createdCount = 0;
  // K8TS_BENCH_TIMELINE=1: created and bound counts every 500 ms, to see where a run stalls.
  const timeline = process.env.K8TS_BENCH_TIMELINE
    ? setInterval(() => console.error(`${fmt((performance.now() - t0) / 1000)} s: created ${createdCount}, bound ${boundCount}`), 500)
    : undefined;
  await pool(numPods, 100, async (i) => {
    created[i] = performance.now();
    await client.create(podsRef, w.pod(i));
    createdCount++;
  });
  const tCreated = performance.now();
  const timeout = setTimeout(() => allBound(), 300_000);
  await done;
  clearTimeout(timeout);
  clearInterval(timeline);
  const t1 = performance.now();
  const serverCpuMsPerPod = ((server.cpuSeconds() - cpu0) * 1000) / numPods;
  const apiCpuMsPerPod = ((server.cpuSeconds(true) - main0) * 1000) / numPods;
  const split1 = threadTimes(server.child.pid!);
  const clientCpu = process.cpuUsage(client0);
  console.error(`CPU ms/pod by thread (user+sys): ${[...split1].map(([name, [u, sy]]) => {
    const [u0, s0] = split0.get(name) ?? [0, 0];
    return `${name} ${fmt(((u - u0) * 10) / numPods, 2)}+${fmt(((sy - s0) * 10) / numPods, 2)}`;
  }).join(', ')}; this bench client ${fmt((clientCpu.user + clientCpu.system) / 1000 / numPods, 2)}`);
  if (process.env.K8TS_BENCH_NODE_ARGS) console.error(`pods from ${fmt((t0 - serverStarted) / 1000)} s to ${fmt((t1 - serverStarted) / 1000)} s after the server started`);
  ac.abort();
  await watching;
  const lat: number[] = [];
  for (let i = 0; i < numPods; i++) if (bound[i]! > 0) lat.push(bound[i]! - created[i]!);
  client.close();
  await server.stop();
  return [w.name, String(boundCount), fmt((numPods / (tCreated - t0)) * 1000, 0), fmt((boundCount / (t1 - t0)) * 1000, 0), fmt(percentile(lat, 50), 0), fmt(percentile(lat, 99), 0), fmt(serverCpuMsPerPod, 2), fmt(apiCpuMsPerPod, 2)];
}

/**
 * The scheduling cycles alone, in this process: the same nodes and pods straight into the scheduler's cache
 * (no API server, no binding), to show what the algorithm costs apart from the API.
 */
function cyclesOnly(w: Workload): string[] {
  const s = new Scheduler({ client: new RESTClient({ server: 'http://127.0.0.1:1' }), leaderElect: false });
  for (let i = 0; i < numNodes; i++) s.cache.addNode(makeNode(`node-${i}`, { labels: { 'topology.kubernetes.io/zone': zones[i % zones.length]! } }));
  const fw = s.framework()!;
  const lat: number[] = [];
  let placed = 0;
  const t0 = performance.now();
  for (let i = 0; i < numPods; i++) {
    const pod = w.pod(i) as Parameters<typeof newPodInfo>[0];
    (pod.metadata as { uid?: string }).uid = `uid-${i}`;
    const info = newPodInfo(pod);
    const t = performance.now();
    const r = s.schedulePod(fw, fw.newCycleState(), info);
    if ('node' in r) {
      s.cache.assumePod(info, r.node);
      placed++;
    }
    lat.push(performance.now() - t);
  }
  const ms = performance.now() - t0;
  return [w.name, String(placed), fmt((numPods / ms) * 1000, 0), fmt(percentile(lat, 50), 3), fmt(percentile(lat, 99), 3)];
}

const rows: string[][] = [];
for (const key of flags.only.split(',')) {
  if (flags['cycles-only']) {
    const w = workloads[key];
    if (!w) throw new Error(`unknown workload ${key} (basic, anti, spread)`);
    rows.push(cyclesOnly(w));
    continue;
  }
  const w = workloads[key];
  if (!w) throw new Error(`unknown workload ${key} (basic, anti, spread)`);
  rows.push(await run(w));
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`scheduler benchmark: ${numNodes} nodes, ${numPods} pods (node ${process.version}, ${build}, load average ${load}, ${new Date().toISOString()})`);
if (flags['cycles-only']) printTable(['workload (scheduling cycles only, no API server)', 'placed', 'pods/s', 'p50 ms', 'p99 ms'], rows);
else printTable(['workload', 'bound', 'created/s', 'pods/s (create→all bound)', 'p50 ms', 'p99 ms', 'server CPU ms/pod', 'of it API thread'], rows);
