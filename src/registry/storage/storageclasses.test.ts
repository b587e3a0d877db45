import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { storageClassStrategy } from './storageclasses.js';

const h = new StrategyHarness(storageClassStrategy);
after(() => h.close());

describe('storageclasses', () => {
  it('default reclaimPolicy Delete and volumeBindingMode Immediate', async () => {
    const sc = await h.create({ metadata: { name: 'local' }, provisioner: 'rancher.io/local-path' });
    assert.equal(sc.reclaimPolicy, 'Delete');
    assert.equal(sc.volumeBindingMode, 'Immediate');
  });

  it('require a provisioner and known policies', async () => {
    const { causes } = await h.invalid(
      h.create({ metadata: { name: 'bad' }, reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' }),
    );
    assert.deepEqual(causes, [
      'provisioner: Required value',
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    ]);
  });

  it('forbid changes to parameters, provisioner and reclaimPolicy', async () => {
    const stored = await h.create({
      metadata: { name: 'fixed' },
      provisioner: 'example.com/p',
      parameters: { type: 'ssd' },
    });
    stored.parameters = { type: 'hdd' };
    stored.provisioner = 'example.com/q';
    stored.reclaimPolicy = 'Retain';
    const { causes } = await h.invalid(h.update(stored));
    assert.deepEqual(causes, [
      'parameters: Forbidden: updates to parameters are forbidden.',
      'provisioner: Forbidden: updates to provisioner are forbidden.',
      'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
    ]);
  });
});
