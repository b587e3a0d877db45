// The REST client against a real in-process API server over plain HTTP: the verbs, subresources, query
// options, watch streams, errors carrying the server's Status, and the client-side rate limit.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StatusError } from '../apimachinery/errors/status-error.js';
// Integration tests run against a real API server; the layer rule is for product code, not its tests.
import { ApiServer } from '../apiserver/api-server.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { KubeObject, ResourceRef, WatchEvent } from './rest-client.js';
import { isStatus, RESTClient, statusErrorFrom } from './rest-client.js';

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

const cms: ResourceRef = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
const deploys: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' };

const cm = (
  name: string,
  data: Record<string, string> = {},
  labels: Record<string, string> = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

describe('RESTClient', () => {
  it('builds paths for core, grouped, cluster-scoped and subresource URLs', () => {
    assert.equal(client.path(cms, 'a'), '/api/v1/namespaces/default/configmaps/a');
    assert.equal(
      client.path({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'x' }, 'd', 'scale'),
      '/apis/apps/v1/namespaces/x/deployments/d/scale',
    );
    assert.equal(client.path({ group: '', version: 'v1', resource: 'nodes' }), '/api/v1/nodes');
  });

  it('creates, gets, lists with selectors and pages, updates, patches three ways and deletes', async () => {
    const created = await client.create(cms, cm('crud-1', { a: '1' }, { app: 'crud' }));
    assert.equal(created.metadata?.name, 'crud-1');
    assert.ok(created.metadata?.uid);
    await client.create(cms, cm('crud-2', {}, { app: 'crud' }));
    await client.create(cms, cm('crud-3', {}, { app: 'other' }));

    const got = await client.get(cms, 'crud-1');
    assert.deepEqual(got.data, { a: '1' });

    const sel = await client.list(cms, { labelSelector: 'app=crud' });
    assert.deepEqual(sel.items.map((i) => i.metadata?.name).sort(), ['crud-1', 'crud-2']);
    const byField = await client.list(cms, { fieldSelector: 'metadata.name=crud-3' });
    assert.deepEqual(
      byField.items.map((i) => i.metadata?.name),
      ['crud-3'],
    );

    const page1 = await client.list(cms, { labelSelector: 'app in (crud,other)', limit: 2 });
    assert.equal(page1.items.length, 2);
    assert.ok(page1.metadata.continue);
    const page2 = await client.list(cms, {
      labelSelector: 'app in (crud,other)',
      limit: 2,
      continue: page1.metadata.continue,
    });
    assert.equal(page2.items.length, 1);

    const updated = await client.update(cms, { ...got, data: { a: '2' } });
    assert.deepEqual(updated.data, { a: '2' });
    // The old resourceVersion is now stale: optimistic concurrency says Conflict.
    await assert.rejects(
      client.update(cms, { ...got, data: { a: '3' } }),
      (e) => isStatus(e, 'Conflict') && e.code === 409,
    );

    const merged = await client.patch(cms, 'crud-1', { data: { b: 'x' } }, 'merge');
    assert.deepEqual(merged.data, { a: '2', b: 'x' });
    const strategic = await client.patch(
      cms,
      'crud-1',
      { metadata: { labels: { tier: 'web' } } },
      'strategic',
    );
    assert.deepEqual(strategic.metadata?.labels, { app: 'crud', tier: 'web' });
    const json = await client.patch(cms, 'crud-1', [{ op: 'remove', path: '/data/a' }], 'json');
    assert.deepEqual(json.data, { b: 'x' });

    await client.delete(cms, 'crud-1');
    await assert.rejects(
      client.get(cms, 'crud-1'),
      (e) => isStatus(e, 404) && e.reason === 'NotFound' && /"crud-1" not found/.test(e.message),
    );
    await client.deleteCollection(cms, { labelSelector: 'app in (crud,other)' });
    assert.equal((await client.list(cms, { labelSelector: 'app in (crud,other)' })).items.length, 0);
  });

  it('carries the server Status of failures: AlreadyExists, Invalid with causes, strict field validation', async () => {
    await client.create(cms, cm('dup'));
    await assert.rejects(
      client.create(cms, cm('dup')),
      (e) => e instanceof StatusError && e.reason === 'AlreadyExists' && e.code === 409,
    );
    await assert.rejects(client.create(cms, cm('Bad_Name')), (e) => {
      assert.ok(e instanceof StatusError);
      assert.equal(e.code, 422);
      assert.equal(e.reason, 'Invalid');
      assert.ok(e.status.details?.causes?.some((c) => c.field === 'metadata.name'));
      return true;
    });
    await assert.rejects(
      client.create(cms, { ...cm('strict'), bogus: 1 }, { fieldValidation: 'Strict' }),
      (e) => isStatus(e, 'BadRequest') && /unknown field "bogus"/.test(e.message),
    );
    // A dry run validates and answers but stores nothing.
    await client.create(cms, cm('dry'), { dryRun: true });
    await assert.rejects(client.get(cms, 'dry'), (e) => isStatus(e, 'NotFound'));
  });

  it('reads and writes the scale and status subresources', async () => {
    await client.create(deploys, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'nginx' }] },
        },
      },
    });
    const scale = await client.getScale(deploys, 'web');
    assert.equal(scale.kind, 'Scale');
    assert.deepEqual(scale.spec, { replicas: 1 });
    await client.scale(deploys, 'web', 4);
    const d = await client.get(deploys, 'web');
    assert.equal((d.spec as { replicas: number }).replicas, 4);
    const withStatus = await client.updateStatus(deploys, { ...d, status: { observedGeneration: 7 } });
    assert.equal(withStatus.status.observedGeneration, 7);
  });

  it('watches as an async iterable from a resourceVersion, and stops on abort', async () => {
    const start = await client.list(cms);
    const ac = new AbortController();
    const seen: WatchEvent[] = [];
    const done = (async () => {
      for await (const ev of client.watch(
        cms,
        { resourceVersion: start.metadata.resourceVersion! },
        ac.signal,
      )) {
        seen.push(ev);
        if (seen.length === 3) ac.abort();
      }
    })();
    await client.create(cms, cm('w1'));
    await client.patch(cms, 'w1', { data: { x: 'y' } });
    await client.delete(cms, 'w1');
    await done;
    assert.deepEqual(
      seen.map((e) => `${e.type} ${e.object.metadata?.name}`),
      ['ADDED w1', 'MODIFIED w1', 'DELETED w1'],
    );
  });

  it('reports a resourceVersion the watch cache no longer holds as an ERROR event with the 410 Status', async () => {
    // The watch cache answers an expired version with an ERROR event carrying the 410 Status.
    const small = new SqliteStore({ path: ':memory:', compactIntervalMs: 0 });
    const s = new ApiServer({ store: small, gitVersion: 'v1.33.0+k8ts', watchCacheCapacity: 2 });
    const port = await s.start();
    const c = new RESTClient({ server: `http://127.0.0.1:${port}` });
    try {
      const rv = (await c.list(cms)).metadata.resourceVersion!;
      for (let i = 0; i < 5; i++) await c.create(cms, cm(`e${i}`));
      const ac = new AbortController();
      const events: WatchEvent[] = [];
      for await (const ev of c.watch(cms, { resourceVersion: rv }, ac.signal)) {
        events.push(ev);
        break;
      }
      assert.equal(events[0]?.type, 'ERROR');
      assert.equal((events[0]?.object as unknown as { code: number }).code, 410);
    } finally {
      c.close();
      await s.stop();
      await small.close();
    }
  });

  it('limits its own request rate with the token bucket', async () => {
    const port = new URL(client.config.server).port;
    const slow = new RESTClient({ server: `http://127.0.0.1:${port}`, qps: 20, burst: 2 });
    try {
      const t0 = Date.now();
      for (let i = 0; i < 6; i++)
        await slow.get({ group: '', version: 'v1', resource: 'namespaces' }, 'default');
      // 2 from the burst, 4 more at 20/s: at least ~200 ms.
      assert.ok(Date.now() - t0 >= 180, `took ${Date.now() - t0} ms`);
    } finally {
      slow.close();
    }
  });

  it('sends a bearer token from a token file and its User-Agent, and retries 429 after Retry-After', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-client-rest-'));
    const seen: { auth?: string; ua?: string }[] = [];
    const fake = createServer((req, res) => {
      seen.push({ auth: req.headers.authorization, ua: req.headers['user-agent'] });
      if (seen.length === 1) {
        res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message: 'slow down',
            reason: 'TooManyRequests',
            code: 429,
          }),
        );
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Namespace', metadata: { name: 'default' } }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      writeFileSync(path.join(dir, 'token'), 'tok-1\n');
      const c = new RESTClient({
        server: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
        tokenFile: path.join(dir, 'token'),
        userAgent: 'test-agent/1',
      });
      const t0 = Date.now();
      const ns = await c.get({ group: '', version: 'v1', resource: 'namespaces' }, 'default');
      assert.equal(ns.metadata?.name, 'default');
      assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After');
      assert.deepEqual(seen, [
        { auth: 'Bearer tok-1', ua: 'test-agent/1' },
        { auth: 'Bearer tok-1', ua: 'test-agent/1' },
      ]);
      const noRetry = new RESTClient({ server: c.config.server }, { maxRetries: 0 });
      seen.length = 0;
      await assert.rejects(
        noRetry.get({ group: '', version: 'v1', resource: 'namespaces' }, 'default'),
        (e) => isStatus(e, 'TooManyRequests') && e.message === 'slow down',
      );
      c.close();
      noRetry.close();
    } finally {
      await new Promise((r) => fake.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns a non-Status error body into a StatusError with the reason of its code', () => {
    const e = statusErrorFrom(503, 'upstream down');
    assert.equal(e.reason, 'ServiceUnavailable');
    assert.match(e.message, /status code 503/);
  });
});
