// kubectl logs, exec, attach, port-forward and cp against real pods: the kubelet of `k8ts server` serves its
// HTTPS API, and streams through the runtime's streaming server (CRI Exec/Attach/PortForward URLs, SPDY from
// the kubelet) while kubectl speaks whatever its version speaks (1.27/1.29: SPDY; 1.33: WebSocket v5 and
// SPDY tunnelled in a WebSocket). On the built-in runtime (`k8ts runtime`), and on Debian's containerd 1.6.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { loadKubeconfig } from '../../src/client/index.js';
import type { Kube } from '../../src/kubelet/api-types.js';
import { runtimeSkipReason } from '../../src/runtime/testing/runtime-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { kubectlInBackground, kubectlPath } from '../helpers/kubectl.js';
import { RuntimeNode } from '../helpers/runtime-node.js';

const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };

/** Creates a pod on the node and waits until it runs; returns it. */
async function runPod(cluster: RuntimeNode, name: string, containers: object[]): Promise<Kube<Pod>> {
  const manifest = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: cluster.node, terminationGracePeriodSeconds: 1, containers } };
  const r = await cluster.k(['apply', '-f', '-'], JSON.stringify(manifest));
  assert.equal(r.code, 0, r.stderr);
  return eventually(
    `${name} Running`,
    async () => {
      const p = await cluster.client.get<Kube<Pod>>(podsRef, name).catch(() => undefined);
      return p?.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.state?.running) ? p : undefined;
    },
    90_000,
  );
}

/** Calls a path of the node's kubelet server (GET unless said): with the admin's client certificate, or none. */
async function kubeletGet(cluster: RuntimeNode, path: string, anonymous = false, method = 'GET', body?: string): Promise<{ code: number; body: string }> {
  const node = await cluster.client.get<Kube<Node>>({ group: '', version: 'v1', resource: 'nodes' }, cluster.node);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const config = loadKubeconfig(cluster.kubeconfig);
  return new Promise((resolve, reject) => {
    // The serving certificate must verify against the cluster's server CA for 127.0.0.1.
    const req = request({ host: '127.0.0.1', port, path, method, ca: config.ca, ...(anonymous ? {} : { cert: config.cert, key: config.key }), agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A container that prints a numbered line every 0.2 s. */
const ticker = (image: string): object => ({
  name: 'ticker',
  image,
  imagePullPolicy: 'Never',
  command: ['sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.2; done'],
});

describe('kubectl logs, exec, attach, port-forward and cp on the built-in runtime', { skip: runtimeSkipReason() }, () => {
  let cluster: RuntimeNode;

  before(async () => {
    cluster = await RuntimeNode.start({ runtime: 'k8ts', tag: 'kstream' });
    const { image } = cluster;
    await runPod(cluster, 'tools', [
      ticker(image),
      { name: 'web', image, imagePullPolicy: 'Never', command: ['sh', '-c', 'mkdir -p /www && echo hello-from-httpd > /www/index.html && exec httpd -f -p 8080 -h /www'] },
      { name: 'talker', image, imagePullPolicy: 'Never', stdin: true, command: ['sh', '-c', 'echo ready; while read l; do echo "got $l"; done'] },
    ]);
  });
  after(async () => {
    await cluster?.stop();
  });

  it("names the kubelet server's real port in the Node", async () => {
    const node = await cluster.client.get<Kube<Node>>({ group: '', version: 'v1', resource: 'nodes' }, cluster.node);
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    const m = /"msg":"kubelet server listening".*"port":(\d+)/.exec(cluster.server!.output);
    assert.ok(m, 'the kubelet logs its port');
    assert.equal(port, Number(m[1]));
    assert.notEqual(port, 10250);
  });

  it('serves /pods and /stats/summary to clients of the cluster CA only', async () => {
    assert.equal((await kubeletGet(cluster, '/healthz', true)).code, 401);
    const pods = JSON.parse((await kubeletGet(cluster, '/pods')).body) as { items: Pod[] };
    assert.deepEqual(pods.items.map((p) => p.metadata?.name), ['tools']);
    const summary = await eventually('stats for the pod', async () => {
      const s = JSON.parse((await kubeletGet(cluster, '/stats/summary')).body) as {
        node: { nodeName: string; memory?: { workingSetBytes?: number } };
        pods: { podRef: { name: string }; containers: { name: string; memory?: { workingSetBytes?: number }; cpu?: { usageCoreNanoSeconds?: number } }[] }[];
      };
      return s.pods.some((p) => p.podRef.name === 'tools' && p.containers.length === 3) ? s : undefined;
    });
    assert.equal(summary.node.nodeName, cluster.node);
    assert.ok((summary.node.memory?.workingSetBytes ?? 0) > 0);
    const ticker = summary.pods.find((p) => p.podRef.name === 'tools')!.containers.find((c) => c.name === 'ticker');
    assert.ok((ticker?.memory?.workingSetBytes ?? 0) > 0, JSON.stringify(ticker));
    assert.ok((ticker?.cpu?.usageCoreNanoSeconds ?? 0) > 0, JSON.stringify(ticker));
    assert.match((await kubeletGet(cluster, '/metrics')).body, /^kubelet_running_pods 1$/m);
  });

  it('logs --previous shows the log of the instance before a restart', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'restarts' },
      spec: { nodeName: cluster.node, containers: [{ name: 'c', image: cluster.image, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo "run at $(cat /proc/uptime)"; sleep 1; exit 1'] }] },
    };
    assert.equal((await cluster.k(['apply', '-f', '-'], JSON.stringify(manifest))).code, 0);
    await eventually(
      'a restart',
      async () => ((await cluster.client.get<Kube<Pod>>(podsRef, 'restarts')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? true : undefined,
      60_000,
    );
    const previous = await cluster.k(['logs', 'restarts', '--previous']);
    assert.equal(previous.code, 0, previous.stderr);
    assert.match(previous.stdout, /^run at \S+ \S+\n$/);
    const current = await eventually('the current log', async () => {
      const r = await cluster.k(['logs', 'restarts']);
      return r.code === 0 && r.stdout !== '' ? r.stdout : undefined;
    });
    assert.notEqual(current, previous.stdout);
  });

  for (const minor of [27, 29, 33]) {
    describe(`kubectl 1.${minor}`, () => {
      const k = (args: string[], stdin?: string): ReturnType<RuntimeNode['k']> => cluster.k(args, stdin, minor);
      const background = (args: string[], tty = false): ReturnType<typeof kubectlInBackground> =>
        kubectlInBackground(kubectlPath(minor), cluster.kubeconfig, args, { tty });

      it('logs, and logs -f as the container prints', async () => {
        const r = await k(['logs', 'tools', '-c', 'ticker', '--tail', '3']);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split('\n');
        assert.equal(lines.length, 3);
        const last = Number(/line (\d+)/.exec(lines[2]!)![1]);
        const f = background(['logs', '-f', 'tools', '-c', 'ticker', '--tail', '1']);
        try {
          // New lines arrive while kubectl follows.
          await f.waitFor(new RegExp(`line (${last + 3}|${last + 4}|${last + 5})\\b`));
        } finally {
          await f.stop();
        }
      });

      it('exec passes stdout, stderr and the exit code through', async () => {
        const r = await k(['exec', 'tools', '-c', 'ticker', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
        assert.equal(r.code, 3, r.stderr);
        assert.equal(r.stdout, 'out\n');
        assert.match(r.stderr, /err\n/);
        assert.match(r.stderr, /command terminated with exit code 3/);
        const ok = await k(['exec', 'tools', '-c', 'web', '--', 'cat', '/www/index.html']);
        assert.deepEqual([ok.code, ok.stdout], [0, 'hello-from-httpd\n']);
      });

      it('exec -i feeds stdin to the command', async () => {
        const r = await k(['exec', '-i', 'tools', '-c', 'ticker', '--', 'sh', '-c', 'tr a-z A-Z; exit 4'], 'quiet words\n');
        assert.equal(r.code, 4, r.stderr);
        assert.equal(r.stdout, 'QUIET WORDS\n');
      });

      it('exec -it runs the command on a terminal', async () => {
        const t = background(['exec', '-it', 'tools', '-c', 'ticker', '--', 'sh', '-c', 'tty; stty size; read x; echo "typed $x"; exit 5'], true);
        try {
          await t.waitFor(/\/dev\/pts\/\d+/);
          t.write('abc\r');
          await t.waitFor(/typed abc/);
        } finally {
          await t.stop();
        }
      });

      it('attach streams the output of the main process and takes stdin', async () => {
        const a = background(['attach', '-i', 'tools', '-c', 'talker']);
        try {
          // kubectl prints its hint on stderr; give the session a moment by sending until it answers.
          const deadline = Date.now() + 30_000;
          let n = 0;
          while (!/got hello-\d+/.test(a.stdout())) {
            if (Date.now() > deadline) throw new Error(`no answer through attach: ${a.stdout()} ${a.stderr()}`);
            a.write(`hello-${n++}\n`);
            await new Promise((r) => setTimeout(r, 300));
          }
        } finally {
          await a.stop();
        }
        const t = background(['attach', 'tools', '-c', 'ticker']);
        try {
          await t.waitFor(/line \d+/);
        } finally {
          await t.stop();
        }
      });

      it('port-forward reaches httpd in the pod', async () => {
        const pf = background(['port-forward', 'pod/tools', ':8080']);
        try {
          const m = await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+)/);
          for (let i = 0; i < 2; i++) {
            const res = await fetch(`http://127.0.0.1:${m[1]}/index.html`);
            assert.equal(res.status, 200);
            assert.equal(await res.text(), 'hello-from-httpd\n');
          }
        } finally {
          await pf.stop();
        }
      });

      it('cp copies a file into the pod and back', async () => {
        const local = path.join(cluster.dir, `cp-${minor}.txt`);
        await writeFile(local, `copied by kubectl 1.${minor}\n`);
        const into = await k(['cp', local, `tools:/tmp/cp-${minor}.txt`, '-c', 'ticker']);
        assert.equal(into.code, 0, into.stderr);
        const cat = await k(['exec', 'tools', '-c', 'ticker', '--', 'cat', `/tmp/cp-${minor}.txt`]);
        assert.equal(cat.stdout, `copied by kubectl 1.${minor}\n`);
        const back = path.join(cluster.dir, `back-${minor}.txt`);
        const from = await k(['cp', `tools:/tmp/cp-${minor}.txt`, back, '-c', 'ticker']);
        assert.equal(from.code, 0, from.stderr);
        assert.equal(await readFile(back, 'utf8'), `copied by kubectl 1.${minor}\n`);
      });
    });
  }

  it('runs a manifest posted to the kubelet as a static pod with a mirror pod, keeps it over a restart, and stops it on DELETE', async () => {
    const manifest = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: posted\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: c\n    image: ${cluster.image}\n    imagePullPolicy: Never\n    command: [sleep, "3600"]\n`;
    assert.equal((await kubeletGet(cluster, '/pods', true, 'POST', manifest)).code, 401);
    const bad = await kubeletGet(cluster, '/pods', false, 'POST', 'kind: Pod\nmetadata: {name: x}\n');
    assert.deepEqual([bad.code, bad.body], [400, 'invalid pod manifest: the manifest must hold exactly one Pod with a name and containers\n']);
    const created = await kubeletGet(cluster, '/pods', false, 'POST', manifest);
    assert.equal(created.code, 201, created.body);
    const pod = JSON.parse(created.body) as Kube<Pod>;
    const mirrorName = `posted-${cluster.node}`;
    assert.equal(pod.metadata?.name, mirrorName);
    assert.equal(pod.metadata?.annotations?.['kubernetes.io/config.source'], 'http');
    const mirror = await eventually('the mirror pod Running', async () => {
      const p = await cluster.client.get<Kube<Pod>>(podsRef, mirrorName).catch(() => undefined);
      return p?.status?.phase === 'Running' ? p : undefined;
    }, 60_000);
    assert.equal(mirror.metadata?.annotations?.['kubernetes.io/config.mirror'], pod.metadata?.uid);
    const containerID = mirror.status?.containerStatuses?.[0]?.containerID;
    assert.ok(containerID, 'the mirror pod names its container');
    // The manifest is kept on disk: after a restart the kubelet runs the same pod, and finds its container again.
    await cluster.restartServer();
    const again = await eventually('the posted pod after the restart', async () => {
      const pods = JSON.parse((await kubeletGet(cluster, '/pods')).body) as { items: Pod[] };
      // Upstream's /pods lists static pods as themselves, never their mirrors.
      assert.ok(pods.items.every((p) => !p.metadata?.annotations?.['kubernetes.io/config.mirror']), 'no mirror pod in /pods');
      return pods.items.find((p) => p.metadata?.name === mirrorName && p.status?.containerStatuses?.[0]?.ready);
    }, 60_000);
    assert.equal(again.metadata?.uid, pod.metadata?.uid);
    assert.equal(again.status?.containerStatuses?.[0]?.containerID, containerID);
    assert.equal(again.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.equal((await kubeletGet(cluster, '/pods/default/posted', false, 'DELETE')).code, 200);
    await eventually('the mirror pod gone', async () => ((await cluster.client.get(podsRef, mirrorName).catch((e: { code?: number }) => e.code)) === 404 ? true : undefined), 60_000);
    assert.equal((await kubeletGet(cluster, '/pods/default/posted', false, 'DELETE')).code, 404);
  });
});

describe('kubectl logs and exec through containerd', { skip: runtimeSkipReason() }, () => {
  let cluster: RuntimeNode;

  before(async () => {
    cluster = await RuntimeNode.start({ runtime: 'containerd', tag: 'kstream-ctrd' });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('runs a busybox pod with an IP; logs and exec work through its streaming server', async () => {
    const pod = await runPod(cluster, 'bb', [ticker(cluster.image)]);
    assert.match(pod.status?.podIP ?? '', /^10\.43\./);
    assert.match(pod.status?.containerStatuses?.[0]?.containerID ?? '', /^containerd:\/\//);
    for (const minor of [27, 33]) {
      // The kubelet reads containerd's CRI log file itself.
      await eventually('two log lines', async () => {
        const logs = await cluster.k(['logs', 'bb', '--tail', '2'], undefined, minor);
        assert.equal(logs.code, 0, logs.stderr);
        return /^line \d+\nline \d+\n$/.test(logs.stdout) ? true : undefined;
      });
      const exec = await cluster.k(['exec', '-i', 'bb', '--', 'sh', '-c', 'cat; hostname; exit 6'], 'through containerd\n', minor);
      assert.equal(exec.code, 6, exec.stderr);
      assert.equal(exec.stdout, 'through containerd\nbb\n');
    }
  });

  it('port-forwards to httpd through containerd', async () => {
    await runPod(cluster, 'web', [{ name: 'web', image: cluster.image, imagePullPolicy: 'Never', command: ['sh', '-c', 'mkdir -p /www && echo via-containerd > /www/index.html && exec httpd -f -p 8080 -h /www'] }]);
    const pf = kubectlInBackground(kubectlPath(33), cluster.kubeconfig, ['port-forward', 'pod/web', ':8080']);
    try {
      const m = await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+)/);
      const res = await fetch(`http://127.0.0.1:${m[1]}/index.html`);
      assert.equal(await res.text(), 'via-containerd\n');
    } finally {
      await pf.stop();
    }
  });
});

describe('a kubelet in k8ts agent, with the serving certificate it got when joining', { skip: runtimeSkipReason() }, () => {
  let cluster: RuntimeNode;

  before(async () => {
    cluster = await RuntimeNode.start({ runtime: 'k8ts', tag: 'kstream-agent', agent: true });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('serves logs and exec to the API server, which verifies it against the server CA', async () => {
    await runPod(cluster, 'joined', [ticker(cluster.image)]);
    const exec = await cluster.k(['exec', 'joined', '--', 'sh', '-c', 'echo via-agent; exit 2']);
    assert.deepEqual([exec.code, exec.stdout], [2, 'via-agent\n'], exec.stderr);
    await eventually('a log line', async () => ((await cluster.k(['logs', 'joined', '--tail', '1'])).stdout.startsWith('line ') ? true : undefined));
  });
});
