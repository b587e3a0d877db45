import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FifoMaker } from './logs.js';
import { canDoFsOps, runFsOps, runProgram, startProgram, StartError, syscallNumbers } from './spawner.js';

describe('spawner helper', () => {
  it('runs programs with input, environment and cwd, and reports output, exit codes and signals', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'k8ts-spawner-'));
    try {
      const big = 'x'.repeat(300_000); // more than a pipe holds, both ways
      const results = await Promise.all([
        runProgram('/bin/sh', ['-c', 'cat; echo "$K8TS_T" >&2; pwd >&2; exit 3'], {
          input: big,
          env: { PATH: '/usr/bin:/bin', K8TS_T: 'a b\tc' },
          cwd: dir,
        }),
        runProgram('/bin/sh', ['-c', 'kill -TERM $$']),
        ...Array.from({ length: 20 }, (_, i) => runProgram('/bin/echo', [String(i), 'with space'])),
      ]);
      const [first, killed, ...echoes] = results;
      assert.equal(first.code, 3);
      assert.equal(first.stdout.toString(), big);
      assert.equal(first.stderr.toString(), `a b\tc\n${dir}\n`);
      assert.deepEqual([killed.code, killed.signal], [null, 'SIGTERM']);
      assert.deepEqual(
        echoes.map((e) => e.stdout.toString()),
        echoes.map((_, i) => `${i} with space\n`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a missing program with ENOENT, and runs detached children with files as stdio', async () => {
    await assert.rejects(runProgram('/nonexistent/k8ts-nothing', []), (err: unknown) => {
      assert.ok(err instanceof StartError);
      assert.equal(err.code, 'ENOENT');
      return true;
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'k8ts-spawner-'));
    try {
      const out = path.join(dir, 'out');
      await new FifoMaker(path.join(dir, 'spares'), 4).make([out, path.join(dir, 'err')]);
      assert.ok((await stat(out)).isFIFO());
      // A regular file works as well as a FIFO (opened read-write, not truncated).
      const file = path.join(dir, 'file');
      await writeFile(file, '');
      const child = await startProgram('/bin/sh', ['-c', 'echo "$$ $(cut -d" " -f5,6 /proc/$$/stat)"'], {
        detached: true,
        stdio: ['ignore', { path: file }, { path: file }],
      });
      // A detached child does not keep the process alive (as Node's unref'd children): a timer does here.
      const keepAlive = setInterval(() => undefined, 1000);
      const exit = await child.exited.finally(() => clearInterval(keepAlive));
      assert.equal(exit.code, 0);
      const [pid, pgid, sid] = (await readFile(file, 'utf8')).trim().split(/\s+/);
      assert.equal(Number(pid), child.pid);
      assert.equal(pgid, pid, 'a detached child leads its own process group');
      const ownSession = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ')[3];
      assert.equal(sid, ownSession, 'in our session (and scheduler autogroup)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const asRoot =
    process.getuid?.() === 0 && canDoFsOps ? {} : { skip: 'needs root (mount) and a known architecture' };

  it(
    'runs file system operations as builtins: mkdir, mount, umount, a removal that stays on its file system',
    asRoot,
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'k8ts-spawner-'));
      const inner = path.join(dir, 'a', 'mnt');
      try {
        await runFsOps([
          { op: 'mkdir', path: path.join(dir, 'a'), mode: 0o750 },
          { op: 'mkdir', path: inner },
          { op: 'mount', source: 'tmpfs', target: inner, type: 'tmpfs', flags: 0, data: 'size=1m' },
        ]);
        assert.equal((await stat(path.join(dir, 'a'))).mode & 0o777, 0o750);
        await writeFile(path.join(inner, 'kept'), 'x');
        await writeFile(path.join(dir, 'a', 'gone'), 'x');
        // The removal does not enter the tmpfs mounted inside, so the file there (and its parents) stay.
        await runFsOps([{ op: 'rmtree', path: dir }]);
        assert.ok(existsSync(path.join(inner, 'kept')));
        assert.ok(!existsSync(path.join(dir, 'a', 'gone')));
        // Not a mount point (any more, or ever) is no error; the removal then takes everything.
        await runFsOps([
          { op: 'umount', target: inner },
          { op: 'umount', target: inner },
          { op: 'rmtree', path: dir },
        ]);
        assert.ok(!existsSync(dir));
        // A removal too big to finish in the helper itself goes on in a child, with the operations after it.
        const big = path.join(dir, 'big');
        await mkdir(big, { recursive: true });
        await Promise.all(Array.from({ length: 600 }, (_, i) => writeFile(path.join(big, `f${i}`), '')));
        await runFsOps([
          { op: 'rmtree', path: big },
          { op: 'mkdir', path: path.join(dir, 'after') },
        ]);
        assert.ok(!existsSync(big));
        assert.ok(existsSync(path.join(dir, 'after')));
        await rm(dir, { recursive: true, force: true });
        await assert.rejects(
          runFsOps([
            {
              op: 'mount',
              source: 'none',
              target: path.join(dir, 'missing'),
              type: 'tmpfs',
              flags: 0,
              data: '',
            },
          ]),
          /^Error: mount .*missing: No such file or directory$/,
        );
      } finally {
        await runFsOps([{ op: 'umount', target: inner }]).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    'runs the monitor builtin: it notes the start and the exit, reaps the orphaned process and records its status',
    { skip: syscallNumbers ? false : 'unknown architecture' },
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'k8ts-spawner-'));
      const files = ['exit', 'started', 'pid'].map((f) => path.join(dir, f));
      const keepAlive = setInterval(() => undefined, 1000);
      try {
        const notes: string[] = [];
        // The command leaves a background process (as `runc run --detach` leaves the container's init) and
        // names it in the pid file; the monitor, a child subreaper, inherits it and waits for it.
        const monitor = await startProgram(
          'k8ts:monitor',
          [...files, '/bin/sh', '-c', `sh -c 'sleep 0.3; exit 7' & echo $! > ${files[2]}`],
          { detached: true, stdio: ['ignore', 'ignore', 'ignore'], onNote: (line) => notes.push(line) },
        );
        const cmdline = await readFile(`/proc/${monitor.pid}/cmdline`, 'utf8');
        assert.ok(
          cmdline.startsWith('k8ts-monitor ') && cmdline.includes(files[0]!),
          'named after its files',
        );
        const exit = await monitor.exited;
        assert.equal(exit.code, 0);
        const pid = (await readFile(files[2]!, 'utf8')).trim();
        // The exit's note may come a moment after the monitor's exit (another channel).
        for (let i = 0; i < 100 && notes.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(notes, [`R ${pid}`, 'X 7']);
        assert.equal(await readFile(files[1]!, 'utf8'), `${pid} ${monitor.pid}\n`);
        assert.equal(await readFile(files[0]!, 'utf8'), '7\n');

        // A command that fails: the note says so, and the status goes to "<exit>.start".
        const failed: string[] = [];
        await mkdir(path.join(dir, 'f'));
        const f = ['exit', 'started', 'pid'].map((n) => path.join(dir, 'f', n));
        const m2 = await startProgram('k8ts:monitor', [...f, '/bin/sh', '-c', 'exit 3'], {
          detached: true,
          stdio: ['ignore', 'ignore', 'ignore'],
          onNote: (line) => failed.push(line),
        });
        await m2.exited;
        assert.deepEqual(failed, ['F 3']);
        assert.equal(await readFile(`${f[0]}.start`, 'utf8'), '3\n');
        assert.ok(!existsSync(f[1]!));
      } finally {
        clearInterval(keepAlive);
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
