import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { RegistryStore } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import { copy, invalidMessage, openRegistry } from '../core/testing/workload-harness.js';
import { daemonSetStrategy } from './daemonsets.js';

const agent = (): KObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent' },
    spec: {
      selector: { matchLabels: { name: 'agent' } },
      template: { metadata: { labels: { name: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'busybox:1.36' }] } },
    },
  });

let reg: RegistryStore;
let close: () => Promise<void>;
beforeEach(() => ({ reg, close } = openRegistry(daemonSetStrategy)));
afterEach(() => close());

describe('daemonsets', () => {
  it('default the update strategy and history, and start template generation at 1', async () => {
    const created = (await reg.create('default', agent())) as DaemonSet;
    assert.deepEqual(created.spec?.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.equal(created.spec?.revisionHistoryLimit, 10);
    assert.equal(created.metadata?.annotations?.['deprecated.daemonset.template.generation'], '1');
    assert.deepEqual(created.status, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
    const next = copy(created as KObject) as DaemonSet;
    next.spec!.template.spec!.containers[0]!.image = 'busybox:1.37';
    const { object } = await reg.update('default', 'agent', next as KObject);
    assert.equal(object.metadata?.annotations?.['deprecated.daemonset.template.generation'], '2');
    const again = copy(object) as DaemonSet;
    again.spec!.minReadySeconds = 5;
    const { object: third } = await reg.update('default', 'agent', again as KObject);
    assert.equal(third.metadata?.annotations?.['deprecated.daemonset.template.generation'], '2', 'only template changes count');
  });

  it('allow exactly one of maxSurge and maxUnavailable', async () => {
    const both = agent() as DaemonSet;
    both.spec!.updateStrategy = { rollingUpdate: { maxSurge: 1 } };
    assert.equal(
      await invalidMessage(reg.create('default', both as KObject)),
      'DaemonSet.apps "agent" is invalid: spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: ' +
        'may not be set when maxUnavailable is non-zero',
    );
    const none = agent() as DaemonSet;
    none.spec!.updateStrategy = { rollingUpdate: { maxUnavailable: 0 } };
    assert.equal(
      await invalidMessage(reg.create('default', none as KObject)),
      'DaemonSet.apps "agent" is invalid: spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
    );
  });

  it('want pods that always restart and a selector that never changes', async () => {
    const job = agent() as DaemonSet;
    job.spec!.template.spec!.restartPolicy = 'OnFailure';
    assert.equal(
      await invalidMessage(reg.create('default', job as KObject)),
      'DaemonSet.apps "agent" is invalid: spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    );
    const created = (await reg.create('default', agent())) as DaemonSet;
    const moved = copy(created as KObject) as DaemonSet;
    moved.spec!.selector = { matchLabels: { name: 'agent' }, matchExpressions: [{ key: 'name', operator: 'In', values: ['agent'] }] };
    assert.equal(
      await invalidMessage(reg.update('default', 'agent', moved as KObject)),
      'DaemonSet.apps "agent" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"name":"agent"}, ' +
        'MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"name", Operator:"In", Values:[]string{"agent"}}}}: field is immutable',
    );
  });
});
