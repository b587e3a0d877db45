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
// child has called exec, "E id errno" when it could not be started, and "X id status outLen errLen" followed
// by that many bytes of stdout and stderr once it has exited (status as waitpid reports it). A monitor writes
// its own lines ("id line") on fd 3, a socket to Node that all monitors share, without the helper.
//
// A program named "k8ts:NAME" is one of the helper's builtins, run in the forked child without an exec (a
// fork of the small helper costs a fraction of a millisecond, an exec of a fresh program several): `ops`
// makes file system calls itself (mount(2) and umount2(2), where mount(8) and umount(8) cost 2-3 ms each, and
// removals); `monitor` is the container monitor (oci-runtime.ts), which reports on a pipe of its own when the
// container runs. A batch of `ops` runs in the helper itself, without a fork: a fork of the helper costs about
// a millisecond of CPU in the child and as much again in the helper, whose pages its writes then copy (the
// fork shares them copy-on-write). Only when a removal turns out big (more than a few hundred entries) or a
// cgroup is still busy does the rest of the batch go on in a forked child, so the helper never stalls.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
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
  /**
   * The child outlives us and does not keep this process alive. It leads a process group of its own (a
   * terminal's Ctrl-C or hangup reaches only our group) but stays in our session: a new session would be a new
   * scheduler autogroup, which starts with no load history and gets a small share of a busy machine (the OCI
   * runtime under a container's monitor took a third longer than one started in our session, under load).
   */
  detached?: boolean;
  /** Lines a builtin monitor (k8ts:monitor) reports on the notes socket, as they come. */
  onNote?: (line: string) => void;
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
use strict; use warnings; use POSIX (); use Fcntl qw(O_RDONLY O_WRONLY O_RDWR F_GETFL F_SETFL O_NONBLOCK F_SETFD FD_CLOEXEC);
$SIG{PIPE} = 'IGNORE';
my (%jobs, %readers, %writers, %check); my $buf = ''; my $eof = 0;
sub nonblock { my $fh = shift; fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK); }
# In a child that runs a builtin (no exec): closes every descriptor above stderr but the given ones.
sub closefds {
  my %keep = map { $_ => 1 } @_;
  opendir(my $d, '/proc/self/fd') or return; my @fds = grep { /^\d+$/ && $_ > 2 && !$keep{$_} } readdir($d); closedir($d);
  POSIX::close($_) for @fds;
}
sub finish { my ($f, $c) = @_; open(my $o, '>', "$f.tmp") or return; print $o "$c\n"; close $o; rename("$f.tmp", $f); }
sub wstatus { my $s = shift; return $s == -1 ? 127 : ($s & 127) ? 128 + ($s & 127) : $s >> 8; }
# A monitor's notes go straight to Node on fd 3 (a socket every monitor shares; a short write is never split),
# "ID LINE", without a trip through the helper.
our $job_id;
sub tell_note { my ($fh, $line) = @_; return unless $fh; local $SIG{PIPE} = 'IGNORE'; syswrite($fh, "$job_id $line\n"); }
my ($SYS_mount, $SYS_umount2, $SYS_prctl) = map { $_ + 0 } @ARGV[1 .. 3];
# In the helper itself: how many more entries a removal may take before the rest goes to a child (undef in a
# child: no limit). Running out, or a busy cgroup, dies with "defer".
our $budget;
sub spend { die "defer\n" if defined $budget && --$budget < 0 }
# Removes a tree without following symbolic links or entering another file system.
sub rmtree {
  my ($p, $dev) = @_; my @st = lstat($p) or return;
  spend();
  if (!-d _) { unlink($p); return }
  return if defined $dev && $st[0] != $dev;
  if (opendir(my $d, $p)) { my @e = grep { $_ ne '.' && $_ ne '..' } readdir($d); closedir($d); rmtree("$p/$_", $st[0]) for @e }
  rmdir($p);
}
# Removes an empty cgroup (and child cgroups): its control files go with it; a task that lingers a moment
# after its container ended makes it busy, so that is retried for a while.
sub rmcgroup {
  my $p = shift;
  for my $try (0 .. 20) {
    return if rmdir($p) || $!{ENOENT};
    if ($!{ENOTEMPTY} || $!{EEXIST}) {
      opendir(my $d, $p) or return; my @sub = grep { $_ ne '.' && $_ ne '..' && !-l "$p/$_" && -d _ } readdir($d); closedir($d);
      rmcgroup("$p/$_") for @sub; next;
    }
    return unless $!{EBUSY};
    die "defer\n" if defined $budget;
    select(undef, undef, undef, 0.01);
  }
}
# Each operation: its argument count and its code, which returns an error message or ''. Only the removals
# may defer (they are the ones that can be repeated: what is gone is skipped).
my %ops = (
  mkdir => [2, sub { my ($p, $mode) = @_; mkdir($p, oct $mode) || $!{EEXIST} ? '' : "mkdir $p: $!" }],
  mount => [5, sub {
    my ($src, $target, $type, $flags, $data) = @_;
    syscall($SYS_mount, $src, $target, $type, $flags + 0, $data) == 0 ? '' : "mount $target: $!" }],
  # Not (or no longer) a mount point is no error.
  umount => [2, sub {
    my ($target, $flags) = @_;
    syscall($SYS_umount2, $target, $flags + 0) == 0 || $!{EINVAL} || $!{ENOENT} ? '' : "umount $target: $!" }],
  rmtree => [1, sub { rmtree($_[0]); '' }],
  rmcgroup => [1, sub { rmcgroup($_[0]); '' }],
);
# Runs up to $count operations (NAME ARGS...) in turn (-1: all), stopping at the first that fails. Returns
# its error (or ''), whether an operation deferred (run with a budget, in the helper), and the operations
# left (from the deferred one on).
sub run_ops {
  my ($limit, $count, @a) = @_;
  while (@a && $count--) {
    my $name = $a[0];
    my $op = $ops{$name} or return ('unknown operation', 0);
    my @args = @a[1 .. $op->[0]];
    local $budget = $limit;
    my $err = eval { $op->[1]->(@args) };
    if (!defined $err) { return ('', 1, @a) if $@ eq "defer\n"; return ("$name: $@", 0) }
    return ($err, 0) if length $err;
    splice(@a, 0, 1 + $op->[0]);
  }
  return ('', 0, @a);
}
# Whether a batch of operations removes something (then it runs in the background, a step at a time).
sub removes {
  my @a = @_;
  while (@a) { my $op = $ops{$a[0]} or return 0; return 1 if $a[0] =~ /^rm/; splice(@a, 0, 1 + $op->[0]) }
  return 0;
}
my %builtins = (
  # ops (NAME ARGS...)...: file system operations in turn (see %ops), stopping at the first that fails.
  ops => sub {
    my (undef, @a) = @_;
    my ($err) = run_ops(undef, -1, @a);
    return 0 unless length $err;
    print STDERR "$err\n";
    return 32;
  },
  # monitor EXIT STARTED PIDFILE COMMAND...: the container monitor (see oci-runtime.ts).
  monitor => sub {
    my ($note, $exit, $started, $pidfile, @cmd) = @_;
    syscall($SYS_prctl, 36, 1, 0, 0, 0);
    my $rc = system { $cmd[0] } @cmd;
    if ($rc != 0) { finish("$exit.start", wstatus($rc)); tell_note($note, 'F ' . wstatus($rc)); return 1 }
    my $pid = '';
    if (open(my $p, '<', $pidfile)) { $pid = <$p> // ''; close $p; $pid =~ s/\s+//g }
    if ($pid !~ /^\d+$/) { finish("$exit.start", 255); tell_note($note, 'F 255'); return 1 }
    # Noted first (StartContainer waits for it), then written for a restarted runtime (read at its start, long
    # after this).
    tell_note($note, "R $pid");
    finish($started, "$pid $$");
    for (;;) {
      my $w = wait();
      if ($w == -1) { while (kill(0, $pid)) { select(undef, undef, undef, 0.1) } finish($exit, 255); tell_note($note, 'X 255'); return 0 }
      if ($w == $pid) { my $code = wstatus($?); finish($exit, $code); tell_note($note, "X $code"); return 0 }
    }
  },
);
opendir(my $home, '.') or die "the helper's working directory: $!";
# Node's end of the monitors' notes; kept from the programs the helper runs (close-on-exec), not from the
# monitors it forks.
open(my $notes, '>&=', 3) or die "fd 3: $!"; fcntl($notes, F_SETFD, FD_CLOEXEC);
pipe(my $sigr, my $sigw) or die; nonblock($sigr); nonblock($sigw);
$SIG{CHLD} = sub { syswrite($sigw, 'x') };
sub put { my $s = shift; my $o = 0;
  while ($o < length $s) { my $w = syswrite(STDOUT, $s, length($s) - $o, $o); if (!defined $w) { next if $!{EINTR} || $!{EAGAIN}; exit 0 } $o += $w } }
# Batches of operations that remove something, run a step (one operation) at a time between requests.
my @background;
sub ops_done {
  my ($id, $err) = @_;
  $err .= "\n" if length $err;
  put("S $id 0\n");
  put("X $id " . ((length $err ? 32 : 0) << 8) . " 0 " . length($err) . "\n" . $err);
}
# Runs operations in the helper (from $cwd, with a budget): returns as run_ops does.
sub ops_here {
  my ($cwd, $count, @a) = @_;
  return ("chdir $cwd: $!", 0) if length $cwd && !chdir($cwd);
  my @r = run_ops(256, $count, @a);
  chdir($home) if length $cwd;
  return @r;
}
sub start {
  my @f = split /\0/, shift, -1;
  my ($id, $detached, $cwd, @spec) = splice(@f, 0, 6);
  my $nargs = shift @f; my @argv = splice(@f, 0, $nargs);
  my $nenv = shift @f; my %env = splice(@f, 0, 2 * $nenv); my $input = join("\0", @f);
  if ($argv[0] eq 'k8ts:ops' && !$detached) {
    # Done here, a fork and a child's wakeup cheaper: mounts and directories now, removals (off the callers'
    # critical paths) in the background, a step at a time, so that they never hold up a request.
    if (removes(@argv[1 .. $#argv])) { push @background, [$id, $cwd, \@spec, \%env, [@argv[1 .. $#argv]]]; return }
    my ($err, $deferred, @rest) = ops_here($cwd, -1, @argv[1 .. $#argv]);
    return ops_done($id, $err) unless $deferred;
    @argv = ('k8ts:ops', @rest);
  }
  spawn_job($id, $detached, $cwd, \@spec, \@argv, \%env, $input);
}
# One step of the first background batch; what a big removal or a busy cgroup leaves goes on in a child.
sub background_step {
  my $b = $background[0];
  my ($id, $cwd, $spec, $env, $ops) = @$b;
  my ($err, $deferred, @rest) = ops_here($cwd, 1, @$ops);
  if (@rest && !$deferred && !length $err) { $b->[4] = \@rest; return }
  shift @background;
  return ops_done($id, $err) unless $deferred;
  spawn_job($id, '', $cwd, $spec, ['k8ts:ops', @rest], $env, '');
}
sub spawn_job {
  my ($id, $detached, $cwd, $specref, $argvref, $envref, $input) = @_;
  my @spec = @$specref; my @argv = @$argvref; my %env = %$envref;
  my $builtin = $argv[0] =~ /^k8ts:(\w+)$/ ? $builtins{$1} : undef;
  my (@parent, @child);
  my $monitor = $argv[0] eq 'k8ts:monitor';
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
      setpgrp(0, 0) if $detached;
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
      if ($builtin) {
        closefds(fileno($ew), $monitor ? 3 : -1);
        # A monitor names itself after its container before it counts as started (see monitorAlive).
        $0 = join(' ', 'k8ts-monitor', @argv[1 .. $#argv]) if $monitor;
        close $ew; $job_id = $id;
        POSIX::_exit($builtin->($monitor ? $notes : undef, @argv[1 .. $#argv]));
      }
      exec { $argv[0] } @argv;
    };
    syswrite($ew, ($! + 0) . ''); POSIX::_exit(127);
  }
  close $ew; close $_ for grep { defined } @child;
  my $job = { id => $id, pid => $pid, out => ['', '', ''], open => 1, status => undef, failed => 0, started => 0, errno => '', note => '' };
  $jobs{$pid} = $job;
  $readers{fileno $er} = [$job, $er, 'exec'];
  for my $i (1, 2) { next unless $parent[$i]; nonblock($parent[$i]); $readers{fileno $parent[$i]} = [$job, $parent[$i], $i]; $job->{open}++ }
  if ($parent[0]) { if (length $input) { nonblock($parent[0]); $writers{fileno $parent[0]} = [$parent[0], $input, 0] } else { close $parent[0] } }
}
for (;;) {
  my ($r, $w) = ('', '');
  vec($r, 0, 1) = 1 unless $eof; vec($r, fileno $sigr, 1) = 1;
  vec($r, $_, 1) = 1 for keys %readers; vec($w, $_, 1) = 1 for keys %writers;
  my $n = select($r, $w, undef, @background ? 0 : 1);
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
  background_step() if @background;
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
  onNote?: ((line: string) => void) | undefined;
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
  readonly #notes: Readable;
  #noteBuf = '';

  constructor(onGone: (h: Helper) => void) {
    const nr = syscallNumbers ?? { mount: 0, umount2: 0, prctl: 0 };
    this.child = spawn('perl', ['-e', helperScript, 'k8ts-spawner', String(nr.mount), String(nr.umount2), String(nr.prctl)], {
      stdio: ['pipe', 'pipe', 'inherit', 'pipe'],
    });
    this.#notes = this.child.stdio[3] as unknown as Readable;
    this.#unref();
    this.child.stdin!.on('error', () => undefined);
    this.child.stdout!.on('data', (b: Buffer) => this.#data(b));
    this.#notes.on('data', (b: Buffer) => this.#note(b));
    this.#notes.on('error', () => undefined);
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
    // Monitors keep their end open while their containers run: it never keeps this process alive.
    (this.#notes as unknown as { unref(): void }).unref();
  }

  /** Lines from the monitors ("id line"), to the onNote of their requests. */
  #note(chunk: Buffer): void {
    this.#noteBuf += chunk.toString('utf8');
    for (let nl = this.#noteBuf.indexOf('\n'); nl >= 0; nl = this.#noteBuf.indexOf('\n')) {
      const line = this.#noteBuf.slice(0, nl);
      this.#noteBuf = this.#noteBuf.slice(nl + 1);
      const sp = line.indexOf(' ');
      this.pending.get(Number(line.slice(0, sp)))?.onNote?.(line.slice(sp + 1));
    }
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
      // A monitor's last note may be read just after its exit: its routing stays until this I/O is done.
      if (p.onNote) setImmediate(() => this.pending.delete(id));
      else this.pending.delete(id);
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
  // The file system builtin needs no environment (and process.env is slow to walk).
  const env =
    file === 'k8ts:ops' && options.env === undefined
      ? []
      : Object.entries(options.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined);
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
      onNote: options.onNote,
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

/** The system call numbers the builtins need, where we know them (else the callers run the programs). */
export const syscallNumbers: { mount: number; umount2: number; prctl: number } | undefined = (
  {
    x64: { mount: 165, umount2: 166, prctl: 157 },
    arm64: { mount: 40, umount2: 39, prctl: 167 },
  } as Partial<Record<NodeJS.Architecture, { mount: number; umount2: number; prctl: number }>>
)[process.arch];

/** mount(2) flags. */
export const MS_RDONLY = 1;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
/** umount2(2) flag: detach now, tear down when no longer busy. */
export const MNT_DETACH = 2;

/** A file system operation of the helper's `ops` builtin. */
export type FsOp =
  | { op: 'mkdir'; path: string; mode?: number }
  | { op: 'mount'; source: string; target: string; type: string; flags: number; data: string }
  /** umount2(2); a target that is not a mount point (or is gone) is skipped. */
  | { op: 'umount'; target: string; flags?: number }
  /** Removes a tree without following symbolic links or entering another file system. */
  | { op: 'rmtree'; path: string }
  /** Removes a cgroup directory (with child cgroups), retrying while it is busy. */
  | { op: 'rmcgroup'; path: string };

/** Whether the helper can do `ops` here (it knows the system call numbers); else callers run programs. */
export const canDoFsOps = syscallNumbers !== undefined;

/**
 * Runs file system operations in turn in the helper (from `cwd`): one request for a whole batch, where Node
 * would take a trip through its thread pool for each call, and has no mount(2) at all. A big removal or a busy
 * cgroup goes on in a child of the helper. Rejects with the first failure ("mount TARGET: Invalid argument").
 */
export async function runFsOps(ops: FsOp[], cwd?: string): Promise<void> {
  if (!canDoFsOps) throw new Error(`no file system operations builtin for ${process.arch}`);
  const args: string[] = [];
  for (const o of ops) {
    if (o.op === 'mkdir') args.push('mkdir', o.path, (o.mode ?? 0o755).toString(8));
    else if (o.op === 'mount') args.push('mount', o.source, o.target, o.type, String(o.flags), o.data);
    else if (o.op === 'umount') args.push('umount', o.target, String(o.flags ?? 0));
    else args.push(o.op, o.path);
  }
  const exit = await runProgram('k8ts:ops', args, cwd === undefined ? {} : { cwd });
  if (exit.code !== 0) throw new Error(exit.stderr.toString().trim() || `file system operations failed (${exit.signal ?? exit.code})`);
}
