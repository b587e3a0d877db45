// Joining and scale: `k8ts agent --server --token --simulate-nodes 1000` joins a thousand simulated nodes
// to a `k8ts server`; they stay Ready with renewed leases, and a deployment spreads over them. A token whose
// CA hash does not match the server's is refused before any secret is sent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import type { Kube } from '../../src/kubelet/api-types.js';
import { K8tsProcess, runK8ts } from '../helpers/k8ts-process.js';
import { eventually as waitFor } from '../helpers/eventually.js';
import { kubectl, kubectlPath } from '../helpers/kubectl.js';
import { spreadDeployment } from '../helpers/manifests.js';

const nodeCount = 1000;


const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> => waitFor(what, () => fn().catch(() => undefined), timeoutMs);

describe(`k8ts agent with ${nodeCount} simulated nodes`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-fleet-'));
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  let server: K8tsProcess;
  let agent: K8tsProcess;
  let client: RESTClient;
  let url = '';
  let token = '';
  const k = (args: string[], stdin?: string): ReturnType<typeof kubectl> => kubectl(kubectlPath(33), kubeconfig, args, stdin);
  const readyCount = (nodes: Node[]): number => nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;

  before(async () => {
    server = new K8tsProcess(['server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1', '--datastore-endpoint', 'memory://']);
    const m = await server.waitForLog(/"msg":"API server ready","port":(\d+)/);
    url = `https://127.0.0.1:${m[1]}`;
    const t = await runK8ts(['token', 'create', '--data-dir', dir]);
    assert.equal(t.code, 0, t.stderr);
    token = t.stdout.trim();
    client = new RESTClient({ ...loadKubeconfig(kubeconfig), qps: 500, burst: 500 });
  });
  after(async () => {
    client.close();
    if (agent) assert.equal(await agent.stop(), 0);
    assert.equal(await server.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a token whose CA hash is not the server CA', async () => {
    const bad = token.replace(/^K10[0-9a-f]{4}/, 'K100000');
    const r = await runK8ts(['agent', '--server', url, '--token', bad, '--simulate-nodes', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /token CA hash does not match the Cluster CA certificate hash/);
  });

  it('registers every node Ready, with leases that keep being renewed', async () => {
    assert.match(token, /^K10[0-9a-f]{64}::server:[0-9a-f]+$/);
    agent = new K8tsProcess(['agent', '--server', url, '--token', token, '--simulate-nodes', String(nodeCount), '--simulated-node-prefix', 'kwok']);
    await eventually(`${nodeCount} Ready nodes`, async () => {
      const nodes = (await client.list<Kube<Node>>({ group: '', version: 'v1', resource: 'nodes' })).items;
      return readyCount(nodes) === nodeCount ? true : undefined;
    });
    const got = await k(['get', 'nodes', '--no-headers']);
    assert.equal((got.stdout.match(/ Ready /g) ?? []).length, nodeCount);
    // Every lease is renewed within its 10 s interval (plus slack for a loaded machine).
    const firstSeen = Date.now();
    await new Promise((r) => setTimeout(r, 12_000));
    const leases = (await client.list<Kube<Lease>>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' })).items;
    assert.equal(leases.length, nodeCount);
    const ages = leases.map((l) => Date.now() - Date.parse(l.spec?.renewTime ?? '')).sort((a, b) => a - b);
    const stale = leases.filter((l) => Date.parse(l.spec?.renewTime ?? '') < firstSeen - 5000);
    assert.equal(stale.length, 0, `stale leases: ${stale.length}, ages p50 ${ages[500]} ms, max ${ages.at(-1)} ms`);
  });

  it('spreads a deployment over the nodes and runs every pod', async () => {
    {
      // The scheduler binds; a hard spread over hostnames puts each pod on a node of its own.
      assert.equal((await k(['apply', '-f', '-'], spreadDeployment('spread', 100))).code, 0);
      const pods = await eventually('100 Running pods', async () => {
        const list = (await client.list<Kube<Pod>>({ group: '', version: 'v1', resource: 'pods', namespace: 'default' }, { labelSelector: 'app=spread' })).items;
        return list.length === 100 && list.every((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? list : undefined;
      });
      assert.equal(new Set(pods.map((p) => p.spec?.nodeName)).size, 100);
      const r = await k(['rollout', 'status', 'deployment/spread', '--timeout=60s']);
      assert.equal(r.code, 0, r.stderr);
    }
  });
});
