import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countHealthyPods, deletionTimeoutMs, expectedPodCount } from './disruption-controller.js';

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
