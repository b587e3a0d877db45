import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isStoreError } from '../errors.js';
import type { WatchEvent } from '../store.js';
import { maxValueBytes } from '../store.js';
import { bytes, describeEvent, storeConformance, text } from '../testing/conformance.js';
import { EtcdServer } from '../testing/etcd-server.js';
import { compactRevKey } from './compactor.js';
import { EtcdClient, grpcTarget } from './etcd-client.js';
import type { EtcdStoreOptions } from './etcd-store.js';
import { byteRangeEnd, EtcdStore } from './etcd-store.js';
import { LeaseManager } from './lease-manager.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStoreError(err), `expected StoreError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected StoreError ${code}, but the call succeeded`);
}

/** Runs a watch in the background, collecting its events until stopped. */
function background(store: EtcdStore, prefix: string, afterRevision: number) {
  const ac = new AbortController();
  const events: WatchEvent[] = [];
  // Held until awaited, so that a failed watch fails its test rather than the process.
  const outcome = (async () => {
    for await (const batch of store.watch(prefix, { afterRevision, signal: ac.signal }))
      events.push(...batch);
  })().then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err : new Error(`watch failed: ${JSON.stringify(err)}`)),
  );
  const done = async (): Promise<void> => {
    const err = await outcome;
    if (err !== undefined) throw err;
  };
  return { events, done, stop: () => ac.abort() };
}

/** A store on `server`; short dial timeout so that a failing test fails fast instead of waiting on etcd. */
function storeOn(server: EtcdServer, options: Partial<EtcdStoreOptions> = {}): EtcdStore {
  return new EtcdStore({
    endpoints: [server.endpoint],
    compactIntervalMs: 0,
    dialTimeoutMs: 5000,
    ...options,
  });
}

let conformanceServer: EtcdServer | undefined;
storeConformance('etcd', {
  open: async () => {
    conformanceServer ??= await EtcdServer.start();
    return storeOn(conformanceServer, { prefix: '/k8ts' });
  },
  teardown: async () => {
    await conformanceServer?.stop();
  },
});

describe('etcd store: endpoints and key ranges', () => {
  it('turns client URLs into one gRPC target', () => {
    assert.deepEqual(grpcTarget(['http://127.0.0.1:2379']), { target: 'ipv4:127.0.0.1:2379', secure: false });
    assert.deepEqual(grpcTarget(['http://10.0.0.1:2379', '10.0.0.2:2380']), {
      target: 'ipv4:10.0.0.1:2379,10.0.0.2:2380',
      secure: false,
    });
    assert.deepEqual(grpcTarget(['https://[::1]:2379']), { target: 'ipv6:[::1]:2379', secure: true });
    assert.deepEqual(grpcTarget(['https://etcd.example:4001']), {
      target: 'dns:etcd.example:4001',
      secure: true,
    });
    assert.throws(() => grpcTarget(['http://a:1', 'https://127.0.0.1:2']), /mix http and https/);
    assert.throws(() => grpcTarget(['http://a.example:1', 'http://b.example:2']), /IPv4 or all be IPv6/);
    assert.throws(() => grpcTarget([]), /no endpoints/);
  });

  it('computes the end of a prefix range in bytes', () => {
    assert.deepEqual([...byteRangeEnd(Buffer.from('/a/'))], [...Buffer.from('/a0')]);
    assert.deepEqual([...byteRangeEnd(Buffer.from([0x61, 0xff, 0xff]))], [0x62]);
    assert.deepEqual([...byteRangeEnd(Buffer.from([0xff]))], [0]);
    assert.deepEqual([...byteRangeEnd(Buffer.alloc(0))], [0]);
  });
});

describe('etcd store: against a real etcd member', () => {
  let server: EtcdServer;
  before(async () => {
    server = await EtcdServer.start();
  });
  after(async () => {
    await server?.stop();
  });

  it('keeps every acknowledged write through a kill -9 of etcd mid-loop', async () => {
    const store = storeOn(server, { prefix: '/crash' });
    try {
      const acked = new Map<string, number>();
      let failed = 0;
      let stop = false;
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; !stop; i++) {
          const key = `/w${w}/${String(i).padStart(6, '0')}`;
          try {
            const kv = await store.create(key, bytes(`${w}.${i}`));
            acked.set(key, kv.modRevision);
          } catch (err) {
            if (!isStoreError(err, 'Unavailable')) throw err;
            failed += 1; // outcome unknown: not acknowledged, so not checked
          }
        }
      };
      const writers = [0, 1, 2, 3].map((w) => writer(w));
      await waitFor('100 acknowledged writes', () => acked.size >= 100);
      const pid = server.pid;
      await server.kill('SIGKILL');
      const atKill = acked.size;
      await sleep(200);
      await server.start();
      assert.notEqual(server.pid, pid);
      await waitFor('100 more writes after the restart', () => acked.size >= atKill + 100, 20_000);
      stop = true;
      await Promise.all(writers);

      const stored = new Map<string, number>();
      for (const kv of (await store.list('/')).kvs) stored.set(kv.key, kv.modRevision);
      const lost = [...acked].filter(([key, rev]) => stored.get(key) !== rev);
      assert.deepEqual(
        lost,
        [],
        `${lost.length} of ${acked.size} acknowledged writes lost (${failed} failed)`,
      );
      assert.ok(acked.size >= atKill + 100);
    } finally {
      await store.close();
    }
  });

  it('answers Unavailable, naming etcd, while etcd is down, and recovers when it is back', async () => {
    const store = storeOn(server, { dialTimeoutMs: 300 });
    try {
      await store.create('/down/a', bytes('1'));
      await server.kill('SIGKILL');
      const err = await rejectsWith(store.get('/down/a'), 'Unavailable');
      assert.match(err.message, new RegExp(`etcd at ${server.endpoint.replace(/\./g, '\\.')}`));
      await rejectsWith(store.create('/down/b', bytes('2')), 'Unavailable');
      await server.start();
      await waitFor('etcd to answer again', async () => {
        try {
          return text((await store.get('/down/a')).kv?.value) === '1';
        } catch {
          return false;
        }
      });
    } finally {
      await store.close();
    }
  });

  it('resumes a watch across an etcd restart, delivering every event exactly once', async () => {
    const store = storeOn(server, { prefix: '/resume' });
    try {
      const start = await store.currentRevision();
      const w = background(store, '/k/', start);
      const expected: string[] = [];
      const write = async (i: number): Promise<void> => {
        const key = `/k/${i % 7}`;
        const cur = (await store.get(key)).kv;
        if (cur === undefined) {
          const kv = await store.create(key, bytes(`v${i}`));
          expected.push(`created ${key} v${i}@${kv.modRevision}`);
        } else if (i % 5 === 0) {
          const d = await store.delete(key, { expectedModRevision: cur.modRevision });
          expected.push(`deleted ${key} ${text(cur.value)}@${d.revision}`);
        } else {
          const kv = await store.update(key, bytes(`v${i}`), cur.modRevision);
          expected.push(`updated ${key} ${text(cur.value)}->v${i}@${kv.modRevision}`);
        }
      };
      for (let i = 0; i < 30; i++) await write(i);
      await server.restart({ signal: 'SIGKILL' });
      // Written before the watch has its stream back: they come from etcd's history.
      for (let i = 30; i < 60; i++) await write(i);
      await waitFor('60 events', () => w.events.length >= 60, 15_000);
      await sleep(300); // a duplicate would arrive now
      w.stop();
      await w.done();
      assert.deepEqual(w.events.map(describeEvent), expected);
    } finally {
      await store.close();
    }
  });

  it('lets two stores on one etcd see each other and conflict correctly', async () => {
    const a = storeOn(server, { prefix: '/shared' });
    const b = storeOn(server, { prefix: '/shared' });
    try {
      const start = await a.currentRevision();
      const watchB = background(b, '/x/', start);
      const k1 = await a.create('/x/k', bytes('from a'));
      assert.equal(text((await b.get('/x/k')).kv?.value), 'from a');
      await rejectsWith(b.create('/x/k', bytes('from b')), 'KeyExists');
      const k2 = await b.update('/x/k', bytes('from b'), k1.modRevision);
      assert.equal(k2.createRevision, k1.createRevision);
      const err = await rejectsWith(a.update('/x/k', bytes('stale'), k1.modRevision), 'Conflict');
      assert.ok(isStoreError(err));
      assert.equal(text(err.current?.value), 'from b');
      assert.equal(err.current?.modRevision, k2.modRevision);
      await rejectsWith(a.delete('/x/k', { expectedModRevision: k1.modRevision }), 'Conflict');
      const del = await a.delete('/x/k', { expectedModRevision: k2.modRevision });
      await rejectsWith(b.update('/x/k', bytes('gone'), k2.modRevision), 'KeyNotFound');

      // Both race to create one key: exactly one wins.
      const race = await Promise.allSettled([
        a.create('/x/race', bytes('a')),
        b.create('/x/race', bytes('b')),
      ]);
      assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1);
      const loser = race.find((r) => r.status === 'rejected');
      assert.ok(loser?.status === 'rejected' && isStoreError(loser.reason, 'KeyExists'));

      // Compare-and-swap increments from both stores: none is lost.
      await a.create('/x/counter', bytes('0'));
      const worker = async (s: EtcdStore): Promise<void> => {
        for (let i = 0; i < 5; i++) {
          for (;;) {
            const cur = (await s.get('/x/counter')).kv!;
            try {
              await s.update('/x/counter', bytes(String(Number(text(cur.value)) + 1)), cur.modRevision);
              break;
            } catch (e) {
              if (!isStoreError(e, 'Conflict')) throw e;
            }
          }
        }
      };
      await Promise.all([a, b, a, b, a, b].map((s) => worker(s)));
      assert.equal(text((await b.get('/x/counter')).kv?.value), '30');

      await waitFor('b to see the first four changes', () => watchB.events.length >= 4);
      watchB.stop();
      await watchB.done();
      assert.deepEqual(watchB.events.slice(0, 3).map(describeEvent), [
        `created /x/k from a@${k1.modRevision}`,
        `updated /x/k from a->from b@${k2.modRevision}`,
        `deleted /x/k from b@${del.revision}`,
      ]);
      assert.match(describeEvent(watchB.events[3]!), /^created \/x\/race [ab]@/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a write etcd finds too large with TooLarge, though it passed the size check', async () => {
    const store = storeOn(server);
    try {
      const key = '/big/limit';
      const r = await store.currentRevision();
      // key + value is exactly the contract's limit; etcd also counts the transaction around it.
      await rejectsWith(store.create(key, new Uint8Array(maxValueBytes - key.length)), 'TooLarge');
      assert.equal(await store.currentRevision(), r);
    } finally {
      await store.close();
    }
  });

  it('ends watches without an error when the store closes', async () => {
    const store = storeOn(server);
    const w = background(store, '/closing/', await store.currentRevision());
    await store.create('/closing/a', bytes('1'));
    await waitFor('the event', () => w.events.length === 1);
    await store.close();
    await w.done(); // resolves: the iterator finished rather than threw
    await rejectsWith(store.get('/closing/a'), 'Closed');
  });

  it('reuses a lease for writes with a similar time to live, as kube-apiserver does', async () => {
    const client = new EtcdClient({
      endpoints: [server.endpoint],
      dialTimeoutMs: 5000,
      requestTimeoutMs: 5000,
    });
    try {
      let now = 1_000_000;
      const granted: number[] = [];
      const leases = new LeaseManager(
        async (ttl) => {
          granted.push(ttl);
          return (await client.leaseGrant({ TTL: ttl })).ID;
        },
        { now: () => now, maxObjectCount: 3 },
      );
      const first = await leases.getLease(600); // window: 5% of 600 s = 30 s
      assert.deepEqual(granted, [630]);
      now += 10_000;
      assert.equal(await leases.getLease(600), first, 'within the window');
      assert.equal(await leases.getLease(615), first, 'a longer TTL that the lease still covers');
      assert.notEqual(await leases.getLease(600), first, 'a lease carries at most maxObjectCount keys');
      const second = granted.length;
      now += 31_000;
      const third = await leases.getLease(600);
      assert.equal(granted.length, second + 1, 'past the window a new lease is granted');
      assert.notEqual(third, first);
      assert.match(third, /^\d+$/);
    } finally {
      client.close();
    }
  });
});

describe('etcd store: the shared compactor', () => {
  it('compacts once per interval however many stores share the etcd, to the previous round revision', async () => {
    const server = await EtcdServer.start();
    const intervalMs = 250;
    const observer = storeOn(server);
    const stores: EtcdStore[] = [];
    try {
      const start = await observer.currentRevision();
      const w = background(observer, compactRevKey, start);
      const began = Date.now();
      stores.push(
        storeOn(server, { prefix: '/a', compactIntervalMs: intervalMs }),
        storeOn(server, { prefix: '/b', compactIntervalMs: intervalMs }),
      );
      // Keep the revision moving, so each round has a new target.
      for (let i = 0; Date.now() - began < 10 * intervalMs; i++) {
        await stores[i % 2]!.create(`/load/${i}`, bytes('x'));
        await sleep(10);
      }
      const known = Math.max(...(await Promise.all(stores.map((s) => s.compactedRevision()))));
      await Promise.all(stores.map((s) => s.close()));
      const elapsed = Date.now() - began;
      await sleep(100);
      w.stop();
      await w.done();

      const puts = w.events.flatMap((e) => (e.type === 'deleted' ? [] : [e]));
      const rounds = Math.floor(elapsed / intervalMs);
      assert.ok(puts.length >= 3, `only ${puts.length} compactions in ${elapsed} ms`);
      assert.ok(
        puts.length <= rounds + 1,
        `${puts.length} compactions in ${rounds} intervals: not coordinated`,
      );
      const targets = puts.map((e) => Number(text(e.kv.value)));
      assert.equal(targets[0], 0, 'the first round only records a revision');
      for (let i = 1; i < puts.length; i++) {
        // The winner compacts to a revision seen at or after the previous round's write, never to now.
        assert.ok(targets[i]! >= puts[i - 1]!.revision, `target ${targets[i]} before round ${i - 1}`);
        assert.ok(targets[i]! < puts[i]!.revision);
      }
      // The last round's compaction may have been cut short by close(); the one before it ran.
      const done = targets.at(-2)!;
      assert.ok(known >= done, `the stores know of compaction ${known}, not ${done}`);
      assert.equal(
        await observer.compactedRevision(),
        0,
        'the observer runs no compactor and was told of none',
      );
      await rejectsWith(observer.get('/load/0', { revision: done - 1 }), 'Compacted');
      const err = await rejectsWith(observer.get('/load/0', { revision: 1 }), 'Compacted');
      assert.ok(isStoreError(err) && (err.compactedRevision ?? 0) >= done);
      assert.ok((await observer.compactedRevision()) >= done, 'learnt from the Compacted error');
      // History since the last compaction target is still there.
      await observer.get('/load/0', { revision: targets.at(-1)! });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await observer.close();
      await server.stop();
    }
  });
});
