// The kubelet on simulated nodes (`k8ts server --simulate-nodes 3`), seen through kubectl 1.33: nodes that
// register and stay Ready with leases, a deployment's pods Running and Ready with both IP families, a
// crash-looping container in CrashLoopBackOff, liveness restarts, readiness flipping Ready both ways, a
// missing Secret giving CreateContainerConfigError, run-to-completion pods, init containers, and deletion.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { eventually as waitFor } from '../helpers/eventually.js';
import { kubectlAgainstServer } from '../helpers/kubectl.js';
import { spreadDeployment } from '../helpers/manifests.js';


// A read may fail while the server is busy: such a try counts as not yet.
const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => waitFor(what, () => fn().catch(() => undefined), timeoutMs);

describe('kubelet on simulated nodes', () => {
  const { k, kubeconfig } = kubectlAgainstServer(33, 'kubelet-sim', ['--simulate-nodes', '3']);
  let client: RESTClient;
  const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
  const getPod = (name: string): Promise<Pod> => client.get(podsRef, name) as Promise<Pod>;
  const apply = async (manifest: object): Promise<void> => {
    const r = await k(['apply', '-f', '-'], JSON.stringify(manifest));
    assert.equal(r.code, 0, r.stderr);
  };
  const pod = (name: string, containers: object[], spec: object = {}): object => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { terminationGracePeriodSeconds: 1, containers, ...spec },
  });

  before(async () => {
    client = new RESTClient(loadKubeconfig(kubeconfig));
    await eventually('three Ready nodes', async () => {
      const r = await k(['get', 'nodes', '--no-headers']);
      return (r.stdout.match(/ Ready /g) ?? []).length === 3 ? true : undefined;
    });
  });
  after(async () => {
    client.close();
  });

  it('registers nodes with upstream conditions, addresses, capacity, labels and a lease', async () => {
    const node = JSON.parse((await k(['get', 'node', 'sim-node-1', '-o', 'json'])).stdout) as {
      metadata: { labels: Record<string, string> };
      status: { conditions: { type: string; status: string; reason: string; message: string }[]; addresses: { type: string; address: string }[]; capacity: Record<string, string>; allocatable: Record<string, string>; nodeInfo: Record<string, string> };
    };
    const byType = Object.fromEntries(node.status.conditions.map((c) => [c.type, c]));
    assert.deepEqual(
      node.status.conditions.map((c) => c.type),
      ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'],
    );
    assert.equal(byType.Ready?.status, 'True');
    assert.equal(byType.Ready?.reason, 'KubeletReady');
    assert.equal(byType.Ready?.message, 'kubelet is posting ready status');
    assert.equal(byType.MemoryPressure?.reason, 'KubeletHasSufficientMemory');
    assert.equal(byType.DiskPressure?.message, 'kubelet has no disk pressure');
    assert.equal(byType.PIDPressure?.reason, 'KubeletHasSufficientPID');
    assert.deepEqual(
      node.status.addresses.map((a) => a.type),
      ['InternalIP', 'InternalIP', 'Hostname'],
    );
    assert.match(node.status.addresses[1]!.address, /:/);
    assert.equal(node.status.capacity.pods, '110');
    assert.equal(node.status.capacity.cpu, '32');
    assert.equal(node.status.allocatable.memory, '262044Mi');
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'sim-node-1');
    assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
    assert.match(node.status.nodeInfo.kubeletVersion!, /^v1\.33/);
    const lease = JSON.parse((await k(['get', 'lease', 'sim-node-1', '-n', 'kube-node-lease', '-o', 'json'])).stdout) as {
      spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string };
      metadata: { ownerReferences: { kind: string; name: string }[] };
    };
    assert.equal(lease.spec.holderIdentity, 'sim-node-1');
    assert.equal(lease.spec.leaseDurationSeconds, 40);
    assert.match(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(lease.metadata.ownerReferences[0]?.kind, 'Node');
  });

  it('runs a deployment: pods Running and Ready on the nodes, with IPv4 and IPv6 pod IPs', async () => {
    // The scheduler binds; a hard spread over hostnames puts one pod on each of the three nodes.
    assert.equal((await k(['apply', '-f', '-'], spreadDeployment('web', 3))).code, 0);
    const r = await k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    const list = (await client.list(podsRef, { labelSelector: 'app=web' })).items as Pod[];
    assert.equal(list.length, 3);
    assert.deepEqual(new Set(list.map((p) => p.spec?.nodeName)).size, 3);
    for (const p of list) {
      assert.equal(p.status?.phase, 'Running');
      assert.equal(p.status?.podIPs?.length, 2);
      assert.match(p.status?.podIPs?.[1]?.ip ?? '', /:/);
      assert.equal(p.status?.qosClass, 'BestEffort');
      const cs = p.status?.containerStatuses?.[0];
      assert.equal(cs?.ready, true);
      assert.equal(cs?.started, true);
      assert.equal(cs?.image, 'nginx:1.25');
      assert.match(cs?.imageID ?? '', /^sha256:/);
      assert.match(cs?.containerID ?? '', /^simulated:\/\/[0-9a-f]{64}$/);
      assert.ok(cs?.state?.running?.startedAt);
      const types = (p.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort();
      assert.deepEqual(types, ['ContainersReady=True', 'Initialized=True', 'PodReadyToStartContainers=True', 'PodScheduled=True', 'Ready=True']);
      assert.ok(p.status?.startTime);
      assert.equal(p.status?.hostIP, p.status?.hostIPs?.[0]?.ip);
    }
  });

  it('shows a crashing container in CrashLoopBackOff with growing restarts and lastState', async () => {
    await apply(pod('crasher', [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'echo dying; exit 3'] }]));
    const p = await eventually(
      'CrashLoopBackOff with 2 restarts',
      async () => {
        const x = await getPod('crasher');
        const cs = x.status?.containerStatuses?.[0];
        return cs?.state?.waiting?.reason === 'CrashLoopBackOff' && (cs.restartCount ?? 0) >= 2 ? x : undefined;
      },
      60_000,
    );
    const cs = p.status!.containerStatuses![0]!;
    assert.equal(cs.lastState?.terminated?.exitCode, 3);
    assert.equal(cs.lastState?.terminated?.reason, 'Error');
    assert.match(cs.state!.waiting!.message!, /^back-off (10|20|40)s restarting failed container=c pod=crasher_default\(/);
    assert.equal(p.status?.phase, 'Running');
    const got = await k(['get', 'pod', 'crasher', '--no-headers']);
    assert.match(got.stdout, /CrashLoopBackOff/);
    const ev = await k(['get', 'events', '--field-selector', 'involvedObject.name=crasher,reason=BackOff', '-o', 'name']);
    assert.notEqual(ev.stdout.trim(), '');
  });

  it('flips Ready both ways with an exec readiness probe', async () => {
    await apply(
      pod('flipper', [
        {
          name: 'c',
          image: 'busybox:1.36',
          command: ['sh', '-c', 'touch /tmp/ready; sleep 3; rm /tmp/ready; sleep 3; touch /tmp/ready; sleep infinity'],
          readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ]),
    );
    const ready = async (): Promise<string | undefined> => (await getPod('flipper')).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    await eventually('Ready=True', async () => ((await ready()) === 'True' ? true : undefined));
    await eventually('Ready=False', async () => ((await ready()) === 'False' ? true : undefined));
    await eventually('Ready=True again', async () => ((await ready()) === 'True' ? true : undefined));
    const p = await getPod('flipper');
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 0);
  });

  it('restarts a container whose liveness probe fails', async () => {
    await apply(
      pod('unhealthy', [
        {
          name: 'c',
          image: 'busybox:1.36',
          command: ['sh', '-c', 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep infinity'],
          livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ]),
    );
    const p = await eventually('a liveness restart', async () => {
      const x = await getPod('unhealthy');
      return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? x : undefined;
    });
    assert.equal(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 143);
    const ev = await k(['get', 'events', '--field-selector', 'involvedObject.name=unhealthy,reason=Unhealthy', '-o', 'jsonpath={.items[0].message}']);
    assert.match(ev.stdout, /^Liveness probe failed: /);
  });

  it('reports CreateContainerConfigError for a missing Secret and starts once it exists', async () => {
    await apply(
      pod('needs-secret', [
        { name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db-pass', key: 'pw' } } }] },
      ]),
    );
    const p = await eventually('CreateContainerConfigError', async () => {
      const x = await getPod('needs-secret');
      return x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' ? x : undefined;
    });
    assert.equal(p.status?.containerStatuses?.[0]?.state?.waiting?.message, 'secret "db-pass" not found');
    assert.equal(p.status?.phase, 'Pending');
    assert.match((await k(['get', 'pod', 'needs-secret', '--no-headers'])).stdout, /CreateContainerConfigError/);
    assert.equal((await k(['create', 'secret', 'generic', 'db-pass', '--from-literal=pw=s3cret'])).code, 0);
    await eventually('Running once the Secret exists', async () => ((await getPod('needs-secret')).status?.phase === 'Running' ? true : undefined));
  });

  it('runs pods to completion: Succeeded on exit 0, Failed on another code, init containers first', async () => {
    await apply(pod('done-ok', [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 1; exit 0'] }], { restartPolicy: 'Never' }));
    await apply(pod('done-bad', [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'exit 7'] }], { restartPolicy: 'Never' }));
    await apply(
      pod('with-init', [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }], {
        initContainers: [
          { name: 'one', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 1'] },
          { name: 'two', image: 'busybox:1.36', command: ['true'] },
        ],
      }),
    );
    const ok = await eventually('Succeeded', async () => {
      const x = await getPod('done-ok');
      return x.status?.phase === 'Succeeded' ? x : undefined;
    });
    assert.equal(ok.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    assert.equal(ok.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
    const bad = await eventually('Failed', async () => {
      const x = await getPod('done-bad');
      return x.status?.phase === 'Failed' ? x : undefined;
    });
    assert.equal(bad.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 7);
    const init = await eventually('Running after init', async () => {
      const x = await getPod('with-init');
      return x.status?.phase === 'Running' ? x : undefined;
    });
    assert.deepEqual(
      init.status?.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.reason]),
      [
        ['one', 'Completed'],
        ['two', 'Completed'],
      ],
    );
  });

  it('stops a deleted pod and removes it from the API', async () => {
    await apply(pod('short-lived', [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }]));
    await eventually('Running', async () => ((await getPod('short-lived')).status?.phase === 'Running' ? true : undefined));
    const r = await k(['delete', 'pod', 'short-lived', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pod "short-lived" deleted/);
    const gone = await k(['get', 'pod', 'short-lived']);
    assert.match(gone.stderr, /NotFound/);
  });
});
