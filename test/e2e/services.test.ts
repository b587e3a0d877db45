// Services end to end: `k8ts server` runs inside a node network namespace the test makes (its kube-proxy
// programs that namespace's nftables), stand-in pods serve their names on a bridge, the test kubelet
// reports them with those addresses, and a client namespace resolves the service through the cluster DNS
// (10.43.0.10, through the proxy to the in-process DNS server) and reaches every pod over IPv4 and IPv6;
// kubectl shows the EndpointSlices; with no pods left connections are rejected.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { K8tsProcess } from '../helpers/k8ts-process.js';
import { kubectl } from '../helpers/kubectl.js';
import { requireNetnsSupport, Testbed } from '../helpers/netns.js';
import { until as waitUntil } from '../helpers/wait.js';

const until = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> => waitUntil(what, probe, 30_000);

let bed: Testbed;
let server: K8tsProcess;
let kubelet: ChildProcess;
let dir: string;
let kubeconfig: string;
let resolvDir: string;

/** kubectl 1.32 run inside the node namespace, where the API server listens. */
const k = (args: string[], stdin?: string) => kubectl('ip', kubeconfig, ['netns', 'exec', bed.node, '/usr/bin/kubectl', ...args], stdin);

before(async () => {
  requireNetnsSupport();
  bed = new Testbed('svc');
  bed.addPod('web-0', 11);
  bed.addPod('web-1', 12);
  bed.addPod('web-2', 13);
  // `ip netns exec` gives the client this resolv.conf: the cluster DNS with a pod's search path.
  resolvDir = `/etc/netns/${bed.client}`;
  mkdirSync(resolvDir, { recursive: true });
  writeFileSync(path.join(resolvDir, 'resolv.conf'), 'nameserver 10.43.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
  dir = mkdtempSync(path.join(tmpdir(), 'k8ts-services-'));
  kubeconfig = path.join(dir, 'kubeconfig.yaml');
  server = new K8tsProcess(['server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1'], { netns: bed.node });
  await server.waitForLog(/"msg":"API server ready"/, 60_000);
  await server.waitForLog(/"msg":"cluster DNS listening"/, 60_000);
  const ips = Object.fromEntries(bed.pods.map((p) => [p.name, [p.ipv4, p.ipv6]]));
  kubelet = spawn('ip', ['netns', 'exec', bed.node, process.execPath, '--import', 'tsx', path.resolve(import.meta.dirname, '../helpers/fake-kubelet-main.ts'), kubeconfig], {
    env: { ...process.env, K8TS_FAKE_POD_IPS: JSON.stringify(ips) },
    stdio: 'ignore',
  });
});

after(async () => {
  // Everything is removed even when the server's exit fails the hook.
  try {
    if (kubelet?.exitCode === null) kubelet.kill('SIGTERM');
    if (server) {
      const problems = server.output.split('\n').filter((l) => /"level":"(error|warn)"/.test(l));
      if (problems.length > 0) console.log(`server warnings and errors:\n${problems.slice(-20).join('\n')}`);
      const code = await server.stop();
      assert.equal(code, 0, `the server exited ${code}:\n${server.output.split('\n').filter((l) => !l.includes('"level":"info"')).slice(-30).join('\n')}`);
    }
  } finally {
    bed?.remove();
    if (resolvDir) rmSync(resolvDir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

const manifest = `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
${[0, 1, 2]
  .map(
    (i) => `---
apiVersion: v1
kind: Pod
metadata: {name: web-${i}, labels: {app: web}}
spec:
  containers: [{name: httpd, image: busybox, ports: [{name: http, containerPort: 8080}]}]
`,
  )
  .join('')}`;

describe('services end to end (server in a test network namespace)', () => {
  let clusterIPs: string[] = [];

  it('programs a service whose pods become ready, and shows its EndpointSlices', async () => {
    const applied = await k(['apply', '-f', '-'], manifest);
    assert.equal(applied.code, 0, applied.stderr);
    const out = await until('endpoint slices with the three pods', async () => {
      const r = await k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
      return (r.stdout.match(/10\.42\.0\.1[123]/g) ?? []).length === 3 && r.stdout;
    });
    assert.match(out, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE/m);
    assert.match(out, /^web-\w+\s+IPv4\s+8080\s+10\.42\.0\.1[123],10\.42\.0\.1[123],10\.42\.0\.1[123]\s+/m);
    assert.match(out, /^web-\w+\s+IPv6\s+8080\s+fd42::[bcd],fd42::[bcd],fd42::[bcd]\s+/m);
    const svc = await k(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIPs}']);
    clusterIPs = JSON.parse(svc.stdout) as string[];
    assert.equal(clusterIPs.length, 2);
  });

  it('reaches all three pods by name through the cluster DNS, and by IPv6 address', async () => {
    for (const name of ['web', 'web.default', 'web.default.svc.cluster.local']) {
      const bodies = await until(`all pods through ${name}`, async () => {
        const b = await bed.httpGets(bed.client, `http://${name}/`, 30);
        return new Set(b).size === 3 && b.every((x) => x.startsWith('web-')) && b;
      });
      assert.deepEqual(new Set(bodies), new Set(['web-0', 'web-1', 'web-2']));
    }
    const v6 = await bed.httpGets(bed.client, `http://[${clusterIPs[1]}]/`, 30);
    assert.deepEqual(new Set(v6), new Set(['web-0', 'web-1', 'web-2']), v6.join(','));
  });

  it('exposes a pod with kubectl expose, which gets a cluster IP and answers', async () => {
    const r = await k(['expose', 'pod', 'web-0', '--name', 'web0', '--port', '80', '--target-port', '8080']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^service\/web0 exposed$/m);
    const get = await k(['get', 'service', 'web0']);
    assert.match(get.stdout, /^web0\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP\s+/m);
    // The service selects the pod's labels (app=web): all three pods answer.
    const bodies = await until('web0 answers', async () => {
      const b = await bed.httpGets(bed.client, 'http://web0.default.svc.cluster.local/', 5);
      return b.every((x) => x.startsWith('web-')) && b;
    });
    assert.equal(bodies.length, 5);
  });

  it('rejects connections once the pods are gone', async () => {
    const del = await k(['delete', 'pod', 'web-0', 'web-1', 'web-2', '--wait=false']);
    assert.equal(del.code, 0, del.stderr);
    await until('connections refused', async () => {
      const b = await bed.httpGets(bed.client, `http://${clusterIPs[0]}/`, 2, 3000);
      return b.every((x) => x === 'ECONNREFUSED');
    });
  });
});
