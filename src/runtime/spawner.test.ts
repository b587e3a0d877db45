import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FifoMaker } from './logs.js';
import { runProgram, startProgram, StartError } from './spawner.js';

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
      const child = await startProgram('/bin/sh', ['-c', 'echo "$$ $(cut -d" " -f6 /proc/$$/stat)"'], {
        detached: true,
        stdio: ['ignore', { path: file }, { path: file }],
      });
      // A detached child does not keep the process alive (as Node's unref'd children): a timer does here.
      const keepAlive = setInterval(() => undefined, 1000);
      const exit = await child.exited.finally(() => clearInterval(keepAlive));
      assert.equal(exit.code, 0);
      const [pid, sid] = (await readFile(file, 'utf8')).trim().split(/\s+/);
      assert.equal(Number(pid), child.pid);
      assert.equal(sid, pid, 'a detached child leads its own session');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
