// Leader election: the rules on a stepped clock with an in-memory lease (expiry judged by observed time,
// renew deadline, transitions, conflicts), then two electors on a real API server handing over on stop.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// Integration tests run against a real API server; the layer rule is for product code, not its tests.
import { ApiServer } from '../apiserver/api-server.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { FakeClock } from './fake-clock.js';
import type { LeaseLock, LeaseRecord } from './leader-election.js';
import { LeaderElector, leaseLock } from './leader-election.js';
import { RESTClient } from './rest-client.js';

/** A lease kept in memory with a version counter, so conflicting writes fail as on a real server. */
class MemoryLease {
  record: LeaseRecord | undefined;
  version = 0;
  /** A lock handle for one candidate; `broken` makes its calls fail like a partitioned network. */
  handle(): LeaseLock & { broken: boolean } {
    const lease = this as MemoryLease;
    return {
      broken: false,
      describe: () => 'memory',
      async get() {
        if (this.broken) throw new Error('connection refused');
        return lease.record ? { record: { ...lease.record }, version: String(lease.version) } : undefined;
      },
      async create(r) {
        if (this.broken) throw new Error('connection refused');
        if (lease.record) return false;
        lease.record = { ...r };
        lease.version++;
        return true;
      },
      async update(r, v) {
        if (this.broken) throw new Error('connection refused');
        if (v !== String(lease.version)) return false;
        lease.record = { ...r };
        lease.version++;
        return true;
      },
    };
  }
}

function candidate(
  identity: string,
  lock: LeaseLock,
  extra: Partial<ConstructorParameters<typeof LeaderElector>[0]> = {},
) {
  const state = { leading: false, stopped: false, leaders: [] as string[] };
  const elector = new LeaderElector({
    lock,
    identity,
    // The acquire loop's jitter at its middle, so the stepped clock's timings are the same on every run.
    random: () => 0.5,
    callbacks: {
      onStartedLeading: (signal) => {
        state.leading = true;
        signal.addEventListener('abort', () => (state.leading = false));
      },
      onStoppedLeading: () => (state.stopped = true),
      onNewLeader: (id) => state.leaders.push(id),
    },
    ...extra,
  });
  return { elector, state };
}

describe('LeaderElector rules (stepped clock)', () => {
  it('rejects inconsistent timings', () => {
    const lock = new MemoryLease().handle();
    assert.throws(
      () => candidate('a', lock, { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
      /leaseDuration must be greater than renewDeadline/,
    );
    assert.throws(
      () => candidate('a', lock, { renewDeadlineMs: 2_000 }),
      /renewDeadline must be greater than retryPeriod\*JitterFactor/,
    );
    assert.throws(() => candidate('', lock), /identity is empty/);
  });

  it('one leads; when it cannot renew it steps down after renewDeadline and the other takes over after leaseDuration', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const lockA = lease.handle();
    const a = candidate('a', lockA, { clock });
    const b = candidate('b', lease.handle(), { clock });
    const stop = new AbortController();
    const runA = a.elector.run(stop.signal);
    await clock.step(0);
    const runB = b.elector.run(stop.signal);
    await clock.step(0);
    assert.equal(a.state.leading, true);
    assert.equal(b.state.leading, false);
    assert.equal(lease.record?.holderIdentity, 'a');
    assert.equal(lease.record?.leaseDurationSeconds, 15);
    assert.deepEqual(b.state.leaders, ['a']);
    const firstAcquire = lease.record?.acquireTime;

    // A renews every 2 s: B must keep waiting well past 15 s.
    await clock.step(30_000);
    assert.equal(a.state.leading, true);
    assert.equal(b.state.leading, false);
    assert.equal(lease.record?.acquireTime, firstAcquire, 'renewals keep acquireTime');
    assert.notEqual(lease.record?.renewTime, firstAcquire);

    // A is cut off from the server.
    lockA.broken = true;
    const cutAt = clock.now();
    let aStoppedAt = 0;
    let bLeadsAt = 0;
    while (clock.now() - cutAt < 30_000 && (!aStoppedAt || !bLeadsAt)) {
      await clock.step(500);
      if (!aStoppedAt && a.state.stopped) aStoppedAt = clock.now() - cutAt;
      if (!bLeadsAt && b.state.leading) bLeadsAt = clock.now() - cutAt;
    }
    assert.ok(aStoppedAt >= 10_000 && aStoppedAt <= 12_500, `A stepped down after ${aStoppedAt} ms`);
    // The lease expires 13–15 s after the cut; B retries every 2 s × (1 + 0.5 × 1.2) = 3.2 s.
    assert.ok(bLeadsAt >= 13_000 && bLeadsAt <= 18_700, `B took over after ${bLeadsAt} ms`);
    assert.ok(aStoppedAt < bLeadsAt, 'never two leaders at once');
    assert.equal(lease.record?.holderIdentity, 'b');
    assert.equal(lease.record?.leaseTransitions, 1);
    assert.notEqual(lease.record?.acquireTime, firstAcquire);
    assert.deepEqual(b.state.leaders, ['a', 'b']);
    await runA;
    stop.abort();
    await clock.step(0);
    await runB;
    assert.equal(lease.record?.holderIdentity, '', 'B released on stop');
  });
});

describe('LeaderElector on a real API server', () => {
  it('elects one of two candidates and hands over within the lease duration when the leader stops', async () => {
    const store = new SqliteStore({ path: ':memory:', compactIntervalMs: 0 });
    const server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
    const port = await server.start();
    const client = new RESTClient({ server: `http://127.0.0.1:${port}` });
    const timings = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 };
    const a = candidate('a', leaseLock(client, 'kube-system', 'demo'), timings);
    const b = candidate('b', leaseLock(client, 'kube-system', 'demo'), timings);
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runs = [a.elector.run(stopA.signal), b.elector.run(stopB.signal)];
    const until = async (cond: () => boolean, ms: number): Promise<number> => {
      const t0 = Date.now();
      while (!cond()) {
        if (Date.now() - t0 > ms) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
      return Date.now() - t0;
    };
    try {
      await until(() => a.state.leading || b.state.leading, 3000);
      // Hold a while: exactly one leads throughout.
      for (let i = 0; i < 10; i++) {
        assert.equal(Number(a.state.leading) + Number(b.state.leading), 1);
        await new Promise((r) => setTimeout(r, 100));
      }
      const [leader, follower, stopLeader] = a.state.leading ? [a, b, stopA] : [b, a, stopB];
      const lease = await client.get(
        { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system' },
        'demo',
      );
      const spec = lease.spec as {
        holderIdentity: string;
        leaseTransitions: number;
        leaseDurationSeconds: number;
      };
      assert.equal(spec.holderIdentity, leader === a ? 'a' : 'b');
      assert.equal(spec.leaseDurationSeconds, 2);
      stopLeader.abort();
      const handover = await until(() => follower.state.leading, 2000);
      assert.ok(handover < 2000, `handover took ${handover} ms`);
      assert.equal(leader.state.leading, false);
      assert.equal(leader.state.stopped, true);
      const after = await client.get(
        { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system' },
        'demo',
      );
      const s2 = after.spec as { holderIdentity: string; leaseTransitions: number };
      assert.equal(s2.holderIdentity, follower === a ? 'a' : 'b');
      assert.equal(s2.leaseTransitions, spec.leaseTransitions + 1);
    } finally {
      stopA.abort();
      stopB.abort();
      await Promise.all(runs);
      client.close();
      await server.stop();
      await store.close();
    }
  });
});
