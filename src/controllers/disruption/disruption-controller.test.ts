import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// Integration tests run against a real API server; the layer rule is for product code, not its tests.
import { ApiServer } from '../../apiserver/api-server.js';
import { logger } from '../../base/log.js';
import { EventRecorder, realClock, RESTClient } from '../../client/index.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import { InformerFactory } from '../common/informer-factory.js';
import { countHealthyPods, deletionTimeoutMs, DisruptionController, expectedPodCount } from './disruption-controller.js';

const scaleOf = (n: number) => () => Promise.resolve(n);
const pod = (name: string, ready: boolean, deleting = false) => ({
  metadata: { name, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('PodDisruptionBudget arithmetic', () => {
  it('takes minAvailable as a count of the pods there are', async () => {
    assert.deepEqual(await expectedPodCount({ minAvailable: 2 }, 3, scaleOf(10)), { expectedCount: 3, desiredHealthy: 2 });
  });

  it('takes percentages of the controllers\' scale, rounding up', async () => {
    assert.deepEqual(await expectedPodCount({ minAvailable: '50%' }, 3, scaleOf(5)), { expectedCount: 5, desiredHealthy: 3 });
    assert.deepEqual(await expectedPodCount({ maxUnavailable: '25%' }, 3, scaleOf(5)), { expectedCount: 5, desiredHealthy: 3 });
    assert.deepEqual(await expectedPodCount({ maxUnavailable: 7 }, 3, scaleOf(5)), { expectedCount: 5, desiredHealthy: 0 });
  });

  it('counts ready pods that are neither terminating nor already granted an eviction', () => {
    const now = Date.UTC(2026, 0, 1, 0, 5);
    const pods = [pod('a', true), pod('b', true), pod('c', false), pod('d', true, true), pod('e', true)];
    const granted = { b: new Date(now - 1000).toISOString(), e: new Date(now - deletionTimeoutMs - 1000).toISOString() };
    // b is expected to go; e's grant expired, so it counts again.
    assert.equal(countHealthyPods(pods, granted, now), 2);
  });
});

describe('stale DisruptionTarget conditions', () => {
  it('resets the condition of a pod that was marked for disruption but never deleted', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
    const client = new RESTClient({ server: `http://127.0.0.1:${await server.start()}` });
    const informers = new InformerFactory(client);
    const controller = new DisruptionController({
      client,
      informers,
      recorder: (component) => new EventRecorder({ client, component }),
      log: logger('disruption-test'),
      clock: realClock,
    });
    controller.stalePodDisruptionTimeoutMs = 300;
    const ac = new AbortController();
    informers.start(ac.signal);
    const running = controller.run(ac.signal);
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    try {
      await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'marked' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      const t = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const marked = { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: t };
      await client.patch(pods, 'marked', { status: { conditions: [marked] } }, 'merge', { subresource: 'status' });
      const deadline = Date.now() + 10_000;
      for (;;) {
        const pod = await client.get(pods, 'marked');
        const c = (pod.status as { conditions?: { type: string; status: string }[] }).conditions?.find((x) => x.type === 'DisruptionTarget');
        if (c?.status === 'False') break;
        assert.ok(Date.now() < deadline, 'timed out waiting for the reset');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      ac.abort();
      await running;
      client.close();
      await server.stop();
      await store.close();
    }
  });
});
