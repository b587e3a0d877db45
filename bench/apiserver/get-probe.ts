// A worker thread that GETs one pod in a loop until told to stop and posts back every latency (ms). It runs
// on its own event loop, so what it measures is the server's answer time, not the wait behind the benchmark's
// own create clients in the main thread.
import { Agent, request } from 'node:https';
import { parentPort, workerData } from 'node:worker_threads';

const { port, path, ca, cert, key } = workerData as { port: number; path: string; ca: string; cert: string; key: string };
const agent = new Agent({ keepAlive: true, ca, cert, key });
let stop = false;
parentPort!.on('message', () => (stop = true));

function get(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { Accept: 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

const latencies: number[] = [];
const starts: number[] = [];
while (!stop) {
  const s = performance.now();
  await get();
  latencies.push(performance.now() - s);
  if (process.env.K8TS_BENCH_GET_DUMP) starts.push(performance.timeOrigin + s);
  // Let the stop message in.
  await new Promise((r) => setImmediate(r));
}
agent.destroy();
if (process.env.K8TS_BENCH_GET_DUMP) (await import('node:fs')).writeFileSync(process.env.K8TS_BENCH_GET_DUMP, JSON.stringify({ starts, latencies }));
parentPort!.postMessage(latencies);
