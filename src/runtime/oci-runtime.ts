// The OCI runtime binary (runc by default, crun selectable) driven through its command line.
//
// A container runs as `RUNTIME run --keep` in the foreground under a small `sh` monitor started in its own
// session: the OCI runtime stays the container's parent and exits with its status (128+signal when killed),
// the shell writes that status into the container's exit file, and both outlive a restart of k8ts. The
// container's stdio are FIFOs that k8ts owns (see logs.ts). `--keep` leaves the container and its cgroup in
// place after it exits, so the OOM kill counter can still be read; `delete` removes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { execFileChecked } from './images/exec.js';

/** Which OCI runtime binary. */
export interface OciRuntimeOptions {
  /** "runc", "crun" or a path. */
  binary: string;
  /** The runtime's state directory (--root), e.g. /run/k8ts/runc. */
  root: string;
}

/** What `state` reports. */
export interface OciState {
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  pid: number;
}

/** The files of one monitored container. */
export interface RunFiles {
  bundle: string;
  pidFile: string;
  exitFile: string;
}

// The monitor: runs the OCI runtime, then records its exit status atomically.
const monitorScript =
  '"$@"; code=$?; echo "$code" > "$K8TS_EXIT_FILE.tmp"; mv "$K8TS_EXIT_FILE.tmp" "$K8TS_EXIT_FILE"';

/** Drives runc or crun. */
export class OciRuntime {
  readonly binary: string;
  readonly root: string;

  constructor(options: OciRuntimeOptions) {
    this.binary = options.binary;
    this.root = options.root;
  }

  /** True for crun (no `run --keep`: the container is deleted when it exits). */
  get isCrun(): boolean {
    return /(^|\/)crun$/.test(this.binary);
  }

  /**
   * Starts the container under its monitor with the given stdio file descriptors (stdin, stdout, stderr)
   * and returns the monitor (detached: it survives us; `exit` still fires while we run).
   */
  run(id: string, files: RunFiles, stdio: [number | 'ignore', number, number], tty = false): ChildProcess {
    const args = ['--root', this.root, 'run', ...(this.isCrun ? [] : ['--keep'])];
    args.push('--bundle', files.bundle, '--pid-file', files.pidFile, id);
    const command = tty ? withTerminal([this.binary, ...args]) : [this.binary, ...args];
    const child = spawn('/bin/sh', ['-c', monitorScript, 'k8ts-monitor', ...command], {
      detached: true,
      stdio,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', K8TS_EXIT_FILE: files.exitFile },
    });
    child.unref();
    return child;
  }

  /** Sends a signal to the container's init (or all its processes). */
  async kill(id: string, signal: string, all = false): Promise<void> {
    await execFileChecked(this.binary, ['--root', this.root, 'kill', ...(all ? ['--all'] : []), id, signal]);
  }

  /** Deletes the container (force: kill it first); an unknown container is not an error. */
  async delete(id: string, force = true): Promise<void> {
    try {
      await execFileChecked(this.binary, ['--root', this.root, 'delete', ...(force ? ['--force'] : []), id]);
    } catch (err) {
      if (!/does not exist|not exist|No such file/i.test((err as Error).message)) throw err;
    }
  }

  /** The container's state, or undefined when the runtime does not know it. */
  async state(id: string): Promise<OciState | undefined> {
    try {
      const { stdout } = await execFileChecked(this.binary, ['--root', this.root, 'state', id]);
      return JSON.parse(stdout) as OciState;
    } catch {
      return undefined;
    }
  }

  /**
   * Runs a process in the container in the foreground (`exec --process FILE`), its stdio passed through as
   * given; the child's exit status is the process'.
   */
  exec(id: string, processFile: string, stdio: ('pipe' | 'ignore' | number)[], tty = false): ChildProcess {
    const command = [this.binary, '--root', this.root, 'exec', '--process', processFile, id];
    const [file, ...args] = tty ? withTerminal(command) : command;
    return spawn(file!, args, { stdio });
  }
}

const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Runs a command on a pseudo-terminal made by util-linux `script` (Node cannot open one): the OCI runtime
 * then finds a terminal on its stdin, as `runc run`/`runc exec` with a tty in the foreground require, and
 * relays it to the container's own terminal. `script -e` exits with the command's status.
 */
function withTerminal(command: string[]): string[] {
  return ['script', '-q', '-e', '-c', command.map(shellQuote).join(' '), '/dev/null'];
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The pseudo-terminal under `pid` (the first descendant whose stdin is one), if any. */
export function findTerminal(pid: number): string | undefined {
  const queue = [pid];
  for (let seen = 0; queue.length > 0 && seen < 64; seen++) {
    const p = queue.shift()!;
    try {
      const stdin = readlinkSync(`/proc/${p}/fd/0`);
      if (stdin.startsWith('/dev/pts/')) return stdin;
    } catch {
      // gone, or not ours
    }
    queue.push(...childrenOf(p));
  }
  return undefined;
}

/**
 * Sets the size of the terminal under `pid`; the kernel sends SIGWINCH to its foreground process (the OCI
 * runtime), which resizes the container's terminal to match.
 */
export async function resizeTerminal(pid: number, size: { width: number; height: number }): Promise<void> {
  const pts = findTerminal(pid);
  if (pts === undefined) return;
  await execFileChecked('stty', ['-F', pts, 'rows', String(size.height), 'cols', String(size.width)]);
}
