// A real one-member etcd for tests: Debian's etcd-server binary, on free loopback ports, with its data in a
// fresh temporary directory. Elections are tuned fast (10 ms heartbeats, 100 ms election timeout), so a
// member is ready in about a tenth of a second and answers again soon after a restart.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where Debian's etcd-server package puts the binary. */
export const etcdBinary = process.env['K8TS_ETCD_BINARY'] ?? '/usr/bin/etcd';

export interface EtcdServerOptions {
  /** The parent of the temporary directory (default: the OS temp dir). */
  baseDir?: string;
  /** How long to wait for the member to answer, in ms. */
  readyTimeoutMs?: number;
  /** Extra etcd flags. */
  extraArgs?: string[];
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

const live = new Set<ChildProcess>();
let exitHook = false;
/** If the test process dies without stopping its servers, take them along. */
function killOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** One etcd member started for a test. */
export class EtcdServer {
  /** The client URL, e.g. "http://127.0.0.1:41234". */
  readonly endpoint: string;
  readonly dir: string;
  private readonly clientPort: number;
  private readonly peerPort: number;
  private readonly options: EtcdServerOptions;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private launches = 0;

  private constructor(dir: string, clientPort: number, peerPort: number, options: EtcdServerOptions) {
    this.dir = dir;
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.options = options;
    this.endpoint = `http://127.0.0.1:${clientPort}`;
  }

  /** Starts a member and waits until it answers. Fails naming the Debian package when etcd is missing. */
  static async start(options: EtcdServerOptions = {}): Promise<EtcdServer> {
    if (!existsSync(etcdBinary)) {
      throw new Error(
        `etcd is not installed: ${etcdBinary} is missing. Install the Debian package etcd-server ` +
          '(apt-get install etcd-server) or point K8TS_ETCD_BINARY at an etcd 3.4+ binary.',
      );
    }
    // A port found free may be taken before etcd binds it: try a few pairs.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = mkdtempSync(path.join(options.baseDir ?? tmpdir(), 'k8ts-etcd-'));
      const server = new EtcdServer(dir, await freePort(), await freePort(), options);
      try {
        await server.launch();
        return server;
      } catch (err) {
        lastError = err;
        await server.stop();
        if (!/address already in use/i.test(String(err))) break;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** etcd's --data-dir. */
  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** The PID of the running etcd process (undefined while it is stopped). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Kills the process (SIGKILL by default: a crash) and waits for it to exit; the data stays. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // exited meanwhile
      }
    }
    await this.exited;
    this.child = undefined;
  }

  /** Stops the process and starts it again on the same ports and data. */
  async restart(options: { signal?: NodeJS.Signals; downMs?: number } = {}): Promise<void> {
    await this.kill(options.signal ?? 'SIGTERM');
    if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
    await this.launch();
  }

  /** Starts the process again after kill(). */
  async start(): Promise<void> {
    if (this.child !== undefined) return;
    await this.launch();
  }

  /** Kills the process and removes its directory. */
  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private log(): string {
    try {
      return readFileSync(path.join(this.dir, 'etcd.log'), 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  }

  private async launch(): Promise<void> {
    this.launches += 1;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const args = [
      '--name=k8ts-test',
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=${this.endpoint}`,
      `--advertise-client-urls=${this.endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=k8ts-test=${peer}`,
      '--initial-cluster-state=new',
      '--heartbeat-interval=10',
      '--election-timeout=100',
      '--logger=zap',
      '--log-outputs=stderr',
      ...(this.options.extraArgs ?? []),
    ];
    const logFd = openSync(path.join(this.dir, 'etcd.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(etcdBinary, args, { stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    this.child = child;
    live.add(child);
    killOnExit();
    let exitedEarly = false;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exitedEarly = true;
        live.delete(child);
        resolve();
      });
      child.once('error', () => {
        exitedEarly = true;
        live.delete(child);
        resolve();
      });
    });
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 15_000);
    for (;;) {
      if (exitedEarly) {
        this.child = undefined;
        throw new Error(`etcd exited before it answered (launch ${this.launches}):\n${this.log()}`);
      }
      if (await healthy(this.endpoint)) return;
      if (Date.now() > deadline) {
        await this.kill('SIGKILL');
        throw new Error(`etcd did not answer at ${this.endpoint} within the deadline:\n${this.log()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Starts a test etcd member (EtcdServer.start). */
export function startEtcd(options: EtcdServerOptions = {}): Promise<EtcdServer> {
  return EtcdServer.start(options);
}
