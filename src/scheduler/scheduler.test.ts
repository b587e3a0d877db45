// The scheduler against a real in-process API server: nodes are plain Node objects written through the API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// Integration tests run against a real API server; the layer rule is for product code, not its tests.
import { ApiServer } from '../apiserver/api-server.js';
import type { KubeObject } from '../client/index.js';
import { RESTClient } from '../client/index.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { resolveConfiguration } from './config.js';
import { Scheduler } from './scheduler.js';
import type { PermitPlugin } from './framework.js';
import { makeNode, makePod } from './testing/objects.js';
import type { Pod } from './types.js';
import { Status } from './types.js';

const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const podsRef = (namespace = 'default') => ({ group: '', version: 'v1', resource: 'pods', namespace });

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;
let scheduler: Scheduler;
const stop = new AbortController();
let running: Promise<void>;

before(async () => {
  store = new SqliteStore({ path: ':memory:' });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}`, qps: 1000, burst: 1000 });
  scheduler = new Scheduler({ client, leaderElect: false });
  running = scheduler.run(stop.signal);
});

after(async () => {
  stop.abort();
  await running;
  client.close();
  await server.stop();
  await store.close();
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const getPod = (name: string, ns = 'default'): Promise<Pod> => client.get<Pod & KubeObject>(podsRef(ns), name);
const boundTo = (name: string, ns = 'default') => waitFor(`${name} bound`, async () => (await getPod(name, ns)).spec?.nodeName);
const scheduledCondition = (name: string, ns = 'default') =>
  waitFor(`${name} PodScheduled=False`, async () => (await getPod(name, ns)).status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'));

describe('scheduler', () => {
  it('binds pods to nodes that fit and reports why others do not', async () => {
    await client.create(nodesRef, makeNode('small', { cpu: '1' }) as KubeObject);
    await client.create(nodesRef, makeNode('tainted-a', { cpu: '8', taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }) as KubeObject);
    await client.create(nodesRef, makeNode('tainted-b', { cpu: '8', taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }) as KubeObject);
    await client.create(podsRef(), makePod('fits', { cpu: '500m' }) as KubeObject);
    assert.equal(await boundTo('fits'), 'small');
    await client.create(podsRef(), makePod('too-big', { cpu: '2' }) as KubeObject);
    const cond = await scheduledCondition('too-big');
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(
      cond.message,
      '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
    // A new node that fits: the pod is retried on the event, not after the five-minute flush.
    await client.create(nodesRef, makeNode('big', { cpu: '4' }) as KubeObject);
    assert.equal(await boundTo('too-big'), 'big');
  });

  it('preempts only the lower-priority pods it must, and nominates the node', async () => {
    const pcRef = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };
    await client.create(pcRef, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'low' }, value: 10 });
    await client.create(pcRef, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
    await client.create(nodesRef, makeNode('pre', { cpu: '1', labels: { group: 'pre' } }) as KubeObject);
    const onPre = { nodeSelector: { group: 'pre' } };
    await client.create(podsRef(), makePod('low-a', { cpu: '300m', priorityClassName: 'low', spec: onPre }) as KubeObject);
    assert.equal(await boundTo('low-a'), 'pre');
    await client.create(podsRef(), makePod('low-b', { cpu: '500m', priorityClassName: 'low', spec: onPre }) as KubeObject);
    assert.equal(await boundTo('low-b'), 'pre');
    assert.equal((await getPod('low-b')).spec?.priority, 10);
    await client.create(podsRef(), makePod('high', { cpu: '500m', priorityClassName: 'high', spec: onPre }) as KubeObject);
    // The victim is deleted gracefully; with no kubelet here, the test finishes the deletion as one would.
    const victim = await waitFor('a victim', async () => {
      for (const n of ['low-a', 'low-b']) {
        const p = await getPod(n).catch(() => undefined);
        if (p?.metadata?.deletionTimestamp) return p;
      }
      return undefined;
    });
    assert.equal(victim.metadata?.name, 'low-b');
    assert.ok(victim.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.reason === 'PreemptionByScheduler'));
    assert.equal((await getPod('high')).status?.nominatedNodeName, 'pre');
    await client.delete(podsRef(), 'low-b', { gracePeriodSeconds: 0 });
    assert.equal(await boundTo('high'), 'pre');
    assert.equal((await getPod('low-a')).metadata?.deletionTimestamp, undefined);
  });

  it('leaves pods of other schedulers alone', async () => {
    await client.create(podsRef(), makePod('other', { schedulerName: 'my-scheduler' }) as KubeObject);
    await client.create(podsRef(), makePod('mine') as KubeObject);
    await boundTo('mine');
    const other = await getPod('other');
    assert.equal(other.spec?.nodeName, undefined);
    assert.equal(other.status?.conditions, undefined);
  });

  it('holds a gated pod until its scheduling gates are removed', async () => {
    await client.create(podsRef(), makePod('gated', { spec: { schedulingGates: [{ name: 'example.com/wait' }] } }) as KubeObject);
    await waitFor('the gated pod counted', () => Promise.resolve(scheduler.queue.pending.gated === 1 ? true : undefined));
    assert.equal((await getPod('gated')).spec?.nodeName, undefined);
    await client.patch(podsRef(), 'gated', [{ op: 'remove', path: '/spec/schedulingGates' }], 'json');
    await boundTo('gated');
    assert.equal(scheduler.queue.pending.gated, 0);
  });

  it('lets a Permit plugin hold a pod until it allows it, and fails the pod when the plugin times out', async () => {
    // An out-of-tree Permit plugin, as a gang scheduler would write one: it holds pods labelled gate.
    const gate: PermitPlugin = {
      name: 'Gate',
      permit: (_state, pod) => {
        const g = pod.labels.gate;
        return g === undefined ? null : { status: new Status('Wait'), timeoutMs: g === 'hold' ? 60_000 : 300 };
      },
    };
    const config = resolveConfiguration({ profiles: [{ schedulerName: 'permit-test', plugins: { permit: { enabled: [{ name: 'Gate' }] } } }] });
    const s2 = new Scheduler({ client, leaderElect: false, config, outOfTreeRegistry: new Map([['Gate', () => gate]]) });
    const stop2 = new AbortController();
    const run = s2.run(stop2.signal);
    try {
      const fw = s2.framework('permit-test')!;
      await client.create(podsRef(), makePod('held', { schedulerName: 'permit-test', labels: { gate: 'hold' } }) as KubeObject);
      const waiting = await waitFor('the pod held at Permit', () => Promise.resolve(fw.waitingPods().find((w) => w.pod.pod.metadata?.name === 'held')));
      assert.deepEqual(waiting.pendingPlugins(), ['Gate']);
      assert.equal((await getPod('held')).spec?.nodeName, undefined);
      waiting.allow('Gate');
      assert.equal(await boundTo('held'), waiting.nodeName);

      await client.create(podsRef(), makePod('late', { schedulerName: 'permit-test', labels: { gate: 'timeout' } }) as KubeObject);
      const cond = await scheduledCondition('late');
      assert.equal(cond.reason, 'Unschedulable');
      assert.equal(cond.message, '0/1 nodes are available: 1 rejected due to timeout after waiting 300ms at plugin Gate.');
      assert.equal((await getPod('late')).spec?.nodeName, undefined);
    } finally {
      stop2.abort();
      await run;
    }
  });

  it('schedules again after a restart of the same instance (a new term of leadership)', async () => {
    const s2 = new Scheduler({ client, leaderElect: false, config: resolveConfiguration({ profiles: [{ schedulerName: 'restarted' }] }) });
    const first = new AbortController();
    const run1 = s2.run(first.signal);
    await client.create(podsRef(), makePod('restart-1', { schedulerName: 'restarted' }) as KubeObject);
    await boundTo('restart-1');
    first.abort();
    await run1;
    const second = new AbortController();
    const run2 = s2.run(second.signal);
    try {
      await client.create(podsRef(), makePod('restart-2', { schedulerName: 'restarted' }) as KubeObject);
      await boundTo('restart-2');
    } finally {
      second.abort();
      await run2;
    }
  });
});
