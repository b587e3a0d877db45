// The OCI runtime binary (runc by default, crun selectable) driven through its command line.
//
// Containers are watched by a monitor process started in its own session, which outlives a restart of k8ts
// and writes the container's exit status (128+signal when killed) into its exit file:
// - `create` (the default): a small Perl monitor makes itself a child subreaper, runs `RUNTIME create`, and,
//   once the runtime has exited, is the parent of the container's init, so it can wait for it. CreateContainer
//   creates the container and StartContainer only runs `RUNTIME start`, as CRI means them. Perl (perl-base,
//   always on Debian) costs about 5 MiB a container; a Go `runc run` parent would cost about 10.
// - `run`, for containers with a tty: `sh` runs `RUNTIME run --keep` in the foreground on a pseudo-terminal
//   (see withTerminal) and records its status.
// Either way the container keeps its cgroup after it exits (no auto-delete), so the OOM kill counter can be
// read; `delete` (or the runtime, for an exited container) removes it. The stdio are FIFOs k8ts owns, which
// the spawner's helper (spawner.ts) opens read-write for the monitor it starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { execFileChecked } from './images/exec.js';
import { childrenOf } from './namespaces.js';
import { startProgram, type SpawnStdio, type StartedProgram } from './spawner.js';

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

// The create monitor. Arguments: prctl's syscall number, the exit file, the "created" file, the pid file,
// then the create command. A failed create leaves its status in "<exit file>.create".
const createMonitorScript = `
my ($nr, $exit, $created, $pidfile, @cmd) = @ARGV;
sub finish { my ($f, $c) = @_; open(my $o, '>', "$f.tmp") or exit 2; print $o "$c\\n"; close $o; rename("$f.tmp", $f); }
sub status { my $s = shift; return $s == -1 ? 127 : ($s & 127) ? 128 + ($s & 127) : $s >> 8; }
syscall($nr, 36, 1, 0, 0, 0);
my $rc = system(@cmd);
if ($rc != 0) { finish("$exit.create", status($rc)); exit 1; }
open(my $p, '<', $pidfile) or do { finish("$exit.create", 255); exit 1 };
my $pid = <$p>; close $p; $pid =~ s/\\s+//g;
finish($created, $pid);
for (;;) {
  my $w = wait();
  if ($w == -1) { while (kill(0, $pid)) { select(undef, undef, undef, 0.1); } finish($exit, 255); exit 0; }
  if ($w == $pid) { finish($exit, status($?)); exit 0; }
}
`;

/** prctl's system call number, where the create monitor knows it. */
const prctlSyscall: Partial<Record<NodeJS.Architecture, number>> = { x64: 157, arm64: 167 };

/** The files of a container watched by the create monitor. */
export interface CreateFiles extends RunFiles {
  /** Written with the init's PID once the container is created. */
  createdFile: string;
  /** The OCI runtime's own log (JSON lines), where a failed create explains itself. */
  logFile: string;
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

  /** Whether containers can be created under the Perl monitor on this machine. */
  get canCreate(): boolean {
    return prctlSyscall[process.arch] !== undefined;
  }

  /**
   * Creates the container under the create monitor with the given stdio (stdin, stdout, stderr: FIFOs,
   * opened read-write) and resolves with the monitor once it runs (detached). Created: `files.createdFile`
   * appears; failed: `<exitFile>.create` appears (the reason is in `files.logFile`).
   */
  create(id: string, files: CreateFiles, stdio: [SpawnStdio, SpawnStdio, SpawnStdio]): Promise<StartedProgram> {
    const nr = prctlSyscall[process.arch];
    if (nr === undefined) throw new Error(`no create monitor for ${process.arch}`);
    const command = [
      this.binary,
      '--root',
      this.root,
      '--log',
      files.logFile,
      '--log-format',
      'json',
      'create',
    ];
    command.push('--bundle', files.bundle, '--pid-file', files.pidFile, id);
    return startProgram(
      'perl',
      ['-e', createMonitorScript, String(nr), files.exitFile, files.createdFile, files.pidFile, ...command],
      { detached: true, stdio, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
  }

  /** Starts a created container. */
  async start(id: string): Promise<void> {
    await execFileChecked(this.binary, ['--root', this.root, 'start', id]);
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
