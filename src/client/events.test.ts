// The event recorder against a real API server: an Event per distinct occurrence, repeats within ten
// minutes aggregated into count and lastTimestamp, a new Event once the window has passed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// Integration tests run against a real API server; the layer rule is for product code, not its tests.
import { ApiServer } from '../apiserver/api-server.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { EventRecorder } from './events.js';
import { FakeClock } from './fake-clock.js';
import type { KubeObject } from './rest-client.js';
import { RESTClient } from './rest-client.js';

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;

before(async () => {
  store = new SqliteStore({ path: ':memory:', compactIntervalMs: 0 });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}` });
});
after(async () => {
  client.close();
  await server.stop();
  await store.close();
});

interface Ev extends KubeObject {
  count: number;
  reason: string;
  message: string;
  type: string;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  involvedObject: { kind: string; name: string; namespace: string; uid: string };
}

describe('EventRecorder', () => {
  it('writes Events and aggregates repeats within ten minutes', async () => {
    const cm = await client.create<KubeObject>(
      { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ev-target' } },
    );
    const clock = new FakeClock(Date.UTC(2026, 5, 1, 12, 0, 0));
    const rec = new EventRecorder({ client, component: 'demo-controller', host: 'node-1', clock });
    rec.event(cm, 'Normal', 'Synced', 'synced ok');
    await clock.step(30_000);
    rec.event(cm, 'Normal', 'Synced', 'synced ok');
    rec.event(cm, 'Warning', 'Failed', 'boom');
    await rec.flush();
    const list = async (): Promise<Ev[]> =>
      (
        await client.list<Ev>(
          { group: '', version: 'v1', resource: 'events', namespace: 'default' },
          { fieldSelector: 'involvedObject.name=ev-target' },
        )
      ).items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
    let events = await list();
    assert.equal(events.length, 2);
    const synced = events.find((e) => e.reason === 'Synced')!;
    assert.equal(synced.count, 2);
    assert.equal(synced.type, 'Normal');
    assert.equal(synced.firstTimestamp, '2026-06-01T12:00:00Z');
    assert.equal(synced.lastTimestamp, '2026-06-01T12:00:30Z');
    assert.deepEqual(synced.source, { component: 'demo-controller', host: 'node-1' });
    assert.equal(synced.involvedObject.kind, 'ConfigMap');
    assert.equal(synced.involvedObject.uid, cm.metadata?.uid);
    assert.ok(synced.metadata!.name!.startsWith('ev-target.'));
    const failed = events.find((e) => e.reason === 'Failed')!;
    assert.equal(failed.type, 'Warning');
    assert.equal(failed.count, 1);

    // Past the window the same event starts a new Event.
    await clock.step(11 * 60 * 1000);
    rec.event(cm, 'Normal', 'Synced', 'synced ok');
    await rec.flush();
    events = await list();
    assert.equal(events.filter((e) => e.reason === 'Synced').length, 2);
  });

  it('recreates an aggregated Event that was deleted meanwhile, keeping the count', async () => {
    const clock = new FakeClock();
    const rec = new EventRecorder({ client, component: 'c2', clock });
    const ref = { apiVersion: 'v1', kind: 'Node', name: 'n1' };
    rec.event(ref, 'Normal', 'Ready', 'node ready');
    await rec.flush();
    const evRef = { group: '', version: 'v1', resource: 'events', namespace: 'default' };
    const [first] = (await client.list<Ev>(evRef, { fieldSelector: 'involvedObject.name=n1' })).items;
    assert.ok(first);
    await client.delete(evRef, first.metadata!.name!);
    rec.event(ref, 'Normal', 'Ready', 'node ready');
    await rec.flush();
    const again = (await client.list<Ev>(evRef, { fieldSelector: 'involvedObject.name=n1' })).items;
    assert.equal(again.length, 1);
    assert.equal(again[0]?.count, 2);
  });
});
