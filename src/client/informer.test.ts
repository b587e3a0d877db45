// The informer against a real in-process API server: the cache follows creates, updates and deletes; a
// connection cut while more changes than the watch cache holds happen ends in a relist whose differences
// reach the handlers (deletes as DeletedFinalStateUnknown); resync; the Lister; frozen objects.
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
// Integration tests run against a real API server; the layer rule is for product code, not its tests.
import { ApiServer } from '../apiserver/api-server.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { DeletedFinalStateUnknown, Indexer, metaNamespaceKey } from './indexer.js';
import { SharedInformer } from './informer.js';
import type { KubeObject, ResourceRef } from './rest-client.js';
import { RESTClient } from './rest-client.js';

let store: SqliteStore;
let server: ApiServer;
let apiPort = 0;
let client: RESTClient;

before(async () => {
  store = new SqliteStore({ path: ':memory:', compactIntervalMs: 0 });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts', watchCacheCapacity: 5 });
  apiPort = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${apiPort}` });
});
after(async () => {
  client.close();
  await server.stop();
  await store.close();
});

const cms = (namespace?: string): ResourceRef => ({
  group: '',
  version: 'v1',
  resource: 'configmaps',
  ...(namespace ? { namespace } : {}),
});
const cm = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data: {},
});

/** Waits for a condition with a deadline. */
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A TCP proxy to the API server that the test can cut (dropping every connection) and restore. */
class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  down = false;
  constructor(target: number) {
    this.#server = createServer((inbound) => {
      if (this.down) {
        inbound.destroy();
        return;
      }
      const outbound = connect(target, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return (this.#server.address() as AddressInfo).port;
  }
  cut(): void {
    this.down = true;
    for (const s of this.#sockets) s.destroy();
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.#server.close(r));
  }
}

describe('Indexer', () => {
  it('keeps secondary indices right across updates and deletes, and freezes what it stores', () => {
    const ix = new Indexer<KubeObject>({
      byApp: (o) => (o.metadata?.labels?.app ? [o.metadata.labels.app] : []),
    });
    ix.set({ metadata: { name: 'a', namespace: 'n', labels: { app: 'x' } } });
    ix.set({ metadata: { name: 'b', namespace: 'n', labels: { app: 'x' } } });
    assert.deepEqual(ix.indexKeys('byApp', 'x').sort(), ['n/a', 'n/b']);
    const stored = ix.set({ metadata: { name: 'a', namespace: 'n', labels: { app: 'y' } } });
    assert.deepEqual(ix.indexKeys('byApp', 'x'), ['n/b']);
    assert.deepEqual(ix.indexKeys('byApp', 'y'), ['n/a']);
    assert.throws(() => {
      (stored.metadata!.labels as Record<string, string>).app = 'z';
    }, TypeError);
    ix.deleteKey('n/b');
    assert.deepEqual(ix.indexKeys('byApp', 'x'), []);
    assert.throws(() => ix.byIndex('nope', 'x'), /does not exist/);
    assert.equal(metaNamespaceKey({ metadata: { name: 'node1' } }), 'node1');
  });
});

describe('SharedInformer', () => {
  it('syncs, then follows creates, updates and deletes; the Lister reads the cache', async () => {
    await client.create(cms('default'), cm('pre', { app: 'i1' }));
    const inf = SharedInformer.forResource(client, cms(), { labelSelector: 'app=i1' });
    const log: string[] = [];
    const reg = inf.addEventHandler({
      onAdd: (o, initial) => log.push(`add ${o.metadata?.name} ${initial}`),
      onUpdate: (a, b) =>
        log.push(
          `update ${a.metadata?.name} ${String(a.data && (a.data as Record<string, string>).v)}->${String((b.data as Record<string, string>).v)}`,
        ),
      onDelete: (o) => log.push(`delete ${metaNamespaceKey(o)}`),
    });
    inf.start();
    try {
      await inf.waitForSync();
      assert.ok(inf.hasSynced());
      assert.ok(reg.hasSynced());
      assert.deepEqual(log, ['add pre true']);
      await client.create(cms('kube-public'), cm('two', { app: 'i1' }));
      await client.patch(cms('default'), 'pre', { data: { v: '1' } });
      await client.delete(cms('default'), 'pre');
      await until('the delete', () => log.length === 4);
      assert.deepEqual(log.slice(1), ['add two false', 'update pre undefined->1', 'delete default/pre']);
      assert.equal(inf.lister.get('default', 'pre'), undefined);
      assert.equal(inf.lister.get('kube-public', 'two')?.metadata?.name, 'two');
      assert.equal(inf.lister.list('app=i1').length, 1);
      assert.equal(inf.lister.listNamespace('default').length, 0);
      assert.equal(inf.lister.byIndex('namespace', 'kube-public').length, 1);
      const cached = inf.lister.get('kube-public', 'two')!;
      assert.ok(Object.isFrozen(cached) && Object.isFrozen(cached.metadata));
      // A handler added late hears of what is already there.
      const late: string[] = [];
      inf.addEventHandler({ onAdd: (o) => late.push(o.metadata!.name!) });
      assert.deepEqual(late, ['two']);
    } finally {
      await inf.stop();
    }
  });

  it('resumes after a dropped connection, and relists after 410 with deletes as DeletedFinalStateUnknown', async () => {
    const proxy = new CuttableProxy(apiPort);
    const port = await proxy.listen();
    const viaProxy = new RESTClient({ server: `http://127.0.0.1:${port}` });
    const ns = cms('default');
    await client.create(ns, cm('keep', { app: 'i2' }));
    await client.create(ns, cm('gone', { app: 'i2' }));
    const inf = SharedInformer.forResource(viaProxy, cms(), {
      labelSelector: 'app=i2',
      backoffInitialMs: 20,
      backoffMaxMs: 100,
    });
    const log: string[] = [];
    inf.addEventHandler({
      onAdd: (o) => log.push(`add ${o.metadata?.name}`),
      onUpdate: (a, b) => {
        if (a.metadata?.resourceVersion !== b.metadata?.resourceVersion)
          log.push(`update ${b.metadata?.name}`);
      },
      onDelete: (o) =>
        log.push(
          o instanceof DeletedFinalStateUnknown ? `tombstone ${o.key}` : `delete ${metaNamespaceKey(o)}`,
        ),
    });
    inf.start();
    try {
      await inf.waitForSync();
      assert.equal(inf.listCount, 1);

      // A short cut with few changes: the watch resumes from its resourceVersion, no relist.
      proxy.cut();
      await client.create(ns, cm('during-short-cut', { app: 'i2' }));
      proxy.down = false;
      await until('the resumed watch', () => inf.lister.get('default', 'during-short-cut') !== undefined);
      assert.equal(inf.listCount, 1);

      // A long cut with more changes than the watch cache's 5 slots: 410, relist.
      proxy.cut();
      await client.delete(ns, 'gone');
      await client.patch(ns, 'keep', { data: { v: '2' } });
      for (let i = 0; i < 6; i++) await client.create(ns, cm(`filler-${i}`));
      await client.create(ns, cm('new-after-cut', { app: 'i2' }));
      log.length = 0;
      proxy.down = false;
      await until(
        'the relist',
        () => inf.listCount === 2 && inf.lister.get('default', 'new-after-cut') !== undefined,
      );
      assert.equal(inf.lister.get('default', 'gone'), undefined);
      assert.deepEqual(log.sort(), ['add new-after-cut', 'tombstone default/gone', 'update keep']);
      // And it keeps watching after the relist.
      await client.create(ns, cm('after-relist', { app: 'i2' }));
      await until('a watch after the relist', () => inf.lister.get('default', 'after-relist') !== undefined);
    } finally {
      await inf.stop();
      viaProxy.close();
      await proxy.close();
    }
  });

  it('resyncs: handlers hear onUpdate(obj, obj) for every cached object each period', async () => {
    await client.create(cms('default'), cm('resync-me', { app: 'i3' }));
    const inf = SharedInformer.forResource(client, cms('default'), { labelSelector: 'app=i3' });
    let resyncs = 0;
    inf.addEventHandler({ onUpdate: (a, b) => void (a === b && resyncs++) }, 50);
    inf.start();
    try {
      await until('two resyncs', () => resyncs >= 2);
    } finally {
      await inf.stop();
    }
  });
});
