import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { PodTemplate } from 'kubernetes-types/core/v1.js';
import type { KObject } from '../generic/strategy.js';
import { podTemplateStrategy } from './podtemplates.js';
import { invalidMessage, openRegistry } from './testing/workload-harness.js';

describe('podtemplates', () => {
  const { reg, close } = openRegistry(podTemplateStrategy);
  after(close);

  it('defaults the template and counts template changes in the generation', async () => {
    const created = (await reg.create('default', {
      metadata: { name: 'tpl' },
      template: { spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } },
    })) as PodTemplate;
    assert.equal(created.metadata?.generation, 1);
    assert.equal(created.template?.spec?.dnsPolicy, 'ClusterFirst');
    assert.equal(created.template?.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
    const next = structuredClone(created);
    next.template!.spec!.containers[0]!.image = 'busybox:1.37';
    const { object } = await reg.update('default', 'tpl', next as KObject);
    assert.equal(object.metadata?.generation, 2);
  });

  it('validates the template', async () => {
    const msg = await invalidMessage(
      reg.create('default', { metadata: { name: 'bad' }, template: { spec: { containers: [] } } }),
    );
    assert.equal(msg, 'PodTemplate "bad" is invalid: template.spec.containers: Required value');
  });
});
