// @kubernetes/client-node against `k8ts server`: typed CRUD over HTTPS with the admin kubeconfig, and an
// informer that sees every change in order and recovers after a 410 by listing again.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { K8tsProcess } from '../helpers/k8ts-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-client-node-'));
let server: K8tsProcess;
let port = 0;
const kc = new k8s.KubeConfig();

async function startServer(p: number): Promise<number> {
  server = new K8tsProcess(['server', '--data-dir', dir, '--https-listen-port', String(p), '--bind-address', '127.0.0.1']);
  const m = await server.waitForLog(/"msg":"API server ready","port":(\d+)/);
  return Number(m[1]);
}

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

before(async () => {
  port = await startServer(0);
  kc.loadFromFile(path.join(dir, 'kubeconfig.yaml'));
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('@kubernetes/client-node against k8ts', () => {
  it('creates, reads, replaces, patches and deletes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'crud' } } });
    const created = await core.createNamespacedConfigMap({ namespace: 'crud', body: { metadata: { name: 'c' }, data: { a: '1' } } });
    assert.ok(created.metadata?.uid);
    const read = await core.readNamespacedConfigMap({ name: 'c', namespace: 'crud' });
    assert.deepEqual(read.data, { a: '1' });
    read.data = { a: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ name: 'c', namespace: 'crud', body: read });
    assert.notEqual(replaced.metadata?.resourceVersion, created.metadata?.resourceVersion);
    await assert.rejects(
      core.replaceNamespacedConfigMap({ name: 'c', namespace: 'crud', body: { ...read, data: { a: 'stale' } } }),
      (err: any) => err.code === 409 && /the object has been modified/.test(String(err.body)),
    );
    const patched = await core.patchNamespacedConfigMap(
      { name: 'c', namespace: 'crud', body: { data: { b: '3' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    assert.deepEqual(patched.data, { a: '2', b: '3' });
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const d = await apps.createNamespacedDeployment({
      namespace: 'crud',
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
        },
      },
    });
    assert.equal(d.spec?.replicas, 2);
    await core.deleteNamespacedConfigMap({ name: 'c', namespace: 'crud' });
    await assert.rejects(core.readNamespacedConfigMap({ name: 'c', namespace: 'crud' }), (err: any) => err.code === 404);
  });

  it('runs an informer that sees 1,000 writes in order and recovers after a 410', async (t) => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'inf' } } });
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/inf/configmaps', () => core.listNamespacedConfigMap({ namespace: 'inf' }));
    const seen: string[] = [];
    let lastRv = 0;
    let outOfOrder = 0;
    const record = (kind: string) => (obj: k8s.V1ConfigMap) => {
      // The root CA publisher's kube-root-ca.crt arrives in every namespace, as upstream's does: not ours.
      if (obj.metadata?.name === 'kube-root-ca.crt') return;
      const rv = Number(obj.metadata?.resourceVersion);
      if (rv < lastRv) outOfOrder += 1;
      lastRv = Math.max(lastRv, rv);
      seen.push(`${kind} ${obj.metadata?.name}`);
    };
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    let errors = 0;
    let stopped = false;
    informer.on('error', () => {
      errors += 1;
      // The documented pattern: start again after an error; the informer resumes from its last version.
      if (!stopped) setTimeout(() => void (stopped ? undefined : informer.start().catch(() => undefined)), 300);
    });
    await informer.start();
    t.after(async () => {
      // Also when an assertion fails: a running informer would keep restarting and the file never ends.
      stopped = true;
      await informer.stop();
    });
    for (let i = 0; i < 1000; i++) {
      const name = `cm-${String(i).padStart(4, '0')}`;
      if (i % 4 === 3) {
        const prev = `cm-${String(i - 1).padStart(4, '0')}`;
        await core.patchNamespacedConfigMap(
          { name: prev, namespace: 'inf', body: { data: { v: String(i) } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      } else {
        await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name }, data: { v: '0' } } });
      }
    }
    await until('1,000 informer events', () => seen.length >= 1000);
    assert.equal(seen.length, 1000);
    assert.equal(outOfOrder, 0, 'events arrived out of resourceVersion order');
    assert.equal(seen.filter((s) => s.startsWith('add')).length, 750);
    assert.equal(seen.filter((s) => s.startsWith('update')).length, 250);

    // While the server is down, something writes to its store: on return the informer's version predates
    // the new watch cache, so its watch gets 410 Expired, and it must list again to see the change.
    assert.equal(await server.stop(), 0);
    const store = new SqliteStore({ path: path.join(dir, 'db', 'state.db') });
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'written-offline', namespace: 'inf', uid: 'u-offline', creationTimestamp: '2026-01-01T00:00:00Z' }, data: {} };
    await store.create('/registry/configmaps/inf/written-offline', new TextEncoder().encode(JSON.stringify(body)));
    await store.close();
    await startServer(port);
    await until('the informer to list again after the 410', () => seen.includes('add written-offline'));
    assert.ok(errors >= 1, 'the informer saw the server go away');
    assert.equal(informer.list('inf').filter((cm) => cm.metadata?.name !== 'kube-root-ca.crt').length, 751);
  });
});
