// The streaming benchmark: `k8ts server` and a kubelet server on the host test double of the runtime (as in
// test/e2e/streaming.test.ts). With real kubectl of each transport it measures the latency of
// `kubectl exec -- true` (kubectl's own start-up included), the throughput of exec's stdout, and the
// throughput of a download through `kubectl port-forward`.
//
//   npm run bench:streaming [-- --quick]
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { kubectlPath } from '../../test/helpers/kubectl.js';
import { startStreamingCluster } from '../../test/helpers/streaming-cluster.js';
import { fmt, percentile, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const mib = flags.quick ? 16 : 128;
const execRuns = flags.quick ? 3 : 10;
const clients = [
  { minor: 27, transport: 'SPDY' },
  { minor: 33, transport: 'WebSocket (exec v5, port-forward SPDY tunnel)' },
];

const cluster = await startStreamingCluster();
const body = Buffer.alloc(1024 * 1024, 'x');
const http = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Length': mib * body.length });
  for (let i = 0; i < mib; i++) res.write(body);
  res.end();
});
await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
const httpPort = (http.address() as AddressInfo).port;

/** Runs kubectl, counting stdout bytes; resolves with the milliseconds it took. */
function timed(minor: number, args: string[]): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(kubectlPath(minor), args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (d: Buffer) => (bytes += d.length));
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - t0, bytes }) : reject(new Error(`kubectl ${args.join(' ')} exited ${code}`))));
  });
}

async function portForwardDownload(minor: number): Promise<number> {
  const child = spawn(kubectlPath(minor), ['port-forward', 'pod/web', `:${httpPort}`], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const deadline = Date.now() + 20_000;
    while (!/Forwarding from 127\.0\.0\.1:(\d+)/.test(out)) {
      if (Date.now() > deadline) throw new Error('kubectl port-forward did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    const local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)![1]);
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${local}/`);
    const got = (await res.arrayBuffer()).byteLength;
    if (got !== mib * body.length) throw new Error(`port-forward delivered ${got} bytes`);
    return performance.now() - t0;
  } finally {
    child.kill('SIGTERM');
  }
}

try {
  await cluster.createPod('web', ['main'], 'running');
  const rows: string[][] = [];
  for (const { minor, transport } of clients) {
    const lat: number[] = [];
    for (let i = 0; i < execRuns; i++) lat.push((await timed(minor, ['exec', 'web', '--', 'true'])).ms);
    const exec = await timed(minor, ['exec', 'web', '--', 'head', '-c', String(mib * 1024 * 1024), '/dev/zero']);
    if (exec.bytes !== mib * 1024 * 1024) throw new Error(`exec delivered ${exec.bytes} bytes`);
    const pf = await portForwardDownload(minor);
    rows.push([`kubectl 1.${minor}`, transport, fmt(percentile(lat, 50), 0), fmt((mib / exec.ms) * 1000, 0), fmt((mib / pf) * 1000, 0)]);
  }
  printTable(['client', 'transport', 'exec true p50 ms', `exec stdout MiB/s (${mib} MiB)`, `port-forward MiB/s (${mib} MiB)`], rows);
} finally {
  await new Promise<void>((r) => http.close(() => r()));
  await cluster.stop();
}
