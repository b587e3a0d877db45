// The EndpointSlice and Endpoints controllers against a real in-process API server, with the test
// kubelet stand-in binding pods and making them Ready with addresses of both families.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import { startFakeKubelet } from '../../../test/helpers/fake-kubelet.js';
import { ApiServer } from '../../apiserver/api-server.js';
import { logger } from '../../base/log.js';
import type { KubeObject } from '../../client/index.js';
import { EventRecorder, RESTClient, realClock } from '../../client/index.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { ControllerContext } from '../common/controller.js';
import { InformerFactory } from '../common/informer-factory.js';
import { EndpointsController } from '../endpoint/endpoints-controller.js';
import { EndpointSliceMirroringController, mirroringManagedBy } from '../endpointslicemirroring/mirroring-controller.js';
import { EndpointSliceController, managedByLabel, managedByValue, serviceNameLabel } from './endpointslice-controller.js';
import { until } from '../../../test/helpers/wait.js';

const ns = 'default';
const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: ns };
const svcRef = { group: '', version: 'v1', resource: 'services', namespace: ns };
const slicesRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: ns };
const epRef = { group: '', version: 'v1', resource: 'endpoints', namespace: ns };

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;
let dir: string;
let stopKubelet: () => Promise<void>;
const controllers = new AbortController();

before(async () => {
  store = new SqliteStore({ path: ':memory:' });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}`, qps: 1000, burst: 1000 });
  dir = mkdtempSync(path.join(tmpdir(), 'k8ts-eps-'));
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`,
  );
  // Terminating pods stay running (and serving) while a finalizer holds them, as within a grace period.
  stopKubelet = startFakeKubelet(kubeconfig, { bind: true, failDeletedPods: false });
  const informers = new InformerFactory(client);
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: (component) => new EventRecorder({ client, component }),
    log: logger('endpointslice-test'),
    clock: realClock,
  };
  const slices = new EndpointSliceController(ctx, { maxEndpointsPerSlice: 4 });
  const endpoints = new EndpointsController(ctx);
  const mirroring = new EndpointSliceMirroringController(ctx);
  informers.start(controllers.signal);
  void mirroring.run(controllers.signal);
  void slices.run(controllers.signal);
  void endpoints.run(controllers.signal);
});

after(async () => {
  controllers.abort();
  await stopKubelet();
  client.close();
  await server.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function pod(name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, ...((extra.metadata as object | undefined) ?? {}) },
    spec: {
      containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: (extra.port as number | undefined) ?? 8080 }] }],
      ...((extra.spec) ?? {}),
    },
  };
}

async function slicesOf(svc: string): Promise<(EndpointSlice & KubeObject)[]> {
  const list = await client.list<EndpointSlice & KubeObject>(slicesRef, { labelSelector: `${serviceNameLabel}=${svc}` });
  return list.items;
}

const addressesOf = (slices: EndpointSlice[], family: string): string[] =>
  slices.filter((s) => s.addressType === family).flatMap((s) => s.endpoints.flatMap((e) => e.addresses)).sort();

describe('endpointslice and endpoint controllers', () => {
  it('makes one slice per family with ready endpoints, named ports resolved, and the legacy Endpoints', async () => {
    await client.create(svcRef, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { team: 'a' } },
      spec: { selector: { app: 'web' }, ipFamilyPolicy: 'PreferDualStack', ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    for (let i = 0; i < 3; i++) await client.create(podsRef, pod(`web-${i}`, { app: 'web' }));
    const slices = await until('slices with three endpoints per family', async () => {
      const s = await slicesOf('web');
      return addressesOf(s, 'IPv4').length === 3 && addressesOf(s, 'IPv6').length === 3 && s;
    });
    for (const s of slices) {
      assert.equal(s.metadata?.labels?.[managedByLabel], managedByValue);
      assert.equal(s.metadata?.labels?.team, 'a');
      assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
      for (const e of s.endpoints) {
        assert.deepEqual(e.conditions, { ready: true, serving: true, terminating: false });
        assert.equal(e.nodeName, 'fake-node');
        assert.equal(e.targetRef?.kind, 'Pod');
      }
      assert.equal(s.metadata?.ownerReferences?.[0]?.kind, 'Service');
    }
    const ep = await until('endpoints with three addresses', async () => {
      const e = await client.get<Endpoints & KubeObject>(epRef, 'web');
      return e.subsets?.[0]?.addresses?.length === 3 && e;
    });
    assert.deepEqual(ep.subsets?.[0]?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.ok(ep.subsets?.[0]?.addresses?.every((a) => a.ip.startsWith('10.42.')));
  });

  it('moves a pod that is not ready to notReadyAddresses and ready=false, and back', async () => {
    const target = 'web-1';
    const setReady = (status: string): Promise<KubeObject> =>
      client.patch(podsRef, target, { status: { conditions: [{ type: 'Ready', status }] } }, 'strategic', { subresource: 'status' });
    await setReady('False');
    await until('the endpoint not ready', async () => {
      const s = await slicesOf('web');
      const e = s.flatMap((x) => x.endpoints).filter((x) => x.targetRef?.name === target);
      return e.length === 2 && e.every((x) => x.conditions?.ready === false && x.conditions.serving === false);
    });
    await until('notReadyAddresses in Endpoints', async () => {
      const e = await client.get<Endpoints & KubeObject>(epRef, 'web');
      return e.subsets?.[0]?.notReadyAddresses?.length === 1 && e.subsets[0].addresses?.length === 2;
    });
    await setReady('True');
    await until('the endpoint ready again', async () => {
      const s = await slicesOf('web');
      return s.flatMap((x) => x.endpoints).every((x) => x.conditions?.ready === true);
    });
  });

  it('keeps terminating pods as terminating, not ready, still serving', async () => {
    await client.create(podsRef, pod('web-term', { app: 'web' }, { metadata: { finalizers: ['test.k8ts.io/hold'] } }));
    await until('the new pod in the slices', async () => addressesOf(await slicesOf('web'), 'IPv4').length === 4);
    await client.delete(podsRef, 'web-term');
    await until('the terminating endpoint', async () => {
      const e = (await slicesOf('web')).flatMap((x) => x.endpoints).filter((x) => x.targetRef?.name === 'web-term');
      return e.length === 2 && e.every((x) => x.conditions?.terminating === true && x.conditions.ready === false && x.conditions.serving === true);
    });
    await until('Endpoints without the terminating pod', async () => {
      const e = await client.get<Endpoints & KubeObject>(epRef, 'web');
      return (e.subsets?.[0]?.addresses?.length ?? 0) === 3 && !e.subsets?.[0]?.notReadyAddresses;
    });
    await client.patch(podsRef, 'web-term', { metadata: { finalizers: null } }, 'merge');
    await until('the pod gone from the slices', async () => addressesOf(await slicesOf('web'), 'IPv4').length === 3);
  });

  it('splits endpoints into slices of at most the limit, and groups pods by resolved port', async () => {
    await client.create(svcRef, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'big' },
      spec: { selector: { app: 'big' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    for (let i = 0; i < 9; i++) await client.create(podsRef, pod(`big-${i}`, { app: 'big' }, { port: i < 7 ? 8080 : 9090 }));
    const slices = await until('nine endpoints', async () => {
      const s = await slicesOf('big');
      return addressesOf(s, 'IPv4').length === 9 && s;
    });
    assert.ok(slices.every((s) => s.endpoints.length <= 4 && s.addressType === 'IPv4'));
    const by8080 = slices.filter((s) => s.ports?.[0]?.port === 8080).flatMap((s) => s.endpoints);
    const by9090 = slices.filter((s) => s.ports?.[0]?.port === 9090).flatMap((s) => s.endpoints);
    assert.equal(by8080.length, 7);
    assert.equal(by9090.length, 2);
    const ep = await until('Endpoints with two subsets', async () => {
      const e = await client.get<Endpoints & KubeObject>(epRef, 'big');
      return e.subsets?.length === 2 && e;
    });
    assert.deepEqual(ep.subsets?.map((s) => s.addresses?.length).sort(), [2, 7]);
  });

  it('publishes not-ready pods as ready with publishNotReadyAddresses, and hostnames for a matching subdomain', async () => {
    await client.create(svcRef, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db' },
      spec: { selector: { app: 'db' }, clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ port: 5432 }] },
    });
    await client.create(podsRef, pod('db-0', { app: 'db' }, { spec: { hostname: 'db-0', subdomain: 'db' } }));
    await until('db-0 ready', async () => addressesOf(await slicesOf('db'), 'IPv4').length === 1);
    await client.patch(podsRef, 'db-0', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'strategic', { subresource: 'status' });
    const e = await until('db-0 published though not ready', async () => {
      const s = (await slicesOf('db')).flatMap((x) => x.endpoints);
      return s.length === 1 && s[0]!.conditions?.serving === false && s[0];
    });
    assert.equal(e.conditions?.ready, true);
    assert.equal(e.hostname, 'db-0');
    const slice = (await slicesOf('db'))[0]!;
    assert.equal(slice.metadata?.labels?.['service.kubernetes.io/headless'], '');
  });

  it('keeps one empty slice for a service without pods, repairs a deleted slice, and removes slices with the service', async () => {
    await client.create(svcRef, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'empty' },
      spec: { selector: { app: 'nothing' }, ports: [{ port: 80 }] },
    });
    const [placeholder] = await until('a placeholder slice', async () => {
      const s = await slicesOf('empty');
      return s.length === 1 && s;
    });
    assert.deepEqual(placeholder!.endpoints ?? [], []);
    const webSlices = await slicesOf('web');
    await client.delete(slicesRef, webSlices[0]!.metadata!.name!);
    await until('the deleted slice made again', async () => {
      const s = await slicesOf('web');
      return addressesOf(s, 'IPv4').length === 3 && addressesOf(s, 'IPv6').length === 3;
    });
    await client.delete(svcRef, 'empty');
    await until('the slices gone', async () => (await slicesOf('empty')).length === 0);
  });

  it('mirrors the Endpoints of a selectorless service into slices, per family, and removes them with it', async () => {
    await client.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside' }, spec: { ports: [{ name: 'db', port: 5432 }] } });
    await client.create(epRef, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'outside' },
      subsets: [{ addresses: [{ ip: '10.200.0.5' }, { ip: 'fd20::5' }], notReadyAddresses: [{ ip: '10.200.0.6' }], ports: [{ name: 'db', port: 5432, protocol: 'TCP' }] }],
    });
    const slices = await until('mirrored slices', async () => {
      const s = await slicesOf('outside');
      return s.length === 2 && s;
    });
    const v4 = slices.find((s) => s.addressType === 'IPv4')!;
    assert.equal(v4.metadata?.labels?.[managedByLabel], mirroringManagedBy);
    assert.deepEqual(v4.endpoints.map((e) => [e.addresses[0], e.conditions?.ready]), [['10.200.0.5', true], ['10.200.0.6', false]]);
    assert.deepEqual(v4.ports, [{ name: 'db', port: 5432, protocol: 'TCP' }]);
    assert.deepEqual(addressesOf(slices, 'IPv6'), ['fd20::5']);
    await client.delete(svcRef, 'outside');
    await until('mirrored slices gone', async () => (await slicesOf('outside')).length === 0);
  });
});
