import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { persistentVolumeClaimStrategy } from './persistentvolumeclaims.js';
import { createPersistentVolumeStrategy } from './persistentvolumes.js';
import { harnessNow, StrategyHarness } from './testing/strategy-harness.js';

const pvs = new StrategyHarness(createPersistentVolumeStrategy(() => harnessNow));
const pvcs = new StrategyHarness(persistentVolumeClaimStrategy);
after(() => {
  pvs.close();
  pvcs.close();
});

const claim = (name: string, spec: Record<string, unknown>) => ({ metadata: { name }, spec });

describe('persistentvolumes', () => {
  it('defaults reclaim policy, volume mode and hostPath type, and starts Pending', async () => {
    const pv = await pvs.create({
      metadata: { name: 'pv1' },
      spec: { capacity: { storage: '1024Mi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } },
    });
    assert.deepEqual(pv.spec, {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      hostPath: { path: '/data', type: '' },
      persistentVolumeReclaimPolicy: 'Retain',
      volumeMode: 'Filesystem',
    });
    assert.deepEqual(pv.status, { phase: 'Pending', lastPhaseTransitionTime: '2026-01-02T03:04:05Z' });
  });

  it('requires access modes, a storage capacity and one volume source', async () => {
    const { causes } = await pvs.invalid(pvs.create({ metadata: { name: 'bare' }, spec: {} }));
    assert.deepEqual(causes, [
      'spec.accessModes: Required value',
      'spec.capacity: Required value',
      'spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"',
      'spec: Required value: must specify a volume type',
    ]);
    const two = await pvs.invalid(
      pvs.create({
        metadata: { name: 'two' },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'],
          hostPath: { path: '/a' },
          nfs: { server: 's', path: '/b' },
        },
      }),
    );
    assert.deepEqual(two.causes, [
      'spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes',
      'spec.nfs: Forbidden: may not specify more than 1 volume type',
    ]);
  });

  it('keeps the volume source fixed after creation', async () => {
    const stored = await pvs.create({
      metadata: { name: 'fixed' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' } },
    });
    (stored.spec as Record<string, unknown>).hostPath = { path: '/b', type: '' };
    const { causes } = await pvs.invalid(pvs.update(stored));
    assert.equal(causes.length, 1);
    assert.match(
      causes[0]!,
      /^spec\.persistentvolumesource: Forbidden: spec\.persistentvolumesource is immutable after creation\n/,
    );
  });
});

describe('persistentvolumeclaims', () => {
  it('defaults volumeMode and starts Pending', async () => {
    const pvc = await pvcs.create(
      claim('data', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '0.5Gi' } } }),
    );
    assert.deepEqual(pvc.spec, {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '512Mi' } },
      volumeMode: 'Filesystem',
    });
    assert.deepEqual(pvc.status, { phase: 'Pending' });
  });

  it('requires access modes and a positive storage request', async () => {
    const { causes } = await pvcs.invalid(pvcs.create(claim('none', {})));
    assert.deepEqual(causes, [
      'spec.accessModes: Required value: at least 1 access mode is required',
      'spec.resources[storage]: Required value',
    ]);
    const zero = await pvcs.invalid(
      pvcs.create(
        claim('zero', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '0' } } }),
      ),
    );
    assert.deepEqual(zero.causes, ['spec.resources[storage]: Invalid value: "0": must be greater than zero']);
  });

  it('lets a bound claim grow but not change otherwise', async () => {
    const stored = await pvcs.create(
      claim('grow', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }),
    );
    const pending = structuredClone(stored);
    (pending.spec as { resources: { requests: Record<string, string> } }).resources.requests.storage = '2Gi';
    const refused = await pvcs.invalid(pvcs.update(pending));
    assert.match(
      refused.causes[0]!,
      /^spec: Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims\n/,
    );
    // Binding: the volume name may be set once, and the status says Bound.
    const bound = structuredClone(stored);
    (bound.spec as Record<string, unknown>).volumeName = 'pv-1';
    const boundStored = await pvcs.update(bound);
    await pvcs.update(
      { ...structuredClone(boundStored), status: { phase: 'Bound', capacity: { storage: '1Gi' } } },
      'status',
    );
    const current = await pvcs.store.get('default', 'grow');
    (current.spec as { resources: { requests: Record<string, string> } }).resources.requests.storage = '2Gi';
    const grown = await pvcs.update(current);
    assert.equal(
      (grown.spec as { resources: { requests: Record<string, string> } }).resources.requests.storage,
      '2Gi',
    );
    (grown.spec as { resources: { requests: Record<string, string> } }).resources.requests.storage = '512Mi';
    const shrunk = await pvcs.invalid(pvcs.update(grown));
    assert.deepEqual(shrunk.causes, [
      'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity',
    ]);
  });
});
