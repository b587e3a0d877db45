// The Deployment controller together with the ReplicaSet controller against a real in-process API server.
// No scheduler or kubelet runs: a watch in the test binds each new pod, reports it Running and (when the
// namespace's policy allows) Ready through pods/status, and finishes terminating pods at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// Integration tests run against a real API server; the layer rule is for product code, not its tests.
import { ApiServer } from '../../apiserver/api-server.js';
import { logger } from '../../base/log.js';
import type { KubeObject } from '../../client/index.js';
import { EventRecorder, RESTClient, SharedInformer, realClock } from '../../client/index.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { ControllerContext } from '../common/controller.js';
import { InformerFactory } from '../common/informer-factory.js';
import type { OwnerReference, Pod } from '../replicaset/pod.js';
import { ReplicaSetController } from '../replicaset/replicaset-controller.js';
import type { DeploymentCondition } from './deployment-controller.js';
import { becameAvailableAnnotation, DeploymentController, rollbackOnDeadlineAnnotation } from './deployment-controller.js';

const podsRef = (namespace: string) => ({ group: '', version: 'v1', resource: 'pods', namespace });
const rsRef = (namespace: string) => ({ group: 'apps', version: 'v1', resource: 'replicasets', namespace });
const deployRef = (namespace: string) => ({
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  namespace,
});

interface Deploy extends KubeObject {
  spec: Record<string, unknown> & { replicas: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: DeploymentCondition[];
  };
}

interface RS extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { name?: string; image: string }[] };
    };
  };
  status?: { replicas?: number; availableReplicas?: number };
}

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;
let kubelet: SharedInformer<Pod>;
const stop = new AbortController();
let running: Promise<void>[] = [];
/** Per namespace: whether a pod may become Ready (default: yes). */
const readyPolicy = new Map<string, (pod: Pod) => boolean>();
/** Per namespace: observers called with every pod event the test's watch sees. */
const observers = new Map<string, (pods: Pod[]) => void>();
const done = new Set<string>();

before(async () => {
  store = new SqliteStore({ path: ':memory:' });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}` });
  kubelet = SharedInformer.forResource<Pod>(client, { group: '', version: 'v1', resource: 'pods' });
  const onPod = (pod: Pod): void => {
    const ns = pod.metadata?.namespace ?? '';
    observers.get(ns)?.(kubelet.lister.listNamespace(ns));
    void playKubelet(pod).catch(() => undefined);
  };
  kubelet.addEventHandler({ onAdd: onPod, onUpdate: (_o, p) => onPod(p), onDelete: (p) => onPod(p as Pod) });
  kubelet.start();
  await kubelet.waitForSync();
  const informers = new InformerFactory(client);
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: (component) => new EventRecorder({ client, component, clock: realClock }),
    log: logger('deployment-test'),
    clock: realClock,
  };
  const rsc = new ReplicaSetController(ctx);
  const dc = new DeploymentController(ctx);
  running = [rsc.run(stop.signal), dc.run(stop.signal)];
  informers.start(stop.signal);
});

after(async () => {
  stop.abort();
  await Promise.all(running);
  await kubelet.stop();
  client.close();
  await server.stop();
  await store.close();
});

/** Scheduler and kubelet in one: bind, run, make Ready if allowed; finish terminating pods. */
async function playKubelet(pod: Pod): Promise<void> {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  if (pod.metadata?.deletionTimestamp) {
    await client.delete(podsRef(ns), name, { gracePeriodSeconds: 0 });
    return;
  }
  const ready = readyPolicy.get(ns)?.(pod) ?? true;
  if (!pod.spec?.nodeName) {
    await client.create(
      podsRef(ns),
      {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name },
        target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' },
      },
      { subresource: 'binding', name },
    );
    return;
  }
  const isReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  if (pod.status?.phase === 'Running' && isReady === ready) return;
  const key = `${ns}/${name}/${pod.metadata?.resourceVersion ?? ''}`;
  if (done.has(key)) return;
  done.add(key);
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
    },
  });
}

/** Re-applies the namespace's readiness policy to every pod (after the policy changed). */
function kick(ns: string): void {
  for (const p of kubelet.lister.listNamespace(ns)) void playKubelet(p).catch(() => undefined);
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let nsCount = 0;
async function newNamespace(): Promise<string> {
  const name = `deploy-test-${++nsCount}`;
  await client.create(
    { group: '', version: 'v1', resource: 'namespaces' },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  );
  return name;
}

async function createDeployment(
  ns: string,
  name: string,
  replicas: number,
  image: string,
  spec: Record<string, unknown> = {},
): Promise<Deploy> {
  return client.create<Deploy>(deployRef(ns), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...spec,
    },
  });
}

async function setImage(ns: string, name: string, image: string): Promise<void> {
  await client.patch(
    deployRef(ns),
    name,
    { spec: { template: { spec: { containers: [{ name: 'c', image }] } } } },
    'strategic',
  );
}

const getDeploy = (ns: string, name: string): Promise<Deploy> => client.get<Deploy>(deployRef(ns), name);
const listRS = async (ns: string): Promise<RS[]> => (await client.list<RS>(rsRef(ns))).items;
const imageOf = (rs: RS): string => rs.spec.template.spec.containers[0]?.image ?? '';
const cond = (d: Deploy, type: string): DeploymentCondition | undefined =>
  d.status?.conditions?.find((c) => c.type === type);

/** The deployment once its rollout of the current generation has completed. */
async function waitComplete(ns: string, name: string, timeoutMs = 20_000): Promise<Deploy> {
  return until(
    `${name} complete`,
    async () => {
      const d = await getDeploy(ns, name);
      const s = d.status;
      const done =
        s?.observedGeneration === d.metadata?.generation &&
        s?.updatedReplicas === d.spec.replicas &&
        s?.replicas === d.spec.replicas &&
        s?.availableReplicas === d.spec.replicas &&
        cond(d, 'Progressing')?.reason === 'NewReplicaSetAvailable';
      return done ? d : undefined;
    },
    timeoutMs,
  );
}

async function eventMessages(ns: string, name: string, reason: string): Promise<string[]> {
  const list = await client.list<KubeObject>({ group: '', version: 'v1', resource: 'events', namespace: ns });
  return list.items
    .filter(
      (e) => (e.involvedObject as { name?: string; kind?: string }).name === name && e.reason === reason,
    )
    .map((e) => (e as unknown as { message: string }).message);
}

const hashAlphabet = /^[bcdfghjklmnpqrstvwxz2456789]+$/;

describe('Deployment controller', () => {
  it('creates a hashed ReplicaSet and reaches 5 available with status and conditions', async () => {
    const ns = await newNamespace();
    const created = await createDeployment(ns, 'web', 5, 'nginx:1');
    const d = await waitComplete(ns, 'web');
    const [rs, ...others] = await listRS(ns);
    assert.equal(others.length, 0);
    const hash = rs!.metadata!.labels!['pod-template-hash']!;
    assert.match(hash, hashAlphabet);
    assert.equal(rs!.metadata?.name, `web-${hash}`);
    assert.deepEqual(rs!.spec.selector.matchLabels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(rs!.spec.template.metadata.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(rs!.metadata?.ownerReferences, [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        uid: created.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    const ann = rs!.metadata?.annotations ?? {};
    assert.equal(ann['deployment.kubernetes.io/revision'], '1');
    assert.equal(ann['deployment.kubernetes.io/desired-replicas'], '5');
    // maxSurge 25% of 5 rounds up to 2.
    assert.equal(ann['deployment.kubernetes.io/max-replicas'], '7');
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    const pods = (await client.list<Pod>(podsRef(ns))).items;
    assert.equal(pods.length, 5);
    assert.ok(pods.every((p) => p.metadata?.labels?.['pod-template-hash'] === hash));
    assert.deepEqual(
      { ...d.status, conditions: undefined },
      {
        observedGeneration: 1,
        replicas: 5,
        updatedReplicas: 5,
        readyReplicas: 5,
        availableReplicas: 5,
        unavailableReplicas: 0,
        conditions: undefined,
      },
    );
    const available = cond(d, 'Available');
    assert.equal(available?.status, 'True');
    assert.equal(available?.reason, 'MinimumReplicasAvailable');
    assert.equal(available?.message, 'Deployment has minimum availability.');
    const progressing = cond(d, 'Progressing');
    assert.equal(progressing?.status, 'True');
    assert.equal(progressing?.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
    assert.deepEqual(await eventMessages(ns, 'web', 'ScalingReplicaSet'), [
      `Scaled up replica set web-${hash} from 0 to 5`,
    ]);
  });

  it('rolls an image change within maxSurge and maxUnavailable at every step', async () => {
    const ns = await newNamespace();
    await createDeployment(ns, 'roll', 6, 'nginx:1', {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: '34%' } },
    });
    await waitComplete(ns, 'roll');
    // 34% of 6 rounds down to 2: at least 4 available, at most 8 pods.
    let maxPods = 0;
    let minAvailable = Infinity;
    let sawNew = 0;
    observers.set(ns, (pods) => {
      const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
      const ready = live.filter((p) =>
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      maxPods = Math.max(maxPods, live.length);
      minAvailable = Math.min(minAvailable, ready.length);
      sawNew = Math.max(
        sawNew,
        live.filter((p) => (p.spec?.containers as { image: string }[] | undefined)?.[0]?.image === 'nginx:2')
          .length,
      );
    });
    try {
      await setImage(ns, 'roll', 'nginx:2');
      const d = await waitComplete(ns, 'roll', 30_000);
      assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');
    } finally {
      observers.delete(ns);
    }
    assert.equal(sawNew, 6);
    assert.ok(maxPods <= 8, `at most 8 pods, saw ${maxPods}`);
    assert.ok(maxPods > 6, `the rollout surged (saw at most ${maxPods})`);
    assert.ok(minAvailable >= 4, `at least 4 available, saw ${minAvailable}`);
    const rss = await listRS(ns);
    const old = rss.find((r) => imageOf(r) === 'nginx:1')!;
    assert.equal(old.spec.replicas, 0);
    // Events are written in the background: wait for the first scale-down of the old ReplicaSet.
    await until('scale-down event', async () =>
      (await eventMessages(ns, 'roll', 'ScalingReplicaSet')).some((m) =>
        m.startsWith(`Scaled down replica set ${old.metadata?.name ?? ''} from 6 to `),
      ),
    );
  });

  it('Recreate scales the old pods away before any new pod starts', async () => {
    const ns = await newNamespace();
    await createDeployment(ns, 'rec', 3, 'nginx:1', { strategy: { type: 'Recreate' } });
    await waitComplete(ns, 'rec');
    let overlap = false;
    observers.set(ns, (pods) => {
      const images = new Set(
        pods.map((p) => (p.spec?.containers as { image: string }[] | undefined)?.[0]?.image),
      );
      if (images.has('nginx:1') && images.has('nginx:2')) overlap = true;
    });
    try {
      await setImage(ns, 'rec', 'nginx:2');
      await waitComplete(ns, 'rec');
    } finally {
      observers.delete(ns);
    }
    assert.equal(overlap, false);
    const pods = (await client.list<Pod>(podsRef(ns))).items;
    assert.equal(pods.length, 3);
  });

  it('scales proportionally when replicas change during a rollout', async () => {
    const ns = await newNamespace();
    await createDeployment(ns, 'prop', 10, 'nginx:1', {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
    });
    await waitComplete(ns, 'prop');
    // New pods never become ready: the rollout stops at 8 old and 5 new.
    readyPolicy.set(
      ns,
      (p) => (p.spec?.containers as { image: string }[] | undefined)?.[0]?.image !== 'nginx:2',
    );
    await setImage(ns, 'prop', 'nginx:2');
    const sizes = async (): Promise<[number, number]> => {
      const rss = await listRS(ns);
      return [
        rss.find((r) => imageOf(r) === 'nginx:1')?.spec.replicas ?? -1,
        rss.find((r) => imageOf(r) === 'nginx:2')?.spec.replicas ?? -1,
      ];
    };
    await until('stuck at 8 old and 5 new', async () => {
      const [o, n] = await sizes();
      return o === 8 && n === 5;
    });
    await client.patch(deployRef(ns), 'prop', { spec: { replicas: 20 } }, 'merge');
    // 10 more replicas plus the surge over 13: the old gets round(8*23/13)-8 = 6, the new the other 4.
    await until('proportional 14 and 9', async () => {
      const [o, n] = await sizes();
      return o === 14 && n === 9;
    });
    const newRS = (await listRS(ns)).find((r) => imageOf(r) === 'nginx:2')!;
    assert.equal(newRS.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'], '20');
    assert.equal(newRS.metadata?.annotations?.['deployment.kubernetes.io/max-replicas'], '23');
    readyPolicy.delete(ns);
    kick(ns);
    await waitComplete(ns, 'prop', 40_000);
    assert.deepEqual(await sizes(), [0, 20]);
  });

  it('keeps revisionHistoryLimit old ReplicaSets and renumbers a template that comes back', async () => {
    const ns = await newNamespace();
    await createDeployment(ns, 'hist', 2, 'nginx:1', { revisionHistoryLimit: 1 });
    await waitComplete(ns, 'hist');
    await setImage(ns, 'hist', 'nginx:2');
    await waitComplete(ns, 'hist');
    await setImage(ns, 'hist', 'nginx:3');
    await waitComplete(ns, 'hist');
    const rss = await until('oldest ReplicaSet cleaned up', async () => {
      const l = await listRS(ns);
      return l.length === 2 ? l : undefined;
    });
    const rev = (r: RS | undefined): string | undefined =>
      r?.metadata?.annotations?.['deployment.kubernetes.io/revision'];
    assert.deepEqual(rss.map(imageOf).sort(), ['nginx:2', 'nginx:3']);
    assert.equal(rev(rss.find((r) => imageOf(r) === 'nginx:3')), '3');
    // What `kubectl rollout undo` does: the template of revision 2 again.
    const rev2 = rss.find((r) => imageOf(r) === 'nginx:2')!;
    await setImage(ns, 'hist', 'nginx:2');
    const d = await waitComplete(ns, 'hist');
    const back = (await listRS(ns)).find((r) => r.metadata?.uid === rev2.metadata?.uid)!;
    assert.equal(rev(back), '4');
    assert.equal(back.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '2');
    assert.equal(back.spec.replicas, 2);
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '4');
  });

  it('does not roll out while paused and continues on resume', async () => {
    const ns = await newNamespace();
    await createDeployment(ns, 'pause', 2, 'nginx:1');
    await waitComplete(ns, 'pause');
    await client.patch(deployRef(ns), 'pause', { spec: { paused: true } }, 'merge');
    await setImage(ns, 'pause', 'nginx:2');
    const paused = await until('paused condition', async () => {
      const d = await getDeploy(ns, 'pause');
      return cond(d, 'Progressing')?.reason === 'DeploymentPaused' &&
        d.status?.observedGeneration === d.metadata?.generation
        ? d
        : undefined;
    });
    assert.equal(cond(paused, 'Progressing')?.status, 'Unknown');
    assert.equal(cond(paused, 'Progressing')?.message, 'Deployment is paused');
    await sleep(500);
    assert.deepEqual((await listRS(ns)).map(imageOf), ['nginx:1']);
    await client.patch(deployRef(ns), 'pause', { spec: { paused: false } }, 'merge');
    await waitComplete(ns, 'pause');
    const rss = await listRS(ns);
    assert.equal(rss.find((r) => imageOf(r) === 'nginx:2')?.spec.replicas, 2);
  });

  it('marks Progressing False with ProgressDeadlineExceeded when pods never become ready', async () => {
    const ns = await newNamespace();
    readyPolicy.set(ns, () => false);
    try {
      await createDeployment(ns, 'stuck', 2, 'nginx:1', { progressDeadlineSeconds: 2 });
      const d = await until(
        'deadline exceeded',
        async () => {
          const x = await getDeploy(ns, 'stuck');
          return cond(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? x : undefined;
        },
        15_000,
      );
      const rs = (await listRS(ns))[0]!;
      const c = cond(d, 'Progressing')!;
      assert.equal(c.status, 'False');
      assert.equal(c.message, `ReplicaSet "${rs.metadata?.name ?? ''}" has timed out progressing.`);
      assert.equal(cond(d, 'Available')?.status, 'False');
      assert.equal(cond(d, 'Available')?.reason, 'MinimumReplicasUnavailable');
      assert.equal(d.status?.unavailableReplicas, 2);
    } finally {
      readyPolicy.delete(ns);
    }
  });

  it('rolls back by itself after the progress deadline, when the deployment opts in', async () => {
    const ns = await newNamespace();
    // Pods of the bad image never become ready.
    readyPolicy.set(ns, (pod) => (pod.spec?.containers as { image?: string }[] | undefined)?.[0]?.image !== 'nginx:bad');
    try {
      const d = await client.create<Deploy>(deployRef(ns), {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'auto', annotations: { [rollbackOnDeadlineAnnotation]: 'true' } },
        spec: {
          replicas: 2,
          progressDeadlineSeconds: 2,
          selector: { matchLabels: { app: 'auto' } },
          template: { metadata: { labels: { app: 'auto' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } },
        },
      });
      await waitComplete(ns, 'auto');
      const good = await until('revision 1 marked', async () =>
        (await listRS(ns)).find((rs) => rs.metadata?.annotations?.[becameAvailableAnnotation] === 'true'),
      );
      await setImage(ns, 'auto', 'nginx:bad');
      // The rollout stalls, times out, and the template goes back to nginx:1 as revision 3.
      const back = await until(
        'rolled back',
        async () => {
          const x = await getDeploy(ns, 'auto');
          const image = (x.spec.template as RS['spec']['template']).spec.containers[0]!.image;
          return image === 'nginx:1' && x.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3' ? x : undefined;
        },
        20_000,
      );
      assert.ok((back.metadata?.generation ?? 0) > (d.metadata?.generation ?? 0));
      const done = await waitComplete(ns, 'auto');
      assert.equal(cond(done, 'Progressing')?.reason, 'NewReplicaSetAvailable');
      const rss = await listRS(ns);
      const current = rss.find((rs) => rs.metadata?.uid === good.metadata?.uid)!;
      assert.equal(current.metadata?.annotations?.['deployment.kubernetes.io/revision'], '3');
      assert.equal(current.spec.replicas, 2);
      assert.equal(rss.find((rs) => imageOf(rs) === 'nginx:bad')?.spec.replicas, 0);
      const events = (await client.list<KubeObject & { reason?: string; message?: string }>({ group: '', version: 'v1', resource: 'events', namespace: ns })).items;
      const rollback = events.find((e) => e.reason === 'DeploymentRollback');
      assert.match(rollback?.message ?? '', /^Rolled back deployment "auto" to revision 1: ReplicaSet "auto-[a-z0-9]+" has timed out progressing\.$/);
    } finally {
      readyPolicy.delete(ns);
    }
  });

  it('only stops at the progress deadline without the opt-in, as upstream', async () => {
    const ns = await newNamespace();
    readyPolicy.set(ns, (pod) => (pod.spec?.containers as { image?: string }[] | undefined)?.[0]?.image !== 'nginx:bad');
    try {
      await createDeployment(ns, 'plain', 1, 'nginx:1', { progressDeadlineSeconds: 2 });
      await waitComplete(ns, 'plain');
      await setImage(ns, 'plain', 'nginx:bad');
      await until('deadline exceeded', async () => cond(await getDeploy(ns, 'plain'), 'Progressing')?.reason === 'ProgressDeadlineExceeded', 15_000);
      await sleep(1000);
      const d = await getDeploy(ns, 'plain');
      assert.equal((d.spec.template as RS['spec']['template']).spec.containers[0]!.image, 'nginx:bad');
      assert.equal(cond(d, 'Progressing')?.reason, 'ProgressDeadlineExceeded');
      assert.ok((await listRS(ns)).every((rs) => rs.metadata?.annotations?.[becameAvailableAnnotation] === undefined));
    } finally {
      readyPolicy.delete(ns);
    }
  });

  it('adopts a matching orphan ReplicaSet with the same template', async () => {
    const ns = await newNamespace();
    const orphan = await client.create<RS>(rsRef(ns), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'orphan', labels: { app: 'adopt' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'adopt' } },
        template: {
          metadata: { labels: { app: 'adopt' } },
          spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
        },
      },
    });
    const d = await createDeployment(ns, 'adopt', 2, 'nginx:1');
    await waitComplete(ns, 'adopt');
    const rss = await listRS(ns);
    assert.equal(rss.length, 1);
    assert.equal(rss[0]!.metadata?.uid, orphan.metadata?.uid);
    assert.equal((rss[0]!.metadata?.ownerReferences as OwnerReference[])[0]?.uid, d.metadata?.uid);
    assert.equal(rss[0]!.spec.replicas, 2);
  });
  it("shows the new ReplicaSet's ReplicaFailure as a deployment condition", async () => {
    const ns = await newNamespace();
    // Valid for a deployment, but every pod create fails: the finalizer is not domain-qualified.
    await client.create<Deploy>(deployRef(ns), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'fail' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'fail' } },
        template: {
          metadata: { labels: { app: 'fail' }, finalizers: ['not-qualified'] },
          spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
        },
      },
    });
    const d = await until('ReplicaFailure', async () => {
      const x = await getDeploy(ns, 'fail');
      return cond(x, 'ReplicaFailure') ? x : undefined;
    });
    const c = cond(d, 'ReplicaFailure')!;
    assert.equal(c.status, 'True');
    assert.equal(c.reason, 'FailedCreate');
    assert.match(c.message ?? '', /is invalid/);
  });
});
