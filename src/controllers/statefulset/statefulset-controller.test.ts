// The StatefulSet controller against a real API server, with the fake kubelet making pods Running and
// Ready. The order of creations and deletions is taken from a watch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SharedInformer } from '../../client/index.js';
import { startFakeKubelet } from '../../../test/helpers/fake-kubelet.js';
import { until, useApiServer } from '../../../test/helpers/controller-harness.js';
import type { Pod } from '../replicaset/pod.js';
import type { Revision } from './revisions.js';
import type { StatefulSet } from './statefulset-controller.js';
import { StatefulSetController } from './statefulset-controller.js';

const api = useApiServer();
const setsRef = (namespace: string) => ({ group: 'apps', version: 'v1', resource: 'statefulsets', namespace });
const podsRef = (namespace: string) => ({ group: '', version: 'v1', resource: 'pods', namespace });

describe('StatefulSet controller', () => {
  const ac = new AbortController();
  let stopKubelet: () => Promise<void>;
  let watch: SharedInformer<Pod>;
  /** "ADDED web-0", "DELETING web-2", ... per namespace, in the order the watch saw them. */
  const history = new Map<string, string[]>();
  const note = (ns: string, what: string): void => {
    if (!history.has(ns)) history.set(ns, []);
    history.get(ns)!.push(what);
  };
  before(async () => {
    stopKubelet = startFakeKubelet(api.client);
    const ctx = api.context(undefined, 'statefulset-test');
    const controller = new StatefulSetController(ctx);
    ctx.informers.start(ac.signal);
    void controller.run(ac.signal);
    watch = SharedInformer.forResource<Pod>(api.client, { group: '', version: 'v1', resource: 'pods' });
    watch.addEventHandler({
      onAdd: (p) => note(p.metadata!.namespace!, `ADDED ${p.metadata!.name!}`),
      onUpdate: (o, p) => {
        if (!o.metadata?.deletionTimestamp && p.metadata?.deletionTimestamp) note(p.metadata.namespace!, `DELETING ${p.metadata.name!}`);
        if (o.status?.phase !== 'Running' && p.status?.phase === 'Running') note(p.metadata!.namespace!, `RUNNING ${p.metadata!.name!}`);
      },
    });
    watch.start();
    await watch.waitForSync();
  });
  after(async () => {
    ac.abort();
    await watch.stop();
    await stopKubelet();
  });

  function set(name: string, replicas: number, extra: Record<string, unknown> = {}, image = 'nginx:1'): StatefulSet {
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name },
      spec: {
        replicas,
        serviceName: `${name}-svc`,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
        ...extra,
      },
    };
  }
  const getSet = (ns: string, name: string) => api.client.get<StatefulSet>(setsRef(ns), name);
  const ready = (ns: string, name: string, n: number, extra: (s: StatefulSet) => boolean = () => true) =>
    until(`${n} ready replicas`, async () => {
      const s = await getSet(ns, name);
      return s.status?.readyReplicas === n && s.status.replicas === n && extra(s) ? s : undefined;
    });
  const only = (ns: string, prefix: string) => (history.get(ns) ?? []).filter((e) => e.startsWith(prefix));

  it('creates pods in order, each after the previous runs, with identity, claims and a revision', async () => {
    const ns = await api.namespace('sts');
    const claims = [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
    await api.client.create(setsRef(ns), set('web', 3, { volumeClaimTemplates: claims }));
    const s = await ready(ns, 'web', 3);
    assert.deepEqual(only(ns, 'ADDED'), ['ADDED web-0', 'ADDED web-1', 'ADDED web-2']);
    const events = history.get(ns)!;
    assert.ok(events.indexOf('RUNNING web-0') < events.indexOf('ADDED web-1'), events.join(', '));
    assert.ok(events.indexOf('RUNNING web-1') < events.indexOf('ADDED web-2'), events.join(', '));
    assert.equal(s.status?.currentRevision, s.status?.updateRevision);
    assert.match(s.status?.currentRevision ?? '', /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(s.status?.currentReplicas, 3);
    assert.equal(s.status?.updatedReplicas, 3);
    assert.equal(s.status?.availableReplicas, 3);
    const pod = await api.client.get<Pod>(podsRef(ns), 'web-1');
    assert.equal(pod.metadata?.labels?.['statefulset.kubernetes.io/pod-name'], 'web-1');
    assert.equal(pod.metadata?.labels?.['apps.kubernetes.io/pod-index'], '1');
    assert.equal(pod.metadata?.labels?.['controller-revision-hash'], s.status?.updateRevision);
    const spec = pod.spec as { hostname?: string; subdomain?: string; volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] };
    assert.equal(spec.hostname, 'web-1');
    assert.equal(spec.subdomain, 'web-svc');
    assert.deepEqual(spec.volumes?.find((v) => v.name === 'www')?.persistentVolumeClaim, { claimName: 'www-web-1' });
    const pvcs = (await api.client.list({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: ns })).items.map((c) => c.metadata?.name).sort();
    assert.deepEqual(pvcs, ['www-web-0', 'www-web-1', 'www-web-2']);
    const revs = (await api.client.list<Revision>({ group: 'apps', version: 'v1', resource: 'controllerrevisions', namespace: ns })).items;
    assert.deepEqual(revs.map((r) => [r.metadata?.name, r.revision]), [[s.status?.updateRevision, 1]]);
    assert.equal(`web-${revs[0]!.metadata?.labels?.['controller.kubernetes.io/hash']}`, s.status?.updateRevision);
  });

  it('scales down from the highest ordinal, one at a time', async () => {
    const ns = await api.namespace('sts');
    await api.client.create(setsRef(ns), set('db', 3));
    await ready(ns, 'db', 3);
    await api.client.patch(setsRef(ns), 'db', { spec: { replicas: 1 } }, 'merge');
    await ready(ns, 'db', 1);
    await until('the pods to go', async () => ((await api.client.list(podsRef(ns))).items.length === 1 ? true : undefined));
    assert.deepEqual(only(ns, 'DELETING'), ['DELETING db-2', 'DELETING db-1']);
  });

  it('rolls an update from the highest ordinal down to the partition, then all the way', async () => {
    const ns = await api.namespace('sts');
    await api.client.create(setsRef(ns), set('app', 3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
    const before = await ready(ns, 'app', 3);
    const oldRev = before.status!.currentRevision!;
    await api.client.patch(setsRef(ns), 'app', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } }, 'strategic');
    const partial = await ready(ns, 'app', 3, (s) => s.status?.updatedReplicas === 1 && s.status.updateRevision !== oldRev);
    assert.equal(partial.status?.currentRevision, oldRev);
    assert.equal(partial.status?.currentReplicas, 2);
    const image = async (n: string) => ((await api.client.get<Pod>(podsRef(ns), n)).spec as { containers: { image: string }[] }).containers[0]!.image;
    assert.deepEqual([await image('app-0'), await image('app-1'), await image('app-2')], ['nginx:1', 'nginx:1', 'nginx:2']);
    await api.client.patch(setsRef(ns), 'app', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } }, 'strategic');
    const done = await ready(ns, 'app', 3, (s) => s.status?.updatedReplicas === 3 && s.status.currentRevision === s.status.updateRevision);
    assert.notEqual(done.status?.currentRevision, oldRev);
    assert.deepEqual(only(ns, 'DELETING'), ['DELETING app-2', 'DELETING app-1', 'DELETING app-0']);
    const revs = (await api.client.list<Revision>({ group: 'apps', version: 'v1', resource: 'controllerrevisions', namespace: ns })).items;
    assert.deepEqual(revs.map((r) => r.revision).sort(), [1, 2]);
  });

  it('gives claims to the set (whenDeleted: Delete) and to the condemned pod (whenScaled: Delete)', async () => {
    const ns = await api.namespace('sts');
    const claims = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
    const created = await api.client.create<StatefulSet>(
      setsRef(ns),
      set('keep', 2, { volumeClaimTemplates: claims, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }),
    );
    await ready(ns, 'keep', 2);
    const pvcRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: ns };
    const owners = async (n: string) =>
      ((await api.client.get(pvcRef, n)).metadata?.ownerReferences as { kind: string; name: string; uid: string; controller?: boolean }[] | undefined) ?? [];
    assert.deepEqual((await owners('data-keep-0')).map((o) => [o.kind, o.name, o.uid, o.controller]), [['StatefulSet', 'keep', created.metadata?.uid, undefined]]);
    const pod1 = await api.client.get<Pod>(podsRef(ns), 'keep-1');
    await api.client.patch(setsRef(ns), 'keep', { spec: { replicas: 1 } }, 'merge');
    await until('the condemned pod to own its claim', async () => ((await owners('data-keep-1')).some((o) => o.kind === 'Pod' && o.uid === pod1.metadata?.uid) ? true : undefined));
  });

  it('recreates a failed pod under the same name', async () => {
    const ns = await api.namespace('sts');
    await api.client.create(setsRef(ns), set('phoenix', 1));
    await ready(ns, 'phoenix', 1);
    const before = await api.client.get<Pod>(podsRef(ns), 'phoenix-0');
    await api.client.patch(podsRef(ns), 'phoenix-0', { status: { phase: 'Failed' } }, 'merge', { subresource: 'status' });
    await until('a new phoenix-0 running', async () => {
      const p = await api.client.get<Pod>(podsRef(ns), 'phoenix-0').catch(() => undefined);
      return p && p.metadata?.uid !== before.metadata?.uid && p.status?.phase === 'Running' ? true : undefined;
    });
    await until('the RecreatingFailedPod event', async () =>
      (await api.events(ns, 'phoenix')).includes(`RecreatingFailedPod: StatefulSet ${ns}/phoenix is recreating failed Pod phoenix-0`) ? true : undefined,
    );
  });

  it('numbers pods from spec.ordinals.start', async () => {
    const ns = await api.namespace('sts');
    await api.client.create(setsRef(ns), set('ord', 2, { ordinals: { start: 5 } }));
    await ready(ns, 'ord', 2);
    const names = (await api.client.list<Pod>(podsRef(ns))).items.map((p) => `${p.metadata?.name}:${p.metadata?.labels?.['apps.kubernetes.io/pod-index']}`).sort();
    assert.deepEqual(names, ['ord-5:5', 'ord-6:6']);
  });

  it('creates every pod at once with Parallel', async () => {
    const ns = await api.namespace('sts');
    await api.client.create(setsRef(ns), set('par', 3, { podManagementPolicy: 'Parallel' }));
    await ready(ns, 'par', 3);
    const events = history.get(ns)!;
    const firstRunning = events.findIndex((e) => e.startsWith('RUNNING'));
    assert.ok(events.slice(0, firstRunning).filter((e) => e.startsWith('ADDED')).length >= 2, events.join(', '));
  });
});
