// The runtime benchmark (root only): in one run, for each OCI runtime (runc, and crun where installed), a
// bare `RUNTIME run` of a trivial container beside our CreateContainer + StartContainer + (exit) +
// StopContainer + RemoveContainer of the same image, through the CRI gRPC socket and in process (as the
// kubelet of `k8ts server` calls the runtime), with the CPU time each
// container costs; RunPodSandbox latency (namespaces + CNI); and 100 pods with a sleeping container each: the
// runtime's memory (this process, which serves CRI) and that of the per-container monitors. --trace prints
// where one container's time goes, step by step (src/runtime/trace.ts).
//
//   npm run bench:runtime [-- --quick] [-- --trace] [-- --oci runc|crun]
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { childrenOf } from '../../src/runtime/namespaces.js';
import { onPath } from '../../src/runtime/testing/requirements.js';
import {
  runtimeSkipReason,
  startRuntimeFixture,
  type RuntimeFixture,
} from '../../src/runtime/testing/runtime-fixture.js';
import type { RuntimeService } from '../../src/cri/types.js';
import { setTraceSink } from '../../src/runtime/trace.js';
import { fmt, percentile, printTable } from '../lib/stats.js';

const execFileAsync = promisify(execFile);
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
    oci: { type: 'string', multiple: true },
  },
});
const rounds = flags.quick ? 10 : 30;
const pods = flags.quick ? 20 : 100;

const skip = runtimeSkipReason();
if (skip) {
  console.error(`bench:runtime: ${skip}`);
  process.exit(1);
}

/** A process's RSS, PSS (shared pages divided among their users) and private memory (USS), in KiB. */
function memKiB(pid: number): { rss: number; pss: number; uss: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rss: field('Rss'), pss: field('Pss'), uss: field('Private_Clean') + field('Private_Dirty') };
  } catch {
    return { rss: 0, pss: 0, uss: 0 };
  }
}

/** Processes whose command line mentions `marker` (the monitors of this fixture's containers). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

const stats = (xs: number[]) => [
  fmt(percentile(xs, 50)),
  fmt(percentile(xs, 95)),
  fmt(xs.reduce((a, b) => a + b, 0) / xs.length),
];

/** CPU time (ms) of this process's reaped children (the bare runs), from /proc/self/stat. */
function reapedChildrenCpuMs(pid: number | 'self' = 'self'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime, stime, cutime, cstime are fields 14-17 (1-based); the split starts at field 3.
  const ticks = (i: number) => Number(fields[i - 3]);
  return ((pid === 'self' ? 0 : ticks(14) + ticks(15)) + ticks(16) + ticks(17)) * 10;
}

/** CPU time (ms) of the spawner helper and everything it ran and reaped (monitors, runc, mount...). */
function helperCpuMs(): number {
  let total = 0;
  for (const pid of processesWith('k8ts-spawner').filter((p) => childrenOf(process.pid).includes(p))) {
    try {
      total += reapedChildrenCpuMs(pid);
    } catch {
      // gone
    }
  }
  return total;
}

const ownCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Where one container's time goes: per step, the median wall time and this process's mean CPU time. */
const traced = new Map<string, { wall: number[]; cpu: number[] }>();
let marks: { step: string; at: number; cpu: number }[] = [];
if (flags.trace) setTraceSink((step, _id, at) => marks.push({ step, at, cpu: ownCpuMs() }));
function mark(step: string): void {
  if (flags.trace) marks.push({ step, at: performance.now(), cpu: ownCpuMs() });
}
function collectTrace(oci: string): void {
  marks.sort((a, b) => a.at - b.at);
  for (let j = 1; j < marks.length; j++) {
    const key = `${oci}: ${marks[j - 1]!.step} → ${marks[j]!.step}`;
    const entry = traced.get(key) ?? { wall: [], cpu: [] };
    entry.wall.push(marks[j]!.at - marks[j - 1]!.at);
    entry.cpu.push(marks[j]!.cpu - marks[j - 1]!.cpu);
    traced.set(key, entry);
  }
  marks = [];
}

const rows: string[][] = [];
const cpuRows: string[][] = [];
const overheads: string[] = [];

/** Bare `oci run` of `true` and ours through CRI, with fixture `fx` (whose runtime uses `oci`). */
async function containerLatency(fx: RuntimeFixture, oci: string): Promise<void> {
  // 1. bare `run`: a bundle on an overlay of the image (the mount of our path is part of what we
  // measure, so the bare run gets a ready directory), no network namespace of a pod.
  const work = await mkdtemp(path.join(fx.dir, 'bare-'));
  const { rootfs } = await fx.images.mountRootfs(`bench-bare-${oci}`, fx.image);
  await execFileAsync('runc', ['spec', '--bundle', work]);
  const spec = JSON.parse(readFileSync(path.join(work, 'config.json'), 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string; readonly: boolean };
    linux: { cgroupsPath?: string };
  };
  spec.process.terminal = false;
  spec.process.args = ['true'];
  spec.root = { path: rootfs, readonly: true };
  spec.linux.cgroupsPath = path.posix.join(fx.cgroupParent, `bare-${oci}`);
  await writeFile(path.join(work, 'config.json'), JSON.stringify(spec));
  const bare: number[] = [];
  const bareCpu0 = reapedChildrenCpuMs();
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    // Its state (--root) where ours is, the fixture's state directory (tmpfs, as /run/runc on a usual host).
    await execFileAsync(oci, ['--root', path.join(fx.stateDir, `bare-${oci}`), 'run', '--bundle', work, `bare-${i}`]);
    bare.push(performance.now() - t);
  }
  const bareCpu = (reapedChildrenCpuMs() - bareCpu0) / rounds;
  await fx.images.removeRootfs(`bench-bare-${oci}`);
  rows.push([`bare ${oci} run (true)`, ...stats(bare)]);

  // 2. ours, in one pod: through the CRI socket (as an outside CRI client, crictl or a kubelet of its own,
  // calls it), then in process (as the kubelet of `k8ts server` calls it, the way k3s embeds containerd).
  cpuRows.push([`bare ${oci} run`, fmt(bareCpu), '', '']);
  for (const [via, c] of [
    ['through CRI gRPC', fx.client.runtime],
    ['in process', fx.runtime],
  ] as const) {
    await oursLatency(fx, oci, via, c, bare);
  }
}

/** Our CreateContainer + StartContainer + (exit) + StopContainer + RemoveContainer of `true`, `rounds` times. */
async function oursLatency(fx: RuntimeFixture, oci: string, via: string, c: RuntimeService, bare: number[]): Promise<void> {
  const sandboxConfig = fx.sandboxConfig(`bench-${via.replace(/\W+/g, '-')}`);
  const { podSandboxId } = await c.runPodSandbox({ config: sandboxConfig });
  const ours: number[] = [];
  const phases = {
    create: [] as number[],
    start: [] as number[],
    exit: [] as number[],
    stopRemove: [] as number[],
  };
  const own0 = ownCpuMs();
  const helper0 = helperCpuMs();
  for (let i = 0; i < rounds; i++) {
    marks = [];
    mark('CreateContainer called');
    const t0 = performance.now();
    const { containerId } = await c.createContainer({
      podSandboxId,
      config: {
        metadata: { name: `true-${i}` },
        image: { image: fx.image },
        command: ['true'],
        logPath: `true-${i}.log`,
      },
      sandboxConfig,
    });
    const t1 = performance.now();
    mark('CreateContainer returned');
    await c.startContainer({ containerId });
    const t2 = performance.now();
    mark('StartContainer returned');
    for (;;) {
      const { status } = await c.containerStatus({ containerId });
      if (status?.state === 'CONTAINER_EXITED') break;
      await new Promise((r) => setTimeout(r, 1));
    }
    const t3 = performance.now();
    mark('exited (seen by status)');
    await c.stopContainer({ containerId, timeout: 0 });
    await c.removeContainer({ containerId });
    const t4 = performance.now();
    mark('RemoveContainer returned');
    ours.push(t4 - t0);
    phases.create.push(t1 - t0);
    phases.start.push(t2 - t1);
    phases.exit.push(t3 - t2);
    phases.stopRemove.push(t4 - t3);
    if (i >= 2) collectTrace(`${oci} ${via}`); // after a warm-up
  }
  const ownCpu = (ownCpuMs() - own0) / rounds;
  const helperCpu = (helperCpuMs() - helper0) / rounds;
  await c.removePodSandbox({ podSandboxId });
  rows.push([`ours with ${oci} ${via}: create+start+exit+stop+remove`, ...stats(ours)]);
  rows.push(['  CreateContainer', ...stats(phases.create)]);
  rows.push(['  StartContainer', ...stats(phases.start)]);
  rows.push(['  until exited (seen by status)', ...stats(phases.exit)]);
  rows.push(['  StopContainer+RemoveContainer', ...stats(phases.stopRemove)]);
  overheads.push(
    `overhead per container, ours with ${oci} ${via} over bare ${oci} run (p50): ${fmt(percentile(ours, 50) - percentile(bare, 50))} ms`,
  );
  cpuRows.push([`ours with ${oci} ${via}`, fmt(ownCpu + helperCpu), fmt(ownCpu), fmt(helperCpu)]);
}

const ociRuntimes = flags.oci ?? ['runc', 'crun'].filter((b) => onPath(b));
let fx: RuntimeFixture | undefined;
try {
  for (const oci of ociRuntimes) {
    // The pod benchmarks below run on the first runtime's fixture.
    if (fx !== undefined) {
      await fx.close();
      await rm(fx.dir, { recursive: true, force: true });
    }
    fx = await startRuntimeFixture({ ociRuntime: oci });
    await containerLatency(fx, oci);
  }
  const c = fx!.client.runtime;

  // 3. RunPodSandbox latency (and its removal).
  const run: number[] = [];
  const remove: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const { podSandboxId: id } = await c.runPodSandbox({ config: fx!.sandboxConfig(`sb-${i}`) });
    run.push(performance.now() - t);
    const t2 = performance.now();
    await c.stopPodSandbox({ podSandboxId: id });
    await c.removePodSandbox({ podSandboxId: id });
    remove.push(performance.now() - t2);
  }
  rows.push(['RunPodSandbox', ...stats(run)]);
  rows.push(['StopPodSandbox+RemovePodSandbox', ...stats(remove)]);
  console.log(
    `\nlatency over ${rounds} rounds (ms); load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${availableParallelism()} CPUs\n`,
  );
  printTable(['operation', 'p50', 'p95', 'mean'], rows);
  console.log('');
  for (const line of overheads) console.log(line);
  console.log(
    '\nCPU time per container (ms; this process serves CRI and is its client; the helper counts what it ran)',
  );
  printTable(['', 'total', 'this process', 'helper + children'], cpuRows);
  if (flags.trace) {
    console.log(
      '\none container, step by step (after 2 warm-up rounds): wall p50 and CPU mean of this process (ms)',
    );
    printTable(
      ['step', 'wall p50', 'cpu'],
      [...traced.entries()].map(([k, v]) => [
        k,
        fmt(percentile(v.wall, 50)),
        fmt(v.cpu.reduce((a, b) => a + b, 0) / v.cpu.length),
      ]),
    );
  }

  // 4. Many pods: each a sandbox with one sleeping container.
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const t = performance.now();
  for (let i = 0; i < pods; i++) {
    await fx!.runPod(`many-${i}`, { metadata: { name: 'sleep' }, command: ['sleep', '3600'] });
  }
  const elapsed = performance.now() - t;
  global.gc?.();
  const rssAfter = process.memoryUsage().rss;
  const monitors = processesWith(path.join(fx!.dir, 'runtime', 'containers'));
  const mem = monitors.map(memKiB);
  const sum = (k: 'rss' | 'pss' | 'uss'): number => mem.reduce((acc, m) => acc + m[k], 0);
  const monitorKiB = sum('rss');
  const helpers = processesWith('k8ts-spawner')
    .filter((pid) => childrenOf(process.pid).includes(pid))
    .map(memKiB);
  console.log(`\n${pods} pods (sandbox + sleeping container each) started in ${fmt(elapsed / 1000)} s`);
  printTable(
    ['memory', 'MiB'],
    [
      ['runtime process RSS before', fmt(rssBefore / 2 ** 20)],
      ['runtime process RSS with the pods', fmt(rssAfter / 2 ** 20)],
      [`monitor processes (${monitors.length}), RSS sum`, fmt(monitorKiB / 1024)],
      ['monitors per pod, RSS', fmt(monitorKiB / 1024 / pods)],
      ['monitors per pod, PSS', fmt(sum('pss') / 1024 / pods)],
      ['monitors per pod, private (USS)', fmt(sum('uss') / 1024 / pods)],
      [
        `spawner helper (${helpers.length}), RSS / private`,
        `${fmt(helpers.reduce((a, m) => a + m.rss, 0) / 1024)} / ${fmt(helpers.reduce((a, m) => a + m.uss, 0) / 1024)}`,
      ],
    ],
  );
  console.log(
    "(RSS counts shared pages, Perl's and libc's, in every process: PSS and USS are the monitors' real cost)",
  );
} finally {
  const t = performance.now();
  await fx?.close();
  console.log(`\ncleanup ${fmt((performance.now() - t) / 1000)} s`);
  if (fx) await rm(fx.dir, { recursive: true, force: true });
}
