// The proxy against a real API server, programming nftables inside a node namespace the test makes, with
// stand-in pods (busybox httpd in their own namespaces on a bridge) and a client namespace: traffic to
// cluster IPs of both families, node ports, external and load balancer IPs, session affinity, the Local
// internal policy, rejects without endpoints, removal on delete, and the repair of a removed rule.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requireNetnsSupport, sh, Testbed } from '../../test/helpers/netns.js';
import { ApiServer } from '../apiserver/api-server.js';
import { logger } from '../base/log.js';
import type { KubeObject } from '../client/index.js';
import { RESTClient } from '../client/index.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { Proxier } from './proxier.js';
import { until } from '../../test/helpers/wait.js';

const ns = 'default';
const svcRef = { group: '', version: 'v1', resource: 'services', namespace: ns };
const slicesRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: ns };

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;
let bed: Testbed;
let proxier: Proxier;
const stop = new AbortController();
let running: Promise<void>;

before(async () => {
  requireNetnsSupport();
  bed = new Testbed('px');
  bed.addPod('pod-a', 11);
  bed.addPod('pod-b', 12);
  bed.addPod('pod-c', 13);
  store = new SqliteStore({ path: ':memory:' });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}`, qps: 1000, burst: 1000 });
  proxier = new Proxier({
    client,
    nodeName: 'node-a',
    clusterCIDRs: ['10.42.0.0/16', 'fd42::/64'],
    nftCommand: bed.nftCommand,
    fullSyncPeriodMs: 1000,
    log: logger('proxy-test'),
  });
  running = proxier.run(stop.signal);
});

after(async () => {
  try {
    stop.abort();
    await running;
    await proxier.cleanup().catch(() => undefined);
    client.close();
    await server.stop();
    await store.close();
  } finally {
    bed.remove();
  }
});

interface SvcSpec {
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: { nodePort?: number }[];
}

async function service(name: string, spec: Record<string, unknown>): Promise<SvcSpec> {
  const obj = await client.create(svcRef, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ipFamilyPolicy: 'PreferDualStack', ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec },
  });
  return obj.spec as SvcSpec;
}

/** EndpointSlices for a service (one per family), as the EndpointSlice controller would write them. */
async function endpoints(svc: string, pods: { ip4: string; ip6: string; node: string; ready?: boolean }[]): Promise<void> {
  for (const [family, pick] of [['IPv4', (p: { ip4: string }) => p.ip4], ['IPv6', (p: { ip6: string }) => p.ip6]] as const) {
    await client.create(slicesRef, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${svc}-${family.toLowerCase()}`, labels: { 'kubernetes.io/service-name': svc } },
      addressType: family,
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: pods.map((p) => ({ addresses: [pick(p)], nodeName: p.node, conditions: { ready: p.ready ?? true } })),
    });
  }
}

const allPods = [
  { ip4: '10.42.0.11', ip6: 'fd42::b', node: 'node-a' },
  { ip4: '10.42.0.12', ip6: 'fd42::c', node: 'node-b' },
  { ip4: '10.42.0.13', ip6: 'fd42::d', node: 'node-b' },
];

const listTable = (family: 'ip' | 'ip6'): string => {
  try {
    return sh([...bed.nftCommand, 'list', 'table', family, 'k8ts-proxy']);
  } catch {
    return '';
  }
};

describe('kube-proxy on nftables', () => {
  let web: SvcSpec;

  it('spreads traffic to a cluster IP of each family over every ready endpoint', async () => {
    web = await service('web', {});
    await endpoints('web', allPods);
    const [v4, v6] = web.clusterIPs!;
    await until('the service in both tables', () => listTable('ip').includes(`${v4} . tcp . 80`) && listTable('ip6').includes(`${v6} . tcp . 80`));
    const bodies4 = await bed.httpGets(bed.client, `http://${v4}/`, 40);
    assert.deepEqual(new Set(bodies4), new Set(['pod-a', 'pod-b', 'pod-c']), bodies4.join(','));
    const bodies6 = await bed.httpGets(bed.client, `http://[${v6}]/`, 40);
    assert.deepEqual(new Set(bodies6), new Set(['pod-a', 'pod-b', 'pod-c']), bodies6.join(','));
  });

  it('serves the node itself and a pod reaching its own service (hairpin)', async () => {
    const fromNode = await bed.httpGets(bed.node, `http://${web.clusterIP}/`, 10);
    assert.ok(fromNode.every((b) => b.startsWith('pod-')), fromNode.join(','));
    const fromPod = await bed.httpGets(bed.pods[0]!.netns, `http://${web.clusterIP}/`, 20);
    assert.ok(fromPod.every((b) => b.startsWith('pod-')), fromPod.join(','));
    assert.ok(fromPod.includes('pod-a'), 'the pod reached itself through the service');
  });

  it('answers on the node port, on external IPs and on load balancer IPs', async () => {
    const np = await service('np', { type: 'NodePort', externalIPs: ['10.77.0.5'] });
    await endpoints('np', allPods);
    await client.patch(svcRef, 'np', { spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: true } }, 'merge');
    await client.patch(svcRef, 'np', { status: { loadBalancer: { ingress: [{ ip: '10.77.0.6' }] } } }, 'merge', { subresource: 'status' });
    const nodePort = np.ports![0]!.nodePort!;
    await until('the load balancer IP in the table', () => listTable('ip').includes('10.77.0.6 . tcp . 80'));
    for (const url of [`http://${bed.nodeClientIPv4}:${nodePort}/`, 'http://10.77.0.5/', 'http://10.77.0.6/', `http://[fd99::1]:${nodePort}/`]) {
      const bodies = await bed.httpGets(bed.client, url, 12);
      assert.ok(bodies.every((b) => b.startsWith('pod-')), `${url}: ${bodies.join(',')}`);
    }
  });

  it('rejects connections to a service without endpoints at once', async () => {
    const empty = await service('empty', {});
    await until('the reject rule', () => listTable('ip').includes(`${empty.clusterIP} . tcp . 80 : goto reject-chain`));
    const t0 = Date.now();
    const bodies = await bed.httpGets(bed.client, `http://${empty.clusterIP}/`, 3, 5000);
    assert.deepEqual(bodies, ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
    assert.ok(Date.now() - t0 < 4000, 'rejected, not timed out');
  });

  it('keeps a client on one endpoint with ClientIP affinity', async () => {
    const sticky = await service('sticky', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
    await endpoints('sticky', allPods);
    await until('the affinity sets', () => listTable('ip').includes('timeout 1m'));
    const bodies = await bed.httpGets(bed.client, `http://${sticky.clusterIP}/`, 20);
    assert.equal(new Set(bodies).size, 1, bodies.join(','));
    assert.ok(bodies[0]!.startsWith('pod-'));
  });

  it('sends internalTrafficPolicy Local traffic to this node\'s endpoints only', async () => {
    const local = await service('local', { internalTrafficPolicy: 'Local' });
    await endpoints('local', allPods);
    await until('the local chain', () => listTable('ip').includes(`${local.clusterIP} . tcp . 80 : goto local-`));
    const bodies = await bed.httpGets(bed.client, `http://${local.clusterIP}/`, 12);
    assert.deepEqual(new Set(bodies), new Set(['pod-a']));
  });

  it('sends externalTrafficPolicy Local node port traffic to this node\'s endpoints only', async () => {
    const etp = await service('etp', { type: 'NodePort', externalTrafficPolicy: 'Local' });
    await endpoints('etp', allPods);
    const nodePort = etp.ports![0]!.nodePort!;
    await until('the node port', () => listTable('ip').includes(`tcp . ${nodePort} : goto external-`));
    const bodies = await bed.httpGets(bed.client, `http://${bed.nodeClientIPv4}:${nodePort}/`, 12);
    assert.deepEqual(new Set(bodies), new Set(['pod-a']), bodies.join(','));
  });

  it('uses only ready endpoints, and follows endpoint changes', async () => {
    await client.patch(slicesRef, 'web-ipv4', {
      endpoints: allPods.map((p, i) => ({ addresses: [p.ip4], nodeName: p.node, conditions: { ready: i === 2 } })),
    }, 'merge');
    await until('one endpoint left', async () => {
      const bodies = await bed.httpGets(bed.client, `http://${web.clusterIP}/`, 10);
      return bodies.every((b) => b === 'pod-c');
    });
  });

  it('repairs a rule someone else removed', async () => {
    const chain = [...proxier.appliedState('IPv4')!.chains.keys()].find((c) => c.startsWith('service-') && c.includes('default/web/'))!;
    sh([...bed.nftCommand, 'flush', 'chain', 'ip', 'k8ts-proxy', chain]);
    assert.ok(!sh([...bed.nftCommand, 'list', 'chain', 'ip', 'k8ts-proxy', chain]).includes('numgen'));
    await until('the rule back', () => sh([...bed.nftCommand, 'list', 'chain', 'ip', 'k8ts-proxy', chain]).includes('numgen'));
  });

  it('removes the rules of a deleted service', async () => {
    await client.delete(svcRef, 'web');
    await until('the service gone from both tables', () => !listTable('ip').includes(`${web.clusterIPs![0]} . tcp`) && !listTable('ip6').includes(`${web.clusterIPs![1]} . tcp`));
    assert.ok(!listTable('ip').includes('default/web/'), 'no chain of the service left');
  });

  it('touches no table but its own', () => {
    const tables = sh([...bed.nftCommand, 'list', 'tables']).trim().split('\n').sort();
    assert.deepEqual(tables, ['table ip k8ts-proxy', 'table ip6 k8ts-proxy']);
  });
});

export type { KubeObject };
