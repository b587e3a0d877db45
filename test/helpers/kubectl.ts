// Runs real kubectl binaries against a k8ts server, for end-to-end tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { K8tsProcess } from './k8ts-process.js';

/** The kubectl of a minor version (1.27–1.33) as installed on the test machines. */
export function kubectlPath(minor: number): string {
  const p = `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;
  if (!existsSync(p)) throw new Error(`kubectl 1.${minor} is missing: expected ${p} (google-cloud-sdk's kubectl packages)`);
  return p;
}

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with a kubeconfig, optionally feeding stdin; never throws on a non-zero exit. */
export function kubectl(binary: string, kubeconfig: string, args: string[], stdin?: string, timeoutMs = 60_000): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: process.env.HOME ?? '/root', KUBECTL_KUBERC: 'false' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    // 'close', not 'exit': 'exit' can come before the last of stdout and stderr has been read.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

/**
 * Registers before/after hooks that run `k8ts server` on loopback in a fresh data directory for the
 * enclosing describe(), and returns a kubectl of the given minor version bound to its admin kubeconfig.
 */
export function kubectlAgainstServer(minor: number, name: string, serverArgs: string[] = []): {
  k: (args: string[], stdin?: string) => Promise<KubectlResult>;
  bin: string;
  kubeconfig: string;
} {
  const dir = mkdtempSync(path.join(tmpdir(), `k8ts-${name}-${minor}-`));
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  const bin = kubectlPath(minor);
  let server: K8tsProcess;
  before(async () => {
    server = new K8tsProcess(['server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1', ...serverArgs]);
    await server.waitForLog(/"msg":"API server ready"/);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  });
  return { k: (args, stdin) => kubectl(bin, kubeconfig, args, stdin), bin, kubeconfig };
}

/** A kubectl that keeps running (logs -f, attach, port-forward) until the test has seen what it waits for. */
export interface RunningKubectl {
  /** Everything it wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Waits until stdout matches, or fails after the deadline with both outputs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Ends it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Writes to its stdin. */
  write(text: string): void;
}

/** Starts kubectl in the background; `tty` runs it on a pseudo-terminal (util-linux `script`), as a user's shell would. */
export function kubectlInBackground(binary: string, kubeconfig: string, args: string[], options: { tty?: boolean } = {}): RunningKubectl {
  const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  const [cmd, argv] = options.tty ? ['script', ['-qefc', [binary, ...args].map(quote).join(' '), '/dev/null']] : [binary, args];
  const child = spawn(cmd, argv, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: process.env.HOME ?? '/root', KUBECTL_KUBERC: 'false' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: async (pattern, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(stdout);
        if (m) return m;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`kubectl ${args.join(' ')}: no ${pattern} (exit ${child.exitCode})\nstdout: ${stdout}\nstderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    write: (text) => void child.stdin.write(text),
  };
}
