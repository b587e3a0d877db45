// The ReplicaSet controller against a real in-process API server. No kubelet runs: the test plays its part
// by binding pods to a node and marking them Running and Ready through pods/status.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// Integration tests run against a real API server; the layer rule is for product code, not its tests.
import { ApiServer } from '../../apiserver/api-server.js';
import { logger } from '../../base/log.js';
import type { Clock, KubeObject } from '../../client/index.js';
import { EventRecorder, FakeClock, RESTClient, SharedInformer, realClock } from '../../client/index.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { ControllerContext } from '../common/controller.js';
import { InformerFactory } from '../common/informer-factory.js';
import type { OwnerReference, Pod } from './pod.js';
import { ReplicaSetController } from './replicaset-controller.js';

const podsRef = (namespace: string) => ({ group: '', version: 'v1', resource: 'pods', namespace });
const rsRef = (namespace: string) => ({ group: 'apps', version: 'v1', resource: 'replicasets', namespace });

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;
/** Names of every pod ever created, per namespace, as a watch saw them. */
const everCreated = new Map<string, Set<string>>();
let podWatcher: SharedInformer<Pod>;

before(async () => {
  store = new SqliteStore({ path: ':memory:' });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}` });
  podWatcher = SharedInformer.forResource<Pod>(client, { group: '', version: 'v1', resource: 'pods' });
  podWatcher.addEventHandler({
    onAdd: (p) => {
      const ns = p.metadata?.namespace ?? '';
      if (!everCreated.has(ns)) everCreated.set(ns, new Set());
      everCreated.get(ns)!.add(p.metadata?.name ?? '');
    },
  });
  podWatcher.start();
  await podWatcher.waitForSync();
});

after(async () => {
  await podWatcher.stop();
  client.close();
  await server.stop();
  await store.close();
});

/** A controller with its own informers; `clock` drives its expectations and status times. */
function newController(clock: Clock = realClock): { controller: ReplicaSetController; informers: InformerFactory } {
  const informers = new InformerFactory(client);
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: (component) => new EventRecorder({ client, component, clock }),
    log: logger('replicaset-test'),
    clock,
  };
  return { controller: new ReplicaSetController(ctx), informers };
}

/** Waits for a condition with a deadline. */
async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let nsCount = 0;
async function newNamespace(): Promise<string> {
  const name = `rs-test-${++nsCount}`;
  await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

interface RS extends KubeObject {
  spec: { replicas: number; minReadySeconds?: number; [key: string]: unknown };
  status?: {
    replicas?: number;
    fullyLabeledReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

async function createRS(
  ns: string,
  name: string,
  replicas: number,
  app: string,
  extra: { minReadySeconds?: number; finalizers?: string[] } = {},
): Promise<RS> {
  const { finalizers, ...specExtra } = extra;
  return client.create<RS>(rsRef(ns), {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      ...specExtra,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app, tier: 'web' }, ...(finalizers ? { finalizers } : {}) },
        spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
      },
    },
  });
}

async function scale(ns: string, name: string, replicas: number): Promise<void> {
  await client.patch(rsRef(ns), name, { spec: { replicas } }, 'merge');
}

async function getRS(ns: string, name: string): Promise<RS> {
  return client.get<RS>(rsRef(ns), name);
}

/** Pods that are not terminating. */
async function activePods(ns: string): Promise<Pod[]> {
  const list = await client.list<Pod>(podsRef(ns));
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function waitForPods(ns: string, n: number): Promise<Pod[]> {
  return until(`${n} pods in ${ns}`, async () => {
    const pods = await activePods(ns);
    return pods.length === n ? pods : undefined;
  });
}

/** The scheduler's part: bind the pod to a node. */
async function bind(ns: string, name: string): Promise<void> {
  await client.create(
    podsRef(ns),
    { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } },
    { subresource: 'binding', name },
  );
}

/** The kubelet's part: report the (bound) pod Running, and Ready unless told otherwise. */
async function reportRunning(ns: string, name: string, ready = true): Promise<void> {
  const pod = await client.get<Pod>(podsRef(ns), name);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const status = ready ? 'True' : 'False';
  await client.updateStatus(podsRef(ns), {
    ...pod,
    status: {
      ...pod.status,
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status, lastTransitionTime: now },
      ],
      containerStatuses: [
        { name: 'c', image: 'registry.k8s.io/pause:3.10', imageID: '', ready, restartCount: 0, started: true, state: { running: { startedAt: now } } },
      ],
    },
  });
}

async function markRunningReady(ns: string, name: string): Promise<void> {
  await bind(ns, name);
  await reportRunning(ns, name);
}

function ownerRefs(p: KubeObject): OwnerReference[] {
  return (p.metadata?.ownerReferences as OwnerReference[] | undefined) ?? [];
}

async function eventsOf(ns: string, rsName: string, reason: string): Promise<{ message: string; type: string; source?: { component?: string } }[]> {
  const list = await client.list<KubeObject>({ group: '', version: 'v1', resource: 'events', namespace: ns });
  return list.items
    .filter((e) => (e.involvedObject as { name?: string }).name === rsName && e.reason === reason)
    .map((e) => e as unknown as { message: string; type: string; source?: { component?: string } });
}

describe('ReplicaSet controller', () => {
  const stop = new AbortController();
  let running: Promise<void>;
  before(() => {
    const { controller, informers } = newController();
    running = controller.run(stop.signal);
    informers.start(stop.signal);
  });
  after(async () => {
    stop.abort();
    await running;
  });

  it('scales up from 0 to exactly 5 pods from the template, owned by the ReplicaSet, with events', async () => {
    const ns = await newNamespace();
    const rs = await createRS(ns, 'web', 0, 'web');
    await until('status observed', async () => (await getRS(ns, 'web')).status?.observedGeneration === 1);
    await scale(ns, 'web', 5);
    const pods = await waitForPods(ns, 5);
    await until('status.replicas 5', async () => (await getRS(ns, 'web')).status?.replicas === 5);
    // Status writes and pod events keep re-queueing the ReplicaSet meanwhile; expectations must stop any
    // sync from creating again before the informer has seen the first creates.
    await sleep(500);
    assert.equal((await activePods(ns)).length, 5);
    assert.equal(everCreated.get(ns)?.size, 5, `pods ever created: ${[...(everCreated.get(ns) ?? [])].join(', ')}`);
    for (const p of pods) {
      assert.equal(p.metadata?.generateName, 'web-');
      assert.match(p.metadata?.name ?? '', /^web-[a-z0-9]{5}$/);
      assert.deepEqual(p.metadata?.labels, { app: 'web', tier: 'web' });
      assert.deepEqual(ownerRefs(p), [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata?.uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    const created = await until('5 SuccessfulCreate events', async () => {
      const evs = await eventsOf(ns, 'web', 'SuccessfulCreate');
      return evs.length === 5 ? evs : undefined;
    });
    assert.deepEqual(created.map((e) => e.message).sort(), pods.map((p) => `Created pod: ${p.metadata?.name}`).sort());
    assert.ok(created.every((e) => e.type === 'Normal' && e.source?.component === 'replicaset-controller'));
  });

  it('reports replicas, fullyLabeledReplicas, readyReplicas, availableReplicas and observedGeneration', async () => {
    const ns = await newNamespace();
    await createRS(ns, 'counted', 3, 'counted');
    const pods = await waitForPods(ns, 3);
    await markRunningReady(ns, pods[0]!.metadata!.name!);
    await markRunningReady(ns, pods[1]!.metadata!.name!);
    const rs = await until('two ready', async () => {
      const r = await getRS(ns, 'counted');
      return r.status?.readyReplicas === 2 ? r : undefined;
    });
    assert.equal(rs.status?.replicas, 3);
    assert.equal(rs.status?.fullyLabeledReplicas, 3);
    assert.equal(rs.status?.availableReplicas, 2);
    assert.equal(rs.status?.observedGeneration, rs.metadata?.generation);
    assert.equal(rs.status?.conditions, undefined);
    // A pod that keeps the selector's label but loses a template label still counts, not as fully labelled.
    await client.patch(podsRef(ns), pods[2]!.metadata!.name!, { metadata: { labels: { tier: null } } }, 'merge');
    await until('fullyLabeledReplicas 2', async () => {
      const r = await getRS(ns, 'counted');
      return r.status?.fullyLabeledReplicas === 2 && r.status.replicas === 3;
    });
  });

  it('counts a ready pod as available only after minReadySeconds', async () => {
    const ns = await newNamespace();
    await createRS(ns, 'slow', 1, 'slow', { minReadySeconds: 2 });
    const [pod] = await waitForPods(ns, 1);
    await markRunningReady(ns, pod!.metadata!.name!);
    const ready = await until('ready', async () => {
      const r = await getRS(ns, 'slow');
      return r.status?.readyReplicas === 1 ? r : undefined;
    });
    assert.equal(ready.status?.availableReplicas, 0);
    // Nothing changes on the pod: the controller must look again by itself.
    await until('available', async () => (await getRS(ns, 'slow')).status?.availableReplicas === 1, 6000);
  });

  it('scales down deleting pending and unready pods before running ready ones', async () => {
    const ns = await newNamespace();
    await createRS(ns, 'shrink', 5, 'shrink');
    const pods = await waitForPods(ns, 5);
    const names = pods.map((p) => p.metadata!.name!);
    // All on a node, so only phase and readiness tell them apart: two ready, one running but not ready,
    // two still pending.
    for (const name of names) await bind(ns, name);
    await reportRunning(ns, names[0]!);
    await reportRunning(ns, names[1]!);
    await reportRunning(ns, names[2]!, false);
    await until('two ready', async () => (await getRS(ns, 'shrink')).status?.readyReplicas === 2);
    await scale(ns, 'shrink', 3);
    const left3 = await waitForPods(ns, 3);
    assert.deepEqual(left3.map((p) => p.metadata!.name!).sort(), names.slice(0, 3).sort());
    const deleted = await until('2 SuccessfulDelete events', async () => {
      const evs = await eventsOf(ns, 'shrink', 'SuccessfulDelete');
      return evs.length === 2 ? evs : undefined;
    });
    assert.deepEqual(deleted.map((e) => e.message).sort(), names.slice(3).map((n) => `Deleted pod: ${n}`).sort());
    await scale(ns, 'shrink', 2);
    const left2 = await waitForPods(ns, 2);
    assert.deepEqual(left2.map((p) => p.metadata!.name!).sort(), names.slice(0, 2).sort());
    await until('status.replicas 2', async () => (await getRS(ns, 'shrink')).status?.replicas === 2);
  });

  it('ignores a terminating pod and replaces it at once', async () => {
    const ns = await newNamespace();
    await createRS(ns, 'grace', 2, 'grace');
    const pods = await waitForPods(ns, 2);
    const victim = pods[0]!.metadata!.name!;
    // Bound and running, so the delete is graceful: the pod stays, terminating, for its grace period.
    await markRunningReady(ns, victim);
    await client.delete(podsRef(ns), victim);
    const after = await waitForPods(ns, 2);
    assert.ok(!after.some((p) => p.metadata?.name === victim));
    const still = await client.get<Pod>(podsRef(ns), victim);
    assert.ok(still.metadata?.deletionTimestamp, 'the victim is still terminating');
    await until('status counts only active pods', async () => (await getRS(ns, 'grace')).status?.replicas === 2);
  });

  it('replaces a deleted pod', async () => {
    const ns = await newNamespace();
    await createRS(ns, 'heal', 3, 'heal');
    const pods = await waitForPods(ns, 3);
    const victim = pods[1]!.metadata!.name!;
    await client.delete(podsRef(ns), victim);
    const healed = await until('replacement', async () => {
      const now = await activePods(ns);
      return now.length === 3 && !now.some((p) => p.metadata?.name === victim) ? now : undefined;
    });
    assert.equal(healed.filter((p) => !pods.some((o) => o.metadata?.name === p.metadata?.name)).length, 1);
    await sleep(300);
    assert.equal((await activePods(ns)).length, 3);
  });

  it('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    const ns = await newNamespace();
    const orphan = await client.create<Pod>(podsRef(ns), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stray', labels: { app: 'adopt' } },
      spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
    });
    const rs = await createRS(ns, 'adopter', 2, 'adopt');
    const adopted = await until('orphan adopted', async () => {
      const p = await client.get<Pod>(podsRef(ns), 'stray');
      return ownerRefs(p).length > 0 ? p : undefined;
    });
    assert.deepEqual(ownerRefs(adopted), [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'adopter', uid: rs.metadata?.uid, controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal(adopted.metadata?.uid, orphan.metadata?.uid);
    // The adopted orphan counts: only one pod is made.
    await waitForPods(ns, 2);
    await sleep(300);
    assert.equal((await activePods(ns)).length, 2);
    assert.equal(everCreated.get(ns)?.size, 2);

    await client.patch(podsRef(ns), 'stray', { metadata: { labels: { app: 'elsewhere' } } }, 'merge');
    await until('stray released', async () => ownerRefs(await client.get<Pod>(podsRef(ns), 'stray')).length === 0);
    const matching = await until('a replacement for the released pod', async () => {
      const now = (await activePods(ns)).filter((p) => p.metadata?.labels?.app === 'adopt');
      return now.length === 2 ? now : undefined;
    });
    assert.ok(matching.every((p) => ownerRefs(p)[0]?.uid === rs.metadata?.uid));
    await until('status.replicas 2', async () => (await getRS(ns, 'adopter')).status?.replicas === 2);
  });

  it('sets the ReplicaFailure condition and records FailedCreate when pods cannot be created', async () => {
    const ns = await newNamespace();
    // The template passes ReplicaSet validation, but a pod with a finalizer that is neither standard nor
    // domain-qualified is rejected, so every create fails.
    await createRS(ns, 'broken', 3, 'broken', { finalizers: ['not-qualified'] });
    const rs = await until('ReplicaFailure', async () => {
      const r = await getRS(ns, 'broken');
      return r.status?.conditions?.some((c) => c.type === 'ReplicaFailure') ? r : undefined;
    });
    const cond = rs.status!.conditions!.find((c) => c.type === 'ReplicaFailure')!;
    assert.equal(cond.status, 'True');
    assert.equal(cond.reason, 'FailedCreate');
    assert.match(cond.message ?? '', /is invalid/);
    assert.equal(rs.status?.replicas, 0);
    const evs = await until('FailedCreate event', async () => {
      const e = await eventsOf(ns, 'broken', 'FailedCreate');
      return e.length > 0 ? e : undefined;
    });
    assert.equal(evs[0]!.type, 'Warning');
    assert.equal(evs[0]!.message, `Error creating: ${cond.message ?? ''}`);
    assert.equal((await activePods(ns)).length, 0);
    // Fixed template: the pods come and the condition goes.
    await client.patch(rsRef(ns), 'broken', { spec: { template: { metadata: { finalizers: null } } } }, 'merge');
    await waitForPods(ns, 3);
    await until('condition cleared', async () => {
      const r = await getRS(ns, 'broken');
      return r.status?.replicas === 3 && !r.status.conditions?.some((c) => c.type === 'ReplicaFailure');
    }, 15_000);
  });
});

describe('ReplicaSet expectations', () => {
  it('does not act again on creates its informer has not seen, until they are seen or 5 minutes pass', async () => {
    const clock = new FakeClock(Date.now());
    const { controller, informers } = newController(clock);
    const stop = new AbortController();
    informers.start(stop.signal);
    await informers.waitForSync();
    try {
      const ns = await newNamespace();
      const rs = await createRS(ns, 'expect', 3, 'expect');
      const rsInformer = informers.informerFor({ group: 'apps', version: 'v1', resource: 'replicasets' });
      await until('the RS in the cache', () => rsInformer.lister.get(ns, 'expect') !== undefined);
      // Freeze the pod cache: the controller's own creates will not reach it.
      await informers.informerFor({ group: '', version: 'v1', resource: 'pods' }).stop();
      const key = `${ns}/expect`;
      await controller.sync(key);
      assert.equal((await activePods(ns)).length, 3);
      assert.deepEqual(controller.expectations.pending(key), { add: 3, del: 0 });
      // Its cache still shows no pods, yet it must not create three more.
      await controller.sync(key);
      await controller.sync(key);
      assert.equal((await activePods(ns)).length, 3);
      // Expectations expire after five minutes: then it trusts its (stale) cache again.
      await clock.step(5 * 60 * 1000 + 1);
      await controller.sync(key);
      assert.equal((await activePods(ns)).length, 6);
      assert.equal(rs.metadata?.name, 'expect');
    } finally {
      stop.abort();
    }
  });
});
