// Starting programs through a small helper process instead of from Node itself. Node's spawn forks the whole
// process and then blocks its event loop until the child has called exec. Both cost in proportion to the
// process: measured here, a spawn from a Node process of 150-250 MiB costs 7-10 ms of CPU (copying and then
// tearing down its page tables) and blocks the loop 12-23 ms on a loaded machine. The runtime starts about
// ten programs a pod (unshare, CNI plugins, mount, runc), so with many pods starting at once its event loop
// spent half its time inside spawn. The helper is a Perl process of a few MiB (perl-base, which the
// container monitors use too): it forks cheaply, never waits for a child to exec, and reports back on a pipe.
//
// Requests (Node → helper on stdin): "<bytes>\n" then NUL-separated fields: id, detached ("1" or ""), cwd,
// stdin, stdout, stderr (each "p" a pipe, "n" /dev/null, or "f<path>" a file opened read-write, e.g. a FIFO),
// the argument count, the arguments (the program first), the environment's count of pairs, the pairs, and
// last the bytes for a piped stdin. Replies (helper → Node on stdout), one line each: "S id pid" once the
// child has called exec, "E id errno" when it could not be started, "X id status outLen errLen" followed by
// that many bytes of stdout and stderr once it has exited (status as waitpid reports it).
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import os from 'node:os';

/** How a child's stdin, stdout or stderr is set up: collected through a pipe, /dev/null, or a file (FIFO). */
export type SpawnStdio = 'pipe' | 'ignore' | { path: string };

/** Options of startProgram. */
export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdin, stdout, stderr (default all 'pipe'); a file is opened read-write, so a FIFO never blocks. */
  stdio?: [SpawnStdio, SpawnStdio, SpawnStdio];
  /** Written to a piped stdin, which is then closed. */
  input?: string | Buffer;
  /** A new session (setsid): the child outlives us and does not keep this process alive. */
  detached?: boolean;
}

/** How a child ended, with what it printed on piped stdout and stderr. */
export interface ProgramExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** A running child. Emits 'exit' (code, signal) once. */
export class StartedProgram extends EventEmitter {
  readonly pid: number;
  /** Settles when the child has exited and its output has been read. */
  readonly exited: Promise<ProgramExit>;

  constructor(pid: number, exited: Promise<ProgramExit>) {
    super();
    this.pid = pid;
    this.exited = exited;
    exited.then(
      (e) => this.emit('exit', e.code, e.signal),
      () => this.emit('exit', null, null),
    );
  }
}

/** A program that could not be started, with the errno name (ENOENT, EACCES...). */
export class StartError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'StartError';
    this.code = code;
  }
}

const helperScript = String.raw`
use strict; use warnings; use POSIX (); use Fcntl qw(O_RDONLY O_WRONLY O_RDWR F_GETFL F_SETFL O_NONBLOCK);
$SIG{PIPE} = 'IGNORE';
my (%jobs, %readers, %writers, %check); my $buf = ''; my $eof = 0;
sub nonblock { my $fh = shift; fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK); }
pipe(my $sigr, my $sigw) or die; nonblock($sigr); nonblock($sigw);
$SIG{CHLD} = sub { syswrite($sigw, 'x') };
sub put { my $s = shift; my $o = 0;
  while ($o < length $s) { my $w = syswrite(STDOUT, $s, length($s) - $o, $o); if (!defined $w) { next if $!{EINTR} || $!{EAGAIN}; exit 0 } $o += $w } }
sub start {
  my @f = split /\0/, shift, -1;
  my ($id, $detached, $cwd, @spec) = splice(@f, 0, 6);
  my $nargs = shift @f; my @argv = splice(@f, 0, $nargs);
  my $nenv = shift @f; my %env = splice(@f, 0, 2 * $nenv); my $input = join("\0", @f);
  my (@parent, @child);
  for my $i (0 .. 2) {
    next unless $spec[$i] eq 'p';
    pipe(my $r, my $w) or do { put("E $id " . ($! + 0) . "\n"); return };
    ($parent[$i], $child[$i]) = $i == 0 ? ($w, $r) : ($r, $w);
  }
  pipe(my $er, my $ew) or do { put("E $id " . ($! + 0) . "\n"); return };
  my $pid = fork();
  if (!defined $pid) { put("E $id " . ($! + 0) . "\n"); return }
  if ($pid == 0) {
    $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'DEFAULT';
    eval {
      POSIX::setsid() if $detached;
      my @fds;
      for my $i (0 .. 2) {
        my $s = $spec[$i];
        my $fd = $s eq 'p' ? fileno($child[$i]) : $s eq 'n' ? POSIX::open('/dev/null', $i == 0 ? O_RDONLY : O_WRONLY) : POSIX::open(substr($s, 1), O_RDWR);
        die unless defined $fd; push @fds, $fd;
      }
      for my $i (0 .. 2) { next if $fds[$i] == $i; defined POSIX::dup2($fds[$i], $i) or die }
      for my $i (0 .. 2) { POSIX::close($fds[$i]) if $fds[$i] > 2 && $spec[$i] ne 'p' }
      if (length $cwd) { chdir($cwd) or die }
      %ENV = %env;
      exec { $argv[0] } @argv;
    };
    syswrite($ew, ($! + 0) . ''); POSIX::_exit(127);
  }
  close $ew; close $_ for grep { defined } @child;
  my $job = { id => $id, pid => $pid, out => ['', '', ''], open => 1, status => undef, failed => 0, started => 0, errno => '' };
  $jobs{$pid} = $job;
  $readers{fileno $er} = [$job, $er, 'exec'];
  for my $i (1, 2) { next unless $parent[$i]; nonblock($parent[$i]); $readers{fileno $parent[$i]} = [$job, $parent[$i], $i]; $job->{open}++ }
  if ($parent[0]) { if (length $input) { nonblock($parent[0]); $writers{fileno $parent[0]} = [$parent[0], $input, 0] } else { close $parent[0] } }
}
for (;;) {
  my ($r, $w) = ('', '');
  vec($r, 0, 1) = 1 unless $eof; vec($r, fileno $sigr, 1) = 1;
  vec($r, $_, 1) = 1 for keys %readers; vec($w, $_, 1) = 1 for keys %writers;
  my $n = select($r, $w, undef, 1);
  if ($n > 0) {
    if (!$eof && vec($r, 0, 1)) {
      my $got = sysread(STDIN, $buf, 65536, length $buf);
      exit 0 if defined $got && $got == 0;
      while ($buf =~ /^(\d+)\n/ && length($buf) >= length($1) + 1 + $1) {
        my $frame = substr($buf, length($1) + 1, $1); substr($buf, 0, length($1) + 1 + $1) = ''; start($frame);
      }
    }
    if (vec($r, fileno $sigr, 1)) { my $x; sysread($sigr, $x, 512) }
    for my $fd (keys %readers) {
      next unless vec($r, $fd, 1);
      my ($job, $fh, $which) = @{ $readers{$fd} };
      my $data; my $got = sysread($fh, $data, 65536);
      next if !defined $got && ($!{EAGAIN} || $!{EINTR});
      if ($got) { if ($which eq 'exec') { $job->{errno} .= $data } else { $job->{out}[$which] .= $data } next }
      delete $readers{$fd}; close $fh; $job->{open}--; $check{$job->{pid}} = 1;
      if ($which eq 'exec') {
        if (length $job->{errno}) { $job->{failed} = 1; put("E $job->{id} $job->{errno}\n") } else { $job->{started} = 1; put("S $job->{id} $job->{pid}\n") }
      }
    }
    for my $fd (keys %writers) {
      next unless vec($w, $fd, 1);
      my $wr = $writers{$fd};
      my $k = syswrite($wr->[0], $wr->[1], length($wr->[1]) - $wr->[2], $wr->[2]);
      if (defined $k) { $wr->[2] += $k } elsif (!$!{EAGAIN} && !$!{EINTR}) { $wr->[2] = length $wr->[1] }
      if ($wr->[2] >= length $wr->[1]) { close $wr->[0]; delete $writers{$fd} }
    }
  }
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) { if ($jobs{$pid}) { $jobs{$pid}{status} = $?; $check{$pid} = 1 } }
  for my $pid (keys %check) {
    my $job = $jobs{$pid};
    delete $check{$pid} if !$job || $job->{open} == 0;
    next unless $job && defined $job->{status} && $job->{open} == 0;
    put("X $job->{id} $job->{status} " . length($job->{out}[1]) . ' ' . length($job->{out}[2]) . "\n" . $job->{out}[1] . $job->{out}[2]) unless $job->{failed};
    delete $jobs{$pid};
  }
}
`;

interface Pending {
  detached: boolean;
  started: boolean;
  onStarted: (pid: number) => void;
  onExit: (e: ProgramExit) => void;
  onError: (err: Error) => void;
}

const errnoNames = new Map(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));
const signalNames = new Map(Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** The helper process and what waits on it. */
class Helper {
  readonly child: ChildProcess;
  readonly pending = new Map<number, Pending>();
  /** Requests that keep this process alive (not exited yet; detached ones until started). */
  holding = 0;
  #buf: Buffer = Buffer.alloc(0);

  constructor(onGone: (h: Helper) => void) {
    this.child = spawn('perl', ['-e', helperScript, 'k8ts-spawner'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#unref();
    this.child.stdin!.on('error', () => undefined);
    this.child.stdout!.on('data', (b: Buffer) => this.#data(b));
    const gone = (err: Error): void => {
      onGone(this);
      for (const p of this.pending.values()) {
        // A detached child runs on without us; its exit is then seen by its own means (exit files).
        if (!(p.detached && p.started)) p.onError(err);
      }
      this.pending.clear();
    };
    this.child.on('error', gone);
    this.child.on('exit', (code, signal) => gone(new Error(`the spawner helper exited (${signal ?? code})`)));
  }

  #ref(): void {
    this.child.ref();
    (this.child.stdout as unknown as { ref(): void }).ref();
  }
  #unref(): void {
    this.child.unref();
    (this.child.stdout as unknown as { unref(): void }).unref();
  }
  hold(): void {
    if (this.holding++ === 0) this.#ref();
  }
  release(): void {
    if (--this.holding === 0) this.#unref();
  }

  #data(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const nl = this.#buf.indexOf(10);
      if (nl < 0) return;
      const [kind, idText, a, b, c] = this.#buf.subarray(0, nl).toString('latin1').split(' ');
      const id = Number(idText);
      const p = this.pending.get(id);
      if (kind === 'S') {
        this.#buf = this.#buf.subarray(nl + 1);
        if (!p) continue;
        p.started = true;
        if (p.detached) this.release();
        p.onStarted(Number(a));
        continue;
      }
      if (kind === 'E') {
        this.#buf = this.#buf.subarray(nl + 1);
        if (!p) continue;
        this.pending.delete(id);
        this.release();
        const code = errnoNames.get(Number(a));
        p.onError(new StartError(`spawn failed: ${code ?? `errno ${a}`}`, code));
        continue;
      }
      // X id status outLen errLen, then the output.
      const outLen = Number(b);
      const errLen = Number(c);
      if (this.#buf.length < nl + 1 + outLen + errLen) return;
      const stdout = Buffer.from(this.#buf.subarray(nl + 1, nl + 1 + outLen));
      const stderr = Buffer.from(this.#buf.subarray(nl + 1 + outLen, nl + 1 + outLen + errLen));
      this.#buf = this.#buf.subarray(nl + 1 + outLen + errLen);
      if (!p) continue;
      this.pending.delete(id);
      if (!p.detached) this.release();
      const status = Number(a);
      const sig = status & 0x7f;
      p.onExit({ code: sig === 0 ? (status >> 8) & 0xff : null, signal: sig === 0 ? null : (signalNames.get(sig) ?? null), stdout, stderr });
    }
  }
}

let helper: Helper | undefined;
let nextId = 0;

function stdioSpec(s: SpawnStdio): string {
  if (s === 'pipe') return 'p';
  if (s === 'ignore') return 'n';
  return `f${s.path}`;
}

/**
 * Starts `file` with `args` through the helper; resolves once it runs (with its PID and a promise of its
 * exit), rejects with a StartError (code ENOENT and the like) when it could not be started.
 */
export function startProgram(file: string, args: string[], options: StartOptions = {}): Promise<StartedProgram> {
  const h = (helper ??= new Helper((gone) => {
    if (helper === gone) helper = undefined;
  }));
  const id = nextId++;
  const detached = options.detached === true;
  const env = Object.entries(options.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined);
  const fields = [
    String(id),
    detached ? '1' : '',
    options.cwd ?? '',
    ...(options.stdio ?? ['pipe', 'pipe', 'pipe']).map(stdioSpec),
    String(args.length + 1),
    file,
    ...args,
    String(env.length),
    ...env.flat(),
  ];
  const payload = Buffer.concat([Buffer.from(fields.join('\0') + '\0'), Buffer.from(options.input ?? '')]);
  return new Promise<StartedProgram>((resolve, reject) => {
    let exitResolve!: (e: ProgramExit) => void;
    let exitReject!: (err: Error) => void;
    const exited = new Promise<ProgramExit>((res, rej) => {
      exitResolve = res;
      exitReject = rej;
    });
    exited.catch(() => undefined);
    let started: StartedProgram | undefined;
    h.pending.set(id, {
      detached,
      started: false,
      onStarted: (pid) => {
        started = new StartedProgram(pid, exited);
        resolve(started);
      },
      onExit: exitResolve,
      onError: (err) => {
        if (started === undefined) reject(err);
        else exitReject(err);
      },
    });
    h.hold();
    h.child.stdin!.write(Buffer.concat([Buffer.from(`${payload.length}\n`), payload]));
  });
}

/** Runs a program through the helper to its end: its exit and output. */
export async function runProgram(file: string, args: string[], options: StartOptions = {}): Promise<ProgramExit> {
  const child = await startProgram(file, args, options);
  return child.exited;
}
