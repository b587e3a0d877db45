import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RegistryStore } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import { addDefaultTolerations, podStrategy } from './pods.js';
import { copy, invalidMessage, openRegistry } from './testing/workload-harness.js';

const firstLine =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', labels: { app: 'web', tier: 'front' } },
  spec: { containers: [{ name: 'web', image: 'nginx:1.26', ports: [{ containerPort: 80 }] }], ...spec },
});

let reg: RegistryStore;
let close: () => Promise<void>;
beforeEach(() => ({ reg, close } = openRegistry(podStrategy)));
afterEach(() => close());

describe('pod create', () => {
  it('starts Pending with the QoS class, whatever status the client sent', async () => {
    const input = pod();
    input.status = { phase: 'Running', podIP: '10.0.0.9' };
    const created = (await reg.create('default', input)) as Pod;
    assert.deepEqual(created.status, { phase: 'Pending', qosClass: 'BestEffort' });
    const limited = pod({
      containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' } } }],
    });
    limited.metadata!.name = 'g';
    assert.equal(
      ((await reg.create('default', limited)) as Pod).status?.qosClass,
      'Guaranteed',
      'requests default to limits first',
    );
  });

  it('marks a pod with scheduling gates as not scheduled', async () => {
    const created = (await reg.create(
      'default',
      pod({ schedulingGates: [{ name: 'example.com/quota' }] }),
    )) as Pod;
    assert.deepEqual(created.status?.conditions, [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'SchedulingGated',
        message: 'Scheduling is blocked due to non-empty scheduling gates',
      },
    ]);
  });

  it("turns matchLabelKeys into selector expressions on the pod's own labels", async () => {
    const created = (await reg.create(
      'default',
      pod({
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                topologyKey: 'kubernetes.io/hostname',
                labelSelector: { matchLabels: { app: 'web' } },
                matchLabelKeys: ['tier', 'missing'],
              },
            ],
          },
        },
      }),
    )) as Pod;
    assert.deepEqual(
      created.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]
        ?.labelSelector,
      {
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }],
      },
    );
  });

  it('accepts spec.nodeName on create', async () => {
    const created = (await reg.create('default', pod({ nodeName: 'node-1' }))) as Pod;
    assert.equal(created.spec?.nodeName, 'node-1');
  });
});

describe('pod update', () => {
  async function createAndChange(change: (p: Pod) => void, spec: Partial<NonNullable<Pod['spec']>> = {}) {
    const created = (await reg.create('default', pod(spec))) as Pod;
    const next = copy(created as KObject) as Pod;
    change(next);
    return reg.update('default', 'web', next as KObject);
  }

  it('allows a new image and additional tolerations', async () => {
    const { object } = await createAndChange((p) => {
      p.spec!.containers[0]!.image = 'nginx:1.27';
      p.spec!.tolerations = [{ key: 'dedicated', operator: 'Exists' }];
    });
    assert.equal((object as Pod).spec?.containers[0]?.image, 'nginx:1.27');
  });

  it("forbids other changes with upstream's message", async () => {
    const msg = await invalidMessage(
      createAndChange((p) => (p.spec!.containers[0]!.ports![0]!.containerPort = 8080)),
    );
    assert.ok(msg.startsWith(`Pod "web" is invalid: spec: Forbidden: ${firstLine}\n`), msg);
    assert.match(msg, /containerPort: 80\n/);
    assert.match(msg, /containerPort: 8080\n/);
    await reg.delete('default', 'web');
    const replaced = await invalidMessage(createAndChange((p) => (p.spec!.restartPolicy = 'Never')));
    assert.ok(replaced.startsWith(`Pod "web" is invalid: spec: Forbidden: ${firstLine}\n`), replaced);
  });

  it('forbids adding containers', async () => {
    const msg = await invalidMessage(
      createAndChange((p) => p.spec!.containers.push({ name: 'side', image: 'busybox' })),
    );
    assert.equal(
      msg,
      'Pod "web" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers',
    );
  });

  it('lets activeDeadlineSeconds only shrink', async () => {
    const msg = await invalidMessage(
      createAndChange((p) => (p.spec!.activeDeadlineSeconds = 60), { activeDeadlineSeconds: 30 }),
    );
    assert.equal(
      msg,
      'Pod "web" is invalid: spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value',
    );
    await reg.delete('default', 'web');
    const { object } = await createAndChange((p) => (p.spec!.activeDeadlineSeconds = 10), {
      activeDeadlineSeconds: 30,
    });
    assert.equal((object as Pod).spec?.activeDeadlineSeconds, 10);
  });

  it('forbids removing or changing an existing toleration', async () => {
    const msg = await invalidMessage(
      createAndChange((p) => (p.spec!.tolerations = [{ key: 'a', operator: 'Equal', value: 'y' }]), {
        tolerations: [{ key: 'a', operator: 'Equal', value: 'x' }],
      }),
    );
    assert.equal(
      msg,
      'Pod "web" is invalid: spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
    );
  });

  it('lets a negative grace period become 1, and nothing else', async () => {
    const { object } = await createAndChange((p) => (p.spec!.terminationGracePeriodSeconds = 1), {
      terminationGracePeriodSeconds: -5,
    });
    assert.equal((object as Pod).spec?.terminationGracePeriodSeconds, 1);
    const created = (await reg.get('default', 'web')) as Pod;
    const next = copy(created as KObject) as Pod;
    next.spec!.terminationGracePeriodSeconds = 2;
    assert.match(
      await invalidMessage(reg.update('default', 'web', next as KObject)),
      /^Pod "web" is invalid: spec: Forbidden: pod updates/,
    );
  });

  it('keeps status through spec updates', async () => {
    const { object } = await createAndChange((p) => {
      p.spec!.containers[0]!.image = 'nginx:1.27';
      (p as KObject).status = { phase: 'Failed' };
    });
    assert.equal((object as Pod).status?.phase, 'Pending');
  });
});

describe('pod graceful delete', () => {
  it('deletes an unscheduled pod at once', async () => {
    await reg.create('default', pod());
    const res = await reg.delete('default', 'web');
    assert.equal(res.deleted, true);
  });

  it('gives a scheduled pod its terminationGracePeriodSeconds', async () => {
    await reg.create('default', pod({ nodeName: 'node-1', terminationGracePeriodSeconds: 45 }));
    const res = await reg.delete('default', 'web');
    assert.equal(res.deleted, false);
    assert.equal(res.object.metadata?.deletionGracePeriodSeconds, 45);
    assert.equal(res.object.metadata?.deletionTimestamp, '2026-01-02T03:04:50Z');
  });

  it('deletes a finished pod at once, and treats a negative period as 1', () => {
    const finished = { ...pod({ nodeName: 'n' }), status: { phase: 'Succeeded' } } as KObject;
    podStrategy.defaults!(finished);
    assert.equal(podStrategy.defaultGracePeriodSeconds!(finished), 0);
    const negative = pod({ nodeName: 'n', terminationGracePeriodSeconds: -3 });
    assert.equal(podStrategy.defaultGracePeriodSeconds!(negative), 1);
  });
});

describe('DefaultTolerationSeconds', () => {
  it('adds the not-ready and unreachable tolerations a pod lacks', () => {
    const p = pod({
      tolerations: [
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 60,
        },
      ],
    });
    addDefaultTolerations(p, 300, 300);
    assert.deepEqual((p as Pod).spec?.tolerations, [
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 60,
      },
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
    const all = pod({ tolerations: [{ operator: 'Exists' }] });
    addDefaultTolerations(all, 300, 300);
    assert.deepEqual(
      (all as Pod).spec?.tolerations,
      [{ operator: 'Exists' }],
      'a toleration of every taint covers both',
    );
  });
});
