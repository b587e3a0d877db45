import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { invalidMessage, openRegistry } from '../core/testing/workload-harness.js';
import { controllerRevisionStrategy } from './controllerrevisions.js';

describe('controllerrevisions', () => {
  const { reg, close } = openRegistry(controllerRevisionStrategy);
  after(close);

  it('require data, and keep it unchanged', async () => {
    assert.equal(
      await invalidMessage(reg.create('default', { metadata: { name: 'web-1' }, revision: 1 })),
      'ControllerRevision.apps "web-1" is invalid: data: Required value: data is mandatory',
    );
    const created = await reg.create('default', { metadata: { name: 'web-1' }, revision: 1, data: { spec: { template: {} } } });
    const next = { ...structuredClone(created), data: { spec: { template: { metadata: {} } } } };
    assert.match(await invalidMessage(reg.update('default', 'web-1', next)), /^ControllerRevision\.apps "web-1" is invalid: data: Invalid value: .*: field is immutable$/);
    const relabeled = structuredClone(created);
    relabeled.metadata!.labels = { controller: 'web' };
    const { object } = await reg.update('default', 'web-1', relabeled);
    assert.deepEqual(object.metadata?.labels, { controller: 'web' });
  });
});
