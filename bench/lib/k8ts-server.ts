// Starts `k8ts server` in a fresh data directory for a benchmark (the dist build when there is one, else
// the sources through tsx) and waits until its controllers run.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface BenchServer {
  child: ChildProcess;
  kubeconfig: string;
  /** "dist build" or "tsx sources". */
  build: string;
  stop(): Promise<void>;
}

export async function startBenchServer(name: string, extraArgs: string[] = []): Promise<BenchServer> {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const dir = mkdtempSync(path.join(tmpdir(), `k8ts-bench-${name}-`));
  const dist = path.join(root, 'dist', 'cli', 'main.js');
  const cmd = existsSync(dist) ? [dist] : ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')];
  // Never the kube-proxy: it would program this machine's nftables.
  const args = ['server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1', '--disable-kube-proxy', ...extraArgs];
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
      if (/"msg":"started controllers"/.test(log)) {
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
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
