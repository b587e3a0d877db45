// The store benchmark: the SQLite backend (default and fsync-every-commit) and real etcd, side by side in one
// run, through the same Store interface. Prints each figure and the SQLite/etcd ratios.
//
//   npm run bench:store [-- --quick] [-- --churn 100000]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EtcdStore } from '../../src/storage/etcd/etcd-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/storage/store.js';
import { startEtcd } from '../../src/storage/testing/etcd-server.js';
import { fmt, percentile, printTable } from '../lib/stats.js';

const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, churn: { type: 'string', default: '' } },
});
const scale = flags.quick ? 0.2 : 1;
const n = (x: number): number => Math.max(100, Math.round(x * scale));
const churnCycles = flags.churn ? Number(flags.churn) : n(20_000);

interface Target {
  name: string;
  open(): Promise<Store>;
  /** Bytes the backend's files take on disk now. */
  diskBytes(): number;
  stop(): Promise<void>;
}

const value = new Uint8Array(1024).fill(42); // about the size of a small pod object

function fileBytes(...files: string[]): number {
  let total = 0;
  for (const f of files) {
    try {
      total += statSync(f).size;
    } catch {
      // absent
    }
  }
  return total;
}

async function sqliteTarget(name: string, sync: 'normal' | 'full'): Promise<Target> {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-sqlite-'));
  const file = path.join(dir, 'state.db');
  return {
    name,
    open: () => Promise.resolve(new SqliteStore({ path: file, sync, compactIntervalMs: 0 })),
    diskBytes: () => fileBytes(file, file + '-wal'),
    stop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}

async function etcdTarget(): Promise<Target> {
  const etcd = await startEtcd();
  return {
    name: 'etcd 3.4',
    open: () => Promise.resolve(new EtcdStore({ endpoints: [etcd.endpoint], compactIntervalMs: 0 })),
    diskBytes: () => fileBytes(path.join(etcd.dataDir, 'member', 'snap', 'db')),
    stop: () => etcd.stop(),
  };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function inParallel(workers: number, total: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = next++; i < total; i = next++) await op(i);
    }),
  );
}

type Results = Map<string, number>;

async function benchTarget(target: Target): Promise<Results> {
  const r: Results = new Map();
  const store = await target.open();
  const revs = new Map<string, number>();
  try {
    // create, sequential and 50 concurrent
    const seq = n(5000);
    r.set('create seq (ops/s)', seq / ((await timed(async () => {
      for (let i = 0; i < seq; i++) revs.set(`/b/seq/${i}`, (await store.create(`/b/seq/${i}`, value)).modRevision);
    })) / 1000));
    const conc = n(20_000);
    r.set('create 50 clients (ops/s)', conc / ((await timed(() =>
      inParallel(50, conc, async (i) => {
        revs.set(`/b/conc/${i}`, (await store.create(`/b/conc/${i}`, value)).modRevision);
      }),
    )) / 1000));
    // update (compare-and-swap), sequential and 50 concurrent, each key's expected revision known
    r.set('update CAS seq (ops/s)', seq / ((await timed(async () => {
      for (let i = 0; i < seq; i++) {
        const k = `/b/seq/${i}`;
        revs.set(k, (await store.update(k, value, revs.get(k)!)).modRevision);
      }
    })) / 1000));
    r.set('update CAS 50 clients (ops/s)', conc / ((await timed(() =>
      inParallel(50, conc, async (i) => {
        const k = `/b/conc/${i}`;
        revs.set(k, (await store.update(k, value, revs.get(k)!)).modRevision);
      }),
    )) / 1000));
    // get: throughput and latency, sequential
    const lat: number[] = [];
    const gets = n(10_000);
    const getMs = await timed(async () => {
      for (let i = 0; i < gets; i++) {
        const t0 = performance.now();
        await store.get(`/b/conc/${i % conc}`);
        lat.push(performance.now() - t0);
      }
    });
    r.set('get seq (ops/s)', gets / (getMs / 1000));
    r.set('get p99 (ms)', percentile(lat, 99));
    r.set('get 50 clients (ops/s)', gets / ((await timed(() => inParallel(50, gets, async (i) => void (await store.get(`/b/conc/${i % conc}`))))) / 1000));
    // list of 10,000 keys
    await inParallel(50, 10_000, async (i) => void (await store.create(`/b/list/${String(i).padStart(5, '0')}`, value)));
    const listTimes: number[] = [];
    for (let i = 0; i < 7; i++) {
      listTimes.push(await timed(async () => {
        const res = await store.list('/b/list/');
        if (res.kvs.length !== 10_000) throw new Error(`list returned ${res.kvs.length}`);
      }));
    }
    r.set('list 10,000 keys p50 (ms)', percentile(listTimes, 50));
    // watch delivery: write → event, one write at a time
    const sent = new Map<string, number>();
    const delays: number[] = [];
    const ac = new AbortController();
    const writes = n(2000);
    const start = await store.currentRevision();
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const watching = (async () => {
      for await (const batch of store.watch('/b/watch/', { afterRevision: start, signal: ac.signal })) {
        const now = performance.now();
        for (const e of batch) {
          const t = sent.get(e.key);
          if (t !== undefined) delays.push(now - t);
        }
        if (delays.length >= writes) resolveDone();
      }
    })();
    for (let i = 0; i < writes; i++) {
      // The event may arrive before create() resolves, so the send time is recorded by key beforehand.
      sent.set(`/b/watch/${i}`, performance.now());
      await store.create(`/b/watch/${i}`, value);
      await new Promise((res) => setTimeout(res, 0));
    }
    await Promise.race([done, new Promise((res) => setTimeout(res, 10_000))]);
    ac.abort();
    await watching;
    r.set('watch delivery p50 (ms)', percentile(delays, 50));
    r.set('watch delivery p99 (ms)', percentile(delays, 99));
    // churn: create/delete cycles with compaction, then the size on disk
    const before = target.diskBytes();
    for (let i = 0; i < churnCycles; i++) {
      const k = `/b/churn/${i % 100}`;
      await store.create(k, value);
      await store.delete(k);
      if (i % 5000 === 4999) await store.compact(await store.currentRevision());
    }
    await store.compact(await store.currentRevision());
    await new Promise((res) => setTimeout(res, 500));
    r.set(`disk MB after ${churnCycles} churn cycles + compaction`, target.diskBytes() / 1e6);
    r.set('disk MB before churn', before / 1e6);
  } finally {
    await store.close();
  }
  return r;
}

const targets = [await sqliteTarget('sqlite', 'normal'), await sqliteTarget('sqlite sync=full', 'full'), await etcdTarget()];
const results: Results[] = [];
try {
  for (const t of targets) {
    process.stderr.write(`benchmarking ${t.name}...\n`);
    results.push(await benchTarget(t));
  }
} finally {
  for (const t of targets) await t.stop();
}

const metrics = [...results[0]!.keys()];
const etcdIdx = targets.length - 1;
const header = ['metric', ...targets.map((t) => t.name), 'sqlite/etcd', 'full/etcd'];
const rows = metrics.map((m) => {
  const vals = results.map((res) => res.get(m) ?? NaN);
  const e = vals[etcdIdx]!;
  return [m, ...vals.map((v) => fmt(v)), `${fmt(vals[0]! / e)}x`, `${fmt(vals[1]! / e)}x`];
});
console.log(`store benchmark (node ${process.version}, ${new Date().toISOString()}, values 1 KiB)`);
printTable(header, rows);
