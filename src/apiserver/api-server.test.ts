// The API server in process over plain HTTP on a memory store: list and watch semantics through raw HTTP.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { ApiServer } from './api-server.js';

let store: SqliteStore;
let server: ApiServer;
let port = 0;

before(async () => {
  store = new SqliteStore({ path: ':memory:', compactIntervalMs: 0 });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts', watchCacheCapacity: 20 });
  port = await server.start();
});
after(async () => {
  await server.stop();
  await store.close();
});

interface Reply {
  code: number;
  type: string;
  body: string;
  json: any;
}

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(data);
        } catch {
          json = undefined;
        }
        resolve({ code: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: data, json });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Opens a watch and collects its events until `count` arrived or the timeout passed. */
function watch(path: string, count: number, timeoutMs = 5000): { events: Promise<any[]>; ready: Promise<void> } {
  const events: any[] = [];
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const done = new Promise<any[]>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'GET', path }, (res) => {
      readyResolve();
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) if (l !== '') events.push(JSON.parse(l));
        if (events.length >= count) {
          req.destroy();
          resolve(events);
        }
      });
      res.on('end', () => resolve(events));
    });
    req.on('error', (err) => (events.length >= count ? resolve(events) : reject(err)));
    setTimeout(() => {
      req.destroy();
      resolve(events);
    }, timeoutMs).unref();
    req.end();
  });
  return { events: done, ready };
}

const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

describe('API server over HTTP', () => {
  it('serves a request offering an upgrade it does not act on as plain HTTP, and checks streaming upgrades first', async () => {
    const h2c = await call('GET', '/version', undefined, { Connection: 'Upgrade, HTTP2-Settings', Upgrade: 'h2c', 'HTTP2-Settings': 'AAMAAABkAARAAAAAAAIAAAAA' });
    assert.equal(h2c.code, 200);
    assert.equal(h2c.json.major, '1');
    const ws = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' };
    const ghost = await call('GET', '/api/v1/namespaces/default/pods/ghost/exec?command=true&stdout=true', undefined, ws);
    assert.equal(ghost.code, 404);
    assert.equal(ghost.json.message, 'pods "ghost" not found');
  });

  it('answers health, version and 404 for unknown paths', async () => {
    assert.equal((await call('GET', '/readyz')).body, 'ok');
    assert.equal((await call('GET', '/version')).json.gitVersion, 'v1.33.0+k8ts');
    const nf = await call('GET', '/apis/nope.example.com/v1/things');
    assert.equal(nf.code, 404);
    assert.equal(nf.json.message, 'the server could not find the requested resource');
  });

  it('serves aggregated discovery only to clients that ask for it', async () => {
    const plain = await call('GET', '/apis', undefined, { Accept: 'application/json' });
    assert.equal(plain.json.kind, 'APIGroupList');
    const agg = await call('GET', '/apis', undefined, {
      Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
    });
    assert.equal(agg.type, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    assert.equal(agg.json.kind, 'APIGroupDiscoveryList');
    const apps = agg.json.items.find((g: any) => g.metadata.name === 'apps');
    const deploy = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
    assert.deepEqual(deploy.shortNames, ['deploy']);
    assert.ok(deploy.subresources.some((s: any) => s.subresource === 'scale' && s.responseKind.kind === 'Scale'));
  });

  it('lists what was just written (the cache waits for the store), with label and field selectors', async () => {
    for (const [name, tier] of [['a', 'web'], ['b', 'db'], ['c', 'web']] as const) {
      assert.equal((await call('POST', '/api/v1/namespaces/default/configmaps', cm(name, { tier }))).code, 201);
    }
    const all = await call('GET', '/api/v1/namespaces/default/configmaps');
    assert.deepEqual(all.json.items.map((i: any) => i.metadata.name), ['a', 'b', 'c']);
    assert.equal(all.json.kind, 'ConfigMapList');
    assert.ok(Number(all.json.metadata.resourceVersion) >= 3);
    const web = await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dweb');
    assert.deepEqual(web.json.items.map((i: any) => i.metadata.name), ['a', 'c']);
    const byName = await call('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Db');
    assert.deepEqual(byName.json.items.map((i: any) => i.metadata.name), ['b']);
    const bad = await call('GET', '/api/v1/configmaps?fieldSelector=spec.nope%3Dx');
    assert.equal(bad.code, 400);
    assert.equal(bad.json.message, 'field label not supported: spec.nope');
    const badLabel = await call('GET', '/api/v1/configmaps?labelSelector=a%3D%3D%3Db');
    assert.equal(badLabel.code, 400);
  });

  it('pages with limit and continue at one revision', async () => {
    for (let i = 0; i < 5; i++) await call('POST', '/api/v1/namespaces/paging/configmaps', cm(`p${i}`));
    const ns = await call('POST', '/api/v1/namespaces', { metadata: { name: 'paging' } });
    assert.equal(ns.code, 201);
    for (let i = 0; i < 5; i++) assert.equal((await call('POST', '/api/v1/namespaces/paging/configmaps', cm(`p${i}`))).code, 201);
    const first = await call('GET', '/api/v1/namespaces/paging/configmaps?limit=2');
    assert.deepEqual(first.json.items.map((i: any) => i.metadata.name), ['p0', 'p1']);
    assert.equal(first.json.metadata.remainingItemCount, 3);
    await call('DELETE', '/api/v1/namespaces/paging/configmaps/p2');
    const second = await call('GET', `/api/v1/namespaces/paging/configmaps?limit=2&continue=${first.json.metadata.continue}`);
    assert.deepEqual(second.json.items.map((i: any) => i.metadata.name), ['p2', 'p3'], 'the second page sees the first page revision');
    assert.equal(second.json.metadata.resourceVersion, first.json.metadata.resourceVersion);
    // Across namespaces the continue token carries namespace/name.
    const across = await call('GET', '/api/v1/configmaps?limit=3');
    assert.equal(across.json.items.length, 3);
    const rest = await call('GET', `/api/v1/configmaps?limit=100&continue=${across.json.metadata.continue}`);
    assert.equal(rest.code, 200, rest.body);
    const names = [...across.json.items, ...rest.json.items].map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`);
    assert.deepEqual(names, [...names].sort(), 'pages continue in key order');
    assert.equal(new Set(names).size, names.length, 'no object twice');
    const traversal = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start: '../secrets/x' })).toString('base64url');
    assert.equal((await call('GET', `/api/v1/configmaps?limit=1&continue=${traversal}`)).code, 400);
    await store.compact(await store.currentRevision());
    const expired = await call('GET', `/api/v1/namespaces/paging/configmaps?limit=2&continue=${second.json.metadata.continue}`);
    assert.equal(expired.code, 410);
    assert.equal(expired.json.reason, 'Expired');
  });

  it('refuses creates in a missing namespace', async () => {
    const r = await call('POST', '/api/v1/namespaces/nowhere/configmaps', cm('x'));
    assert.equal(r.code, 404);
    assert.equal(r.json.message, 'namespaces "nowhere" not found');
  });

  it('watches from now, from a revision, and with a selector that objects enter and leave', async () => {
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'w' } });
    const base = (await call('GET', '/api/v1/namespaces/w/configmaps')).json.metadata.resourceVersion as string;
    const fromRv = watch(`/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=${base}`, 3);
    const selected = watch(`/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=${base}&labelSelector=pick%3Dyes`, 3);
    await Promise.all([fromRv.ready, selected.ready]);
    const created = (await call('POST', '/api/v1/namespaces/w/configmaps', cm('x', { pick: 'yes' }))).json;
    const updated = (await call('PUT', '/api/v1/namespaces/w/configmaps/x', { ...created, metadata: { ...created.metadata, labels: { pick: 'no' } } })).json;
    await call('PUT', '/api/v1/namespaces/w/configmaps/x', { ...updated, metadata: { ...updated.metadata, labels: { pick: 'yes' } } });
    const all = await fromRv.events;
    assert.deepEqual(all.map((e) => `${e.type} ${e.object.metadata.labels.pick}`), ['ADDED yes', 'MODIFIED no', 'MODIFIED yes']);
    assert.equal(all[0].object.kind, 'ConfigMap');
    assert.equal(all[0].object.apiVersion, 'v1');
    const sel = await selected.events;
    assert.deepEqual(sel.map((e) => `${e.type} ${e.object.metadata.labels.pick}`), ['ADDED yes', 'DELETED no', 'ADDED yes']);
  });

  it('watches pods with field selectors as the scheduler and kubelets do: bindings and phases move pods in and out', async () => {
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'fw' } });
    const base = (await call('GET', '/api/v1/namespaces/fw/pods')).json.metadata.resourceVersion as string;
    const at = `/api/v1/namespaces/fw/pods?watch=true&resourceVersion=${base}`;
    const onNode = watch(`${at}&fieldSelector=spec.nodeName%3Dn1`, 2);
    const notDone = watch(`${at}&fieldSelector=status.phase!%3DSucceeded,status.phase!%3DFailed`, 3);
    const all = watch(at, 3);
    await Promise.all([onNode.ready, notDone.ready, all.ready]);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    assert.equal((await call('POST', '/api/v1/namespaces/fw/pods', pod)).code, 201);
    assert.equal((await call('POST', '/api/v1/namespaces/fw/pods/p/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } })).code, 201);
    const done = await call('PATCH', '/api/v1/namespaces/fw/pods/p/status', { status: { phase: 'Succeeded' } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(done.code, 200);
    const show = (events: any[]): string[] => events.map((e) => `${e.type} ${e.object.kind} ${e.object.spec.nodeName ?? '-'} ${e.object.status.phase}`);
    assert.deepEqual(show(await all.events), ['ADDED Pod - Pending', 'MODIFIED Pod n1 Pending', 'MODIFIED Pod n1 Succeeded']);
    // The binding brings the pod into the node's selection; the phase takes it out of the scheduler's.
    assert.deepEqual(show(await onNode.events), ['ADDED Pod n1 Pending', 'MODIFIED Pod n1 Succeeded']);
    assert.deepEqual(show(await notDone.events), ['ADDED Pod - Pending', 'MODIFIED Pod n1 Pending', 'DELETED Pod n1 Succeeded']);
    const bound = (await all.events)[1];
    assert.deepEqual(
      bound.object.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`),
      ['PodScheduled=True'],
    );
  });

  it('starts a watch without resourceVersion with the current objects, and ends it after timeoutSeconds', async () => {
    const initial = watch('/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1', 100, 5000);
    const events = await initial.events;
    assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED a', 'ADDED b', 'ADDED c']);
  });

  it('sends the initial-events-end bookmark for sendInitialEvents', async () => {
    const w = watch(
      '/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true',
      4,
    );
    const events = await w.events;
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'ADDED', 'ADDED', 'BOOKMARK']);
    assert.equal(events[3].object.metadata.annotations['k8s.io/initial-events-end'], 'true');
  });

  it('answers 410 Expired in the stream for a revision older than the cache window', async () => {
    const old = (await call('GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion as string;
    for (let i = 0; i < 25; i++) await call('POST', '/api/v1/namespaces/default/configmaps', cm(`churn${i}`));
    const w = watch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${old}`, 1);
    const [e] = await w.events;
    assert.equal(e.type, 'ERROR');
    assert.equal(e.object.code, 410);
    assert.equal(e.object.reason, 'Expired');
    assert.match(e.object.message, new RegExp(`^too old resource version: ${old} \\(\\d+\\)$`));
  });

  it('checks field types and unknown fields as fieldValidation asks', async () => {
    const wrong = await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'typed' }, data: { a: 1 } });
    assert.equal(wrong.code, 400);
    assert.equal(
      wrong.json.message,
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string',
    );
    const strict = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', { metadata: { name: 'typed' }, dta: {} });
    assert.equal(strict.code, 400);
    assert.equal(strict.json.message, 'strict decoding error: unknown field "dta"');
    const warn = await new Promise<{ warning: string | string[] | undefined; code: number }>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: { 'Content-Type': 'application/json' } },
        (res) => {
          res.resume();
          resolve({ warning: res.headers.warning, code: res.statusCode ?? 0 });
        },
      );
      req.end(JSON.stringify({ metadata: { name: 'typed', extra: 1 } }));
    });
    assert.equal(warn.code, 201);
    assert.equal(warn.warning, '299 - "unknown field \\"metadata.extra\\""');
    const stored = await call('GET', '/api/v1/namespaces/default/configmaps/typed');
    assert.equal(stored.json.metadata.extra, undefined, 'unknown fields are not stored');
  });

  it('scales workloads through the scale subresource', async () => {
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    };
    assert.equal((await call('POST', '/apis/apps/v1/namespaces/default/deployments', dep)).code, 201);
    const scale = await call('GET', '/apis/apps/v1/namespaces/default/deployments/web/scale');
    assert.equal(scale.json.kind, 'Scale');
    assert.equal(scale.json.apiVersion, 'autoscaling/v1');
    assert.deepEqual(scale.json.spec, { replicas: 1 });
    assert.equal(scale.json.status.selector, 'app=web');
    const put = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { ...scale.json, spec: { replicas: 4 } });
    assert.equal(put.code, 200, put.body);
    assert.equal(put.json.spec.replicas, 4);
    const stale = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { ...scale.json, spec: { replicas: 5 } });
    assert.equal(stale.code, 409);
    const patched = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale', { spec: { replicas: 2 } }, {
      'Content-Type': 'application/merge-patch+json',
    });
    assert.equal(patched.json.spec.replicas, 2);
    assert.equal((await call('GET', '/apis/apps/v1/namespaces/default/deployments/web')).json.spec.replicas, 2);
  });

  it('binds a pod to a node once, evicts it, and routes its logs by its node', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    assert.equal((await call('POST', '/api/v1/namespaces/default/pods', pod)).code, 201);
    // Upstream answers an empty log for a pod no node has yet, and refuses exec.
    const unscheduledLogs = await call('GET', '/api/v1/namespaces/default/pods/p/log');
    assert.equal(unscheduledLogs.code, 200);
    assert.equal(unscheduledLogs.body, '');
    const unscheduledExec = await call('POST', '/api/v1/namespaces/default/pods/p/exec?command=true&stdout=true');
    assert.equal(unscheduledExec.code, 400);
    assert.equal(unscheduledExec.json.message, 'pod p does not have a host assigned');
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { apiVersion: 'v1', kind: 'Node', name: 'n1' } };
    const bound = await call('POST', '/api/v1/namespaces/default/pods/p/binding', binding);
    assert.equal(bound.code, 201, bound.body);
    const got = (await call('GET', '/api/v1/namespaces/default/pods/p')).json;
    assert.equal(got.spec.nodeName, 'n1');
    assert.equal(got.status.conditions.find((c: any) => c.type === 'PodScheduled').status, 'True');
    const again = await call('POST', '/api/v1/namespaces/default/pods/p/binding', { ...binding, target: { kind: 'Node', name: 'n2' } });
    assert.equal(again.code, 409);
    assert.equal(again.json.message, 'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n1"');
    // The node the pod is bound to has to exist for its kubelet to be found.
    const logs = await call('GET', '/api/v1/namespaces/default/pods/p/log');
    assert.equal(logs.code, 404);
    assert.equal(logs.json.message, 'nodes "n1" not found');
    const evicted = await call('POST', '/api/v1/namespaces/default/pods/p/eviction', {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'p' },
      deleteOptions: { gracePeriodSeconds: 0 },
    });
    assert.equal(evicted.code, 201, evicted.body);
    assert.equal((await call('GET', '/api/v1/namespaces/default/pods/p')).code, 404);
  });

  it('serves one stored Event as core/v1 and as events.k8s.io/v1, and one HPA as v1 and v2', async () => {
    const ev = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e1' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'p', apiVersion: 'v1' },
      reason: 'Started',
      message: 'Started container',
      type: 'Normal',
      source: { component: 'kubelet' },
      firstTimestamp: '2026-01-01T00:00:00Z',
      lastTimestamp: '2026-01-01T00:00:00Z',
      count: 1,
    };
    const created = await call('POST', '/api/v1/namespaces/default/events', ev);
    assert.equal(created.code, 201, created.body);
    const asV1 = await call('GET', '/apis/events.k8s.io/v1/namespaces/default/events/e1');
    assert.equal(asV1.json.apiVersion, 'events.k8s.io/v1');
    assert.equal(asV1.json.note, 'Started container');
    assert.equal(asV1.json.regarding.name, 'p');
    assert.equal(asV1.json.deprecatedSource.component, 'kubelet');
    const listed = await call('GET', '/apis/events.k8s.io/v1/namespaces/default/events');
    assert.equal(listed.json.items[0].note, 'Started container');
    const core = await call('GET', '/api/v1/namespaces/default/events/e1');
    assert.equal(core.json.message, 'Started container');
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'h' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
      },
    };
    assert.equal((await call('POST', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', hpa)).code, 201);
    const v1 = await call('GET', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/h');
    assert.equal(v1.json.spec.targetCPUUtilizationPercentage, 60);
    assert.equal(v1.json.spec.maxReplicas, 5);
  });

  it('answers Tables for kubectl get', async () => {
    const t = await call('GET', '/api/v1/namespaces/default/configmaps?limit=500', undefined, {
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
    });
    assert.equal(t.type, 'application/json;as=Table;v=v1;g=meta.k8s.io');
    assert.equal(t.json.kind, 'Table');
    assert.deepEqual(t.json.columnDefinitions.map((c: any) => c.name), ['Name', 'Data', 'Age']);
    assert.equal(t.json.rows[0].object.kind, 'PartialObjectMetadata');
  });

  it('streams a long list and keeps a full watch window right past many changes', async () => {
    assert.equal((await call('POST', '/api/v1/namespaces', { metadata: { name: 'bulk' } })).code, 201);
    const n = 1200; // beyond the streamed-list threshold, and over 1,024 changes past the 20-event window
    for (let i = 0; i < n; i++) {
      const name = `cm-${String(i).padStart(4, '0')}`;
      assert.equal((await call('POST', '/api/v1/namespaces/bulk/configmaps', cm(name, {}, { i: String(i) }))).code, 201);
    }
    const list = await call('GET', '/api/v1/namespaces/bulk/configmaps');
    assert.equal(list.code, 200);
    assert.equal(list.json.kind, 'ConfigMapList');
    assert.equal(list.json.items.length, n);
    assert.deepEqual(
      list.json.items.map((o: any) => o.data.i),
      Array.from({ length: n }, (_, i) => String(i)),
    );
    const table = await call('GET', '/api/v1/namespaces/bulk/configmaps', undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    assert.equal(table.json.kind, 'Table');
    assert.equal(table.json.rows.length, n);
    assert.equal(table.json.rows[n - 1].cells[0], 'cm-1199');
    // The last 20 changes are still watchable from the revision before them; one older is gone.
    const rv = Number(list.json.metadata.resourceVersion);
    const w = watch(`/api/v1/namespaces/bulk/configmaps?watch=true&resourceVersion=${rv - 20}`, 20);
    const events = await w.events;
    assert.deepEqual(
      events.map((e) => e.object.data.i),
      Array.from({ length: 20 }, (_, i) => String(n - 20 + i)),
    );
    const old = watch(`/api/v1/namespaces/bulk/configmaps?watch=true&resourceVersion=${rv - 21}`, 1);
    const [expired] = await old.events;
    assert.equal(expired.type, 'ERROR');
    assert.equal(expired.object.code, 410);
  });

  it('never crashes on malformed bodies', async () => {
    for (const body of ['{', 'null', '[]', '"x"', '{"metadata":5}', 'k8s\u0000garbage']) {
      const r = await call('POST', '/api/v1/namespaces/default/configmaps', body);
      assert.ok(r.code >= 400 && r.code < 500, `${JSON.stringify(body)} answered ${r.code}: ${r.body}`);
      assert.equal(r.json.kind, 'Status');
    }
    const big = await call('POST', '/api/v1/namespaces/default/configmaps', 'x'.repeat(3 * 1024 * 1024 + 1));
    assert.equal(big.code, 413);
    assert.equal((await call('GET', '/readyz')).code, 200);
  });
});
