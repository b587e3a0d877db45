// The pod garbage collector against a real API server, its passes driven by hand on a fake clock.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { KubeObject, SharedInformer } from '../../client/index.js';
import { FakeClock } from '../../client/index.js';
import { until, useApiServer } from '../../../test/helpers/controller-harness.js';
import type { Pod } from '../replicaset/pod.js';
import { gcCheckPeriodMs, PodGCController } from './podgc-controller.js';

const api = useApiServer();
const podsRef = (namespace: string) => ({ group: '', version: 'v1', resource: 'pods', namespace });
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };

describe('pod GC', () => {
  const clock = new FakeClock(Date.parse('2026-03-01T10:00:00Z'));
  const ac = new AbortController();
  let gc: PodGCController;
  let podCache: SharedInformer<Pod>;
  let nodeCache: SharedInformer<KubeObject>;
  before(async () => {
    const ctx = api.context(clock, 'podgc-test');
    gc = new PodGCController(ctx, { terminatedPodThreshold: 3 });
    podCache = ctx.informers.informerFor<Pod>({ group: '', version: 'v1', resource: 'pods' });
    nodeCache = ctx.informers.informerFor({ group: '', version: 'v1', resource: 'nodes' });
    ctx.informers.start(ac.signal);
    await ctx.informers.waitForSync();
  });
  after(() => ac.abort());

  async function pod(ns: string, name: string, opts: { node?: string; phase?: string; finalizers?: string[] } = {}): Promise<void> {
    await api.client.create(podsRef(ns), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, ...(opts.finalizers ? { finalizers: opts.finalizers } : {}) },
      spec: { ...(opts.node ? { nodeName: opts.node } : {}), containers: [{ name: 'c', image: 'busybox' }] },
    });
    if (opts.phase) await api.client.patch(podsRef(ns), name, { status: { phase: opts.phase } }, 'merge', { subresource: 'status' });
  }

  const names = async (ns: string): Promise<string[]> => (await api.client.list(podsRef(ns))).items.map((p) => p.metadata?.name ?? '').sort();
  const cached = (n: number) => until(`${n} pods in the cache`, () => (podCache.lister.list().length === n ? true : undefined));

  it('deletes terminated pods beyond the threshold, oldest first, and keeps running ones', async () => {
    const ns = await api.namespace('gc');
    await api.client.create(nodesRef, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    for (const n of ['t1', 't2', 't3', 't4', 't5']) await pod(ns, n, { node: 'n1', phase: n === 't4' ? 'Failed' : 'Succeeded' });
    await pod(ns, 'running', { node: 'n1', phase: 'Running' });
    await until('phases in the cache', () => (podCache.lister.list().filter((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed').length === 5 ? true : undefined));
    await gc.gc();
    assert.deepEqual(await names(ns), ['running', 't3', 't4', 't5']);
    await until('the cache to catch up', () => (podCache.lister.list().length === 4 ? true : undefined));
    for (const n of ['t3', 't4', 't5']) await api.client.delete(podsRef(ns), n);
  });

  it('deletes pods of a node that is gone only after the quarantine, marked Failed with DisruptionTarget', async () => {
    const ns = await api.namespace('gc');
    await pod(ns, 'orphan', { node: 'ghost', phase: 'Running', finalizers: ['example.com/hold'] });
    await pod(ns, 'kept', { node: 'n1', phase: 'Running' });
    await cached(3);
    await gc.gc();
    await clock.step(39_000);
    await gc.gc();
    const early = await api.client.get<Pod>(podsRef(ns), 'orphan');
    assert.equal(early.metadata?.deletionTimestamp, undefined, 'still quarantined');
    await clock.step(2_000);
    await gc.gc();
    const marked = await api.client.get<Pod>(podsRef(ns), 'orphan');
    assert.ok(marked.metadata?.deletionTimestamp, 'deleted');
    assert.equal(marked.status?.phase, 'Failed');
    const cond = marked.status?.conditions?.find((c) => c.type === 'DisruptionTarget') as KubeObject | undefined;
    assert.deepEqual({ status: cond?.status, reason: cond?.reason, message: cond?.message }, { status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
    assert.equal((await api.client.get<Pod>(podsRef(ns), 'kept')).metadata?.deletionTimestamp, undefined);
    await api.client.patch(podsRef(ns), 'orphan', { metadata: { finalizers: null } }, 'merge');
  });

  it('force-deletes terminating pods on a not-ready node tainted out-of-service', async () => {
    const ns = await api.namespace('gc');
    await api.client.create(nodesRef, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'dead' },
      spec: { taints: [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }] },
    });
    await pod(ns, 'stranded', { node: 'dead', phase: 'Running', finalizers: ['example.com/hold'] });
    await api.client.delete(podsRef(ns), 'stranded');
    await until('the terminating pod and the node in the cache', () =>
      podCache.lister.get(ns, 'stranded')?.metadata?.deletionTimestamp && nodeCache.lister.get('', 'dead') ? true : undefined,
    );
    await gc.gc();
    const p = await api.client.get<Pod>(podsRef(ns), 'stranded');
    assert.equal(p.status?.phase, 'Failed');
    await api.client.patch(podsRef(ns), 'stranded', { metadata: { finalizers: null } }, 'merge');
  });

  it('marks an unscheduled terminating pod Failed and force-deletes it', async () => {
    const ns = await api.namespace('gc');
    await pod(ns, 'stuck', { finalizers: ['example.com/hold'] });
    await api.client.delete(podsRef(ns), 'stuck');
    await until('the terminating pod in the cache', () => (podCache.lister.get(ns, 'stuck')?.metadata?.deletionTimestamp ? true : undefined));
    await gc.gc();
    const p = await api.client.get<Pod>(podsRef(ns), 'stuck');
    assert.equal(p.status?.phase, 'Failed');
    await api.client.patch(podsRef(ns), 'stuck', { metadata: { finalizers: null } }, 'merge');
    await until('the pod to go', async () => ((await names(ns)).length === 0 ? true : undefined));
  });

  it('leaves no abort listener behind on the signal from its passes', async () => {
    const stop = new AbortController();
    const running = gc.run(stop.signal);
    for (let i = 0; i < 30; i++) await clock.step(gcCheckPeriodMs);
    const left = getEventListeners(stop.signal, 'abort').length;
    stop.abort();
    await running;
    assert.ok(left <= 2, `${left} abort listeners after 30 passes`);
  });
});
