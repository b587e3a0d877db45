import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiServer } from '../../apiserver/api-server.js';
import { logger } from '../../base/log.js';
import type { KubeObject, ResourceRef } from '../../client/index.js';
import { EventRecorder, isStatus, realClock, RESTClient } from '../../client/index.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { ControllerContext } from '../common/controller.js';
import { InformerFactory } from '../common/informer-factory.js';
import type { OwnerReference } from './garbage-collector.js';
import { GarbageCollector, monitoredResources } from './garbage-collector.js';

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;
let gc: GarbageCollector;
const stop = new AbortController();
let running: Promise<unknown>;

const cms: ResourceRef = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
const secrets: ResourceRef = { group: '', version: 'v1', resource: 'secrets', namespace: 'default' };
const rss: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets', namespace: 'default' };
const pods: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };

before(async () => {
  store = new SqliteStore({ path: ':memory:', compactIntervalMs: 0 });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}` });
  const informers = new InformerFactory(client);
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: (component) => new EventRecorder({ client, component }),
    log: logger('garbage-collector-test'),
    clock: realClock,
  };
  gc = new GarbageCollector(ctx);
  running = gc.run(stop.signal);
  informers.start(stop.signal);
  await informers.waitForSync(stop.signal);
});
after(async () => {
  stop.abort();
  await running;
  client.close();
  await server.stop();
  await store.close();
});

/** Polls until `check` returns true (or fails after a few seconds with `what`). */
async function eventually(what: string, check: () => Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exists(ref: ResourceRef, name: string): Promise<boolean> {
  try {
    await client.get(ref, name);
    return true;
  } catch (err) {
    if (isStatus(err, 'NotFound')) return false;
    throw err;
  }
}

function ownerRef(owner: KubeObject, extra: Partial<OwnerReference> = {}): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    ...extra,
  };
}

async function configMap(name: string, owners: OwnerReference[] = []): Promise<KubeObject> {
  return client.create<KubeObject>(cms, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ...(owners.length > 0 ? { ownerReferences: owners } : {}) },
  });
}

function refsOf(obj: KubeObject): OwnerReference[] {
  return (obj.metadata?.ownerReferences ?? []) as OwnerReference[];
}

describe('garbage collector', () => {
  it('watches every stored resource that can be listed, watched and deleted', () => {
    const plurals = monitoredResources.map((r) => (r.group === '' ? r.plural : `${r.plural}.${r.group}`));
    for (const p of ['pods', 'configmaps', 'replicasets.apps', 'deployments.apps', 'namespaces', 'jobs.batch']) {
      assert.ok(plurals.includes(p), p);
    }
    assert.ok(!plurals.includes('selfsubjectaccessreviews.authorization.k8s.io'));
    assert.equal(new Set(plurals).size, plurals.length);
  });

  it('deletes the dependents of an owner deleted in the background', async () => {
    const rs = await client.create<KubeObject>(rss, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'bg-rs' },
      spec: {
        selector: { matchLabels: { app: 'bg' } },
        template: { metadata: { labels: { app: 'bg' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    for (const n of ['bg-pod-1', 'bg-pod-2']) {
      await client.create<KubeObject>(pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: n, labels: { app: 'bg' }, ownerReferences: [ownerRef(rs, { controller: true, blockOwnerDeletion: true })] },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
    }
    const unrelated = await configMap('bg-unrelated');
    await client.delete(rss, 'bg-rs');
    await eventually('both pods are gone', async () => !(await exists(pods, 'bg-pod-1')) && !(await exists(pods, 'bg-pod-2')));
    assert.equal((await client.get(cms, 'bg-unrelated')).metadata?.uid, unrelated.metadata?.uid);
  });

  it('collects chains: the dependent of a collected dependent goes too', async () => {
    const a = await configMap('chain-a');
    const b = await configMap('chain-b', [ownerRef(a)]);
    await configMap('chain-c', [ownerRef(b)]);
    await client.delete(cms, 'chain-a');
    await eventually('chain-c is gone', async () => !(await exists(cms, 'chain-b')) && !(await exists(cms, 'chain-c')));
  });

  it('deletes a dependent whose owner never existed, checking the API rather than trusting the cache', async () => {
    await configMap('dangling', [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'never-there', uid: '6c0e8d5e-0000-4000-8000-000000000001' },
    ]);
    await eventually('the dangling dependent is gone', async () => !(await exists(cms, 'dangling')));
  });

  it('deletes a dependent whose owner name now belongs to an object with another uid', async () => {
    // The name exists but the uid is not that object's: the owner is gone (upstream's uid mismatch).
    await configMap('impostor-owner');
    await configMap('impostor-dep', [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'impostor-owner', uid: '6c0e8d5e-0000-4000-8000-000000000002' },
    ]);
    await eventually('the dependent is gone', async () => !(await exists(cms, 'impostor-dep')));
    assert.ok(await exists(cms, 'impostor-owner'));
  });

  it('keeps a dependent whose reference names its owner by another served version, found by a live GET', async () => {
    // The collector caches HPAs as autoscaling/v2; the reference says autoscaling/v1, so the cached node
    // does not match and the dependent is checked against the API, which finds the owner under v1.
    const hpas = { group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers', namespace: 'default' };
    const hpa = await client.create<KubeObject>(hpas, {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'gc-hpa' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'x' }, minReplicas: 1, maxReplicas: 2 },
    });
    await configMap('live-probe', [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'never-there-2', uid: '6c0e8d5e-0000-4000-8000-000000000003' },
    ]);
    await configMap('owned-by-hpa-v1', [ownerRef(hpa)]);
    // A probe queued at the same time is collected; the HPA's dependent must still be there afterwards.
    await eventually('the probe is gone', async () => !(await exists(cms, 'live-probe')));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await exists(cms, 'owned-by-hpa-v1'));
    await client.delete(hpas, 'gc-hpa');
    await eventually('the dependent goes with its owner', async () => !(await exists(cms, 'owned-by-hpa-v1')));
  });

  it('orphans dependents: they lose the reference and stay, and the owner goes', async () => {
    const owner = await configMap('orphan-owner');
    const other = await client.create<KubeObject>(secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'orphan-other-owner' } });
    await configMap('orphan-dep-1', [ownerRef(owner, { blockOwnerDeletion: true })]);
    await configMap('orphan-dep-2', [ownerRef(owner), ownerRef(other)]);
    await client.delete(cms, 'orphan-owner', { propagationPolicy: 'Orphan' });
    await eventually('the owner is gone', async () => !(await exists(cms, 'orphan-owner')));
    const dep1 = await client.get(cms, 'orphan-dep-1');
    assert.deepEqual(refsOf(dep1), []);
    const dep2 = await client.get(cms, 'orphan-dep-2');
    assert.deepEqual(refsOf(dep2).map((r) => r.uid), [other.metadata?.uid]);
    // Level-triggered: nothing later collects the orphans.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await exists(cms, 'orphan-dep-1'));
  });

  it('keeps a foreground-deleted owner until its blocking dependents are gone', async () => {
    const owner = await configMap('fg-owner');
    await configMap('fg-dep', [ownerRef(owner, { blockOwnerDeletion: true })]);
    // A finalizer of someone else's holds the dependent, so the owner must wait for it.
    const held = await configMap('fg-held', [ownerRef(owner, { blockOwnerDeletion: true })]);
    await client.patch(cms, 'fg-held', { metadata: { finalizers: ['example.com/hold'] } });
    await client.delete(cms, 'fg-owner', { propagationPolicy: 'Foreground' });
    await eventually('fg-dep is gone', async () => !(await exists(cms, 'fg-dep')));
    await eventually('fg-held is being deleted', async () => (await client.get(cms, 'fg-held')).metadata?.deletionTimestamp !== undefined);
    await new Promise((r) => setTimeout(r, 300));
    const waiting = await client.get(cms, 'fg-owner');
    assert.ok(waiting.metadata?.deletionTimestamp);
    assert.deepEqual(waiting.metadata?.finalizers, ['foregroundDeletion']);
    // Releasing the last blocking dependent lets the owner go.
    const fresh = await client.get(cms, 'fg-held');
    assert.equal(fresh.metadata?.uid, held.metadata?.uid);
    await client.patch(cms, 'fg-held', { metadata: { finalizers: null } });
    await eventually('the owner is gone', async () => !(await exists(cms, 'fg-owner')));
  });

  it('deletes a blocking dependent that has dependents of its own in the foreground, as upstream', async () => {
    const top = await configMap('fgc-top');
    const mid = await configMap('fgc-mid', [ownerRef(top, { blockOwnerDeletion: true })]);
    await configMap('fgc-leaf', [ownerRef(mid, { blockOwnerDeletion: true })]);
    await client.patch(cms, 'fgc-leaf', { metadata: { finalizers: ['example.com/hold'] } });
    await client.delete(cms, 'fgc-top', { propagationPolicy: 'Foreground' });
    await eventually('fgc-leaf is being deleted', async () => (await client.get(cms, 'fgc-leaf')).metadata?.deletionTimestamp !== undefined);
    const midNow = await client.get(cms, 'fgc-mid');
    assert.ok(midNow.metadata?.deletionTimestamp);
    assert.deepEqual(midNow.metadata?.finalizers, ['foregroundDeletion']);
    assert.deepEqual((await client.get(cms, 'fgc-top')).metadata?.finalizers, ['foregroundDeletion']);
    await client.patch(cms, 'fgc-leaf', { metadata: { finalizers: null } });
    await eventually('the whole chain is gone', async () => !(await exists(cms, 'fgc-mid')) && !(await exists(cms, 'fgc-top')));
  });

  it('does not wait in the foreground for dependents that do not block', async () => {
    const owner = await configMap('fg-nb-owner');
    await configMap('fg-nb-dep', [ownerRef(owner)]);
    await client.patch(cms, 'fg-nb-dep', { metadata: { finalizers: ['example.com/hold'] } });
    await client.delete(cms, 'fg-nb-owner', { propagationPolicy: 'Foreground' });
    await eventually('the owner is gone', async () => !(await exists(cms, 'fg-nb-owner')));
    await eventually('the dependent is being deleted', async () => (await client.get(cms, 'fg-nb-dep')).metadata?.deletionTimestamp !== undefined);
    await client.patch(cms, 'fg-nb-dep', { metadata: { finalizers: null } });
  });

  it('keeps a dependent with two owners when one goes, dropping the dead reference', async () => {
    const a = await configMap('two-a');
    const b = await client.create<KubeObject>(secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'two-b' } });
    await configMap('two-dep', [ownerRef(a), ownerRef(b)]);
    await client.delete(cms, 'two-a');
    await eventually('the dead reference is dropped', async () => refsOf(await client.get(cms, 'two-dep')).length === 1);
    assert.equal(refsOf(await client.get(cms, 'two-dep'))[0]?.uid, b.metadata?.uid);
    await client.delete(secrets, 'two-b');
    await eventually('the dependent goes with its last owner', async () => !(await exists(cms, 'two-dep')));
  });

  it('judges each reference by its own coordinates when dependents name one uid differently', async () => {
    const owner = await configMap('coords-owner');
    await configMap('coords-right', [ownerRef(owner)]);
    // The same uid under a name nothing has: that reference cannot be resolved, so its dependent goes.
    await configMap('coords-wrong', [{ ...ownerRef(owner), name: 'coords-nobody' }]);
    await eventually('the wrongly referencing dependent is gone', async () => !(await exists(cms, 'coords-wrong')));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await exists(cms, 'coords-right'));
    await client.delete(cms, 'coords-owner');
    await eventually('the rightly referencing dependent goes with the owner', async () => !(await exists(cms, 'coords-right')));
  });

  it('treats a namespaced owner in another namespace as absent', async () => {
    await client.create<KubeObject>({ group: '', version: 'v1', resource: 'namespaces' }, { metadata: { name: 'gc-other' } });
    const otherCms = { ...cms, namespace: 'gc-other' };
    const foreign = await client.create<KubeObject>(otherCms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'foreign-owner' } });
    await configMap('cross-ns-dep', [ownerRef(foreign)]);
    await eventually('the dependent is gone', async () => !(await exists(cms, 'cross-ns-dep')));
    assert.ok(await exists(otherCms, 'foreign-owner'));
    const evs = { group: '', version: 'v1', resource: 'events', namespace: 'default' };
    await eventually('a warning event is recorded', async () =>
      (await client.list(evs)).items.some(
        (e) => e.reason === 'OwnerRefInvalidNamespace' && (e.involvedObject as { name?: string }).name === 'cross-ns-dep',
      ),
    );
    const ev = (await client.list(evs)).items.find((e) => e.reason === 'OwnerRefInvalidNamespace');
    assert.equal(
      ev?.message,
      `ownerRef [v1/ConfigMap, namespace: default, name: foreign-owner, uid: ${foreign.metadata?.uid}] does not exist in namespace "default"`,
    );
    assert.equal(ev?.type, 'Warning');
  });
});
