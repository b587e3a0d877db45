import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isStoreError } from '../errors.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-sqlite-durability-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The bytes the database occupies on disk: the file and its write-ahead log. */
function diskBytes(file: string): number {
  let n = statSync(file).size;
  try {
    n += statSync(file + '-wal').size;
  } catch {
    // no WAL file
  }
  return n;
}

describe('sqlite store durability', () => {
  it('keeps every acknowledged write when the writing process is killed with SIGKILL', async () => {
    const file = path.join(dir, 'crash.db');
    const writer = path.join(import.meta.dirname, '..', 'testing', 'crash-writer.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', writer, `sqlite://${file}`, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = -1;
    let buffer = '';
    const killed = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const l of lines) acked = Number(l);
        // Kill in the middle of a burst of writes, once a good number are in.
        if (acked >= 3000 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', (code, sig) => (sig === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${code} ${sig}`))));
      setTimeout(() => reject(new Error('the writer did not reach 3000 writes in time')), 60_000).unref();
    });
    await killed;
    assert.ok(acked >= 3000);
    const store = new SqliteStore({ path: file });
    try {
      const all = await store.list('/crash/');
      assert.ok(all.kvs.length >= acked + 1, `acknowledged ${acked + 1} writes, found ${all.kvs.length}`);
      for (let i = 0; i <= acked; i++) {
        assert.equal(all.kvs[i]?.key, `/crash/${String(i).padStart(8, '0')}`);
      }
      assert.equal(await store.currentRevision(), all.kvs.length, 'one revision per write, none lost');
    } finally {
      await store.close();
    }
  });

  it('refuses a second opener of the same file while the first holds it', async () => {
    const file = path.join(dir, 'locked.db');
    const first = new SqliteStore({ path: file });
    try {
      assert.throws(
        () => new SqliteStore({ path: file }),
        (err: unknown) => isStoreError(err, 'Unavailable') && /in use by another process/.test(err.message),
      );
    } finally {
      await first.close();
    }
    const again = new SqliteStore({ path: file });
    await again.close();
  });

  it('stays bounded on disk under 100,000 create/delete cycles with automatic compaction', async () => {
    const file = path.join(dir, 'churn.db');
    const store = new SqliteStore({ path: file, compactIntervalMs: 50 });
    const value = new Uint8Array(1024).fill(7);
    const sizes: number[] = [];
    try {
      for (let i = 0; i < 100_000; i++) {
        const key = `/churn/${i % 100}`;
        await store.create(key, value);
        await store.delete(key);
        if (i % 2000 === 1999) {
          // Let the compactor's timer run, as it would between requests of a live server.
          await new Promise((r) => setTimeout(r, 60));
          sizes.push(diskBytes(file));
        }
      }
      await new Promise((r) => setTimeout(r, 200));
      const finalSize = diskBytes(file);
      assert.equal(await store.currentRevision(), 200_000);
      assert.ok((await store.compactedRevision()) > 150_000, `compacted only to ${await store.compactedRevision()}`);
      // 200,000 rows of 1 KiB would be over 200 MB; compaction keeps the file to a few MB.
      const worst = Math.max(...sizes, finalSize);
      assert.ok(worst < 40 * 1024 * 1024, `the database grew to ${worst} bytes`);
      const lastQuarter = sizes.slice(-10);
      assert.ok(
        Math.max(...lastQuarter) <= Math.max(...sizes.slice(5, 15)) * 1.5,
        `the size keeps growing: ${sizes.join(', ')}`,
      );
    } finally {
      await store.close();
    }
  });
});
