// The network benchmark: an in-process API server with 1,000 ClusterIP services of 10 endpoints each,
// kube-proxy programming nftables inside a network namespace this benchmark makes, and the cluster DNS on
// loopback. Prints the network programming latency (an EndpointSlice change written to the API → the
// nft transaction that carries it committed in the kernel) p50/p99, the time of a full sync at that size,
// and DNS query latency p50/p99 at 1,000 queries/s from a separate client process.
//
//   npm run bench:network [-- --quick]        (root, nft and iproute2 needed)
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ApiServer } from '../../src/apiserver/api-server.js';
import { logger } from '../../src/base/log.js';
import { RESTClient } from '../../src/client/index.js';
import { KubernetesRecords } from '../../src/dns/kubernetes.js';
import { DNSServer } from '../../src/dns/server.js';
import { Proxier } from '../../src/proxy/proxier.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { fmt, percentile, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const services = flags.quick ? 100 : 1000;
const perService = 10;
const changes = flags.quick ? 50 : 200;
const dnsSeconds = flags.quick ? 2 : 5;
const dnsRate = 1000;

if (process.getuid?.() !== 0) throw new Error('the network benchmark needs root (network namespaces and nftables)');
const netns = `k8ts-bench-net-${process.pid}`;
spawnSync('ip', ['netns', 'add', netns]);
// The namespace goes however the benchmark ends.
process.on('exit', () => spawnSync('ip', ['netns', 'del', netns]));
const nft = ['ip', 'netns', 'exec', netns, 'nft'];

const store = new SqliteStore({ path: ':memory:' });
const server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts', log: logger('apiserver') });
const port = await server.start();
const client = new RESTClient({ server: `http://127.0.0.1:${port}`, qps: 100_000, burst: 100_000 });
const svcRef = { group: '', version: 'v1', resource: 'services', namespace: 'default' };
const sliceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default' };

const endpointIP = (svc: number, i: number, gen = 0): string => `10.${42 + gen}.${Math.floor(svc / 25)}.${(svc % 25) * 10 + i + 1}`;
const slice = (svc: number, gen: number, changed = -1) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `svc-${svc}-1`, labels: { 'kubernetes.io/service-name': `svc-${svc}` } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: Array.from({ length: perService }, (_, i) => ({
    addresses: [endpointIP(svc, i, i === changed ? gen : 0)],
    nodeName: 'node-a',
    conditions: { ready: true },
  })),
});

async function inBatches(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += width) await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, j) => fn(i + j)));
}

const t0 = performance.now();
await inBatches(services, 50, async (i) => {
  await client.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}` }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
  await client.create(sliceRef, slice(i, 0));
});
console.log(`created ${services} services with ${perService} endpoints each in ${fmt((performance.now() - t0) / 1000)} s`);

// kube-proxy: wait for the first (full) sync.
let onSync: ((info: { full: boolean; durationMs: number }) => void) | undefined;
const proxier = new Proxier({
  client,
  nodeName: 'node-a',
  families: ['IPv4'],
  clusterCIDRs: ['10.42.0.0/16'],
  nftCommand: nft,
  fullSyncPeriodMs: 3_600_000,
  onSynced: (info) => onSync?.(info),
  log: logger('kube-proxy'),
});
const stop = new AbortController();
const first = new Promise<number>((resolve) => (onSync = (i) => i.full && resolve(i.durationMs)));
const running = proxier.run(stop.signal);
const firstFull = await first;
const fullSyncs: number[] = [firstFull];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  await proxier.syncOnce(true);
  fullSyncs.push(performance.now() - t);
}
const chains = Number(spawnSync(nft[0]!, [...nft.slice(1), 'list', 'chains', 'ip'], { encoding: 'utf8' }).stdout.match(/chain /g)?.length ?? 0);

// Programming latency: change one endpoint of a random service, wait for the sync that applied it.
const latencies: number[] = [];
const syncTimes: number[] = [];
for (let n = 1; n <= changes; n++) {
  const svc = Math.floor(Math.random() * services);
  const changed = Math.floor(Math.random() * perService);
  const newIP = endpointIP(svc, changed, n % 100 + 1);
  const applied = new Promise<number>((resolve) => {
    onSync = (info) => {
      if (!info.full) syncTimes.push(info.durationMs);
      for (const c of proxier.appliedChainNames('IPv4')) if (c.endsWith(`__${newIP}/8080`) && c.includes(`/svc-${svc}/`)) return resolve(performance.now());
    };
  });
  const start = performance.now();
  const cur = await client.get(sliceRef, `svc-${svc}-1`);
  const body = slice(svc, n % 100 + 1, changed);
  await client.update(sliceRef, { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata?.resourceVersion } });
  latencies.push((await applied) - start);
  await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
}
onSync = undefined;

// DNS: the records of the same services, queried from another process at a steady rate.
const records = new KubernetesRecords(client, 'cluster.local');
await records.start(stop.signal);
const dns = new DNSServer({ records, address: '127.0.0.1', port: 0, upstreams: [], log: logger('dns') });
const dnsPort = await dns.start();
// Let the caches' first lists settle (and their garbage go) before measuring.
await new Promise((r) => setTimeout(r, 1000));
const loadScript = `
const dgram = require('node:dgram');
const [port, rate, seconds, services] = process.argv.slice(1).map(Number);
const sock = dgram.createSocket('udp4');
const sent = new Map();
const lat = [];
let lost = 0;
const q = (id, name) => {
  const labels = name.split('.');
  const parts = [Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l));
  parts.push(Buffer.from([0, 0, 1, 0, 1]));
  return Buffer.concat(parts);
};
sock.on('message', (m) => {
  const id = (m[0] << 8) | m[1];
  const t = sent.get(id);
  if (t !== undefined) { lat.push(Number(process.hrtime.bigint() - t) / 1e6); sent.delete(id); }
});
let id = 0;
const total = rate * seconds;
const start = process.hrtime.bigint();
let n = 0;
const tick = () => {
  const due = Math.min(total, Math.floor(Number(process.hrtime.bigint() - start) / 1e9 * rate));
  while (n < due) {
    id = (id + 1) & 0xffff;
    sent.set(id, process.hrtime.bigint());
    sock.send(q(id, 'svc-' + Math.floor(Math.random() * services) + '.default.svc.cluster.local'), port, '127.0.0.1');
    n++;
  }
  if (n < total) setTimeout(tick, 1);
  else setTimeout(() => { lost = sent.size; console.log(JSON.stringify({ lat, lost })); sock.close(); }, 1000);
};
tick();
`;
const dnsResult = await new Promise<{ lat: number[]; lost: number }>((resolve, reject) => {
  const child = spawn(process.execPath, ['-e', loadScript, String(dnsPort), String(dnsRate), String(dnsSeconds), String(services)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as { lat: number[]; lost: number }) : reject(new Error(`dns load exited ${code}`))));
});

printTable(
  ['measure', 'value'],
  [
    ['services × endpoints', `${services} × ${perService}`],
    ['chains in the table', String(chains)],
    ['full sync, first (ms)', fmt(firstFull)],
    ['full sync, p50 of 4 (ms)', fmt(percentile(fullSyncs, 50))],
    ['full sync, max of 4 (ms)', fmt(Math.max(...fullSyncs))],
    [`programming latency p50 (ms, ${changes} changes)`, fmt(percentile(latencies, 50))],
    ['programming latency p99 (ms)', fmt(percentile(latencies, 99))],
    ['  of which the sync (recompute + nft) p50 (ms)', fmt(percentile(syncTimes, 50))],
    ['  of which the sync p99 (ms)', fmt(percentile(syncTimes, 99))],
    [`DNS latency p50 (ms, ${dnsRate}/s for ${dnsSeconds} s)`, fmt(percentile(dnsResult.lat, 50), 3)],
    ['DNS latency p99 (ms)', fmt(percentile(dnsResult.lat, 99), 3)],
    ['DNS answered / lost', `${dnsResult.lat.length} / ${dnsResult.lost}`],
  ],
);

stop.abort();
await running;
await dns.stop();
client.close();
await server.stop();
await store.close();
