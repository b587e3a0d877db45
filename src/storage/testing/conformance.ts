// The store conformance suite: every backend runs it (see sqlite/*.test.ts and etcd/*.test.ts), so that
// the API server can rely on the contract in ../store.ts whatever the backend.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isStoreError } from '../errors.js';
import type { Store, WatchEvent } from '../store.js';
import { maxValueBytes } from '../store.js';

/** How a backend's test file hands the suite a store. */
export interface ConformanceTarget {
  /** Opens a store; the suite closes it. Stores opened for one suite may share a server. */
  open(): Promise<Store>;
  /** Stops whatever `open` started (a server, a temporary directory). */
  teardown?(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : dec.decode(b));

let prefixCounter = 0;
/** A key prefix no other test uses, so tests can share one store. */
export function freshPrefix(): string {
  prefixCounter += 1;
  return `/conformance/${process.pid}-${Date.now().toString(36)}-${prefixCounter}/`;
}

/** Reads a watch until `count` events arrived or the deadline passed. */
export async function collect(
  store: Store,
  prefix: string,
  afterRevision: number,
  count: number,
  timeoutMs = 10_000,
): Promise<WatchEvent[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: WatchEvent[] = [];
  try {
    for await (const batch of store.watch(prefix, { afterRevision, signal: ac.signal })) {
      events.push(...batch);
      if (events.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

async function expectStoreError(p: Promise<unknown>, code: string): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStoreError(err), `expected a StoreError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected StoreError ${code}, but the call succeeded`);
}

/** Summarises an event as "type key value@revision" for readable assertions. */
export function describeEvent(e: WatchEvent): string {
  switch (e.type) {
    case 'created':
      return `created ${e.key} ${text(e.kv.value)}@${e.revision}`;
    case 'updated':
      return `updated ${e.key} ${text(e.prevKv.value)}->${text(e.kv.value)}@${e.revision}`;
    case 'deleted':
      return `deleted ${e.key} ${text(e.prevKv.value)}@${e.revision}`;
  }
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Registers the whole suite under `describe(name)`. */
export function storeConformance(name: string, target: ConformanceTarget): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await target.open();
    });
    after(async () => {
      await store.close();
      await target.teardown?.();
    });

    it('gives every write the next revision and records create and mod revisions', async () => {
      const p = freshPrefix();
      const r0 = await store.currentRevision();
      const a = await store.create(p + 'a', bytes('1'));
      assert.equal(a.modRevision, r0 + 1);
      assert.equal(a.createRevision, r0 + 1);
      const a2 = await store.update(p + 'a', bytes('2'), a.modRevision);
      assert.equal(a2.modRevision, r0 + 2);
      assert.equal(a2.createRevision, r0 + 1);
      const del = await store.delete(p + 'a');
      assert.equal(del.revision, r0 + 3);
      assert.equal(text(del.prevKv.value), '2');
      assert.equal(del.prevKv.modRevision, r0 + 2);
      assert.equal(await store.currentRevision(), r0 + 3);
      const again = await store.create(p + 'a', bytes('3'));
      assert.equal(again.createRevision, r0 + 4, 'a re-created key has a new create revision');
    });

    it('refuses to create a key that exists, changing nothing', async () => {
      const p = freshPrefix();
      await store.create(p + 'x', bytes('first'));
      const r = await store.currentRevision();
      await expectStoreError(store.create(p + 'x', bytes('second')), 'KeyExists');
      assert.equal(await store.currentRevision(), r);
      assert.equal(text((await store.get(p + 'x')).kv?.value), 'first');
    });

    it('gets the latest value, an older one by revision, and nothing for a missing key', async () => {
      const p = freshPrefix();
      const v1 = await store.create(p + 'k', bytes('v1'));
      const v2 = await store.update(p + 'k', bytes('v2'), v1.modRevision);
      const latest = await store.get(p + 'k');
      assert.equal(text(latest.kv?.value), 'v2');
      assert.deepEqual(
        { c: latest.kv?.createRevision, m: latest.kv?.modRevision },
        { c: v1.createRevision, m: v2.modRevision },
      );
      assert.ok(latest.revision >= v2.modRevision);
      const old = await store.get(p + 'k', { revision: v1.modRevision });
      assert.equal(text(old.kv?.value), 'v1');
      assert.equal(old.revision, v1.modRevision);
      const before = await store.get(p + 'k', { revision: v1.modRevision - 1 });
      assert.equal(before.kv, undefined);
      assert.equal((await store.get(p + 'missing')).kv, undefined);
      await store.delete(p + 'k');
      assert.equal((await store.get(p + 'k')).kv, undefined);
      assert.equal(text((await store.get(p + 'k', { revision: v2.modRevision })).kv?.value), 'v2');
    });

    it('answers FutureRevision for a revision not yet written', async () => {
      const r = await store.currentRevision();
      await expectStoreError(store.get('/any', { revision: r + 1000 }), 'FutureRevision');
      await expectStoreError(store.list('/any/', { revision: r + 1000 }), 'FutureRevision');
    });

    it('updates only from the expected revision (compare-and-swap)', async () => {
      const p = freshPrefix();
      const v1 = await store.create(p + 'k', bytes('v1'));
      const v2 = await store.update(p + 'k', bytes('v2'), v1.modRevision);
      const r = await store.currentRevision();
      const err = await expectStoreError(store.update(p + 'k', bytes('stale'), v1.modRevision), 'Conflict');
      assert.ok(isStoreError(err));
      assert.equal(text(err.current?.value), 'v2', 'a conflict carries the current value');
      assert.equal(err.current?.modRevision, v2.modRevision);
      assert.equal(await store.currentRevision(), r, 'a failed update writes nothing');
      assert.equal(text((await store.get(p + 'k')).kv?.value), 'v2');
      await expectStoreError(store.update(p + 'nope', bytes('x'), 1), 'KeyNotFound');
    });

    it('deletes, guarded or not, and reports what was deleted', async () => {
      const p = freshPrefix();
      const a = await store.create(p + 'a', bytes('A'));
      await expectStoreError(store.delete(p + 'missing'), 'KeyNotFound');
      const a2 = await store.update(p + 'a', bytes('A2'), a.modRevision);
      const r = await store.currentRevision();
      await expectStoreError(store.delete(p + 'a', { expectedModRevision: a.modRevision }), 'Conflict');
      assert.equal(await store.currentRevision(), r);
      const d = await store.delete(p + 'a', { expectedModRevision: a2.modRevision });
      assert.equal(text(d.prevKv.value), 'A2');
      assert.equal(d.prevKv.key, p + 'a');
      assert.equal(d.revision, r + 1);
      await expectStoreError(store.delete(p + 'a'), 'KeyNotFound');
    });

    it('stores bytes exactly, including every byte value', async () => {
      const p = freshPrefix();
      const all = new Uint8Array(256).map((_, i) => i);
      await store.create(p + 'bin', all);
      const got = (await store.get(p + 'bin')).kv?.value;
      assert.deepEqual(Array.from(got ?? []), Array.from(all));
      await store.create(p + 'empty', new Uint8Array(0));
      assert.equal((await store.get(p + 'empty')).kv?.value.length, 0);
    });

    it('refuses a value over 1.5 MiB and stores nothing', async () => {
      const p = freshPrefix();
      const r = await store.currentRevision();
      await expectStoreError(store.create(p + 'big', new Uint8Array(maxValueBytes + 1)), 'TooLarge');
      assert.equal(await store.currentRevision(), r);
      assert.equal((await store.get(p + 'big')).kv, undefined);
      const ok = await store.create(p + 'big', new Uint8Array(maxValueBytes - 4096));
      await expectStoreError(store.update(p + 'big', new Uint8Array(maxValueBytes + 1), ok.modRevision), 'TooLarge');
      assert.equal((await store.get(p + 'big')).kv?.modRevision, ok.modRevision);
    });

    it('lists a prefix in key order, and only that prefix', async () => {
      const p = freshPrefix();
      for (const k of ['c', 'a', 'b', 'a/x']) await store.create(p + k, bytes(k));
      await store.create(p.slice(0, -1) + '0', bytes('sibling'));
      await store.create(p.slice(0, -1), bytes('parent'));
      const res = await store.list(p);
      assert.deepEqual(
        res.kvs.map((kv) => kv.key),
        ['a', 'a/x', 'b', 'c'].map((k) => p + k),
      );
      assert.equal(res.more, false);
      assert.equal(res.remaining, 0);
      assert.ok(res.revision >= Math.max(...res.kvs.map((kv) => kv.modRevision)));
      assert.deepEqual(await store.count(p), { count: 4, revision: res.revision });
      assert.equal((await store.list(p + 'zzz/')).kvs.length, 0);
    });

    it('pages with limit and after, every page consistent at the first page revision', async () => {
      const p = freshPrefix();
      for (let i = 0; i < 10; i++) await store.create(p + `k${i}`, bytes(`v${i}`));
      const first = await store.list(p, { limit: 4 });
      assert.deepEqual(
        first.kvs.map((kv) => text(kv.value)),
        ['v0', 'v1', 'v2', 'v3'],
      );
      assert.equal(first.more, true);
      assert.equal(first.remaining, 6);
      // Changes after the first page must not show in later pages.
      await store.delete(p + 'k5');
      const k6 = await store.get(p + 'k6');
      await store.update(p + 'k6', bytes('changed'), k6.kv!.modRevision);
      await store.create(p + 'k99', bytes('new'));
      const lastKey = first.kvs.at(-1)!.key;
      const second = await store.list(p, { limit: 4, after: lastKey, revision: first.revision });
      assert.equal(second.revision, first.revision);
      assert.deepEqual(
        second.kvs.map((kv) => text(kv.value)),
        ['v4', 'v5', 'v6', 'v7'],
      );
      assert.equal(second.more, true);
      assert.equal(second.remaining, 2);
      const third = await store.list(p, { limit: 4, after: second.kvs.at(-1)!.key, revision: first.revision });
      assert.deepEqual(
        third.kvs.map((kv) => text(kv.value)),
        ['v8', 'v9'],
      );
      assert.equal(third.more, false);
      assert.equal(third.remaining, 0);
      const now = await store.list(p);
      assert.deepEqual(
        now.kvs.map((kv) => text(kv.value)),
        ['v0', 'v1', 'v2', 'v3', 'v4', 'changed', 'v7', 'v8', 'v9', 'new'],
      );
    });

    it('lists as of an older revision', async () => {
      const p = freshPrefix();
      const a = await store.create(p + 'a', bytes('a1'));
      await store.create(p + 'b', bytes('b1'));
      const r = await store.currentRevision();
      await store.update(p + 'a', bytes('a2'), a.modRevision);
      await store.delete(p + 'b');
      await store.create(p + 'c', bytes('c1'));
      const old = await store.list(p, { revision: r });
      assert.deepEqual(
        old.kvs.map((kv) => `${kv.key.slice(p.length)}=${text(kv.value)}`),
        ['a=a1', 'b=b1'],
      );
      const now = await store.list(p);
      assert.deepEqual(
        now.kvs.map((kv) => `${kv.key.slice(p.length)}=${text(kv.value)}`),
        ['a=a2', 'c=c1'],
      );
    });

    it('watches changes after a revision, with previous values, in order, under the prefix only', async () => {
      const p = freshPrefix();
      const start = await store.currentRevision();
      const watching = collect(store, p, start, 4);
      const a = await store.create(p + 'a', bytes('1'));
      await store.create(p.slice(0, -1) + 'other', bytes('not mine'));
      await store.update(p + 'a', bytes('2'), a.modRevision);
      await store.create(p + 'b', bytes('x'));
      await store.delete(p + 'a');
      const events = await watching;
      assert.deepEqual(events.map(describeEvent), [
        `created ${p}a 1@${start + 1}`,
        `updated ${p}a 1->2@${start + 3}`,
        `created ${p}b x@${start + 4}`,
        `deleted ${p}a 2@${start + 5}`,
      ]);
      const del = events[3]!;
      assert.equal(del.type, 'deleted');
      if (del.type === 'deleted') assert.equal(del.prevKv.modRevision, start + 3);
      const upd = events[1]!;
      if (upd.type === 'updated') {
        assert.equal(upd.kv.createRevision, start + 1);
        assert.equal(upd.prevKv.modRevision, start + 1);
      }
    });

    it('replays history from an older revision, then continues live with no gap or duplicate', async () => {
      const p = freshPrefix();
      const start = await store.currentRevision();
      const written: string[] = [];
      for (let i = 0; i < 5; i++) {
        const kv = await store.create(p + `k${i}`, bytes(`${i}`));
        written.push(`created ${p}k${i} ${i}@${kv.modRevision}`);
      }
      const watching = collect(store, p, start, 10);
      for (let i = 5; i < 10; i++) {
        const kv = await store.create(p + `k${i}`, bytes(`${i}`));
        written.push(`created ${p}k${i} ${i}@${kv.modRevision}`);
      }
      assert.deepEqual((await watching).map(describeEvent), written);
      const fromMiddle = await collect(store, p, start + 3, 7);
      assert.deepEqual(fromMiddle.map(describeEvent), written.slice(3));
    });

    it('ends a watch when its signal aborts', async () => {
      const p = freshPrefix();
      const ac = new AbortController();
      const seen: WatchEvent[] = [];
      // The start revision is read before the write, so the watch sees the write however the two interleave.
      const start = await store.currentRevision();
      const done = (async () => {
        for await (const batch of store.watch(p, { afterRevision: start, signal: ac.signal })) seen.push(...batch);
      })();
      await store.create(p + 'a', bytes('1'));
      await waitFor('the first event', async () => (seen.length > 0 ? true : undefined), 5000);
      ac.abort();
      await done;
      assert.equal(seen.length, 1);
    });

    it('compacts history: older reads and watches fail with Compacted, newer ones work', async () => {
      const p = freshPrefix();
      const a = await store.create(p + 'a', bytes('1'));
      const a2 = await store.update(p + 'a', bytes('2'), a.modRevision);
      const b = await store.create(p + 'b', bytes('b'));
      await store.delete(p + 'b');
      const a3 = await store.update(p + 'a', bytes('3'), a2.modRevision);
      const c = await store.create(p + 'c', bytes('c'));
      await store.compact(a3.modRevision);
      assert.ok((await store.compactedRevision()) >= a3.modRevision);
      const err = await expectStoreError(store.get(p + 'a', { revision: a.modRevision }), 'Compacted');
      assert.ok(isStoreError(err) && (err.compactedRevision ?? 0) >= a3.modRevision);
      await expectStoreError(store.list(p, { revision: b.modRevision }), 'Compacted');
      await expectStoreError(collect(store, p, a.modRevision, 1, 2000), 'Compacted');
      // The state at the compaction revision and everything after it are intact.
      const atCompact = await store.list(p, { revision: a3.modRevision });
      assert.deepEqual(
        atCompact.kvs.map((kv) => `${kv.key.slice(p.length)}=${text(kv.value)}@${kv.modRevision}`),
        [`a=3@${a3.modRevision}`],
      );
      assert.equal(text((await store.get(p + 'a')).kv?.value), '3');
      assert.equal((await store.get(p + 'a')).kv?.createRevision, a.createRevision);
      const d = await store.update(p + 'c', bytes('c2'), c.modRevision);
      const events = await collect(store, p, a3.modRevision, 2);
      assert.deepEqual(events.map(describeEvent), [`created ${p}c c@${c.modRevision}`, `updated ${p}c c->c2@${d.modRevision}`]);
      // Compacting to an older revision than before is harmless.
      await store.compact(a.modRevision);
      assert.ok((await store.compactedRevision()) >= a3.modRevision);
    });

    it('expires a key after its time to live, with a delete event', async () => {
      const p = freshPrefix();
      const start = await store.currentRevision();
      const watching = collect(store, p, start, 3, 15_000);
      const kv = await store.create(p + 'ephemeral', bytes('bye'), { ttlSeconds: 1 });
      await store.create(p + 'stays', bytes('here'));
      assert.equal(text((await store.get(p + 'ephemeral')).kv?.value), 'bye');
      const events = await watching;
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.key.slice(p.length)}`),
        ['created ephemeral', 'created stays', 'deleted ephemeral'],
      );
      const del = events[2]!;
      assert.ok(del.revision > kv.modRevision);
      assert.equal((await store.get(p + 'ephemeral')).kv, undefined);
      assert.equal(text((await store.get(p + 'stays')).kv?.value), 'here');
    });

    it('keeps a key whose time to live was renewed by an update without ttl', async () => {
      const p = freshPrefix();
      const kv = await store.create(p + 'k', bytes('1'), { ttlSeconds: 1 });
      await store.update(p + 'k', bytes('2'), kv.modRevision);
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(text((await store.get(p + 'k')).kv?.value), '2');
    });

    it('loses no update under 50 concurrent compare-and-swap writers on one key', async () => {
      const p = freshPrefix();
      await store.create(p + 'counter', bytes('0'));
      let successes = 0;
      const worker = async (): Promise<void> => {
        for (let i = 0; i < 10; i++) {
          for (;;) {
            const cur = (await store.get(p + 'counter')).kv!;
            const n = Number(text(cur.value));
            try {
              await store.update(p + 'counter', bytes(String(n + 1)), cur.modRevision);
              successes += 1;
              break;
            } catch (err) {
              if (!isStoreError(err, 'Conflict')) throw err;
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 50 }, () => worker()));
      assert.equal(successes, 500);
      assert.equal(text((await store.get(p + 'counter')).kv?.value), '500');
    });

    it('gives a watcher exactly the history of concurrent writers on many keys', async () => {
      const p = freshPrefix();
      const start = await store.currentRevision();
      const history = new Map<number, string>();
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; i < 20; i++) {
          const key = `${p}w${w}/k${i % 5}`;
          const cur = (await store.get(key)).kv;
          if (cur === undefined) {
            const kv = await store.create(key, bytes(`${w}.${i}`));
            history.set(kv.modRevision, `created ${key}`);
          } else if (i % 3 === 0) {
            const d = await store.delete(key, { expectedModRevision: cur.modRevision });
            history.set(d.revision, `deleted ${key}`);
          } else {
            const kv = await store.update(key, bytes(`${w}.${i}`), cur.modRevision);
            history.set(kv.modRevision, `updated ${key}`);
          }
        }
      };
      const watching = collect(store, p, start, 200, 20_000);
      await Promise.all(Array.from({ length: 10 }, (_, w) => writer(w)));
      const events = await watching;
      const expected = [...history.entries()].sort((x, y) => x[0] - y[0]).map(([rev, s]) => `${s}@${rev}`);
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.key}@${e.revision}`),
        expected,
      );
      for (let i = 1; i < events.length; i++) assert.ok(events[i]!.revision > events[i - 1]!.revision);
    });
  });
}

