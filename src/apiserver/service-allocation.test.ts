// Service IP and node port allocation through a real API server: defaults per ipFamilyPolicy, requested
// addresses honoured or refused, node ports, type changes, release on delete, the repair at start, many
// concurrent creates, and the default/kubernetes Service with its endpoints.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../client/index.js';
import { isStatus, RESTClient } from '../client/index.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { ApiServer } from './api-server.js';

const services = { group: '', version: 'v1', resource: 'services', namespace: 'default' };

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;

async function start(): Promise<void> {
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts', advertiseAddress: '192.0.2.77', nodePortRange: { base: 30000, size: 100 } });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}` });
}

before(async () => {
  store = new SqliteStore({ path: ':memory:' });
  await start();
});

after(async () => {
  client.close();
  await server.stop();
  await store.close();
});

interface Spec {
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  type?: string;
  ports?: { port: number; nodePort?: number; name?: string; targetPort?: number }[];
  healthCheckNodePort?: number;
}

const svc = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec },
});

async function create(name: string, spec: Record<string, unknown> = {}): Promise<Spec> {
  const obj = await client.create(services, svc(name, spec));
  return obj.spec as Spec;
}

async function refused(name: string, spec: Record<string, unknown>): Promise<string> {
  try {
    await client.create(services, svc(name, spec));
  } catch (err) {
    assert.ok(isStatus(err, 'Invalid'), String(err));
    return err.message;
  }
  assert.fail(`${name} was created`);
}

describe('service allocation', () => {
  it('gives a SingleStack service one IPv4 address from 10.43.0.0/16', async () => {
    const spec = await create('single');
    assert.equal(spec.ipFamilyPolicy, 'SingleStack');
    assert.deepEqual(spec.ipFamilies, ['IPv4']);
    assert.match(spec.clusterIP ?? '', /^10\.43\.\d+\.\d+$/);
    assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
  });

  it('gives PreferDualStack and RequireDualStack services an address of each family', async () => {
    for (const policy of ['PreferDualStack', 'RequireDualStack']) {
      const spec = await create(`dual-${policy.toLowerCase()}`, { ipFamilyPolicy: policy });
      assert.deepEqual(spec.ipFamilies, ['IPv4', 'IPv6']);
      assert.equal(spec.clusterIPs?.length, 2);
      assert.match(spec.clusterIPs[1]!, /^fd43::[0-9a-f]+$/);
    }
    const v6 = await create('v6first', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6'] });
    assert.deepEqual(v6.ipFamilies, ['IPv6', 'IPv4']);
    assert.match(v6.clusterIP ?? '', /^fd43::/);
  });

  it('honours a requested address and refuses it when taken or out of range', async () => {
    const spec = await create('fixed', { clusterIP: '10.43.100.100' });
    assert.equal(spec.clusterIP, '10.43.100.100');
    const msg = await refused('fixed2', { clusterIP: '10.43.100.100' });
    assert.match(msg, /spec\.clusterIPs: Invalid value: \[\]string\{"10\.43\.100\.100"\}: failed to allocate IP 10\.43\.100\.100: provided IP is already allocated/);
    const out = await refused('outside', { clusterIP: '10.99.0.1' });
    // Upstream 1.33's multi-CIDR allocator: an address outside every ServiceCIDR is a mismatched network; one
    // inside a range but not usable (its network address) is out of the valid range.
    assert.match(out, /failed to allocate IP 10\.99\.0\.1: the provided network does not match the current range/);
    const edge = await refused('edge', { clusterIP: '10.43.0.0' });
    assert.match(edge, /the provided IP \(10\.43\.0\.0\) is not in the valid range\. The range of valid IPs is 10\.43\.0\.0\/16/);
    // A dry run neither takes nor refuses a free address.
    await client.create(services, svc('dry', { clusterIP: '10.43.100.101' }), { dryRun: true });
    assert.equal((await create('notdry', { clusterIP: '10.43.100.101' })).clusterIP, '10.43.100.101');
  });

  it('gives a headless service no address', async () => {
    const spec = await create('headless', { clusterIP: 'None' });
    assert.deepEqual(spec.clusterIPs, ['None']);
    assert.deepEqual(spec.ipFamilies, ['IPv4']);
  });

  it('allocates node ports in range, refuses a taken one, and releases them on a type change', async () => {
    const spec = await create('np', { type: 'NodePort', ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https', nodePort: 30050 }] });
    const [a, b] = spec.ports ?? [];
    assert.ok(a!.nodePort! >= 30000 && a!.nodePort! < 30100);
    assert.equal(b!.nodePort, 30050);
    const msg = await refused('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: 30050 }] });
    assert.match(msg, /spec\.ports\[0\]\.nodePort: Invalid value: 30050: provided port is already allocated/);
    const range = await refused('np3', { type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }] });
    assert.match(range, /provided port is not in the valid range\. The range of valid ports is 30000-30099/);
    // NodePort → ClusterIP frees both ports.
    await client.patch(services, 'np', { spec: { type: 'ClusterIP', externalTrafficPolicy: null, ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }] } }, 'merge');
    assert.equal(server.serviceAllocator.ports.has(30050), false);
    assert.equal(server.serviceAllocator.ports.has(a!.nodePort!), false);
    const lb = await create('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30050 }] });
    assert.ok(lb.healthCheckNodePort! >= 30000 && lb.healthCheckNodePort! < 30100);
  });

  it('makes a selectorless headless service RequireDualStack with both families', async () => {
    const obj = await client.create(services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bare' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
    const spec = obj.spec as Spec;
    assert.equal(spec.ipFamilyPolicy, 'RequireDualStack');
    assert.deepEqual(spec.ipFamilies, ['IPv4', 'IPv6']);
  });

  it('allocates when an ExternalName service becomes ClusterIP, and releases when it goes back', async () => {
    await client.create(services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'flip' }, spec: { type: 'ExternalName', externalName: 'example.org' } });
    const cip = (await client.patch(services, 'flip', { spec: { type: 'ClusterIP', externalName: null, ports: [{ port: 80 }] } }, 'merge')).spec as Spec;
    assert.match(cip.clusterIP ?? '', /^10\.43\./);
    assert.ok(server.serviceAllocator.ipAllocators.get('IPv4')!.has(cip.clusterIP!));
    await client.patch(services, 'flip', { spec: { type: 'ExternalName', externalName: 'example.org', clusterIP: null, clusterIPs: null, ipFamilies: null, ipFamilyPolicy: null, internalTrafficPolicy: null } }, 'merge');
    assert.equal(server.serviceAllocator.ipAllocators.get('IPv4')!.has(cip.clusterIP!), false);
  });

  it('releases the addresses of a deleted service', async () => {
    await create('gone', { clusterIP: '10.43.200.1' });
    await client.delete(services, 'gone');
    assert.equal((await create('gone2', { clusterIP: '10.43.200.1' })).clusterIP, '10.43.200.1');
  });

  it('upgrades a service to dual-stack and downgrades it again', async () => {
    await create('updown');
    const up = (await client.patch(services, 'updown', { spec: { ipFamilyPolicy: 'RequireDualStack' } }, 'merge')).spec as Spec;
    assert.equal(up.clusterIPs?.length, 2);
    const v6 = up.clusterIPs[1]!;
    assert.ok(server.serviceAllocator.ipAllocators.get('IPv6')!.has(v6));
    const down = (await client.patch(services, 'updown', { spec: { ipFamilyPolicy: 'SingleStack' } }, 'merge')).spec as Spec;
    assert.deepEqual(down.ipFamilies, ['IPv4']);
    assert.equal(down.clusterIPs?.length, 1);
    assert.equal(server.serviceAllocator.ipAllocators.get('IPv6')!.has(v6), false);
  });

  it('allocates from the ranges of other ServiceCIDRs while they are not Ready=False', async () => {
    const serviceCIDRs = { group: 'networking.k8s.io', version: 'v1', resource: 'servicecidrs' };
    await client.create(serviceCIDRs, { apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name: 'extra' }, spec: { cidrs: ['10.50.0.0/24'] } });
    // The allocator learns of the range through the watch cache: retry until it has.
    let spec: Spec | undefined;
    for (let i = 0; i < 200 && !spec; i++) {
      spec = await create('in-extra', { clusterIP: '10.50.0.7' }).catch(() => undefined);
      if (!spec) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(spec?.clusterIP, '10.50.0.7');
    const ip = await client.get({ group: 'networking.k8s.io', version: 'v1', resource: 'ipaddresses' }, '10.50.0.7');
    assert.equal((ip.spec as { parentRef: { name: string } }).parentRef.name, 'in-extra');
    const sc = await client.get(serviceCIDRs, 'extra');
    await client.update(serviceCIDRs, { ...sc, status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Terminating', message: 'going', lastTransitionTime: '2026-01-01T00:00:00Z' }] } }, { subresource: 'status' });
    let msg = '';
    for (let i = 0; i < 200 && !/does not match/.test(msg); i++) {
      msg = await refused(`not-ready-${i}`, { clusterIP: '10.50.0.8' }).catch(() => '');
      if (!/does not match/.test(msg)) await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(msg, /failed to allocate IP 10\.50\.0\.8: the provided network does not match the current range/);
  });

  it('never hands out one address twice under concurrent creates', async () => {
    const specs = await Promise.all(Array.from({ length: 60 }, (_, i) => create(`many-${i}`, { ipFamilyPolicy: 'PreferDualStack' })));
    const ips = specs.flatMap((s) => s.clusterIPs ?? []);
    assert.equal(new Set(ips).size, 120);
  });

  it('serves default/kubernetes on the first address with the API server as its endpoint', async () => {
    const k = await client.get(services, 'kubernetes');
    const spec = k.spec as Spec;
    assert.equal(spec.clusterIP, '10.43.0.1');
    assert.equal(spec.ports?.[0]?.port, 443);
    assert.equal(spec.ports?.[0]?.name, 'https');
    const ep = await client.get({ ...services, resource: 'endpoints' }, 'kubernetes');
    assert.deepEqual((ep.subsets as { addresses: { ip: string }[] }[])[0]!.addresses, [{ ip: '192.0.2.77' }]);
    const slice = await client.get({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default' }, 'kubernetes');
    assert.deepEqual((slice.endpoints as { addresses: string[] }[])[0]!.addresses, ['192.0.2.77']);
  });

  it('rebuilds the allocations from the stored services after a restart', async () => {
    // A port no earlier test drew at random from the 100-port range.
    const used = new Set((await client.list(services)).items.flatMap((s) => ((s.spec as Spec).ports ?? []).map((p) => p.nodePort)));
    const nodePort = Array.from({ length: 100 }, (_, i) => 30000 + i).find((p) => !used.has(p))!;
    const spec = await create('before-restart', { type: 'NodePort', ports: [{ port: 80, nodePort }] });
    // Lose its IPAddress meanwhile (as a crash or a careless user might): the repair at start makes it again.
    const ipAddresses = { group: 'networking.k8s.io', version: 'v1', resource: 'ipaddresses' };
    await client.delete(ipAddresses, spec.clusterIP!);
    client.close();
    await server.stop();
    await start();
    const again = await client.get(ipAddresses, spec.clusterIP!);
    assert.equal((again.spec as { parentRef: { name: string } }).parentRef.name, 'before-restart');
    const events = await client.list({ group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: 'default' });
    const repaired = events.items.find((e) => e.reason === 'ClusterIPNotAllocated' && (e.regarding as { name?: string }).name === 'before-restart');
    assert.equal(repaired?.note, `Cluster IP [IPv4]: ${spec.clusterIP!} is not allocated; repairing`);
    assert.equal(repaired?.reportingController, 'ipallocator-repair-controller');
    assert.equal(repaired?.type, 'Warning');
    assert.ok(server.serviceAllocator.ipAllocators.get('IPv4')!.has(spec.clusterIP!));
    const msg = await refused('after-restart', { clusterIP: spec.clusterIP });
    assert.match(msg, /provided IP is already allocated/);
    const port = await refused('after-restart2', { type: 'NodePort', ports: [{ port: 80, nodePort }] });
    assert.match(port, /provided port is already allocated/);
  });
});
