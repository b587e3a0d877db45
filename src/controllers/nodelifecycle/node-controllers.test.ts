// The node IPAM and node lifecycle controllers against a real in-process API server, with the test writing
// Nodes and Leases as kubelets would: ranges taken over from existing nodes, released on delete, and
// refused when exhausted; a lone silent node marked Unknown but not given the NoExecute taint (every zone
// down means the fault is likely ours, "master disruption mode"), which it gets once another node is Ready.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// Integration tests run against a real API server; the layer rule is for product code, not its tests.
import { ApiServer } from '../../apiserver/api-server.js';
import { logger } from '../../base/log.js';
import type { KubeObject } from '../../client/index.js';
import { EventRecorder, realClock, RESTClient } from '../../client/index.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { ControllerConfig, ControllerContext } from '../common/controller.js';
import { InformerFactory } from '../common/informer-factory.js';
import { NodeIpamController } from '../nodeipam/node-ipam-controller.js';
import { NodeLifecycleController } from './node-lifecycle-controller.js';

const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const leasesRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;

before(async () => {
  store = new SqliteStore({ path: ':memory:' });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  client = new RESTClient({ server: `http://127.0.0.1:${await server.start()}` });
});

after(async () => {
  client.close();
  await server.stop();
  await store.close();
});

function context(config: ControllerConfig): { ctx: ControllerContext; informers: InformerFactory } {
  const informers = new InformerFactory(client);
  return {
    informers,
    ctx: { client, informers, recorder: (component) => new EventRecorder({ client, component }), log: logger('node-test'), clock: realClock, config },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface NodeView extends KubeObject {
  spec?: { podCIDRs?: string[]; taints?: { key: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

const getNode = (name: string): Promise<NodeView> => client.get<NodeView>(nodesRef, name);
const stamp = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

async function createNode(name: string, spec: Record<string, unknown> = {}, ready = true): Promise<void> {
  const t = stamp();
  await client.create(nodesRef, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec,
    ...(ready ? { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: t, lastTransitionTime: t }] } } : {}),
  });
}

async function renewLease(name: string): Promise<void> {
  const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') };
  try {
    await client.patch(leasesRef, name, { spec }, 'merge');
  } catch {
    await client.create(leasesRef, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec });
  }
}

describe('node IPAM controller', () => {
  it('keeps the ranges nodes already have, hands out the rest, refuses when none is left, and reuses released ones', async () => {
    await createNode('ipam-a', { podCIDRs: ['10.42.0.0/24'] });
    const { ctx, informers } = context({ clusterCIDRs: ['10.42.0.0/23'], nodeCIDRMaskSizeIPv4: 24 });
    const controller = new NodeIpamController(ctx);
    const ac = new AbortController();
    informers.start(ac.signal);
    const running = controller.run(ac.signal);
    try {
      await createNode('ipam-b');
      const b = await until('b to get a range', async () => (await getNode('ipam-b')).spec?.podCIDRs);
      assert.deepEqual(b, ['10.42.1.0/24']);
      await createNode('ipam-c');
      await until('the CIDRNotAvailable event', async () => {
        const events = await client.list({ group: '', version: 'v1', resource: 'events', namespace: 'default' }, { fieldSelector: 'involvedObject.name=ipam-c' });
        return events.items.some((e) => e.reason === 'CIDRNotAvailable') ? true : undefined;
      });
      assert.equal((await getNode('ipam-c')).spec?.podCIDRs, undefined);
      await client.delete(nodesRef, 'ipam-b');
      const c = await until('c to get b\'s range', async () => (await getNode('ipam-c')).spec?.podCIDRs, 20_000);
      assert.deepEqual(c, ['10.42.1.0/24']);
    } finally {
      ac.abort();
      await running;
      for (const n of ['ipam-a', 'ipam-c']) await client.delete(nodesRef, n).catch(() => undefined);
    }
  });
});

describe('node lifecycle controller', () => {
  it('marks a lone silent node Unknown without evicting (disruption mode), and taints it once another node is Ready', async () => {
    const { ctx, informers } = context({ nodeMonitorGracePeriodMs: 2000, nodeMonitorPeriodMs: 100, nodeEvictionRate: 100 });
    await createNode('life-a');
    await renewLease('life-a');
    const controller = new NodeLifecycleController(ctx);
    const ac = new AbortController();
    informers.start(ac.signal);
    const running = controller.run(ac.signal);
    try {
      const a = await until('life-a Unknown', async () => {
        const n = await getNode('life-a');
        return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown' ? n : undefined;
      });
      const r = a.status!.conditions!.find((c) => c.type === 'Ready')!;
      assert.equal(r.reason, 'NodeStatusUnknown');
      assert.equal(r.message, 'Kubelet stopped posting node status.');
      // Conditions the kubelet never posted are added as never updated.
      const mem = a.status!.conditions!.find((c) => c.type === 'MemoryPressure')!;
      assert.deepEqual([mem.status, mem.reason, mem.message], ['Unknown', 'NodeStatusNeverUpdated', 'Kubelet never posted node status.']);
      const taints = await until('the NoSchedule taint', async () => {
        const t = (await getNode('life-a')).spec?.taints ?? [];
        return t.length > 0 ? t : undefined;
      });
      assert.deepEqual(taints.map((t) => `${t.key}:${t.effect}`), ['node.kubernetes.io/unreachable:NoSchedule']);
      // Every node of every zone is down: no NoExecute taint, however long we wait for one.
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(!(await getNode('life-a')).spec?.taints?.some((t) => t.effect === 'NoExecute'));

      await createNode('life-b');
      const beat = setInterval(() => void renewLease('life-b').catch(() => undefined), 200);
      try {
        await until('life-a tainted NoExecute', async () =>
          (await getNode('life-a')).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? true : undefined,
        );
        assert.ok(!(await getNode('life-b')).spec?.taints?.some((t) => t.effect === 'NoExecute'), 'the live node is not tainted');
      } finally {
        clearInterval(beat);
      }
    } finally {
      ac.abort();
      await running;
    }
  });
});
