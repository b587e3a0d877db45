import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { KObject } from '../generic/strategy.js';
import { invalidMessage, openRegistry } from '../core/testing/workload-harness.js';
import { replicaSetStrategy } from './replicasets.js';

describe('replicasets', () => {
  const { reg, close } = openRegistry(replicaSetStrategy);
  after(close);
  const rs = (selector: unknown): KObject =>
    ({
      metadata: { name: 'frontend' },
      spec: { selector, template: { metadata: { labels: { tier: 'frontend' } }, spec: { containers: [{ name: 'php', image: 'php:8' }] } } },
    });

  it('default one replica and start with zero replicas in status', async () => {
    const created = (await reg.create('default', rs({ matchLabels: { tier: 'frontend' } }))) as ReplicaSet;
    assert.equal(created.spec?.replicas, 1);
    assert.deepEqual(created.status, { replicas: 0 });
  });

  it('reject an empty selector with upstream\'s (deployment) wording', async () => {
    assert.equal(
      await invalidMessage(reg.create('default', rs({ matchLabels: {} }))),
      'ReplicaSet.apps "frontend" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{}, ' +
        'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    );
  });
});
