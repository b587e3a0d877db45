// The default `k8ts server`: one process, this machine's kubelet on the built-in runtime in process (no CRI
// socket), the busybox image imported at start from <data-dir>/agent/images, the pod ranges from the node
// IPAM controller. Own data dir, cluster CIDR, bridge, cgroup root and state dir, so that nothing collides
// with the host or other tests. On it, the rest of issue #7's list on real containers: CrashLoopBackOff with
// a growing restartCount, a failing liveness probe restarting the container, readiness both ways, a missing
// Secret, a sidecar container, kubectl 1.29 and 1.33; and SIGTERM leaving the containers running.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../../src/base/log.js';
import { createLinuxRuntime } from '../../src/cli/commands/embedded-runtime.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import type { Kube } from '../../src/kubelet/api-types.js';
import { removeCgroup } from '../../src/runtime/cgroups.js';
import { masqueradeTable } from '../../src/runtime/cni.js';
import { buildBusyboxImage } from '../../src/runtime/testing/build-busybox-image.js';
import { runtimeSkipReason } from '../../src/runtime/testing/runtime-fixture.js';
import { eventually as waitFor } from '../helpers/eventually.js';
import { K8tsProcess } from '../helpers/k8ts-process.js';
import { kubectl, kubectlPath } from '../helpers/kubectl.js';

const execFileAsync = promisify(execFile);
const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => waitFor(what, () => fn().catch(() => undefined), timeoutMs);

describe('k8ts server with its kubelet on the built-in runtime in process', { skip: runtimeSkipReason() }, () => {
  let dir: string;
  let server: K8tsProcess | undefined;
  let client: RESTClient;
  const n = 64 + Math.floor(Math.random() * 190);
  const bridge = `k8tse${process.pid % 1000}${n}`.slice(0, 15);
  const cgroupRoot = `/k8ts-embedded-test-${process.pid}`;
  const node = `embedded-e2e-${process.pid}`;
  const image = 'k8ts.test/busybox:embedded';
  const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
  const kubeconfig = (): string => path.join(dir, 'server', 'kubeconfig.yaml');
  const k = (args: string[], stdin?: string, minor = 33): ReturnType<typeof kubectl> => kubectl(kubectlPath(minor), kubeconfig(), args, stdin);
  const getPod = (name: string): Promise<Kube<Pod>> => client.get<Kube<Pod>>(podsRef, name);
  const podManifest = (name: string, containers: object[], extra: object = {}): string =>
    JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { terminationGracePeriodSeconds: 2, containers, ...extra } });
  const apply = async (name: string, containers: object[], extra: object = {}): Promise<void> => {
    const r = await k(['apply', '-f', '-'], podManifest(name, containers, extra));
    assert.equal(r.code, 0, r.stderr);
  };
  const container = (name: string, script: string, extra: object = {}): object => ({ name, image, imagePullPolicy: 'Never', command: ['sh', '-c', script], ...extra });
  const startServer = (): K8tsProcess =>
    new K8tsProcess(
      [
        'server', '--data-dir', path.join(dir, 'server'), '--https-listen-port', '0', '--bind-address', '127.0.0.1', '--node-name', node,
        '--cluster-cidr', `10.45.${n}.0/24,fd45:0:0:${n.toString(16)}::/64`, '--cni-bridge', bridge, '--cgroup-root', cgroupRoot,
        '--runtime-state-dir', path.join(dir, 'run'), '--pod-logs-dir', path.join(dir, 'pod-logs'), '--private-registry', '',
        '--disable', 'coredns,servicelb',
      ],
      { agent: true },
    ); // prettier-ignore
  /** The server's runtime state opened in the test (after the server stopped): what it left running. */
  const openRuntime = (): ReturnType<typeof createLinuxRuntime> =>
    createLinuxRuntime({ 'cni-bridge': bridge, 'cgroup-root': cgroupRoot, 'private-registry': '' }, {
      dataDir: path.join(dir, 'server', 'agent'),
      stateDir: path.join(dir, 'run'),
      podCIDRs: [],
      defaultBridge: bridge,
      defaultConfDir: path.join(dir, 'server', 'agent', 'etc', 'cni', 'net.d'),
      log: logger('test'),
    });
  const ready = (p: Pod): string | undefined => p.status?.conditions?.find((c) => c.type === 'Ready')?.status;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'k8ts-embedded-'));
    await mkdir(path.join(dir, 'server', 'agent', 'images'), { recursive: true });
    await mkdir(path.join(dir, 'probe'));
    const layout = path.join(dir, 'layout');
    await buildBusyboxImage({ layoutDir: layout, tag: 'latest', workDir: dir });
    // k3s's way of preloading images: archives in <data-dir>/agent/images are imported when the server starts.
    await execFileAsync('skopeo', ['copy', '--quiet', `oci:${layout}:latest`, `docker-archive:${path.join(dir, 'server', 'agent', 'images', 'busybox.tar')}:${image}`]);
    server = startServer();
    await server.waitForLog(/"msg":"kubelet running"/, 60_000);
    client = new RESTClient(loadKubeconfig(kubeconfig()));
    // The slow cases start now and run side by side; each test below waits for its own.
    await apply('crash', [container('c', 'echo crashing; exit 1')]);
    await apply('live', [container('l', 'sleep 3600', { livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } })]);
    await apply('ready', [container('r', 'sleep 3600', { readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 }, volumeMounts: [{ name: 'probe', mountPath: '/tmp' }] })], {
      volumes: [{ name: 'probe', hostPath: { path: path.join(dir, 'probe'), type: 'Directory' } }],
    });
    // A sidecar whose startup probe holds the container back until the sidecar has done its part; the pod
    // (restartPolicy Never) completes once the container has, the kubelet stopping the sidecar.
    await apply('with-sidecar', [container('main', 'test -f /shared/up', { volumeMounts: [{ name: 'shared', mountPath: '/shared' }] })], {
      restartPolicy: 'Never',
      volumes: [{ name: 'shared', emptyDir: {} }],
      initContainers: [container('helper', "trap 'exit 0' TERM; sleep 1; touch /shared/up; while true; do sleep 0.2; done", { restartPolicy: 'Always', startupProbe: { exec: { command: ['cat', '/shared/up'] }, periodSeconds: 1 }, volumeMounts: [{ name: 'shared', mountPath: '/shared' }] })],
    });
    await apply('needs-secret', [container('s', 'sleep 3600', { env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'later', key: 'password' } } }] })]);
  });

  after(async () => {
    client?.close();
    try {
      if (server) assert.equal(await server.stop(), 0);
    } finally {
      // The kubelet leaves containers running when it stops: remove them through the same runtime state.
      const built = await openRuntime().catch(() => undefined);
      for (const sb of (await built?.runtime.listPodSandbox({}))?.items ?? []) {
        await built!.runtime.stopPodSandbox({ podSandboxId: sb.id! }).catch(() => undefined);
        await built!.runtime.removePodSandbox({ podSandboxId: sb.id! }).catch(() => undefined);
      }
      await built?.close();
      await execFileAsync('ip', ['link', 'del', bridge]).catch(() => undefined);
      await execFileAsync('nft', ['delete', 'table', 'inet', masqueradeTable(bridge)]).catch(() => undefined);
      await removeCgroup(cgroupRoot).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('registers this machine as a Ready node with the pod ranges of the node IPAM controller and the imported image', async () => {
    const r = await eventually('a Ready node', async () => {
      const x = await k(['get', 'node', node, '-o', 'jsonpath={.status.nodeInfo.containerRuntimeVersion} {.spec.podCIDRs[*]} {.status.conditions[?(@.type=="Ready")].status}']);
      return x.stdout.endsWith(' True') ? x : undefined;
    });
    assert.match(r.stdout, new RegExp(`^k8ts://\\S+ 10\\.45\\.${n}\\.0/24 fd45:0:0:${n.toString(16)}::/64 True$`));
    assert.match(server!.output, /"msg":"imported images","file":"busybox.tar","images":\["k8ts.test\/busybox:embedded"\]/);
    // The runtime runs in the server's process: no CRI socket, and its state under <data-dir>/agent.
    assert.doesNotMatch(server!.output, /CRI runtime ready/);
    assert.match(server!.output, new RegExp(`"msg":"built-in container runtime ready","dataDir":"${path.join(dir, 'server', 'agent')}"`));
  });

  for (const minor of [29, 33]) {
    it(`runs a busybox pod created and read with kubectl 1.${minor}, with addresses from the node's ranges`, async () => {
      const name = `bb-${minor}`;
      const created = await k(['create', '-f', '-'], podManifest(name, [container('bb', 'sleep 3600')]), minor);
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, new RegExp(`^pod/${name} created`));
      const row = await eventually('Running in kubectl get', async () => {
        const x = await k(['get', 'pod', name, '--no-headers'], undefined, minor);
        return /\s1\/1\s+Running\s+0\s/.test(x.stdout) ? x.stdout : undefined;
      });
      assert.match(row, new RegExp(`^${name}\\s`));
      const p = await getPod(name);
      assert.deepEqual(
        (p.status?.podIPs ?? []).map(({ ip = "" }) => (ip.includes(':') ? ip.startsWith(`fd45:0:0:${n.toString(16)}:`) : ip.startsWith(`10.45.${n}.`))),
        [true, true],
      );
    });
  }

  it('puts a crashing container in CrashLoopBackOff with a growing restart count and its last state', async () => {
    const seen: number[] = [];
    const p = await eventually(
      'two restarts',
      async () => {
        const x = await getPod('crash');
        const s = x.status?.containerStatuses?.[0];
        if (s && seen.at(-1) !== s.restartCount) seen.push(s.restartCount);
        return (s?.restartCount ?? 0) >= 2 && s?.state?.waiting?.reason === 'CrashLoopBackOff' ? x : undefined;
      },
      90_000,
    );
    const s = p.status!.containerStatuses![0]!;
    assert.ok(seen.length >= 2 && seen.every((v, i) => i === 0 || v > seen[i - 1]!), `restart counts seen: ${seen.join(',')}`);
    assert.match(s.state!.waiting!.message ?? '', /^back-off (10|20|40)s restarting failed container=c pod=crash_default\(/);
    assert.equal(s.lastState?.terminated?.exitCode, 1);
    assert.equal(s.lastState?.terminated?.reason, 'Error');
    assert.ok(s.lastState?.terminated?.finishedAt);
    assert.equal(p.status?.phase, 'Running');
  });

  it('restarts a container whose liveness probe fails, with the Unhealthy and Killing events', async () => {
    const p = await eventually('a restart', async () => {
      const x = await getPod('live');
      return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? x : undefined;
    });
    const events = await eventually('the events', async () => {
      const list = await client.list<Kube<Event>>({ group: '', version: 'v1', resource: 'events', namespace: 'default' }, { fieldSelector: `involvedObject.uid=${p.metadata!.uid!}` });
      const reasons = new Set(list.items.map((e) => e.reason));
      return reasons.has('Unhealthy') && reasons.has('Killing') ? list.items : undefined;
    });
    assert.match(events.find((e) => e.reason === 'Unhealthy')!.message ?? '', /^Liveness probe failed: /);
    assert.equal(events.find((e) => e.reason === 'Killing')!.message, 'Container l failed liveness probe, will be restarted');
    assert.equal(events.find((e) => e.reason === 'Killing')!.involvedObject.fieldPath, 'spec.containers{l}');
  });

  it('flips Ready to True when the probed file appears and back to False when it goes', async () => {
    await eventually('Running, not Ready', async () => {
      const x = await getPod('ready');
      return x.status?.phase === 'Running' && ready(x) === 'False' ? true : undefined;
    });
    await writeFile(path.join(dir, 'probe', 'ready'), 'ok');
    await eventually('Ready', async () => (ready(await getPod('ready')) === 'True' ? true : undefined));
    await unlink(path.join(dir, 'probe', 'ready'));
    const p = await eventually('not Ready again', async () => {
      const x = await getPod('ready');
      return ready(x) === 'False' ? x : undefined;
    });
    assert.equal(p.status?.containerStatuses?.[0]?.ready, false);
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 0);
  });

  it('holds a container in CreateContainerConfigError while its Secret is missing, then runs it', async () => {
    const waiting = await eventually('CreateContainerConfigError', async () => {
      const w = (await getPod('needs-secret')).status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    assert.equal(waiting.message, 'secret "later" not found');
    assert.equal((await k(['create', 'secret', 'generic', 'later', '--from-literal=password=s3cret'])).code, 0);
    await eventually('Running', async () => ((await getPod('needs-secret')).status?.phase === 'Running' ? true : undefined));
  });

  it('starts a sidecar before the container, waits for its startup probe, and stops it when the container completes', async () => {
    const p = await eventually('Succeeded', async () => {
      const x = await getPod('with-sidecar');
      return x.status?.phase === 'Succeeded' ? x : undefined;
    });
    const [helper] = p.status?.initContainerStatuses ?? [];
    const main = p.status?.containerStatuses?.[0];
    // The container found the sidecar's file: it started after the sidecar's startup probe passed.
    assert.equal(main?.state?.terminated?.exitCode, 0, JSON.stringify(p.status));
    assert.equal(helper?.name, 'helper');
    assert.equal(helper?.restartCount, 0);
    assert.equal(helper?.state?.terminated?.exitCode, 0, 'the sidecar got SIGTERM and its trap ran');
    assert.ok(Date.parse(helper.state.terminated.finishedAt!) >= Date.parse(main.state.terminated.finishedAt!));
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
  });

  it('leaves the containers running when the server stops, and adopts them when it starts again', async () => {
    const before = (await getPod('bb-33')).status!.containerStatuses![0]!;
    client.close();
    assert.equal(await server!.stop(), 0);
    server = undefined;
    const built = await openRuntime();
    try {
      assert.equal((await built.runtime.containerStatus({ containerId: before.containerID!.replace('k8ts://', '') })).status?.state, 'CONTAINER_RUNNING');
    } finally {
      await built.close();
    }
    server = startServer();
    await server.waitForLog(/"msg":"kubelet running"/, 60_000);
    client = new RESTClient(loadKubeconfig(kubeconfig()));
    // A few syncs of the new kubelet later, the pod is the same container, never restarted.
    await server.waitForLog(/"msg":"updated the runtime pod CIDR"/, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    const after = (await getPod('bb-33')).status?.containerStatuses?.[0];
    assert.deepEqual(
      { id: after?.containerID, restarts: after?.restartCount, startedAt: after?.state?.running?.startedAt },
      { id: before.containerID, restarts: 0, startedAt: before.state?.running?.startedAt },
    );
  });
});
