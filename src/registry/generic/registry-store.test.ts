import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { findResource } from '../../api/resources.js';
import type { StatusError } from '../../apimachinery/errors/status-error.js';
import { isStatusError } from '../../apimachinery/errors/status-error.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { ObjectEvent } from './registry-store.js';
import { RegistryStore } from './registry-store.js';
import type { KObject, ResourceStrategy } from './strategy.js';

const configmaps: ResourceStrategy = {
  info: findResource('', 'v1', 'configmaps')!,
  hasStatus: false,
  tracksGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
};

const deployments: ResourceStrategy = {
  info: findResource('apps', 'v1', 'deployments')!,
  hasStatus: true,
  tracksGeneration: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  prepareForCreate: (obj) => void delete obj.status,
  validate: (obj) => {
    const replicas = (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    return replicas < 0 ? [field.invalid(newPath('spec', 'replicas'), replicas, 'must be greater than or equal to 0')] : [];
  },
};

const pods: ResourceStrategy = {
  info: findResource('', 'v1', 'pods')!,
  hasStatus: true,
  tracksGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  defaultGracePeriodSeconds: (obj) => ((obj.spec as { nodeName?: string } | undefined)?.nodeName ? 30 : 0),
};

const now = new Date('2026-01-02T03:04:05.678Z');
let storage: SqliteStore;
beforeEach(() => {
  storage = new SqliteStore({ path: ':memory:' });
});
after(() => storage.close());

async function expectStatus(p: Promise<unknown>, reason: string, message?: string | RegExp): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStatusError(err), `expected a StatusError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    if (typeof message === 'string') assert.equal(err.status.message, message);
    else if (message) assert.match(err.status.message, message);
    return err;
  }
  assert.fail(`expected ${reason}`);
}

describe('generic registry store', () => {
  it('creates with server-owned metadata and reads back with resourceVersion', async () => {
    const reg = new RegistryStore(configmaps, storage, { now: () => now });
    const created = await reg.create('default', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', uid: 'client-chosen', resourceVersion: '99', creationTimestamp: '2000-01-01T00:00:00Z' },
      data: { a: '1' },
    });
    const meta = created.metadata!;
    assert.match(meta.uid!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(meta.creationTimestamp, '2026-01-02T03:04:05Z');
    assert.equal(meta.namespace, 'default');
    assert.equal(meta.resourceVersion, '1');
    assert.equal(meta.generation, undefined);
    assert.deepEqual(await reg.get('default', 'cfg'), created);
    const raw = await storage.get('/registry/configmaps/default/cfg');
    assert.ok(!new TextDecoder().decode(raw.kv!.value).includes('resourceVersion'), 'the version is not stored in the value');
    await expectStatus(reg.create('default', { metadata: { name: 'cfg' } }), 'AlreadyExists', 'configmaps "cfg" already exists');
    await expectStatus(reg.get('default', 'nope'), 'NotFound', 'configmaps "nope" not found');
    await expectStatus(reg.get('other', 'cfg'), 'NotFound');
  });

  it('generates names from generateName', async () => {
    const reg = new RegistryStore(configmaps, storage);
    const a = await reg.create('default', { metadata: { generateName: 'web-' } });
    const b = await reg.create('default', { metadata: { generateName: 'web-' } });
    assert.match(a.metadata!.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.notEqual(a.metadata!.name, b.metadata!.name);
  });

  it('answers Invalid with the strategy validation errors', async () => {
    const reg = new RegistryStore(deployments, storage);
    const err = await expectStatus(
      reg.create('default', { metadata: { name: 'd' }, spec: { replicas: -1 } }),
      'Invalid',
      'Deployment.apps "d" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
    assert.equal(err.code, 422);
    assert.deepEqual(err.status.details?.causes, [
      { reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'spec.replicas' },
    ]);
    assert.equal((await storage.list('/registry/')).kvs.length, 0, 'nothing stored');
  });

  it('updates with optimistic concurrency, bumping generation on spec changes only', async () => {
    const reg = new RegistryStore(deployments, storage);
    const d = await reg.create('ns', { metadata: { name: 'd' }, spec: { replicas: 1 }, status: { replicas: 5 } });
    assert.equal(d.metadata!.generation, 1);
    assert.equal(d.status, undefined, 'status is cleared on create');
    const stale = structuredClone(d);
    const labels = structuredClone(d);
    labels.metadata!.labels = { a: 'b' };
    const u1 = (await reg.update('ns', 'd', labels)).object;
    assert.equal(u1.metadata!.generation, 1, 'a label change is not a spec change');
    assert.notEqual(u1.metadata!.resourceVersion, d.metadata!.resourceVersion);
    stale.spec = { replicas: 3 };
    await expectStatus(
      reg.update('ns', 'd', stale),
      'Conflict',
      'Operation cannot be fulfilled on deployments.apps "d": the object has been modified; please apply your changes to the latest version and try again',
    );
    const spec = structuredClone(u1);
    spec.spec = { replicas: 3 };
    spec.status = { replicas: 100 };
    const u2 = (await reg.update('ns', 'd', spec)).object;
    assert.equal(u2.metadata!.generation, 2);
    assert.equal(u2.status, undefined, 'the main resource ignores status');
    // Unconditional (no resourceVersion) is allowed for deployments.
    const uncond = structuredClone(u2);
    delete uncond.metadata!.resourceVersion;
    uncond.spec = { replicas: 4 };
    assert.equal((await reg.update('ns', 'd', uncond)).object.metadata!.generation, 3);
    // A no-op update writes nothing.
    const same = await reg.get('ns', 'd');
    const again = (await reg.update('ns', 'd', same)).object;
    assert.equal(again.metadata!.resourceVersion, same.metadata!.resourceVersion);
    await expectStatus(reg.update('ns', 'missing', { metadata: { name: 'missing' } }), 'NotFound');
    await expectStatus(reg.update('ns', 'd', { metadata: { name: 'other' } }), 'BadRequest', /does not match the name on the URL/);
  });

  it('changes only status through the status subresource', async () => {
    const reg = new RegistryStore(deployments, storage);
    const d = await reg.create('ns', { metadata: { name: 'd', labels: { a: '1' } }, spec: { replicas: 1 } });
    const body = structuredClone(d);
    body.spec = { replicas: 9 };
    body.status = { replicas: 1, observedGeneration: 1 };
    body.metadata!.labels = { a: 'changed' };
    const s = (await reg.update('ns', 'd', body, { subresource: 'status' })).object;
    assert.deepEqual(s.spec, { replicas: 1 });
    assert.deepEqual(s.status, { replicas: 1, observedGeneration: 1 });
    assert.deepEqual(s.metadata!.labels, { a: '1' });
    assert.equal(s.metadata!.generation, 1);
  });

  it('retries a guaranteed update when the object changed underneath', async () => {
    const reg = new RegistryStore(configmaps, storage);
    await reg.create('ns', { metadata: { name: 'c' }, data: { n: '0' } });
    await Promise.all(
      Array.from({ length: 20 }, () =>
        reg.guaranteedUpdate('ns', 'c', (cur) => {
          const data = cur.data as { n: string };
          return { ...cur, data: { n: String(Number(data.n) + 1) } };
        }),
      ),
    );
    assert.deepEqual((await reg.get('ns', 'c')).data, { n: '20' });
  });

  it('tries an internal write on a cached copy first, and on the stored object when the copy is stale or gone', async () => {
    const reg = new RegistryStore(pods, storage);
    const created = await reg.create('ns', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const stale = Object.freeze(structuredClone(created));
    await reg.guaranteedUpdate('ns', 'p', (cur) => ({ ...cur, metadata: { ...cur.metadata, labels: { moved: 'yes' } } }));
    const seen: (string | undefined)[] = [];
    const bind = (cached: typeof created) =>
      reg.guaranteedUpdate(
        'ns',
        'p',
        (cur) => {
          seen.push(cur.metadata?.resourceVersion);
          return { ...cur, metadata: { ...cur.metadata }, spec: { ...(cur.spec as object), nodeName: 'n1' } };
        },
        { subresource: 'all', cached },
      );
    const bound = await bind(stale);
    // The stale copy's write failed its revision check; the retry read the store and kept the label.
    assert.deepEqual(seen, [created.metadata?.resourceVersion, String(Number(bound.metadata?.resourceVersion) - 1)]);
    assert.equal(bound.metadata?.labels?.moved, 'yes');
    assert.equal((stale.spec as { nodeName?: string }).nodeName, undefined);
    await reg.delete('ns', 'p', { gracePeriodSeconds: 0 });
    await expectStatus(bind(stale), 'NotFound');
  });

  it('marks objects with finalizers, deletes them when the last finalizer goes, and checks preconditions', async () => {
    const reg = new RegistryStore(configmaps, storage, { now: () => now });
    const c = await reg.create('ns', { metadata: { name: 'c', finalizers: ['example.com/hold'] } });
    await expectStatus(
      reg.delete('ns', 'c', { preconditions: { uid: 'wrong' } }),
      'Conflict',
      `Operation cannot be fulfilled on configmaps "c": Precondition failed: UID in precondition: wrong, UID in object meta: ${c.metadata!.uid}`,
    );
    const marked = await reg.delete('ns', 'c');
    assert.equal(marked.deleted, false);
    assert.equal(marked.object.metadata!.deletionTimestamp, '2026-01-02T03:04:05Z');
    assert.equal(marked.object.metadata!.deletionGracePeriodSeconds, 0);
    const cur = await reg.get('ns', 'c');
    cur.metadata!.finalizers = [];
    await reg.update('ns', 'c', cur);
    await expectStatus(reg.get('ns', 'c'), 'NotFound');
    await expectStatus(reg.delete('ns', 'c'), 'NotFound');
  });

  it('adds the orphan or foregroundDeletion finalizer for those propagation policies', async () => {
    const reg = new RegistryStore(configmaps, storage);
    await reg.create('ns', { metadata: { name: 'o' } });
    const o = await reg.delete('ns', 'o', { propagationPolicy: 'Orphan' });
    assert.deepEqual(o.object.metadata!.finalizers, ['orphan']);
    await reg.create('ns', { metadata: { name: 'f' } });
    const f = await reg.delete('ns', 'f', { propagationPolicy: 'Foreground' });
    assert.deepEqual(f.object.metadata!.finalizers, ['foregroundDeletion']);
    await reg.create('ns', { metadata: { name: 'b' } });
    assert.equal((await reg.delete('ns', 'b', { propagationPolicy: 'Background' })).deleted, true);
  });

  it('gives scheduled pods a grace period and lets a later delete shorten it', async () => {
    const reg = new RegistryStore(pods, storage, { now: () => now });
    await reg.create('ns', { metadata: { name: 'unscheduled' }, spec: {} });
    assert.equal((await reg.delete('ns', 'unscheduled')).deleted, true, 'an unscheduled pod goes at once');
    await reg.create('ns', { metadata: { name: 'p' }, spec: { nodeName: 'n1' } });
    const first = await reg.delete('ns', 'p');
    assert.equal(first.deleted, false);
    assert.equal(first.object.metadata!.deletionGracePeriodSeconds, 30);
    assert.equal(first.object.metadata!.deletionTimestamp, '2026-01-02T03:04:35Z');
    const second = await reg.delete('ns', 'p', { gracePeriodSeconds: 60 });
    assert.equal(second.object.metadata!.deletionGracePeriodSeconds, 30, 'a longer grace period is ignored');
    const forced = await reg.delete('ns', 'p', { gracePeriodSeconds: 0 });
    assert.equal(forced.deleted, true);
  });

  it('writes objects of a kind with a time to live so that they expire', async () => {
    storage = new SqliteStore({ path: ':memory:', ttlSweepIntervalMs: 50 });
    const reg = new RegistryStore({ ...configmaps, ttlSeconds: 1 }, storage);
    await reg.create('ns', { metadata: { name: 'short-lived' } });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await reg.get('ns', 'short-lived');
      } catch (err) {
        assert.ok(isStatusError(err, 'NotFound'));
        break;
      }
      assert.ok(Date.now() < deadline, 'the object did not expire');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('does nothing on a dry run', async () => {
    const reg = new RegistryStore(configmaps, storage);
    const dry = await reg.create('ns', { metadata: { name: 'x' } }, { dryRun: true });
    assert.equal(dry.metadata!.name, 'x');
    await expectStatus(reg.get('ns', 'x'), 'NotFound');
    await reg.create('ns', { metadata: { name: 'y' } });
    assert.equal((await reg.delete('ns', 'y', { dryRun: true })).deleted, true);
    assert.equal((await reg.get('ns', 'y')).metadata!.name, 'y');
  });

  it('lists by namespace and watches changes as ADDED, MODIFIED and DELETED', async () => {
    const reg = new RegistryStore(configmaps, storage);
    const start = await storage.currentRevision();
    const events: ObjectEvent[] = [];
    const ac = new AbortController();
    const watching = (async () => {
      for await (const batch of reg.watch('a', start, ac.signal)) {
        events.push(...batch);
        if (events.length >= 3) ac.abort();
      }
    })();
    const x = await reg.create('a', { metadata: { name: 'x' }, data: { v: '1' } });
    await reg.create('b', { metadata: { name: 'y' } });
    await reg.update('a', 'x', { ...x, data: { v: '2' } });
    await reg.delete('a', 'x');
    await watching;
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata!.name} ${JSON.stringify(e.object.data)} rv=${e.object.metadata!.resourceVersion}`),
      [`ADDED x {"v":"1"} rv=${start + 1}`, `MODIFIED x {"v":"2"} rv=${start + 3}`, `DELETED x {"v":"2"} rv=${start + 4}`],
    );
    await reg.create('a', { metadata: { name: 'z' } });
    assert.deepEqual(
      (await reg.list('a')).items.map((o: KObject) => o.metadata!.name),
      ['z'],
    );
    assert.deepEqual(
      (await reg.list('')).items.map((o: KObject) => `${o.metadata!.namespace}/${o.metadata!.name}`),
      ['a/z', 'b/y'],
    );
  });
});
