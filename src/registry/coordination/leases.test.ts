import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { leaseStrategy } from './leases.js';

const h = new StrategyHarness(leaseStrategy);
after(() => h.close());

describe('leases', () => {
  it('accept any holder with a positive duration', async () => {
    const lease = await h.create({
      metadata: { name: 'kube-scheduler' },
      spec: { holderIdentity: 'node-1_abc', leaseDurationSeconds: 15 },
    });
    assert.deepEqual(lease.spec, { holderIdentity: 'node-1_abc', leaseDurationSeconds: 15 });
  });

  it('refuse a non-positive duration and negative transitions', async () => {
    const { message } = await h.invalid(
      h.create({ metadata: { name: 'l' }, spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } }),
    );
    assert.equal(
      message,
      'Lease.coordination.k8s.io "l" is invalid: [spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0, spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0]',
    );
  });
});
