import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { podDisruptionBudgetStrategy } from './poddisruptionbudgets.js';

const h = new StrategyHarness(podDisruptionBudgetStrategy);
after(() => h.close());

describe('poddisruptionbudgets', () => {
  it('store the zero status and generation 1', async () => {
    const pdb = await h.create({
      metadata: { name: 'web' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } },
    });
    assert.deepEqual(pdb.status, {
      currentHealthy: 0,
      desiredHealthy: 0,
      disruptionsAllowed: 0,
      expectedPods: 0,
    });
    assert.equal(pdb.metadata?.generation, 1);
  });

  it('refuse minAvailable with maxUnavailable, and percentages over 100%', async () => {
    const { causes } = await h.invalid(
      h.create({ metadata: { name: 'both' }, spec: { minAvailable: '150%', maxUnavailable: -1 } }),
    );
    assert.deepEqual(causes, [
      'spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:(*intstr.IntOrString)(0xc000010000), Selector:(*v1.LabelSelector)(nil), MaxUnavailable:(*intstr.IntOrString)(0xc000010000), UnhealthyPodEvictionPolicy:(*policy.UnhealthyPodEvictionPolicyType)(nil)}: minAvailable and maxUnavailable cannot be both set',
      'spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
      'spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });
});
