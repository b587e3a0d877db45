// The kubelet on the built-in runtime: `k8ts runtime` serving CRI on a unix socket and `k8ts server
// --container-runtime-endpoint` running this machine's kubelet against it. A busybox pod reaches Running
// with an IPv4 and an IPv6 address, a ConfigMap volume's file changes when the ConfigMap does, a crashing
// container shows CrashLoopBackOff, and deleting a pod delivers SIGTERM to its process (which handles it
// and exits 0) before the kubelet removes the pod.
import assert from 'node:assert/strict';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RESTClient } from '../../src/client/index.js';
import type { Kube } from '../../src/kubelet/api-types.js';
import { runtimeSkipReason } from '../../src/runtime/testing/runtime-fixture.js';
import { eventually as waitFor } from '../helpers/eventually.js';
import type { K8tsProcess } from '../helpers/k8ts-process.js';
import type { RuntimeNode } from '../helpers/runtime-node.js';
import { startRuntimeNode } from '../helpers/runtime-node.js';

const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => waitFor(what, () => fn().catch(() => undefined), timeoutMs);

describe('kubelet on the built-in runtime', { skip: runtimeSkipReason() }, () => {
  let cluster: RuntimeNode;
  let dir: string;
  let server: K8tsProcess;
  let client: RESTClient;
  let node: string;
  let image: string;
  const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
  const k = (args: string[], stdin?: string): ReturnType<RuntimeNode['k']> => cluster.k(args, stdin);
  const getPod = (name: string): Promise<Kube<Pod>> => client.get<Kube<Pod>>(podsRef, name);
  const apply = async (name: string, containers: object[], extra: object = {}): Promise<void> => {
    const manifest = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, containers, ...extra } };
    const r = await k(['apply', '-f', '-'], JSON.stringify(manifest));
    assert.equal(r.code, 0, r.stderr);
  };

  before(async () => {
    cluster = await startRuntimeNode({ runtime: 'k8ts', name: 'kubelet-e2e', dirs: ['manifests'], serverArgs: ['--pod-manifest-path', '{dir}/manifests'] });
    ({ dir, server, client, node, image } = cluster);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('registers the machine as a Ready node with the runtime version', async () => {
    const r = await k(['get', 'node', node, '-o', 'jsonpath={.status.nodeInfo.containerRuntimeVersion} {.status.conditions[?(@.type=="Ready")].status}']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^k8ts:\/\/\S+ True$/);
    // The pod ranges the node IPAM controller gave the node went to the runtime.
    await server.waitForLog(/"msg":"updated the runtime pod CIDR".*"podCIDRs":"10\.43\./, 30_000);
  });

  it('runs a busybox pod to Running with IPv4 and IPv6 addresses and a ConfigMap volume that follows changes', async () => {
    assert.equal((await k(['create', 'configmap', 'conf', '--from-literal=greeting=hello'])).code, 0);
    await apply('bb', [{ name: 'bb', image, imagePullPolicy: 'Never', command: ['sleep', '3600'], volumeMounts: [{ name: 'conf', mountPath: '/etc/conf' }] }], {
      volumes: [{ name: 'conf', configMap: { name: 'conf' } }],
    });
    const p = await eventually('Running', async () => {
      const x = await getPod('bb');
      return x.status?.phase === 'Running' ? x : undefined;
    });
    const ips = p.status?.podIPs?.map((x) => x.ip) ?? [];
    assert.equal(ips.length, 2, JSON.stringify(p.status));
    assert.match(ips[0]!, /^10\.43\./);
    assert.match(ips[1]!, /^fd43:/);
    assert.match(p.status?.containerStatuses?.[0]?.containerID ?? '', /^k8ts:\/\//);
    const file = path.join(dir, 'kubelet', 'pods', p.metadata!.uid!, 'volumes', 'kubernetes.io~configmap', 'conf', 'greeting');
    assert.equal(await readFile(file, 'utf8'), 'hello');
    assert.equal((await k(['patch', 'configmap', 'conf', '-p', '{"data":{"greeting":"bonjour"}}'])).code, 0);
    await eventually('the file to change', async () => ((await readFile(file, 'utf8')) === 'bonjour' ? true : undefined), 40_000);
  });

  it('keeps containers running across a kubelet restart and adopts them again', async () => {
    const before = (await getPod('bb')).status?.containerStatuses?.[0];
    await cluster.restartServer();
    ({ server, client } = cluster);
    // Give the new kubelet a few syncs, then the pod must be the same container, never restarted.
    await new Promise((r) => setTimeout(r, 3000));
    const after = (await getPod('bb')).status?.containerStatuses?.[0];
    assert.equal(after?.containerID, before?.containerID);
    assert.equal(after?.restartCount, 0);
    assert.equal(after?.state?.running?.startedAt, before?.state?.running?.startedAt);
    assert.equal((await getPod('bb')).status?.phase, 'Running');
  });

  it('runs a static pod from the manifest folder with a mirror pod, and stops it when the file goes', async () => {
    const manifest = ['apiVersion: v1', 'kind: Pod', 'metadata:', '  name: static-web', '  namespace: kube-system', 'spec:', '  terminationGracePeriodSeconds: 2', '  containers:', '  - name: web', `    image: ${image}`, '    imagePullPolicy: Never', '    command: ["sleep", "3600"]', ''].join('\n');
    await writeFile(path.join(dir, 'manifests', 'web.yaml'), manifest);
    const name = `static-web-${node}`;
    const mirrorRef = { ...podsRef, namespace: 'kube-system' };
    const mirror = await eventually('a Running mirror pod', async () => {
      const x = await client.get<Kube<Pod>>(mirrorRef, name);
      return x.status?.phase === 'Running' ? x : undefined;
    });
    const a = mirror.metadata?.annotations ?? {};
    assert.equal(a['kubernetes.io/config.source'], 'file');
    assert.equal(a['kubernetes.io/config.mirror'], a['kubernetes.io/config.hash']);
    assert.equal(mirror.metadata?.ownerReferences?.[0]?.kind, 'Node');
    assert.equal(mirror.status?.podIPs?.length, 2);
    // A deleted mirror pod comes back; the static pod itself keeps running.
    const containerID = mirror.status?.containerStatuses?.[0]?.containerID;
    assert.equal((await k(['delete', 'pod', name, '-n', 'kube-system', '--wait=false'])).code, 0);
    await eventually('the mirror pod again', async () => {
      const x = await client.get<Kube<Pod>>(mirrorRef, name);
      return x.metadata?.uid !== mirror.metadata?.uid && x.status?.containerStatuses?.[0]?.containerID === containerID ? true : undefined;
    });
    await unlink(path.join(dir, 'manifests', 'web.yaml'));
    await eventually('the mirror pod to go', async () => ((await k(['get', 'pod', name, '-n', 'kube-system'])).stderr.includes('NotFound') ? true : undefined));
  });

  it('reports the termination message the container wrote', async () => {
    await apply('last-words', [{ name: 'c', image, imagePullPolicy: 'Never', command: ['sh', '-c', 'printf "bye now" > /dev/termination-log; exit 3'] }], { restartPolicy: 'Never' });
    const p = await eventually('Failed', async () => {
      const x = await getPod('last-words');
      return x.status?.phase === 'Failed' ? x : undefined;
    });
    assert.deepEqual(p.status?.containerStatuses?.[0]?.state?.terminated && { code: p.status.containerStatuses[0].state.terminated.exitCode, message: p.status.containerStatuses[0].state.terminated.message }, { code: 3, message: 'bye now' });
  });

  it('gets Ready through an httpGet readiness probe and stays live by a tcpSocket probe', async () => {
    await apply('web', [
      {
        name: 'httpd',
        image,
        imagePullPolicy: 'Never',
        command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/index.html', port: 'http' }, periodSeconds: 1 },
        livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
      },
    ]);
    const p = await eventually('Ready', async () => {
      const x = await getPod('web');
      return x.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? x : undefined;
    });
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 0);
  });

  it('runs the preStop hook before stopping the container', async () => {
    await apply(
      'hooked',
      [
        {
          name: 'h',
          image,
          imagePullPolicy: 'Never',
          command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'printf prestop-ran > /dev/termination-log'] } } },
        },
      ],
      { terminationGracePeriodSeconds: 20 },
    );
    await eventually('Running', async () => ((await getPod('hooked')).status?.phase === 'Running' ? true : undefined));
    const ac = new AbortController();
    let last: Kube<Pod> | undefined;
    const watching = (async () => {
      for await (const e of client.watch<Kube<Pod>>(podsRef, { fieldSelector: 'metadata.name=hooked' }, ac.signal)) if (e.type === 'MODIFIED') last = e.object;
    })().catch(() => undefined);
    assert.equal((await k(['delete', 'pod', 'hooked', '--timeout=60s'])).code, 0);
    ac.abort();
    await watching;
    const t = last?.status?.containerStatuses?.[0]?.state?.terminated;
    assert.deepEqual({ code: t?.exitCode, message: t?.message }, { code: 0, message: 'prestop-ran' });
  });

  it('gives the container its environment (expansion, downward API, service links) and cluster DNS', async () => {
    await apply(
      'env',
      [
        {
          name: 'e',
          image,
          imagePullPolicy: 'Never',
          command: ['sh', '-c', 'printf "%s|%s|%s|%s" "$GREETING" "$KUBERNETES_SERVICE_HOST" "$MY_IP" "$(grep -E "^(nameserver|search)" /etc/resolv.conf | tr "\\n" " ")" > /dev/termination-log'],
          env: [
            { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'GREETING', value: 'hello $(NAME)' },
            { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
        },
      ],
      { restartPolicy: 'Never' },
    );
    const p = await eventually('Succeeded', async () => {
      const x = await getPod('env');
      return x.status?.phase === 'Succeeded' ? x : undefined;
    });
    const [greeting, k8sHost, ip, dns] = (p.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '').split('|');
    assert.equal(greeting, 'hello env');
    assert.match(k8sHost ?? '', /^10\.43\.0\.1$|:/);
    assert.equal(ip, p.status?.podIP);
    assert.match(dns ?? '', /nameserver 10\.43\.0\.10 /);
    assert.match(dns ?? '', /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
  });

  it('shows a crashing container in CrashLoopBackOff', async () => {
    await apply('crash', [{ name: 'c', image, imagePullPolicy: 'Never', command: ['sh', '-c', 'exit 2'] }]);
    const p = await eventually('CrashLoopBackOff', async () => {
      const x = await getPod('crash');
      return x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? x : undefined;
    });
    assert.equal(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 2);
    assert.ok((p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
  });

  it('delivers SIGTERM on deletion and removes the pod once the process has handled it', async () => {
    await apply('graceful', [{ name: 'g', image, imagePullPolicy: 'Never', command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"] }], {
      terminationGracePeriodSeconds: 20,
    });
    await eventually('Running', async () => ((await getPod('graceful')).status?.phase === 'Running' ? true : undefined));
    const ac = new AbortController();
    let last: Kube<Pod> | undefined;
    const watching = (async () => {
      for await (const e of client.watch<Kube<Pod>>(podsRef, { fieldSelector: 'metadata.name=graceful' }, ac.signal)) if (e.type === 'MODIFIED') last = e.object;
    })().catch(() => undefined);
    const t0 = Date.now();
    const r = await k(['delete', 'pod', 'graceful', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    ac.abort();
    await watching;
    // The shell's trap ran: exit code 0 well within the 20 s grace period.
    assert.equal(last?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0, JSON.stringify(last?.status));
    assert.ok(Date.now() - t0 < 15_000);
    assert.match((await k(['get', 'pod', 'graceful'])).stderr, /NotFound/);
  });
});
