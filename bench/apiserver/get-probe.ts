// A worker thread that GETs one pod in a loop until told to stop and posts back every latency (ms). It runs
// on its own event loop, so what it measures is the server's answer time, not the wait behind the benchmark's
// own create clients in the main thread; it sends through a LeanConnection, as those clients do, so that the
// client's own share of each latency is small.
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { LeanConnection } from '../lib/lean-https.js';

const { port, path, ca, cert, key } = workerData as { port: number; path: string; ca: string; cert: string; key: string };
const conn = new LeanConnection(port, { ca, cert, key });
let stop = false;
parentPort!.on('message', () => (stop = true));

const latencies: number[] = [];
const starts: number[] = [];
while (!stop) {
  const s = performance.now();
  const r = await conn.request('GET', path);
  if (r.code !== 200) throw new Error(`GET answered ${r.code}: ${r.text}`);
  latencies.push(performance.now() - s);
  starts.push(performance.timeOrigin + s);
  // Let the stop message in.
  await new Promise((r) => setImmediate(r));
}
conn.close();
if (process.env.K8TS_BENCH_GET_DUMP) writeFileSync(process.env.K8TS_BENCH_GET_DUMP, JSON.stringify({ starts, latencies }));
parentPort!.postMessage(latencies);
