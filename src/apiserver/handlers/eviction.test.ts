import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StatusError } from '../../apimachinery/errors/status-error.js';
import { RESTClient } from '../../client/index.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import { ApiServer } from '../api-server.js';
import { checkAndDecrement } from './eviction.js';

const budget = (status: Record<string, unknown>, generation = 1) => ({
  metadata: { name: 'web', namespace: 'default', generation },
  spec: { minAvailable: 1 },
  status: { currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1, observedGeneration: 1, ...status },
});
const now = new Date(Date.UTC(2026, 0, 1));

describe('checkAndDecrement', () => {
  it('spends one disruption, records the pod and flips the condition at zero', () => {
    const next = checkAndDecrement('web-1', budget({}), now);
    assert.equal(next.status?.disruptionsAllowed, 0);
    assert.deepEqual(next.status?.disruptedPods, { 'web-1': '2026-01-01T00:00:00Z' });
    assert.deepEqual(
      next.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [['DisruptionAllowed', 'False', 'InsufficientPods']],
    );
  });

  it('refuses with 429 and upstream\'s causes', () => {
    const refuse = (b: ReturnType<typeof budget>): StatusError => {
      try {
        checkAndDecrement('web-1', b, now);
      } catch (err) {
        assert.ok(err instanceof StatusError);
        return err;
      }
      assert.fail('expected a refusal');
    };
    const none = refuse(budget({ disruptionsAllowed: 0, currentHealthy: 1 }));
    assert.equal(none.status.code, 429);
    assert.equal(none.status.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(none.status.details?.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 1 currently' }]);
    const stale = refuse(budget({}, 2));
    assert.equal(stale.status.details?.causes?.[0]?.message, 'The disruption budget web is still being processed by the server.');
    const negative = refuse(budget({ disruptionsAllowed: -1 }));
    assert.equal(negative.status.code, 403);
  });
});

describe('pods/eviction against a budget', () => {
  let store: SqliteStore;
  let server: ApiServer;
  let client: RESTClient;
  const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
  const pdbs = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: 'default' };
  before(async () => {
    store = new SqliteStore({ path: ':memory:' });
    server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
    client = new RESTClient({ server: `http://127.0.0.1:${await server.start()}` });
  });
  after(async () => {
    client.close();
    await server.stop();
    await store.close();
  });

  const makePod = async (name: string, app: string, ready: boolean): Promise<void> => {
    await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } });
    const conditions = [{ type: 'Ready', status: ready ? 'True' : 'False' }];
    await client.patch(pods, name, { status: { phase: 'Running', conditions } }, 'merge', { subresource: 'status' });
  };
  const makeBudget = async (name: string, app: string, spec: Record<string, unknown>, status: Record<string, number>): Promise<void> => {
    await client.create(pdbs, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec: { selector: { matchLabels: { app } }, ...spec } });
    await client.patch(pdbs, name, { status: { observedGeneration: 1, expectedPods: 3, ...status } }, 'merge', { subresource: 'status' });
  };
  const evict = (name: string): Promise<unknown> =>
    client.create(pods, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } }, { subresource: 'eviction', name }).then(
      () => 'evicted',
      (err: unknown) => (err instanceof StatusError ? err.status.code : err),
    );

  it('grants one allowed disruption to exactly one of two concurrent evictions', async () => {
    await makePod('race-1', 'race', true);
    await makePod('race-2', 'race', true);
    await makeBudget('race', 'race', { minAvailable: 1 }, { currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1 });
    const results = await Promise.all([evict('race-1'), evict('race-2')]);
    assert.deepEqual([...results].sort(), [429, 'evicted'].sort());
    const pdb = await client.get(pdbs, 'race');
    const status = pdb.status as { disruptionsAllowed: number; disruptedPods: Record<string, string> };
    assert.equal(status.disruptionsAllowed, 0);
    assert.equal(Object.keys(status.disruptedPods).length, 1);
    // Bound pods end gracefully: the evicted one is terminating, marked as disrupted.
    const evicted = await client.get(pods, Object.keys(status.disruptedPods)[0]!);
    assert.ok(evicted.metadata?.deletionTimestamp);
    const dt = (evicted.status as { conditions: { type: string; reason?: string }[] }).conditions.find((c) => c.type === 'DisruptionTarget');
    assert.equal(dt?.reason, 'EvictionByEvictionAPI');
  });

  it('lets unready pods go by unhealthyPodEvictionPolicy', async () => {
    await makePod('sick-1', 'sick', false);
    await makePod('sick-2', 'sick', false);
    // IfHealthyBudget (the default) with the budget not met: an unready pod is still protected.
    await makeBudget('sick', 'sick', { minAvailable: 2 }, { currentHealthy: 0, desiredHealthy: 2, disruptionsAllowed: 0 });
    assert.equal(await evict('sick-1'), 429);
    await client.patch(pdbs, 'sick', { spec: { unhealthyPodEvictionPolicy: 'AlwaysAllow' } }, 'merge');
    assert.equal(await evict('sick-1'), 'evicted');
    // Without a budget for it, a pod is simply deleted.
    await makePod('free', 'free', true);
    assert.equal(await evict('free'), 'evicted');
  });
});
