// The controller manager inside `k8ts server`: the namespace and service account controllers seen through
// kubectl 1.33, and leader election between two servers that share one etcd.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { KubeObject } from '../../src/client/index.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { startEtcd } from '../../src/storage/testing/etcd-server.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeKubelet } from '../helpers/fake-kubelet.js';
import { K8tsProcess } from '../helpers/k8ts-process.js';
import { kubectlAgainstServer } from '../helpers/kubectl.js';


describe('controller manager: namespaces and service accounts', () => {
  const { k } = kubectlAgainstServer(33, 'controllers');

  it('gives every namespace a default ServiceAccount, and makes it again when deleted', async () => {
    assert.equal((await k(['create', 'namespace', 'team-a'])).code, 0);
    await eventually('the default ServiceAccount', async () =>
      (await k(['get', 'serviceaccount', 'default', '-n', 'team-a'])).code === 0 ? true : undefined,
    );
    assert.equal((await k(['delete', 'serviceaccount', 'default', '-n', 'team-a'])).code, 0);
    await eventually('the default ServiceAccount to come back', async () =>
      (await k(['get', 'serviceaccount', 'default', '-n', 'team-a'])).code === 0 ? true : undefined,
    );
  });

  it('empties a deleted namespace, then removes it', async () => {
    assert.equal((await k(['create', 'namespace', 'doomed'])).code, 0);
    assert.equal((await k(['create', 'configmap', 'c', '-n', 'doomed', '--from-literal=a=b'])).code, 0);
    assert.equal((await k(['create', 'deployment', 'd', '-n', 'doomed', '--image=busybox'])).code, 0);
    assert.equal((await k(['create', 'secret', 'generic', 's', '-n', 'doomed', '--from-literal=a=b'])).code, 0);
    const del = await k(['delete', 'namespace', 'doomed', '--timeout=60s']);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /namespace "doomed" deleted/);
    const gone = await k(['get', 'namespace', 'doomed']);
    assert.equal(gone.stderr.trim(), 'Error from server (NotFound): namespaces "doomed" not found');
    const left = await k(['get', 'configmaps,deployments,secrets', '-A', '-o', 'name', '--field-selector', 'metadata.namespace=doomed']);
    assert.equal(left.stdout.trim(), '');
  });
});

describe('controller manager: garbage collection as kubectl delete --cascade asks', () => {
  const { k } = kubectlAgainstServer(33, 'gc');

  async function ownerWithDependent(owner: string): Promise<void> {
    assert.equal((await k(['create', 'configmap', owner, '--from-literal=a=b'])).code, 0);
    const uid = (await k(['get', 'configmap', owner, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const dependent = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${owner}-dep`, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner, uid, blockOwnerDeletion: true }] },
      stringData: { x: 'y' },
    };
    const r = await k(['create', '-f', '-'], JSON.stringify(dependent));
    assert.equal(r.code, 0, r.stderr);
  }

  it('deletes dependents in the background by default', async () => {
    await ownerWithDependent('bg');
    assert.equal((await k(['delete', 'configmap', 'bg'])).code, 0);
    await eventually('the dependent to be collected', async () =>
      (await k(['get', 'secret', 'bg-dep'])).code === 1 ? true : undefined,
    );
  });

  it('orphans dependents with --cascade=orphan', async () => {
    await ownerWithDependent('orph');
    const del = await k(['delete', 'configmap', 'orph', '--cascade=orphan']);
    assert.equal(del.code, 0, del.stderr);
    await eventually('the owner to go', async () => ((await k(['get', 'configmap', 'orph'])).code === 1 ? true : undefined));
    const dep = JSON.parse((await k(['get', 'secret', 'orph-dep', '-o', 'json'])).stdout);
    assert.equal(dep.metadata.ownerReferences, undefined);
  });

  it('keeps the owner until its dependents are gone with --cascade=foreground', async () => {
    await ownerWithDependent('fg');
    const del = await k(['delete', 'configmap', 'fg', '--cascade=foreground']);
    assert.equal(del.code, 0, del.stderr);
    await eventually('owner and dependent to go', async () =>
      (await k(['get', 'configmap', 'fg'])).code === 1 && (await k(['get', 'secret', 'fg-dep'])).code === 1 ? true : undefined,
    );
  });
});

describe('controller manager: ReplicaSets', () => {
  const { k } = kubectlAgainstServer(29, 'replicaset');

  it('creates the pods a ReplicaSet asks for, replaces a deleted one, scales down, and its pods go with it', async () => {
    const rs = `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: busybox}]
`;
    assert.equal((await k(['apply', '-f', '-'], rs)).code, 0);
    const pods = async (): Promise<string[]> =>
      (await k(['get', 'pods', '-l', 'app=web', '-o', 'name'])).stdout.trim().split('\n').filter((l) => l !== '');
    const three = await eventually('3 pods', async () => ((await pods()).length === 3 ? await pods() : undefined));
    assert.ok(three.every((p) => /^pod\/web-[bcdfghjklmnpqrstvwxz2456789]{5}$/.test(p)), three.join(','));
    assert.equal((await k(['delete', three[0]!])).code, 0);
    await eventually('a replacement', async () => {
      const now = await pods();
      return now.length === 3 && !now.includes(three[0]!) ? true : undefined;
    });
    assert.equal((await k(['scale', 'replicaset', 'web', '--replicas=1'])).code, 0);
    await eventually('1 pod', async () => ((await pods()).length === 1 ? true : undefined));
    const status = JSON.parse((await k(['get', 'replicaset', 'web', '-o', 'json'])).stdout).status;
    assert.equal(status.replicas, 1);
    const events = await k(['get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events.stdout, /SuccessfulCreate/);
    assert.match(events.stdout, /SuccessfulDelete/);
    assert.equal((await k(['delete', 'replicaset', 'web'])).code, 0);
    await eventually('the pods to go with their ReplicaSet', async () => ((await pods()).length === 0 ? true : undefined));
  });
});

describe('controller manager: Deployments with kubectl rollout', () => {
  const { k, kubeconfig } = kubectlAgainstServer(33, 'deployment');
  let stopKubelet: (() => Promise<void>) | undefined;
  after(async () => stopKubelet?.());

  const imageOf = (pod: KubeObject): string | undefined => (pod.spec as { containers?: { image?: string }[] } | undefined)?.containers?.[0]?.image;

  it('rolls out, updates, reports history, undoes, scales, pauses, resumes and restarts', async () => {
    // Pods of the image "busybox:never-ready" run but never pass their readiness check.
    stopKubelet = startFakeKubelet(kubeconfig, { ready: (pod) => imageOf(pod) !== 'busybox:never-ready' });
    assert.equal((await k(['create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=3'])).code, 0);
    const status = await k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /deployment "web" successfully rolled out/);
    assert.equal((await k(['set', 'image', 'deployment/web', 'busybox=busybox:1.37'])).code, 0);
    assert.equal((await k(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code, 0);
    const history = await k(['rollout', 'history', 'deployment/web']);
    assert.match(history.stdout, /^1\s/m);
    assert.match(history.stdout, /^2\s/m);
    const undo = await k(['rollout', 'undo', 'deployment/web']);
    assert.equal(undo.code, 0, undo.stderr);
    assert.equal((await k(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code, 0);
    const image = await k(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    assert.equal(image.stdout, 'busybox:1.36');
    assert.equal((await k(['scale', 'deployment/web', '--replicas=5'])).code, 0);
    await eventually('5 available', async () =>
      (await k(['get', 'deployment', 'web', '-o', 'jsonpath={.status.availableReplicas}'])).stdout === '5' ? true : undefined,
    );
    assert.equal((await k(['rollout', 'pause', 'deployment/web'])).code, 0);
    assert.equal((await k(['set', 'image', 'deployment/web', 'busybox=busybox:1.38'])).code, 0);
    await new Promise((r) => setTimeout(r, 1500));
    const paused = await k(['get', 'rs', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.template.spec.containers[0].image}']);
    assert.doesNotMatch(paused.stdout, /1\.38/, 'no new ReplicaSet while paused');
    assert.equal((await k(['rollout', 'resume', 'deployment/web'])).code, 0);
    assert.equal((await k(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code, 0);
    assert.equal((await k(['rollout', 'restart', 'deployment/web'])).code, 0);
    assert.equal((await k(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code, 0);
    const rsCount = await k(['get', 'rs', '-l', 'app=web', '-o', 'name']);
    assert.ok(rsCount.stdout.trim().split('\n').length >= 3);
  });

  it('keeps 10 replicas within maxSurge and maxUnavailable at every step, records change-cause, and rolls back by itself when opted in', async () => {
    assert.equal((await k(['create', 'namespace', 'roll'])).code, 0);
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: big
  namespace: roll
  annotations:
    k8ts.io/rollback-on-progress-deadline: "true"
spec:
  replicas: 10
  progressDeadlineSeconds: 4
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 2}}
  selector: {matchLabels: {app: big}}
  template:
    metadata: {labels: {app: big}}
    spec: {containers: [{name: c, image: "busybox:1.36"}]}
`;
    assert.equal((await k(['apply', '-f', '-'], manifest)).code, 0);
    assert.equal((await k(['rollout', 'status', '-n', 'roll', 'deployment/big', '--timeout=60s'])).code, 0);
    // Every pod event from here on: no more than 10 + 3 pods that are not terminating, never fewer than
    // 10 - 2 of them ready.
    const client = new RESTClient(loadKubeconfig(kubeconfig));
    const ac = new AbortController();
    const pods = new Map<string, { ready: boolean; terminating: boolean }>();
    let most = 0;
    let fewestReady = Infinity;
    const watching = (async () => {
      for await (const e of client.watch({ group: '', version: 'v1', resource: 'pods', namespace: 'roll' }, {}, ac.signal)) {
        const name = e.object.metadata?.name ?? '';
        if (e.type === 'DELETED') pods.delete(name);
        else {
          const conditions = (e.object.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
          pods.set(name, { ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'), terminating: e.object.metadata?.deletionTimestamp !== undefined });
        }
        const live = [...pods.values()].filter((p) => !p.terminating);
        if (pods.size >= 10) {
          most = Math.max(most, live.length);
          fewestReady = Math.min(fewestReady, live.filter((p) => p.ready).length);
        }
      }
    })().catch(() => undefined);
    assert.equal((await k(['set', 'image', '-n', 'roll', 'deployment/big', 'c=busybox:1.37'])).code, 0);
    assert.equal((await k(['annotate', '-n', 'roll', 'deployment/big', 'kubernetes.io/change-cause=move to 1.37'])).code, 0);
    assert.equal((await k(['rollout', 'status', '-n', 'roll', 'deployment/big', '--timeout=60s'])).code, 0);
    ac.abort();
    await watching;
    assert.ok(most > 10 && most <= 13, `at most ${most} pods at once (10 + maxSurge 3 allowed, and a surge expected)`);
    assert.ok(fewestReady >= 8, `as few as ${fewestReady} ready pods (10 - maxUnavailable 2 allowed)`);
    const history = await k(['rollout', 'history', '-n', 'roll', 'deployment/big']);
    assert.match(history.stdout, /^2\s+move to 1\.37$/m);
    // A rollout whose pods never become ready exceeds its 4 s deadline, and the opt-in takes it back.
    assert.equal((await k(['set', 'image', '-n', 'roll', 'deployment/big', 'c=busybox:never-ready'])).code, 0);
    const stalled = await k(['rollout', 'status', '-n', 'roll', 'deployment/big', '--timeout=60s']);
    assert.equal(stalled.code, 1);
    assert.match(stalled.stderr, /error: deployment "big" exceeded its progress deadline/);
    await eventually('the rollback to busybox:1.37', async () => {
      const image = await k(['get', '-n', 'roll', 'deployment/big', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
      return image.stdout === 'busybox:1.37' ? true : undefined;
    });
    assert.equal((await k(['rollout', 'status', '-n', 'roll', 'deployment/big', '--timeout=60s'])).code, 0);
    const events = await k(['get', 'events', '-n', 'roll', '--field-selector', 'reason=DeploymentRollback', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events.stdout, /Rolled back deployment "big" to revision 2: ReplicaSet "big-[a-z0-9]+" has timed out progressing\./);
    const revisions = await k(['rollout', 'history', '-n', 'roll', 'deployment/big']);
    assert.match(revisions.stdout, /^3\s/m);
    assert.match(revisions.stdout, /^4\s/m);
  });
});

describe('controller manager: leader election between two servers on one etcd', () => {
  const dirs: string[] = [];
  const servers: K8tsProcess[] = [];
  let stopEtcd: (() => Promise<void>) | undefined;
  after(async () => {
    for (const s of servers) await s.stop('SIGKILL');
    await stopEtcd?.();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('lets one manager lead and hands over when it dies', async () => {
    const etcd = await startEtcd();
    stopEtcd = () => etcd.stop();
    const start = (): K8tsProcess => {
      const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-le-'));
      dirs.push(dir);
      const s = new K8tsProcess([
        'server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1',
        '--datastore-endpoint', `etcd://${etcd.endpoint.replace('http://', '')}`,
        '--leader-elect-lease-duration', '2s', '--leader-elect-renew-deadline', '1500ms', '--leader-elect-retry-period', '200ms',
      ]);
      servers.push(s);
      return s;
    };
    const a = start();
    await a.waitForLog(/"msg":"became leader"/);
    const b = start();
    await b.waitForLog(/"msg":"API server ready"/);
    // b runs, but while a renews its lease b does not lead.
    await new Promise((r) => setTimeout(r, 3000));
    assert.doesNotMatch(b.output, /"msg":"became leader"/);
    const killedAt = Date.now();
    await a.stop('SIGKILL');
    await b.waitForLog(/"msg":"became leader"/, 15_000);
    const took = Date.now() - killedAt;
    assert.ok(took < 10_000, `the handover took ${took} ms`);
  });
});
