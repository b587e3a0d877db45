// Service allocation with two API servers on one etcd: cluster IPs live as IPAddress objects and node ports
// in one compare-and-swapped snapshot, so services created through both servers at once never share an
// address or a port, and what one server frees the other can hand out. kubectl 1.33 and 1.29 show the
// IPAddresses and the default ServiceCIDR with upstream's columns.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/client/index.js';
import { isStatus, loadKubeconfig, RESTClient } from '../../src/client/index.js';
import type { EtcdServer } from '../../src/storage/testing/etcd-server.js';
import { startEtcd } from '../../src/storage/testing/etcd-server.js';
import { K8tsProcess } from '../helpers/k8ts-process.js';
import { kubectl, kubectlPath } from '../helpers/kubectl.js';

const services = { group: '', version: 'v1', resource: 'services', namespace: 'default' };
const ipAddresses = { group: 'networking.k8s.io', version: 'v1', resource: 'ipaddresses' };
const serviceCIDRs = { group: 'networking.k8s.io', version: 'v1', resource: 'servicecidrs' };

interface Spec {
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: { port: number; nodePort?: number }[];
}

let etcd: EtcdServer;
const dirs: string[] = [];
const servers: K8tsProcess[] = [];
const clients: RESTClient[] = [];
const kubeconfigs: string[] = [];

before(async () => {
  etcd = await startEtcd();
  // Small ranges, so that the two servers' candidates collide and the store has to settle who wins.
  for (let i = 0; i < 2; i++) {
    const dir = mkdtempSync(path.join(tmpdir(), `k8ts-ipalloc-${i}-`));
    dirs.push(dir);
    const server = new K8tsProcess([
      'server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1',
      '--datastore-endpoint', `etcd://${etcd.endpoint.replace('http://', '')}`,
      '--service-cidr', '10.96.0.0/24,fd96::/120', '--service-node-port-range', '30000-30299',
      '--disable-agent', '--disable-controller-manager', '--disable-scheduler', '--disable-cloud-controller', '--disable', 'coredns,servicelb',
    ]);
    servers.push(server);
    await server.waitForLog(/"msg":"API server ready"/, 60_000);
    const kubeconfig = path.join(dir, 'kubeconfig.yaml');
    kubeconfigs.push(kubeconfig);
    clients.push(new RESTClient({ ...loadKubeconfig(kubeconfig), qps: 1000, burst: 1000 }));
  }
});

after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) {
    const code = await s.stop('SIGTERM');
    assert.equal(code, 0, s.output.split('\n').filter((l) => !l.includes('"level":"info"')).slice(-20).join('\n'));
  }
  await etcd?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const svc = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { type: 'NodePort', selector: { app: name }, ports: [{ port: 80 }], ...spec },
});

describe('service allocation with two API servers on one etcd', () => {
  it('never gives two services one cluster IP or node port when both servers create at once', async () => {
    const created = await Promise.all(
      clients.flatMap((c, s) =>
        Array.from({ length: 50 }, (_, i) => c.create(services, svc(`s${s}-${i}`, i % 5 === 0 ? { ipFamilyPolicy: 'PreferDualStack' } : {}))),
      ),
    );
    const ips = created.flatMap((o) => (o.spec as Spec).clusterIPs ?? []);
    const ports = created.flatMap((o) => ((o.spec as Spec).ports ?? []).map((p) => p.nodePort));
    assert.equal(ips.length, 120);
    assert.equal(new Set(ips).size, ips.length, 'a cluster IP was handed out twice');
    assert.equal(ports.length, 100);
    assert.equal(new Set(ports).size, ports.length, 'a node port was handed out twice');
    // Each address has its IPAddress, pointing at the service that holds it.
    const objects = (await clients[0]!.list(ipAddresses)).items;
    const byName = new Map(objects.map((o) => [o.metadata?.name, o]));
    for (const o of created) {
      for (const ip of (o.spec as Spec).clusterIPs ?? []) {
        const ref = (byName.get(ip)?.spec as { parentRef?: { resource: string; namespace: string; name: string } } | undefined)?.parentRef;
        assert.deepEqual(ref && { resource: ref.resource, namespace: ref.namespace, name: ref.name }, { resource: 'services', namespace: 'default', name: o.metadata?.name }, ip);
        assert.equal(byName.get(ip)?.metadata?.labels?.['ipaddress.kubernetes.io/managed-by'], 'ipallocator.k8s.io');
      }
    }
    // Nothing else holds an address but the kubernetes Service (10.96.0.1).
    assert.equal(objects.length, ips.length + 1);
  });

  it('lets one server hand out what a delete through the other freed', async () => {
    const [a, b] = clients as [RESTClient, RESTClient];
    // Dynamic picks come from the upper part of each range (upstream's bands), which the first test did not
    // fill: an address and a port of the lower part are free.
    const first = await a.create(services, svc('freed', { clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30005 }] }));
    assert.equal((first.spec as Spec).clusterIP, '10.96.0.5');
    // Taken for the other server too.
    await assert.rejects(b.create(services, svc('taken', { clusterIP: '10.96.0.5' })), (err: unknown) => isStatus(err, 'Invalid') && /provided IP is already allocated/.test(err.message));
    await assert.rejects(b.create(services, svc('taken', { ports: [{ port: 80, nodePort: 30005 }] })), (err: unknown) => isStatus(err, 'Invalid') && /provided port is already allocated/.test(err.message));
    await a.delete(services, 'freed');
    const again = await b.create(services, svc('reused', { clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30005 }] }));
    assert.equal((again.spec as Spec).clusterIP, '10.96.0.5');
    assert.equal((again.spec as Spec).ports?.[0]?.nodePort, 30005);
  });

  it('serves the default ServiceCIDR, Ready, with the --service-cidr ranges', async () => {
    const sc = await clients[1]!.get(serviceCIDRs, 'kubernetes');
    assert.deepEqual((sc.spec as { cidrs: string[] }).cidrs, ['10.96.0.0/24', 'fd96::/120']);
    const ready = ((sc.status as { conditions?: { type: string; status: string; message: string }[] }).conditions ?? []).find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.message, 'Kubernetes default Service CIDR is ready');
  });

  for (const minor of [33, 29]) {
    it(`kubectl 1.${minor} lists IPAddresses and ServiceCIDRs with upstream's columns`, async () => {
      const bin = kubectlPath(minor);
      const ip = await kubectl(bin, kubeconfigs[0]!, ['get', 'ipaddresses', '10.96.0.1', '10.96.0.5']);
      assert.equal(ip.code, 0, ip.stderr);
      const lines = ip.stdout.trim().split('\n').map((l) => l.split(/\s+/));
      assert.deepEqual(lines, [
        ['NAME', 'PARENTREF'],
        ['10.96.0.1', 'services/default/kubernetes'],
        ['10.96.0.5', 'services/default/reused'],
      ]);
      const sc = await kubectl(bin, kubeconfigs[1]!, ['get', 'servicecidrs']);
      assert.equal(sc.code, 0, sc.stderr);
      assert.match(sc.stdout, /^NAME\s+CIDRS\s+AGE\nkubernetes\s+10\.96\.0\.0\/24,fd96::\/120\s+\d+[smh]\n$/);
      const short = await kubectl(bin, kubeconfigs[1]!, ['get', 'ip', '10.96.0.1', '-o', 'jsonpath={.spec.parentRef.name}']);
      assert.equal(short.stdout, 'kubernetes');
    });
  }
});
