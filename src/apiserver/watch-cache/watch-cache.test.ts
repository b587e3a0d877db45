import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configMapStrategy } from '../../registry/core/configmaps.js';
import { RegistryStore } from '../../registry/generic/registry-store.js';
import type { KObject } from '../../registry/generic/strategy.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import { type CachedEvent, WatchCache } from './watch-cache.js';

const cm = (name: string, value: string): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: value } });

describe('watch cache', () => {
  let store: SqliteStore;
  let reg: RegistryStore;
  let cache: WatchCache;
  before(async () => {
    store = new SqliteStore({ path: ':memory:' });
    reg = new RegistryStore(configMapStrategy, store);
    cache = new WatchCache(store, [reg]);
    await cache.start();
  });
  after(async () => {
    await cache.stop();
    await store.close();
  });

  const settle = async (): Promise<void> => {
    assert.ok(await cache.waitFor(await store.currentRevision(), 5000), 'the cache caught up with the store');
  };

  it('hands out each object decoded once, frozen, with its revision, and equal field sets shared', async () => {
    const a = await reg.create('default', cm('a', '1'), { fieldManager: 'kubectl' });
    await reg.create('default', cm('b', '2'), { fieldManager: 'kubectl' });
    await settle();
    const rc = cache.cacheFor(reg)!;
    const first = rc.get(reg.key('default', 'a'))!;
    assert.equal(first, rc.get(reg.key('default', 'a')), 'the same object on every read');
    assert.ok(Object.isFrozen(first));
    assert.equal(first.metadata?.resourceVersion, a.metadata?.resourceVersion);
    assert.deepEqual((first as { data?: unknown }).data, { k: '1' });
    const b = rc.get(reg.key('default', 'b'))!;
    const fieldsOf = (o: KObject): unknown => (o.metadata?.managedFields as { fieldsV1?: unknown }[] | undefined)?.[0]?.fieldsV1;
    assert.ok(fieldsOf(first) !== undefined);
    assert.equal(fieldsOf(first), fieldsOf(b), 'one fieldsV1 tree for both');
    assert.ok(Object.isFrozen(fieldsOf(first)));
    assert.deepEqual(
      rc.list(reg.keyPrefix('default')).map((e) => e.object.metadata?.name),
      ['a', 'b'],
    );
  });

  it('reports an update with the object before it and a delete at the revision of the deletion', async () => {
    const rc = cache.cacheFor(reg)!;
    const seen: CachedEvent[] = [];
    const sub = rc.subscribe(reg.keyPrefix('default'), await store.currentRevision(), (events) => seen.push(...events));
    try {
      const before = rc.get(reg.key('default', 'a'))!;
      await reg.update('default', 'a', { ...cm('a', '1b'), metadata: { name: 'a', resourceVersion: before.metadata!.resourceVersion } });
      const deleted = await reg.delete('default', 'b');
      await settle();
      const [modified, gone] = seen;
      assert.equal(modified?.type, 'MODIFIED');
      assert.deepEqual((modified.object as { data?: unknown }).data, { k: '1b' });
      assert.equal(modified.prevObject, before, 'the previous cached object itself');
      assert.equal(gone?.type, 'DELETED');
      assert.equal(gone.object.metadata?.resourceVersion, String(gone.revision));
      assert.equal(gone.object.metadata?.name, 'b');
      assert.notEqual(gone.prevObject?.metadata?.resourceVersion, String(gone.revision));
      assert.equal(deleted.deleted, true);
      assert.equal(rc.get(reg.key('default', 'b')), undefined);
    } finally {
      sub?.cancel();
    }
  });

  it('starts from what the store holds', async () => {
    const again = new WatchCache(store, [reg]);
    await again.start();
    try {
      const names = again
        .cacheFor(reg)!
        .list(reg.keyPrefix(''))
        .map((e) => `${e.object.metadata?.name}=${(e.object as { data?: { k?: string } }).data?.k}`);
      assert.deepEqual(names, ['a=1b']);
    } finally {
      await again.stop();
    }
  });
});
