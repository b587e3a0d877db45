import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { priorityClassStrategy } from './priorityclasses.js';

const h = new StrategyHarness(priorityClassStrategy);
after(() => h.close());

describe('priorityclasses', () => {
  it('default preemptionPolicy to PreemptLowerPriority', async () => {
    const pc = await h.create({ metadata: { name: 'high' }, value: 1000 });
    assert.equal(pc.preemptionPolicy, 'PreemptLowerPriority');
  });

  it('reserve the system- prefix and cap user values', async () => {
    const sys = await h.invalid(h.create({ metadata: { name: 'system-mine' }, value: 5 }));
    assert.deepEqual(sys.causes, [
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    ]);
    const wrong = await h.invalid(h.create({ metadata: { name: 'system-node-critical' }, value: 5 }));
    assert.match(wrong.causes[0]!, /error: value of system-node-critical PriorityClass must be 2000001000$/);
    await h.create({ metadata: { name: 'system-cluster-critical' }, value: 2000000000 });
    const big = await h.invalid(h.create({ metadata: { name: 'huge' }, value: 1000000001 }));
    assert.deepEqual(big.causes, [
      'value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
    ]);
  });

  it('keep value and preemptionPolicy fixed', async () => {
    const stored = await h.create({ metadata: { name: 'fixed' }, value: 10 });
    stored.value = 11;
    stored.preemptionPolicy = 'Never';
    const { causes } = await h.invalid(h.update(stored));
    assert.deepEqual(causes, [
      'value: Forbidden: may not be changed in an update.',
      'preemptionPolicy: Invalid value: "Never": field is immutable',
    ]);
  });
});
