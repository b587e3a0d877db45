import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore, parseDatastoreEndpoint } from './open.js';
import { startEtcd } from './testing/etcd-server.js';

describe('datastore endpoints', () => {
  it('parses the embedded default, sqlite paths, memory and etcd hosts', () => {
    assert.deepEqual(parseDatastoreEndpoint('', '/data'), { kind: 'sqlite', path: '/data/db/state.db', sync: 'normal' });
    assert.deepEqual(parseDatastoreEndpoint('sqlite://x.db?sync=full', '/data'), { kind: 'sqlite', path: '/data/x.db', sync: 'full' });
    assert.deepEqual(parseDatastoreEndpoint('sqlite:///abs/y.db', '/data'), { kind: 'sqlite', path: '/abs/y.db', sync: 'normal' });
    assert.deepEqual(parseDatastoreEndpoint('memory://', '/data'), { kind: 'sqlite', path: ':memory:', sync: 'normal' });
    assert.deepEqual(parseDatastoreEndpoint('etcd://127.0.0.1:2379,127.0.0.2:2379?prefix=/k', '/data'), {
      kind: 'etcd',
      endpoints: ['http://127.0.0.1:2379', 'http://127.0.0.2:2379'],
      prefix: '/k',
    });
    assert.deepEqual(parseDatastoreEndpoint('https://h:1', '/d'), { kind: 'etcd', endpoints: ['https://h:1'], prefix: '' });
  });

  it('refuses what it cannot open, saying why', () => {
    assert.throws(() => parseDatastoreEndpoint('postgres://x', '/d'), /unsupported datastore endpoint scheme "postgres"/);
    assert.throws(() => parseDatastoreEndpoint('nonsense', '/d'), /invalid datastore endpoint "nonsense"/);
    assert.throws(() => parseDatastoreEndpoint('sqlite://x?sync=maybe', '/d'), /sync must be "normal" or "full"/);
    assert.throws(() => parseDatastoreEndpoint('etcd://', '/d'), /no etcd host/);
  });

  it('opens SQLite in memory and etcd (whose client loads on demand)', async () => {
    const mem = await openStore(parseDatastoreEndpoint('memory://', '/unused'), { dataDir: '/unused' });
    try {
      assert.equal((await mem.create('/a', Buffer.from('1'))).modRevision > 0, true);
    } finally {
      await mem.close();
    }
    const etcd = await startEtcd();
    try {
      const store = await openStore(parseDatastoreEndpoint(`etcd://${new URL(etcd.endpoint).host}`, '/unused'), { dataDir: '/unused', compactIntervalMs: 0 });
      try {
        const kv = await store.create('/open-test', Buffer.from('v'));
        assert.equal((await store.get('/open-test')).kv?.modRevision, kv.modRevision);
      } finally {
        await store.close();
      }
    } finally {
      await etcd.stop();
    }
  });
});
