// The OCI runtime binary (runc by default, crun selectable) driven through its command line.
//
// Containers are watched by a monitor process in its own process group, which outlives a restart of k8ts
// and writes the container's exit status (128+signal when killed) into its exit file:
// - the spawner's monitor (the default, startMonitored): forked by the spawner's helper (no exec of a fresh
//   program), it makes itself a child subreaper and runs `RUNTIME run --detach`; once the runtime has
//   returned it is the parent of the container's init, so it can wait for it. As containerd does, the OCI
//   runtime first runs at StartContainer (CreateContainer prepares the rootfs, spec and stdio): one `run
//   --detach` costs one runtime process where `create` + `start` cost two.
// - `run`, for containers with a tty: `sh` runs `RUNTIME run --keep` in the foreground on a pseudo-terminal
//   (see withTerminal) and records its status.
// Either way the container keeps its cgroup after it exits (no auto-delete), so the OOM kill counter can be
// read; `delete` (or the runtime, for an exited container) removes it. The stdio are FIFOs k8ts owns, which
// the spawner's helper (spawner.ts) opens read-write for the monitor it starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execFileChecked } from './images/exec.js';
import { childrenOf } from './namespaces.js';
import { startProgram, syscallNumbers, type SpawnStdio, type StartedProgram } from './spawner.js';

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

/** The files of a container started under the monitor. */
export interface MonitorFiles extends RunFiles {
  /** Written with "<init PID> <monitor PID>" once the container runs. */
  startedFile: string;
  /** The OCI runtime's own log (JSON lines), where a failed start explains itself. */
  logFile: string;
}

/** A container started under the monitor: its monitor, and the init's PID once it runs. */
export interface MonitoredStart {
  monitor: StartedProgram;
  /** Resolves with the container init's PID once it runs; rejects (StartFailed) when the start failed. */
  running: Promise<number>;
  /** Resolves once the monitor has recorded the container's exit (its note), or has exited itself. */
  ended: Promise<void>;
}

/** The OCI runtime could not start the container (its reason is in the runtime's log). */
export class StartFailed extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`the OCI runtime exited with status ${status}`);
    this.name = 'StartFailed';
    this.status = status;
  }
}

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
   * Starts the container under its monitor with the given stdio (stdin, stdout, stderr: FIFOs, opened
   * read-write) and resolves with the monitor once it runs (detached: it survives us; `exit` still fires
   * while we run).
   */
  run(id: string, files: RunFiles, stdio: [SpawnStdio, SpawnStdio, SpawnStdio], tty = false): Promise<StartedProgram> {
    const args = ['--root', this.root, 'run', ...(this.isCrun ? [] : ['--keep'])];
    args.push('--bundle', files.bundle, '--pid-file', files.pidFile, id);
    const command = tty ? withTerminal([this.binary, ...args]) : [this.binary, ...args];
    return startProgram('/bin/sh', ['-c', monitorScript, 'k8ts-monitor', ...command], {
      detached: true,
      stdio,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', K8TS_EXIT_FILE: files.exitFile },
    });
  }

  /** Whether containers can be started under the spawner's monitor on this machine. */
  get canMonitor(): boolean {
    return syscallNumbers !== undefined;
  }

  /**
   * Starts the container (`RUNTIME run --detach`) under the monitor, forked by the spawner's helper, with the
   * given stdio (stdin, stdout, stderr: FIFOs, opened read-write). The monitor makes itself a child
   * subreaper, so once the runtime has returned it is the parent of the container's init and waits for it;
   * it notes (on the helper's notes socket) when the container runs or that the start failed, then writes the
   * started file; at the end it writes the exit file and notes the exit. Detached: it survives us.
   */
  async startMonitored(
    id: string,
    files: MonitorFiles,
    stdio: [SpawnStdio, SpawnStdio, SpawnStdio],
  ): Promise<MonitoredStart> {
    if (!syscallNumbers) throw new Error(`no container monitor for ${process.arch}`);
    const command = [this.binary, '--root', this.root, '--log', files.logFile, '--log-format', 'json', 'run', '--detach'];
    command.push('--bundle', files.bundle, '--pid-file', files.pidFile, id);
    let report!: (line: string) => void;
    let recorded!: () => void;
    const noted = new Promise<string>((resolve) => (report = resolve));
    const exitNoted = new Promise<void>((resolve) => (recorded = resolve));
    const monitor = await startProgram(
      'k8ts:monitor',
      [files.exitFile, files.startedFile, files.pidFile, ...command],
      {
        detached: true,
        stdio,
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
        onNote: (line) => (line.startsWith('X ') ? recorded() : report(line)),
      },
    );
    // Its notes come on their own socket, so the monitor's exit may be seen first: then the started file
    // says whether the container ran; without it (killed before) the start failed.
    const gone = monitor.exited.then(
      (e) => startedNote(files.startedFile) ?? `F ${e.code ?? 255}`,
      () => startedNote(files.startedFile) ?? 'F 255',
    );
    const running = Promise.race([noted, gone]).then((line) => {
      const [kind, value] = line.split(' ');
      if (kind === 'R') return Number(value);
      throw new StartFailed(Number(value));
    });
    running.catch(() => undefined);
    const ended = Promise.race([exitNoted, monitor.exited.then(() => undefined, () => undefined)]);
    return { monitor, running, ended };
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
  exec(
    id: string,
    processFile: string,
    stdio: ('pipe' | 'ignore' | number)[],
    tty = false,
    size?: { width: number; height: number },
  ): ChildProcess {
    const command = [this.binary, '--root', this.root, 'exec', '--process', processFile, id];
    const [file, ...args] = tty ? withTerminal(command, size) : command;
    return spawn(file!, args, { stdio });
  }
}

/** "R <init PID>" from a monitor's started file ("<init PID> <monitor PID>"), if it was written. */
function startedNote(file: string): string | undefined {
  try {
    const pid = readFileSync(file, 'utf8').trim().split(' ')[0];
    return pid ? `R ${pid}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes a hybrid cgroup host acceptable to crun. crun (1.8) refuses a hybrid layout whose cgroup2 hierarchy
 * still has controllers ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"), as when
 * one controller (hugetlb on these hosts) has no v1 hierarchy; runc does not mind. Each such controller gets a
 * v1 hierarchy of its own, which takes it out of cgroup2: mounted in a private mount namespace (nothing shows in
 * the host's mount table, and the container rootfs mounts of the host stay visible to crun), and kept after
 * that namespace has ended by a child cgroup (a v1 hierarchy with a child cgroup outlives its last mount), so
 * this is done once a boot. Nothing to do on pure v1 or v2 hosts. Resolves with the controllers it moved.
 */
export async function prepareHybridCgroupsForCrun(dir: string, cgroupRoot = '/sys/fs/cgroup'): Promise<string[]> {
  if (existsSync(path.join(cgroupRoot, 'cgroup.controllers'))) return []; // v2
  const unified = path.join(cgroupRoot, 'unified', 'cgroup.controllers');
  const controllers = (): string[] => {
    try {
      return readFileSync(unified, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return []; // v1 without a cgroup2 hierarchy
    }
  };
  const moving = controllers();
  if (moving.length === 0) return [];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const script =
    'for c in "$@"; do mkdir -p "$K8TS_DIR/$c" && mount -t cgroup -o "$c" cgroup "$K8TS_DIR/$c" && ' +
    'mkdir -p "$K8TS_DIR/$c/k8ts-crun" || exit 1; done';
  try {
    await execFileChecked('unshare', ['--mount', '--propagation', 'private', 'env', `K8TS_DIR=${dir}`, 'sh', '-c', script, 'sh', ...moving]);
  } catch (err) {
    throw new Error(
      `crun cannot run on this hybrid cgroup host: moving ${moving.join(', ')} out of cgroup2 failed: ${(err as Error).message}`,
    );
  }
  const left = controllers();
  if (left.length > 0) throw new Error(`crun cannot run on this hybrid cgroup host: cgroup2 still has ${left.join(', ')}`);
  return moving;
}

const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Runs a command on a pseudo-terminal made by util-linux `script` (Node cannot open one): the OCI runtime
 * then finds a terminal on its stdin, as `runc run`/`runc exec` with a tty in the foreground require, and
 * relays it to the container's own terminal. `script -e` exits with the command's status.
 */
function withTerminal(command: string[], size?: { width: number; height: number }): string[] {
  // A size known at the start is the terminal's before the runtime starts (it copies it to the container's
  // terminal then; a SIGWINCH sent before it handles them would be lost).
  const sized = size ? `stty rows ${Math.floor(size.height)} cols ${Math.floor(size.width)} 2>/dev/null; exec ` : '';
  return ['script', '-q', '-e', '-c', sized + command.map(shellQuote).join(' '), '/dev/null'];
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
