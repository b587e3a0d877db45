// Starts `k8ts server` in a fresh data directory for a benchmark (the dist build when there is one, else
// the sources through tsx) and waits until a log line says the part under test runs.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface BenchServer {
  child: ChildProcess;
  kubeconfig: string;
  /** "dist build" or "tsx sources". */
  build: string;
  /** CPU seconds (utime + stime) of the whole process, or of its main thread alone. */
  cpuSeconds(mainThreadOnly?: boolean): number;
  stop(): Promise<void>;
}

/** Starts the server with `extraArgs`; resolves once its log matches `ready` (by default: controllers started). */
export async function startBenchServer(name: string, extraArgs: string[] = [], ready = /"msg":"started controllers"/): Promise<BenchServer> {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const dir = mkdtempSync(path.join(tmpdir(), `k8ts-bench-${name}-`));
  const dist = path.join(root, 'dist', 'cli', 'main.js');
  const cmd = existsSync(dist) ? [dist] : ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')];
  // Never the kube-proxy (it would program this machine's nftables), nor the server's own kubelet (it would
  // run containers on this machine's built-in runtime).
  const args = ['server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1', '--disable-kube-proxy', '--disable-agent', ...extraArgs];
  // K8TS_BENCH_NODE_ARGS passes flags to the server's node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const nodeArgs = (process.env.K8TS_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...cmd, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  child.stdout.on('data', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (ready.test(log)) {
        clearInterval(t);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(t);
        reject(new Error(log));
      }
    }, 10);
  });
  return {
    child,
    kubeconfig: path.join(dir, 'kubeconfig.yaml'),
    build: existsSync(dist) ? 'dist build' : 'tsx sources',
    cpuSeconds(mainThreadOnly = false) {
      const stat = mainThreadOnly ? `/proc/${child.pid}/task/${child.pid}/stat` : `/proc/${child.pid}/stat`;
      const f = readFileSync(stat, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (100 Hz)
    },
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
