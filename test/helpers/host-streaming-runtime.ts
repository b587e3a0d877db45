// A TEST DOUBLE of the container runtime's streaming operations, for testing the kubelet server's protocol
// logic: "exec" runs the command on this host in a temporary directory (no container, no pty), "attach"
// greets and echoes stdin back, port-forward connects to 127.0.0.1:PORT, and logs are CRI-format files the
// test writes. The real runtime replaces it in the runtime's own end-to-end tests.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { ContainerLog, ContainerRef, ExecResult, PodRef, StreamingIO, StreamingRuntime, TerminalSize } from '../../src/kubelet/server/streaming-runtime.js';
import { RuntimeNotFoundError } from '../../src/kubelet/server/streaming-runtime.js';

/** Formats a CRI log line. */
export function criLine(time: Date | string, stream: 'stdout' | 'stderr', text: string, partial = false): string {
  const t = typeof time === 'string' ? time : time.toISOString().replace('Z', '000000Z');
  return `${t} ${stream} ${partial ? 'P' : 'F'} ${text}\n`;
}

/** The test double; see the file comment. */
export class HostStreamingRuntime implements StreamingRuntime {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'k8ts-host-runtime-'));
  /** Terminal sizes each tty exec saw, in order. */
  readonly resizes: TerminalSize[][] = [];
  /** Containers whose logs a follow should keep waiting on. */
  readonly running = new Set<string>();

  logPath(ref: { namespace: string; name: string; container: string }, previous = false): string {
    return path.join(this.dir, 'logs', `${ref.namespace}_${ref.name}`, ref.container, previous ? '0.log' : '1.log');
  }

  /** Appends CRI lines to a container's log. */
  appendLog(ref: { namespace: string; name: string; container: string }, lines: string, previous = false): void {
    const file = this.logPath(ref, previous);
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, lines);
  }

  exec(_container: ContainerRef, command: string[], io: StreamingIO): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(command[0]!, command.slice(1), { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
      let failed: Error | undefined;
      child.on('error', (err) => {
        failed = new Error(`exec: "${command[0]}": ${err.message}`);
        reject(failed);
      });
      if (io.stdin) {
        io.stdin.pipe(child.stdin);
        child.stdin.on('error', () => undefined);
      } else child.stdin.end();
      if (io.stdout) child.stdout.pipe(io.stdout, { end: false });
      else child.stdout.resume();
      // A terminal merges the two outputs.
      const errOut = io.tty ? io.stdout : io.stderr;
      if (errOut) child.stderr.pipe(errOut, { end: false });
      else child.stderr.resume();
      if (io.resize) {
        const seen: TerminalSize[] = [];
        this.resizes.push(seen);
        void (async () => {
          for await (const size of io.resize!) seen.push(size);
        })();
      }
      const onAbort = (): void => void child.kill('SIGKILL');
      io.signal.addEventListener('abort', onAbort, { once: true });
      child.on('close', (code, sig) => {
        io.signal.removeEventListener('abort', onAbort);
        // A command that never started is an error, not an exit code, whichever event comes first.
        if (failed || child.pid === undefined) reject(failed ?? new Error(`exec: "${command[0]}": could not start`));
        else resolve({ exitCode: code ?? (sig ? 128 + 9 : 1) });
      });
    });
  }

  async attach(container: ContainerRef, io: StreamingIO): Promise<void> {
    io.stdout?.write(`attached to ${container.container}\n`);
    if (!io.stdin) return;
    for await (const chunk of io.stdin) {
      const text = (chunk as Buffer).toString('utf8');
      io.stdout?.write(`echo: ${text}`);
      if (text.includes('bye')) break;
    }
  }

  portForward(_pod: PodRef, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let connected = false;
      sock.once('connect', () => {
        connected = true;
        stream.pipe(sock);
        sock.pipe(stream);
      });
      sock.on('error', (err) => {
        if (!connected) reject(new Error(`dial tcp4 127.0.0.1:${port}: connect: connection refused (${err.message})`));
        else resolve();
      });
      const onAbort = (): void => void sock.destroy();
      signal.addEventListener('abort', onAbort, { once: true });
      sock.on('close', () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  async containerLog(container: ContainerRef, previous: boolean): Promise<ContainerLog> {
    const file = this.logPath(container, previous);
    if (!existsSync(file)) throw new RuntimeNotFoundError(`container "${container.container}" in pod "${container.name}" has no log`);
    const key = `${container.namespace}/${container.name}/${container.container}`;
    return { path: file, running: async () => !previous && this.running.has(key) };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
