// The Job benchmark: a real `k8ts server` and, in this process, the tests' stand-in for scheduler and
// kubelet, which completes every pod of the Job at once (its command is `exit 0`). Prints the time for a
// Job of 1,000 completions at parallelism 100 to become Complete, the most pods seen active at once, and
// the pods created, and the server's CPU time over the run.
//
//   npm run bench:jobs [-- --quick]      (--quick: 100 completions at parallelism 10)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../src/client/index.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { startFakeKubelet } from '../../test/helpers/fake-kubelet.js';
import { startBenchServer } from '../lib/k8ts-server.js';
import { fmt, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const completions = flags.quick ? 100 : 1000;
const parallelism = flags.quick ? 10 : 100;

const server = await startBenchServer('jobs');
const client = new RESTClient({ ...loadKubeconfig(server.kubeconfig), qps: 5000, burst: 5000 });
const stopKubelet = startFakeKubelet(server.kubeconfig);
const jobs = { group: 'batch', version: 'v1', resource: 'jobs', namespace: 'default' };
const cpu = (): number => {
  const f = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

// The most pods running at once, from a watch on the Job's pods.
let maxActive = 0;
let created = 0;
const active = new Set<string>();
const ac = new AbortController();
void (async () => {
  try {
    for await (const e of client.watch({ group: '', version: 'v1', resource: 'pods', namespace: 'default' }, {}, ac.signal)) {
      const name = e.object.metadata?.name ?? '';
      const phase = (e.object.status as { phase?: string } | undefined)?.phase;
      if (e.type === 'ADDED') created++;
      if (e.type === 'DELETED' || phase === 'Succeeded' || phase === 'Failed') active.delete(name);
      else active.add(name);
      maxActive = Math.max(maxActive, active.size);
    }
  } catch {
    // aborted
  }
})();

const c0 = cpu();
const t0 = performance.now();
await client.create(jobs, {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'bench' },
  spec: {
    completions,
    parallelism,
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'exit 0'] }] } },
  },
});
let job: KubeObject;
for (;;) {
  job = await client.get(jobs, 'bench');
  const conds = ((job.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  if (conds.some((c) => c.type === 'Complete' && c.status === 'True')) break;
  if (performance.now() - t0 > 900_000) throw new Error('timed out');
  await new Promise((r) => setTimeout(r, 100));
}
const seconds = (performance.now() - t0) / 1000;
const c1 = cpu();
const status = job.status as { succeeded?: number; failed?: number };
ac.abort();
await stopKubelet();
client.close();
await server.stop();

console.log(`jobs benchmark (node ${process.version}, ${server.build}, ${new Date().toISOString()})`);
printTable(
  ['figure', 'value'],
  [
    [`job of ${completions} completions at parallelism ${parallelism}: create to Complete (s)`, fmt(seconds)],
    ['completions per second', fmt(completions / seconds)],
    ['most pods active at once', String(maxActive)],
    ['pods created', String(created)],
    ['status.succeeded / failed', `${status.succeeded ?? 0} / ${status.failed ?? 0}`],
    ['server CPU over the run (s)', fmt(c1 - c0)],
  ],
);
