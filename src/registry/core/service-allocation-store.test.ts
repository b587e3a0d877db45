// Allocation through the store: two allocators over one store stand for two API servers. Cluster IPs as
// IPAddress objects, node ports in the compare-and-swapped snapshot, and the repair of what a crash leaves.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import { RegistryStore } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import { ipAddressStrategy } from '../networking/ipaddresses.js';
import { ClusterIPAllocator } from './cluster-ip-allocator.js';
import { baseStrategy } from './kube-validation.js';
import { nodePortsKey, StoredPortAllocator } from './node-port-allocator.js';
import { AllocationError } from './service-allocator-bitmaps.js';
import { ServiceAllocationRepair } from './service-allocation-repair.js';
import { ServiceAllocator } from './service-allocator.js';
import { createServiceStrategy } from './services.js';

const stores: SqliteStore[] = [];
after(async () => {
  for (const s of stores) await s.close();
});

function fresh(now: () => Date = () => new Date()): { store: SqliteStore; ipAddresses: RegistryStore; services: RegistryStore } {
  const store = new SqliteStore({ path: ':memory:' });
  stores.push(store);
  return {
    store,
    ipAddresses: new RegistryStore(ipAddressStrategy, store, { now }),
    // Services written straight, without allocation: what an older server or a crash left behind.
    services: new RegistryStore(baseStrategy('', 'v1', 'services'), store, { now }),
  };
}

const svc = (name: string) => ({ namespace: 'default', name });

describe('cluster IPs as IPAddress objects', () => {
  it('never give one address to two allocators that share a store', async () => {
    const { ipAddresses } = fresh();
    // A /28: 14 addresses, so the two allocators' candidates collide often.
    const a = new ClusterIPAllocator('10.1.0.0/28', ipAddresses);
    const b = new ClusterIPAllocator('10.1.0.0/28', ipAddresses);
    const got = await Promise.all(Array.from({ length: 14 }, (_, i) => (i % 2 ? a : b).allocateNext(svc(`s${i}`))));
    assert.equal(new Set(got).size, 14);
    assert.equal((await ipAddresses.list('')).items.length, 14);
    // The range is full for both, whatever their bitmaps believed.
    await assert.rejects(a.allocateNext(svc('more')), (err: unknown) => err instanceof AllocationError && err.reason === 'Full');
    const stored = await ipAddresses.get('', got[0]!);
    assert.deepEqual(stored.metadata?.labels, { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' });
    assert.deepEqual((stored.spec as { parentRef: object }).parentRef, { group: '', resource: 'services', namespace: 'default', name: 's0' });
  });

  it('refuse a requested address another allocator holds, and hand it out once released', async () => {
    const { ipAddresses } = fresh();
    const a = new ClusterIPAllocator('fd00::/120', ipAddresses);
    const b = new ClusterIPAllocator('fd00::/120', ipAddresses);
    // An address spelled otherwise is stored under its canonical name.
    await a.allocate('fd00:0::10', svc('x'));
    assert.equal((await ipAddresses.get('', 'fd00::10')).metadata?.name, 'fd00::10');
    await assert.rejects(b.allocate('fd00::10', svc('y')), /provided IP is already allocated/);
    await assert.rejects(b.allocate('fd00::10', svc('y'), true), /provided IP is already allocated/);
    await assert.rejects(b.allocate('fd01::1', svc('y')), /the provided IP \(fd01::1\) is not in the valid range\. The range of valid IPs is fd00::\/120/);
    await assert.rejects(b.allocate('fd00::', svc('y')), /not in the valid range/);
    await a.release('fd00::10');
    // b's bitmap still marks it (it learnt of it from the refusal) until the watch says it is gone.
    assert.ok(b.has('fd00::10'));
    b.observe('DELETED', { metadata: { name: 'fd00::10' } });
    assert.equal(b.has('fd00::10'), false);
    await b.allocate('fd00::10', svc('y'));
  });
});

describe('node ports in the stored snapshot', () => {
  const range = { base: 30000, size: 40 };

  it('never give one port to two allocators that share a store, batching the writes of a burst', async () => {
    const { store } = fresh();
    const a = new StoredPortAllocator(store, range);
    const b = new StoredPortAllocator(store, range);
    const before = await store.currentRevision();
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).allocateNext()));
    assert.equal(new Set(got).size, 40);
    const writes = (await store.currentRevision()) - before;
    assert.ok(writes < 40, `${writes} writes for 40 ports`);
    await assert.rejects(a.allocateNext(), /range is full/);
    await a.release([got[0]!]);
    await b.allocate(got[0]!);
    await assert.rejects(a.allocate(got[1]!), /provided port is already allocated/);
    await assert.rejects(a.check(got[1]!), /provided port is already allocated/);
    await assert.rejects(a.allocate(31000), /provided port is not in the valid range\. The range of valid ports is 30000-30039/);
    const stored = JSON.parse(new TextDecoder().decode((await store.get(nodePortsKey)).kv!.value)) as { kind: string; range: string };
    assert.equal(stored.kind, 'RangeAllocation');
    assert.equal(stored.range, '30000-30039');
  });

  it('write nothing when nothing changes', async () => {
    const { store } = fresh();
    const a = new StoredPortAllocator(store, range);
    await a.allocate(30001);
    const rev = await store.currentRevision();
    await a.release([30002]);
    assert.equal(await store.currentRevision(), rev);
  });
});

/** A service allocator over one CIDR and the node ports 30000-30099. */
function serviceAllocator(cidr: string, store: SqliteStore, ipAddresses: RegistryStore): ServiceAllocator {
  const nodePortRange = { base: 30000, size: 100 };
  return new ServiceAllocator({ serviceCIDRs: [cidr], nodePortRange, strategy: createServiceStrategy({ nodePortRange }), ipAddresses, store });
}

describe('the repair', () => {
  it('gives services their missing IPAddresses and deletes leaked ones after a minute', async () => {
    let now = new Date('2026-03-01T00:00:00Z');
    const clock = () => now;
    const { store, ipAddresses, services } = fresh(clock);
    const allocator = serviceAllocator('10.2.0.0/24', store, ipAddresses);
    const repair = new ServiceAllocationRepair({ allocator, services, ipAddresses, now: clock });
    const stored = (name: string, spec: object): Promise<KObject> =>
      services.create('default', { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } });
    // A service from before allocations lived in the store, one whose address another service's IPAddress
    // names, one out of range, and an IPAddress whose service never got written (a crash).
    await stored('old', { clusterIP: '10.2.0.5', clusterIPs: ['10.2.0.5'], ipFamilies: ['IPv4'], type: 'NodePort', ports: [{ port: 80, nodePort: 30007 }] });
    await stored('outside', { clusterIP: '10.9.0.1', clusterIPs: ['10.9.0.1'], ipFamilies: ['IPv4'] });
    await ipAddresses.create('', { metadata: { name: '10.2.0.9', labels: { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' } }, spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'crashed' } } });
    const first = await repair.runOnce();
    assert.equal(first.ipAddressesCreated, 1);
    assert.equal(first.ipAddressesDeleted, 0, 'an IPAddress younger than a minute may belong to a create in flight');
    assert.ok(first.problems.some((p) => p.startsWith('ClusterIPNotAllocated: Cluster IP [IPv4]: 10.2.0.5 is not allocated; repairing')), first.problems.join('\n'));
    assert.ok(first.problems.some((p) => p.startsWith('ClusterIPOutOfRange: Cluster IP [IPv4]: 10.9.0.1 is not within any configured Service CIDR')));
    assert.ok(first.problems.includes('PortNotAllocated: Port 30007 is not allocated; repairing'));
    assert.equal(((await ipAddresses.get('', '10.2.0.5')).spec as { parentRef: { name: string } }).parentRef.name, 'old');
    assert.ok((await allocator.nodePorts.read()).bitmap.has(30007));
    now = new Date(now.getTime() + 61_000);
    const second = await repair.runOnce();
    assert.equal(second.ipAddressesDeleted, 1);
    await assert.rejects(ipAddresses.get('', '10.2.0.9'), /not found/);
    assert.equal((await repair.runOnce()).problems.length, 1, 'only the out-of-range address is left to report');
  });

  it('frees a node port no service holds after three repairs in a row', async () => {
    const { store, ipAddresses, services } = fresh();
    const allocator = serviceAllocator('10.3.0.0/24', store, ipAddresses);
    const repair = new ServiceAllocationRepair({ allocator, services, ipAddresses });
    await allocator.nodePorts.allocate(30042);
    for (let round = 1; round <= 2; round++) {
      await repair.runOnce();
      assert.ok((await allocator.nodePorts.read()).bitmap.has(30042), `still held after repair ${round}`);
    }
    const third = await repair.runOnce();
    assert.equal(third.portsFreed, 1);
    assert.equal((await allocator.nodePorts.read()).bitmap.has(30042), false);
  });
});
