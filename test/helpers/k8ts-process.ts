// Runs the k8ts CLI from source as a child process, for end-to-end tests.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';

const mainTs = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/** Runs `k8ts ARGS` to completion. */
export function runK8ts(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`k8ts ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running k8ts process (e.g. `server`) whose log lines can be awaited. */
export class K8tsProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  private logText = '';
  private readonly exited: Promise<number | null>;

  /**
   * Starts `k8ts ARGS`. A server's or agent's kube-proxy would program the host's nftables, so it runs only
   * inside a network namespace the test made (`netns`); elsewhere they get --disable-kube-proxy. A server's
   * own kubelet would run containers on the host's built-in runtime, so a server gets --disable-agent unless
   * the test asks for a kubelet: `agent: true`, --container-runtime-endpoint or --simulate-nodes. A kubelet
   * for this machine gets --kubelet-port 0 unless the test names a port. `ip netns exec` gives the process
   * its own mount namespace with the namespace's /sys (so no cgroup mounts): `hostMounts` enters only the
   * network namespace instead, as a container runtime needs.
   */
  constructor(args: string[], options: { netns?: string; agent?: boolean; hostMounts?: boolean } = {}) {
    const all = [...args];
    if ((all[0] === 'server' || all[0] === 'agent') && options.netns === undefined && !all.includes('--disable-kube-proxy')) all.push('--disable-kube-proxy');
    const wantsKubelet = options.agent === true || all.some((a) => /^--(container-runtime-endpoint|simulate-nodes)(=|$)/.test(a));
    if (all[0] === 'server' && !wantsKubelet && !all.includes('--disable-agent')) all.push('--disable-agent');
    // A kubelet's server would take port 10250, which parallel tests share: tests get a free port.
    const machineKubelet = options.agent === true || all.includes('--container-runtime-endpoint');
    if ((all[0] === 'server' || all[0] === 'agent') && machineKubelet && !all.includes('--kubelet-port')) all.push('--kubelet-port', '0');
    const cmd = [process.execPath, '--import', 'tsx', mainTs, ...all];
    const ns = options.netns;
    const argv = ns === undefined ? cmd : [...(options.hostMounts === true ? ['nsenter', `--net=/run/netns/${ns}`, '--'] : ['ip', 'netns', 'exec', ns]), ...cmd];
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => (this.logText += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.logText += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get output(): string {
    return this.logText;
  }

  /** Waits until a log line matches, or fails after the deadline with the output so far. */
  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.logText);
      if (m) return m;
      if (this.child.exitCode !== null) throw new Error(`k8ts exited (${this.child.exitCode}) before ${pattern}:\n${this.logText}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${this.logText}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
