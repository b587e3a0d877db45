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

/** The size of a database's write-ahead log (0 when there is none). */
function walBytes(file: string): number {
  try {
    return statSync(file + '-wal').size;
  } catch {
    return 0;
  }
}

/** The bytes the database occupies on disk: the file and its write-ahead log. */
const diskBytes = (file: string): number => statSync(file).size + walBytes(file);

const writer = path.join(import.meta.dirname, '..', 'testing', 'crash-writer.ts');

/** Runs the crash writer on `file` until it acknowledged `atLeast` writes, kills it, and returns the last one. */
async function writeThenKill(file: string, atLeast: number, mode?: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, `sqlite://${file}`, dir, ...(mode ? [mode] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acked = -1;
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const l of lines) acked = Number(l);
      // Kill in the middle of a burst of writes, once a good number are in.
      if (acked >= atLeast && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, sig) => (sig === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${code} ${sig}`))));
    setTimeout(() => reject(new Error(`the writer did not reach ${atLeast} writes in time`)), 60_000).unref();
  });
  return acked;
}

/** Checks that every write up to `acked` is in the store at `file`, one revision each. */
async function checkIntact(file: string, acked: number): Promise<void> {
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
}

const inUse = (err: unknown): boolean => isStoreError(err, 'Unavailable') && /in use by another process/.test(err.message);

describe('sqlite store durability', () => {
  it('keeps every acknowledged write when the writing process is killed with SIGKILL', async () => {
    const file = path.join(dir, 'crash.db');
    const acked = await writeThenKill(file, 3000);
    assert.ok(acked >= 3000);
    await checkIntact(file, acked);
  });

  it('keeps every acknowledged write when the process is killed while the worker checkpoints', async () => {
    // A checkpoint after every commit: the kill lands in the middle of one (or between two) almost surely.
    const file = path.join(dir, 'crash-checkpoint.db');
    const acked = await writeThenKill(file, 2000, 'checkpoint-always');
    assert.ok(acked >= 2000);
    await checkIntact(file, acked);
    // And the database reopens and takes writes after the recovery.
    const store = new SqliteStore({ path: file });
    try {
      await store.create('/after-crash', new Uint8Array([1]));
    } finally {
      await store.close();
    }
  });

  it('refuses a second opener of the same file while the first holds it, in this process or another', async () => {
    const file = path.join(dir, 'locked.db');
    const first = new SqliteStore({ path: file, checkpointEveryWrites: 1 });
    try {
      // Writes keep the checkpoint worker's own connection to the file busy meanwhile.
      for (let i = 0; i < 500; i++) await first.create(`/locked/${i}`, new Uint8Array(512));
      assert.throws(() => new SqliteStore({ path: file }), inUse);
      const other = spawn(process.execPath, ['--import', 'tsx', writer, `sqlite://${file}`, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      other.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => other.on('exit', resolve));
      assert.notEqual(code, 0);
      assert.match(stderr, /the datastore .*locked\.db is in use by another process/);
      assert.equal((await first.list('/crash/')).kvs.length, 0, 'the refused process wrote nothing');
    } finally {
      await first.close();
    }
    // Closed: the file opens again, with everything the first store wrote, and its WAL was checkpointed away.
    assert.equal(statSync(file).size > 500 * 512, true, 'the writes reached the database file itself');
    const again = new SqliteStore({ path: file });
    try {
      assert.equal((await again.list('/locked/')).kvs.length, 500);
    } finally {
      await again.close();
    }
  });

  it('with sync=full (automatic checkpoints, no worker) still refuses a second opener and keeps every write', async () => {
    const file = path.join(dir, 'full.db');
    const store = new SqliteStore({ path: file, sync: 'full' });
    try {
      for (let i = 0; i < 300; i++) await store.create(`/full/${i}`, new Uint8Array(256));
      assert.throws(() => new SqliteStore({ path: file }), inUse);
    } finally {
      await store.close();
    }
    const again = new SqliteStore({ path: file, sync: 'full' });
    try {
      assert.equal((await again.list('/full/')).kvs.length, 300);
    } finally {
      await again.close();
    }
  });

  it('keeps the WAL bounded under sustained writes that never yield, checkpointing off the main thread', async () => {
    const file = path.join(dir, 'sustained.db');
    // The RESTART point of earlier versions (16 MiB), so that 25,000 writes cross it several times.
    const store = new SqliteStore({ path: file, compactIntervalMs: 0, checkpointRestartFrames: 4096 });
    const value = new Uint8Array(2048).fill(3);
    let worst = 0;
    try {
      // About 25,000 writes of 2 KiB: over 100 MB of WAL frames if nothing checkpointed, and no pause in
      // which an idle-time checkpoint could catch up.
      let rev = (await store.create('/sustained/0', value)).modRevision;
      for (let i = 1; i < 25_000; i++) {
        const key = `/sustained/${i % 500}`;
        rev = i < 500 ? (await store.create(key, value)).modRevision : (await store.update(key, value, (await store.get(key)).kv!.modRevision)).modRevision;
        if (i % 250 === 0) worst = Math.max(worst, walBytes(file));
      }
      assert.ok(rev >= 25_000);
      // The worker RESTARTs at 16 MiB of frames; the store holds writes for it past 24 MiB.
      assert.ok(worst < 32 * 1024 * 1024, `the WAL grew to ${worst} bytes`);
    } finally {
      await store.close();
    }
    assert.equal(walBytes(file), 0, 'close checkpoints and removes the WAL');
  });

  it('stays bounded on disk under 100,000 create/delete cycles with automatic compaction', async () => {
    const file = path.join(dir, 'churn.db');
    // What this measures is compaction: the WAL restarts at 16 MiB here, so that it stays a small part.
    const store = new SqliteStore({ path: file, compactIntervalMs: 50, checkpointRestartFrames: 4096 });
    const value = new Uint8Array(1024).fill(7);
    const sizes: number[] = [];
    /** The database file alone: the WAL's size at a given moment depends on when the worker last truncated it. */
    const dbSizes: number[] = [];
    try {
      for (let i = 0; i < 100_000; i++) {
        const key = `/churn/${i % 100}`;
        await store.create(key, value);
        await store.delete(key);
        if (i % 2000 === 1999) {
          // Let the compactor's timer run, as it would between requests of a live server.
          await new Promise((r) => setTimeout(r, 60));
          sizes.push(diskBytes(file));
          dbSizes.push(statSync(file).size);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
      const finalSize = diskBytes(file);
      assert.equal(await store.currentRevision(), 200_000);
      assert.ok((await store.compactedRevision()) > 150_000, `compacted only to ${await store.compactedRevision()}`);
      // 200,000 rows of 1 KiB would be over 200 MB; compaction keeps the file to a few MB.
      const worst = Math.max(...sizes, finalSize);
      assert.ok(worst < 40 * 1024 * 1024, `the database grew to ${worst} bytes`);
      const lastQuarter = dbSizes.slice(-10);
      assert.ok(
        // (A floor of 8 MiB: between two compactions the file holds up to a few MB of rows, or none at all.)
        Math.max(...lastQuarter) <= Math.max(Math.max(...dbSizes.slice(5, 15)) * 1.5, 8 * 1024 * 1024),
        `the database file keeps growing: ${dbSizes.join(', ')}`,
      );
    } finally {
      await store.close();
    }
  });
});
