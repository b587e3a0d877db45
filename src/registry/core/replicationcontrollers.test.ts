import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import type { KObject } from '../generic/strategy.js';
import { replicationControllerStrategy } from './replicationcontrollers.js';
import { invalidMessage, openRegistry } from './testing/workload-harness.js';

const rc = (spec: Partial<NonNullable<ReplicationController['spec']>>): KObject => ({
  apiVersion: 'v1',
  kind: 'ReplicationController',
  metadata: { name: 'nginx' },
  spec,
});

const template = {
  metadata: { labels: { app: 'nginx' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
};

describe('replicationcontrollers', () => {
  const { reg, close } = openRegistry(replicationControllerStrategy);
  after(close);

  it('defaults selector, labels and replicas from the template, and starts with zero replicas in status', async () => {
    const created = (await reg.create('default', rc({ template }))) as ReplicationController;
    assert.deepEqual(created.spec?.selector, { app: 'nginx' });
    assert.deepEqual(created.metadata?.labels, { app: 'nginx' });
    assert.equal(created.spec?.replicas, 1);
    assert.equal(created.spec?.template?.spec?.restartPolicy, 'Always');
    assert.equal(created.spec?.template?.spec?.containers[0]?.imagePullPolicy, 'Always');
    assert.equal(created.metadata?.generation, 1);
    assert.deepEqual(created.status, { replicas: 0 });
  });

  it('rejects a template that does not match the selector, or restarts other than Always', async () => {
    const msg = await invalidMessage(
      reg.create(
        'default',
        rc({
          selector: { app: 'other' },
          template: { ...template, spec: { ...template.spec, restartPolicy: 'OnFailure' } },
        }),
      ),
    );
    assert.equal(
      msg,
      'ReplicationController "nginx" is invalid: [spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: ' +
        '`selector` does not match template `labels`, spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"]',
    );
    assert.equal(
      await invalidMessage(reg.create('default', rc({}))),
      'ReplicationController "nginx" is invalid: [spec.selector: Required value, spec.template: Required value]',
    );
  });
});
