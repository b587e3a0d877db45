import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { RegistryStore } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import { copy, invalidMessage, openRegistry } from '../core/testing/workload-harness.js';
import { deploymentStrategy } from './deployments.js';

// The docs' nginx-deployment.yaml, and (less Go's `resources: {}` and `creationTimestamp: null`, which are
// serialization, not defaulting) what kube-apiserver 1.33 stores for it.
const nginx = (): KObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx-deployment', labels: { app: 'nginx' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'nginx' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] }] },
      },
    },
  });

const storedSpec = {
  progressDeadlineSeconds: 600,
  replicas: 3,
  revisionHistoryLimit: 10,
  selector: { matchLabels: { app: 'nginx' } },
  strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
  template: {
    metadata: { labels: { app: 'nginx' } },
    spec: {
      containers: [
        {
          image: 'nginx:1.14.2',
          imagePullPolicy: 'IfNotPresent',
          name: 'nginx',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    },
  },
};

let reg: RegistryStore;
let close: () => Promise<void>;
beforeEach(() => ({ reg, close } = openRegistry(deploymentStrategy)));
afterEach(() => close());

const withSpec = (change: (d: Deployment) => void): KObject => {
  const d = nginx() as Deployment;
  change(d);
  return d as KObject;
};

describe('deployments', () => {
  it('store what upstream stores for the docs example', async () => {
    const created = (await reg.create('default', nginx())) as Deployment;
    assert.deepEqual(created.spec, storedSpec);
    assert.deepEqual(created.status, {});
    assert.equal(created.metadata?.generation, 1);
  });

  it('require a selector that matches the template labels', async () => {
    assert.equal(
      await invalidMessage(reg.create('default', withSpec((d) => delete (d.spec as { selector?: unknown }).selector))),
      'Deployment.apps "nginx-deployment" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: ' +
        'map[string]string{"app":"nginx"}: `selector` does not match template `labels`]',
    );
    assert.equal(
      await invalidMessage(reg.create('default', withSpec((d) => (d.spec!.selector = { matchLabels: { app: 'web' } })))),
      'Deployment.apps "nginx-deployment" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: ' +
        '`selector` does not match template `labels`',
    );
    assert.equal(
      await invalidMessage(reg.create('default', withSpec((d) => (d.spec!.selector = {})))),
      'Deployment.apps "nginx-deployment" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), ' +
        'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    );
  });

  it('refuse a rolling update that can make no progress', async () => {
    assert.equal(
      await invalidMessage(reg.create('default', withSpec((d) => (d.spec!.strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } })))),
      'Deployment.apps "nginx-deployment" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: ' +
        'intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
    );
    assert.equal(
      await invalidMessage(reg.create('default', withSpec((d) => (d.spec!.strategy = { rollingUpdate: { maxUnavailable: '120%' } })))),
      'Deployment.apps "nginx-deployment" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: ' +
        'intstr.IntOrString{Type:1, IntVal:0, StrVal:"120%"}: must not be greater than 100%',
    );
    assert.equal(
      await invalidMessage(reg.create('default', withSpec((d) => (d.spec!.strategy = { rollingUpdate: { maxSurge: '25' } })))),
      'Deployment.apps "nginx-deployment" is invalid: spec.strategy.rollingUpdate.maxSurge: Invalid value: ' +
        "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"25\"}: a valid percent string must be a numeric string followed by an ending '%' " +
        "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    );
    assert.equal(
      await invalidMessage(reg.create('default', withSpec((d) => (d.spec!.strategy = { type: 'Recreate', rollingUpdate: {} })))),
      "Deployment.apps \"nginx-deployment\" is invalid: spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    );
    assert.equal(
      await invalidMessage(reg.create('default', withSpec((d) => ((d.spec!.minReadySeconds = 700), (d.spec!.progressDeadlineSeconds = 600))))),
      'Deployment.apps "nginx-deployment" is invalid: spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds',
    );
  });

  it('reject a template whose pods could not be created', async () => {
    const msg = await invalidMessage(
      reg.create('default', withSpec((d) => ((d.spec!.template.spec!.restartPolicy = 'Never'), (d.spec!.template.spec!.containers[0]!.image = '')))),
    );
    assert.equal(
      msg,
      'Deployment.apps "nginx-deployment" is invalid: [spec.template.spec.containers[0].image: Required value, ' +
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"]',
    );
  });

  it('keep the selector immutable and count spec changes', async () => {
    const created = (await reg.create('default', nginx())) as Deployment;
    const scaled = copy(created as KObject) as Deployment;
    scaled.spec!.replicas = 5;
    const { object } = await reg.update('default', 'nginx-deployment', scaled as KObject);
    assert.equal(object.metadata?.generation, 2);
    const moved = copy(object) as Deployment;
    moved.spec!.selector = { matchLabels: { app: 'nginx2' } };
    moved.spec!.template.metadata!.labels = { app: 'nginx2' };
    assert.equal(
      await invalidMessage(reg.update('default', 'nginx-deployment', moved as KObject)),
      'Deployment.apps "nginx-deployment" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"nginx2"}, ' +
        'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    );
  });
});
