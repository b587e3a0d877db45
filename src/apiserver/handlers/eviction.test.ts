import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../apimachinery/errors/status-error.js';
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
