import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { RegistryStore } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import { copy, invalidMessage, openRegistry } from '../core/testing/workload-harness.js';
import { statefulSetStrategy } from './statefulsets.js';

// The docs' StatefulSet "web" (nginx with a claim template), and what kube-apiserver 1.33 fills in.
const web = (): KObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'nginx' } },
      serviceName: 'nginx',
      replicas: 3,
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.24', volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }] }],
        },
      },
      volumeClaimTemplates: [
        { metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
    },
  });

let reg: RegistryStore;
let close: () => Promise<void>;
beforeEach(() => ({ reg, close } = openRegistry(statefulSetStrategy)));
afterEach(() => close());

describe('statefulsets', () => {
  it('default as upstream does', async () => {
    const created = (await reg.create('default', web())) as StatefulSet;
    const spec = created.spec!;
    assert.equal(spec.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.deepEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    assert.equal(spec.revisionHistoryLimit, 10);
    assert.equal(spec.template.spec?.restartPolicy, 'Always');
    assert.deepEqual(spec.volumeClaimTemplates?.[0], {
      metadata: { name: 'www' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    });
    assert.deepEqual(created.status, { replicas: 0, availableReplicas: 0 });
    const bare = web() as StatefulSet;
    bare.metadata!.name = 'bare';
    delete (bare.spec as { serviceName?: string; replicas?: number }).serviceName;
    delete (bare.spec as { replicas?: number }).replicas;
    const b = (await reg.create('default', bare as KObject)) as StatefulSet;
    assert.equal(b.spec?.serviceName, '', 'Go writes serviceName even when empty');
    assert.equal(b.spec?.replicas, 1);
  });

  it('want a DNS label name and a matching selector', async () => {
    const dotted = web();
    dotted.metadata!.name = 'web.v1';
    assert.equal(
      await invalidMessage(reg.create('default', dotted)),
      'StatefulSet.apps "web.v1" is invalid: metadata.name: Invalid value: "web.v1": must not contain dots',
    );
    const mismatch = web() as StatefulSet;
    mismatch.spec!.selector = { matchLabels: { app: 'other' } };
    assert.equal(
      await invalidMessage(reg.create('default', mismatch as KObject)),
      'StatefulSet.apps "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`',
    );
    const policy = web() as StatefulSet;
    policy.spec!.podManagementPolicy = 'Random';
    assert.equal(
      await invalidMessage(reg.create('default', policy as KObject)),
      "StatefulSet.apps \"web\" is invalid: spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
    );
  });

  it('let only replicas, template, update strategy and the like change', async () => {
    const created = (await reg.create('default', web())) as StatefulSet;
    const scaled = copy(created as KObject) as StatefulSet;
    scaled.spec!.replicas = 5;
    scaled.spec!.template.spec!.containers[0]!.image = 'registry.k8s.io/nginx-slim:0.25';
    const { object } = await reg.update('default', 'web', scaled as KObject);
    assert.equal((object as StatefulSet).spec?.replicas, 5);
    const renamed = copy(object) as StatefulSet;
    renamed.spec!.serviceName = 'other';
    assert.equal(
      await invalidMessage(reg.update('default', 'web', renamed as KObject)),
      "StatefulSet.apps \"web\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', " +
        "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    );
  });
});
