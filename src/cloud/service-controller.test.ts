// The cloud service controller with the local provider against a real API server: LoadBalancer services
// get the ready nodes' InternalIPs as ingress and the cleanup finalizer; node changes update them; a type
// change or a delete removes the balancer, the status and the finalizer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import { ApiServer } from '../apiserver/api-server.js';
import { logger } from '../base/log.js';
import type { KubeObject } from '../client/index.js';
import { isStatus, RESTClient } from '../client/index.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { LocalCloudProvider } from './local-provider.js';
import { getCloudProvider } from './provider.js';
import { CloudServiceController, loadBalancerCleanupFinalizer } from './service-controller.js';
import { until } from '../../test/helpers/wait.js';

const svcRef = { group: '', version: 'v1', resource: 'services', namespace: 'default' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;
const stop = new AbortController();

async function node(name: string, ips: string[], ready = true): Promise<void> {
  await client.create(nodesRef, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  await client.patch(nodesRef, name, {
    status: {
      addresses: ips.map((address) => ({ type: 'InternalIP', address })),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  }, 'merge', { subresource: 'status' });
}

before(async () => {
  store = new SqliteStore({ path: ':memory:' });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}` });
  await node('n1', ['10.200.0.10', 'fd20::10']);
  await node('n2', ['10.200.0.11'], false);
  const controller = new CloudServiceController({ client, cloud: new LocalCloudProvider(), log: logger('cloud-test') });
  void controller.run(stop.signal);
});

after(async () => {
  stop.abort();
  client.close();
  await server.stop();
  await store.close();
});

const get = (name: string): Promise<Service & KubeObject> => client.get<Service & KubeObject>(svcRef, name);
const ingressIPs = (s: Service): string[] => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');

describe('cloud service controller (local provider)', () => {
  it('is registered under its name', () => {
    assert.equal(getCloudProvider('k8ts').providerName(), 'k8ts');
  });

  it('gives a LoadBalancer service the ready nodes\' addresses of its families, and the finalizer', async () => {
    await client.create(svcRef, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'lb' },
      spec: { type: 'LoadBalancer', ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80 }], selector: { app: 'x' } },
    });
    const s = await until('ingress', async () => {
      const cur = await get('lb');
      return ingressIPs(cur).length === 2 && cur;
    });
    assert.deepEqual(ingressIPs(s), ['10.200.0.10', 'fd20::10']);
    assert.equal(s.status?.loadBalancer?.ingress?.[0]?.ipMode, 'VIP');
    assert.ok(s.metadata?.finalizers?.includes(loadBalancerCleanupFinalizer));
  });

  it('follows the nodes', async () => {
    await client.patch(nodesRef, 'n2', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'strategic', { subresource: 'status' });
    await until('the second node in the ingress', async () => ingressIPs(await get('lb')).includes('10.200.0.11'));
  });

  it('leaves services with a loadBalancerClass alone', async () => {
    await client.create(svcRef, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'classy' },
      spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/other', ports: [{ port: 80 }] },
    });
    await new Promise((r) => setTimeout(r, 300));
    const s = await get('classy');
    assert.deepEqual(ingressIPs(s), []);
    assert.ok(!s.metadata?.finalizers?.includes(loadBalancerCleanupFinalizer));
  });

  it('removes the balancer when the type changes, and lets a deleted service go', async () => {
    await client.patch(svcRef, 'lb', { spec: { type: 'ClusterIP', externalTrafficPolicy: null, allocateLoadBalancerNodePorts: null, ports: [{ port: 80, nodePort: null }] } }, 'merge');
    await until('status and finalizer cleared', async () => {
      const s = await get('lb');
      return ingressIPs(s).length === 0 && !s.metadata?.finalizers?.includes(loadBalancerCleanupFinalizer);
    });
    await client.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb2' }, spec: { type: 'LoadBalancer', ports: [{ port: 81 }] } });
    await until('lb2 ingress', async () => ingressIPs(await get('lb2')).length > 0);
    await client.delete(svcRef, 'lb2');
    await until('lb2 gone', async () => {
      try {
        await get('lb2');
        return false;
      } catch (err) {
        return isStatus(err, 'NotFound');
      }
    });
  });
});
