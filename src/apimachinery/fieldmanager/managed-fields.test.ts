import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
import { SchemaIndex } from '../openapi/schema-index.js';
import type { JsonObject, JsonValue } from '../patch/json-value.js';
import { managerFromUserAgent, updateManagedFields, withManagedFields } from './managed-fields.js';

const index = SchemaIndex.builtin();
const deploymentSchema = index.forKind({ group: 'apps', version: 'v1', kind: 'Deployment' });
const secretSchema = index.forKind({ group: '', version: 'v1', kind: 'Secret' });

const t0 = new Date('2021-01-20T14:18:10.250Z');
const t1 = new Date('2021-01-20T14:20:00Z');
const t2 = new Date('2021-01-20T14:25:00Z');

function freeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) freeze(child);
    Object.freeze(v);
  }
  return v;
}

function clone(o: JsonObject): JsonObject {
  return structuredClone(o);
}

/** What the API server stores for `kubectl create deployment nginx --image=nginx --port=80`, defaults in. */
function createdDeployment(): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'nginx',
      namespace: 'default',
      uid: '6b4e1d38-5d3a-4f6e-9d43-2b1e0f8c9a11',
      resourceVersion: '401',
      generation: 1,
      creationTimestamp: '2021-01-20T14:18:10Z',
      labels: { app: 'nginx' },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'nginx' } },
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'Always',
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          securityContext: {},
          schedulerName: 'default-scheduler',
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  };
}

// The entry a real API server recorded for that create (fields and key order as it serialized them).
const kubectlCreateFields: JsonObject = {
  'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
  'f:spec': {
    'f:progressDeadlineSeconds': {},
    'f:replicas': {},
    'f:revisionHistoryLimit': {},
    'f:selector': {},
    'f:strategy': {
      'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} },
      'f:type': {},
    },
    'f:template': {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"nginx"}': {
            '.': {},
            'f:image': {},
            'f:imagePullPolicy': {},
            'f:name': {},
            'f:ports': {
              '.': {},
              'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
            },
            'f:resources': {},
            'f:terminationMessagePath': {},
            'f:terminationMessagePolicy': {},
          },
        },
        'f:dnsPolicy': {},
        'f:restartPolicy': {},
        'f:schedulerName': {},
        'f:securityContext': {},
        'f:terminationGracePeriodSeconds': {},
      },
    },
  },
};

function create(obj: JsonObject, manager = 'kubectl-create', time = t0): JsonObject {
  const entries = updateManagedFields({
    old: undefined,
    new: freeze(clone(obj)),
    manager,
    apiVersion: obj.apiVersion as string,
    time,
    schema: obj.kind === 'Secret' ? secretSchema : deploymentSchema,
  });
  return withManagedFields(obj, entries);
}

function update(
  old: JsonObject,
  next: JsonObject,
  manager: string,
  time: Date,
  subresource?: string,
): ManagedFieldsEntry[] {
  return updateManagedFields({
    old: freeze(clone(old)),
    new: freeze(next),
    manager,
    apiVersion: 'apps/v1',
    time,
    subresource,
    schema: deploymentSchema,
  });
}

function entriesOf(obj: JsonObject): ManagedFieldsEntry[] {
  return (obj.metadata as unknown as { managedFields: ManagedFieldsEntry[] }).managedFields;
}

function byManager(entries: ManagedFieldsEntry[], manager: string, subresource?: string): ManagedFieldsEntry {
  const e = entries.find((x) => x.manager === manager && x.subresource === subresource);
  assert.ok(e, `no entry for ${manager}`);
  return e;
}

function labels(obj: JsonObject): Record<string, JsonValue> {
  return (obj.metadata as { labels: Record<string, JsonValue> }).labels;
}

describe('managerFromUserAgent', () => {
  it('takes the User-Agent up to its first slash', () => {
    assert.equal(
      managerFromUserAgent('kubectl-create/v1.33.0 (linux/amd64) kubernetes/8adc0f0'),
      'kubectl-create',
    );
    assert.equal(
      managerFromUserAgent('kubectl-client-side-apply/v1.27.3 (darwin/arm64)'),
      'kubectl-client-side-apply',
    );
    assert.equal(managerFromUserAgent('node-fetch'), 'node-fetch');
    assert.equal(managerFromUserAgent(undefined), '');
  });

  it('prefers ?fieldManager=, drops unprintable characters and stops at 128 bytes', () => {
    assert.equal(managerFromUserAgent('kubectl-edit/v1.33.0', 'my-tool'), 'my-tool');
    assert.equal(managerFromUserAgent('kubectl-edit/v1.33.0', ''), 'kubectl-edit');
    assert.equal(managerFromUserAgent('a\tb\u0000c d/1'), 'abc d');
    assert.equal(managerFromUserAgent('x'.repeat(200)), 'x'.repeat(128));
    assert.equal(managerFromUserAgent(`${'x'.repeat(127)}é`), 'x'.repeat(127));
  });
});

describe('updateManagedFields on create', () => {
  it('records what upstream records for kubectl create deployment', () => {
    const created = create(createdDeployment());
    assert.deepEqual(entriesOf(created), [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: '2021-01-20T14:18:10Z',
        fieldsType: 'FieldsV1',
        fieldsV1: kubectlCreateFields,
      },
    ]);
    assert.equal(JSON.stringify(entriesOf(created)[0]?.fieldsV1), JSON.stringify(kubectlCreateFields));
  });

  it('records a created Secret as upstream does', () => {
    const created = create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'basic-auth', namespace: 'longhorn-system' },
      data: { auth: 'Z2RoYQ==' },
      type: 'Opaque',
    });
    assert.deepEqual(entriesOf(created)[0]?.fieldsV1, { 'f:data': { '.': {}, 'f:auth': {} }, 'f:type': {} });
  });

  it('leaves the inputs unchanged', () => {
    const obj = freeze(createdDeployment());
    const entries = updateManagedFields({
      old: undefined,
      new: obj,
      manager: 'm',
      apiVersion: 'apps/v1',
      time: t0,
      schema: deploymentSchema,
    });
    assert.equal(entries.length, 1);
    assert.deepEqual(obj, createdDeployment());
  });
});

describe('updateManagedFields on update', () => {
  const created = create(createdDeployment());

  it('moves a changed label to the manager that changed it', () => {
    const next = clone(created);
    labels(next).app = 'web';
    labels(next).tier = 'front';
    const entries = update(created, next, 'kubectl-label', t1);
    assert.deepEqual(
      entries.map((e) => e.manager),
      ['kubectl-create', 'kubectl-label'],
      'sorted by time',
    );
    assert.deepEqual(byManager(entries, 'kubectl-label'), {
      manager: 'kubectl-label',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2021-01-20T14:20:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {}, 'f:tier': {} } } },
    });
    const creator = byManager(entries, 'kubectl-create');
    assert.equal(creator.time, '2021-01-20T14:18:10Z', 'losing fields does not move the time');
    assert.deepEqual((creator.fieldsV1 as JsonObject)['f:metadata'], { 'f:labels': {} });
    // The template's label did not change and stays with its creator.
    assert.deepEqual(
      (creator.fieldsV1 as { 'f:spec': { 'f:template': JsonObject } })['f:spec']['f:template']['f:metadata'],
      { 'f:labels': { '.': {}, 'f:app': {} } },
    );
  });

  it('keeps spec ownership through a status update, which gets an entry of its own', () => {
    const next = clone(created);
    next.status = {
      observedGeneration: 1,
      replicas: 1,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          lastUpdateTime: '2021-01-20T14:18:12Z',
          lastTransitionTime: '2021-01-20T14:18:12Z',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        },
      ],
    };
    const entries = update(created, next, 'kube-controller-manager', t1, 'status');
    assert.deepEqual(byManager(entries, 'kubectl-create').fieldsV1, kubectlCreateFields);
    const status = byManager(entries, 'kube-controller-manager', 'status');
    assert.equal(status.subresource, 'status');
    assert.deepEqual(Object.keys(status), [
      'manager',
      'operation',
      'apiVersion',
      'time',
      'fieldsType',
      'fieldsV1',
      'subresource',
    ]);
    assert.deepEqual(status.fieldsV1, {
      'f:status': {
        'f:conditions': {
          '.': {},
          'k:{"type":"Available"}': {
            '.': {},
            'f:lastTransitionTime': {},
            'f:lastUpdateTime': {},
            'f:message': {},
            'f:reason': {},
            'f:status': {},
            'f:type': {},
          },
        },
        'f:observedGeneration': {},
        'f:replicas': {},
      },
    });
  });

  it('does not track status written through the main resource', () => {
    const next = clone(created);
    next.status = { replicas: 3 };
    (next.spec as JsonObject).replicas = 3;
    const entries = update(created, next, 'kubectl-edit', t1);
    assert.deepEqual(byManager(entries, 'kubectl-edit').fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  });

  it('drops a removed container from every set', () => {
    const two = clone(created);
    const containers = ((two.spec as JsonObject).template as { spec: { containers: JsonObject[] } }).spec
      .containers;
    containers.push({ name: 'sidecar', image: 'busybox', resources: {}, imagePullPolicy: 'Always' });
    const withSidecar = withManagedFields(two, update(created, two, 'kubectl-edit', t1));
    const added = byManager(entriesOf(withSidecar), 'kubectl-edit').fieldsV1 as JsonObject;
    assert.deepEqual(Object.keys(added), ['f:spec']);
    assert.match(JSON.stringify(added), /k:\{\\"name\\":\\"sidecar\\"\}/);

    const back = clone(withSidecar);
    ((back.spec as JsonObject).template as { spec: { containers: JsonObject[] } }).spec.containers.pop();
    const entries = update(withSidecar, back, 'kubectl-replace', t2);
    assert.deepEqual(
      entries.map((e) => e.manager),
      ['kubectl-create'],
      'a pure removal gives its writer nothing, and the sidecar owner is left with nothing',
    );
    assert.doesNotMatch(JSON.stringify(entries), /sidecar/);
    assert.deepEqual(entries[0]?.fieldsV1, kubectlCreateFields);
  });

  it('merges a manager’s writes into one entry and moves its time only when it gains something', () => {
    const a = clone(created);
    labels(a).tier = 'front';
    const afterA = withManagedFields(a, update(created, a, 'kubectl-label', t1));
    const b = clone(afterA);
    labels(b).zone = 'z1';
    const afterB = update(afterA, b, 'kubectl-label', t2);
    const label = byManager(afterB, 'kubectl-label');
    assert.equal(label.time, '2021-01-20T14:25:00Z');
    assert.deepEqual(label.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:tier': {}, 'f:zone': {} } } });

    const noop = update(afterA, clone(afterA), 'kubectl-label', t2);
    assert.deepEqual(noop, entriesOf(afterA), 'an update that changes nothing changes no entry');
  });

  it('keeps one entry per apiVersion and subresource, and Apply entries first', () => {
    const applied = withManagedFields(created, [
      ...entriesOf(created),
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2021-01-20T14:30:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:revisionHistoryLimit': {} } },
      },
    ]);
    const next = clone(applied);
    (next.spec as JsonObject).replicas = 2;
    const entries = updateManagedFields({
      old: freeze(clone(applied)),
      new: freeze(next),
      manager: 'kubectl-create',
      apiVersion: 'apps/v1beta2',
      time: t1,
      schema: deploymentSchema,
    });
    assert.deepEqual(
      entries.map((e) => [e.manager, e.operation, e.apiVersion, e.time]),
      [
        ['kubectl', 'Apply', 'apps/v1', '2021-01-20T14:30:00Z'],
        ['kubectl-create', 'Update', 'apps/v1', '2021-01-20T14:18:10Z'],
        ['kubectl-create', 'Update', 'apps/v1beta2', '2021-01-20T14:20:00Z'],
      ],
    );
    assert.deepEqual(
      entries[0]?.fieldsV1,
      { 'f:spec': { 'f:revisionHistoryLimit': {} } },
      'the applier lost replicas',
    );
    assert.deepEqual(entries[2]?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.equal(JSON.stringify(entries[1]?.fieldsV1).includes('f:replicas'), false);
  });

  it('starts from the managedFields the request sends, or over when it sends []', () => {
    const sent = clone(created);
    (sent.metadata as JsonObject).managedFields = [
      {
        manager: 'other',
        operation: 'Update',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:paused': {} } },
      },
    ];
    assert.deepEqual(
      update(created, sent, 'kubectl-edit', t1).map((e) => e.manager),
      ['other'],
      'the request replaced the entries and changed no field',
    );

    const reset = clone(created);
    (reset.metadata as JsonObject).managedFields = [];
    assert.deepEqual(update(created, reset, 'kubectl-edit', t1), []);

    const broken = clone(created);
    (broken.metadata as JsonObject).managedFields = [{ manager: 'x', operation: 'Delete', apiVersion: 'v1' }];
    assert.deepEqual(
      update(created, broken, 'kubectl-edit', t1),
      entriesOf(created),
      'undecodable: stored ones',
    );

    const status = clone(created);
    (status.metadata as JsonObject).managedFields = [];
    assert.deepEqual(
      update(created, status, 'kubelet', t1, 'status'),
      entriesOf(created),
      'subresources ignore them',
    );
  });
});
