// The node controllers inside `k8ts server`, through real kubectl, with the fake kubelet playing three
// nodes: dual-stack podCIDRs, a node whose heartbeats stop (tainted, its pods evicted and recreated on the
// others, the taints gone when it is back), cordon and uncordon, and drain against a PodDisruptionBudget.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadKubeconfig, RESTClient, StatusError } from '../../src/client/index.js';
import type { FakeNodes } from '../helpers/fake-kubelet.js';
import { fastNodeFlags, startFakeNodes } from '../helpers/fake-kubelet.js';
import { eventually } from '../helpers/eventually.js';
import type { KubectlResult } from '../helpers/kubectl.js';
import { kubectlAgainstServer } from '../helpers/kubectl.js';

const json = (r: KubectlResult): any => {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

for (const minor of [29, 33]) {
  describe(`node lifecycle with kubectl 1.${minor}`, () => {
    const { k, kubeconfig } = kubectlAgainstServer(minor, 'nodes', fastNodeFlags);
    let nodes: FakeNodes | undefined;
    after(async () => nodes?.stop());

    it('gives each node an IPv4 and an IPv6 pod range', async () => {
      nodes = await startFakeNodes(kubeconfig, ['n1', 'n2', 'n3'], { heartbeatMs: 500 });
      const cidrs = await eventually('podCIDRs on all nodes', async () => {
        const list = json(await k(['get', 'nodes', '-o', 'json'])).items as { metadata: { name: string }; spec: { podCIDR?: string; podCIDRs?: string[] } }[];
        return list.length === 3 && list.every((n) => n.spec.podCIDRs?.length === 2) ? list : undefined;
      });
      const all = cidrs.flatMap((n) => n.spec.podCIDRs!);
      assert.equal(new Set(all).size, 6, all.join(' '));
      for (const n of cidrs) {
        assert.match(n.spec.podCIDRs![0]!, /^10\.42\.\d+\.0\/24$/);
        assert.match(n.spec.podCIDRs![1]!, /^fd42:(?:0:0:[0-9a-f]+:)?:\/64$/);
        assert.equal(n.spec.podCIDR, n.spec.podCIDRs![0]);
      }
      const shown = await k(['get', 'node', 'n1', '-o', 'jsonpath={.spec.podCIDRs}']);
      assert.match(shown.stdout, /10\.42\./);
    });

    it('taints a silent node, evicts its pods to the others, and untaints it when it is back', async () => {
      assert.ok(nodes);
      assert.equal((await k(['create', 'deployment', 'web', '--image=busybox', '--replicas=6'])).code, 0);
      const status = await k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
      assert.equal(status.code, 0, status.stderr);
      const podsOn = async (): Promise<Map<string, string[]>> => {
        const list = json(await k(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items as {
          metadata: { name: string; deletionTimestamp?: string };
          spec: { nodeName?: string };
          status: { conditions?: { type: string; status: string }[] };
        }[];
        const m = new Map<string, string[]>();
        for (const p of list) {
          if (p.metadata.deletionTimestamp) continue;
          if (!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
          const n = p.spec.nodeName ?? '';
          m.set(n, [...(m.get(n) ?? []), p.metadata.name]);
        }
        return m;
      };
      const before = await eventually('pods on every node', async () => ((await podsOn()).size === 3 ? podsOn() : undefined));
      const victims = before.get('n2') ?? [];
      assert.ok(victims.length > 0);
      // The fake kubelet takes pod addresses from the node's ranges, as a network plugin would.
      const sample = json(await k(['get', 'pod', victims[0]!, '-o', 'json']));
      const ranges = json(await k(['get', 'node', 'n2', '-o', 'json'])).spec.podCIDRs as string[];
      assert.equal(sample.status.podIPs.length, 2);
      assert.equal(sample.status.podIPs[0].ip.split('.').slice(0, 3).join('.'), ranges[0]!.split('.').slice(0, 3).join('.'));
      assert.ok(sample.status.podIPs[1].ip.startsWith(ranges[1]!.replace(/::\/64$/, '::')), `${sample.status.podIPs[1].ip} in ${ranges[1]}`);

      nodes.stopHeartbeats('n2');
      const taints = await eventually('n2 tainted unreachable', async () => {
        const t = (await k(['get', 'node', 'n2', '-o', 'jsonpath={.spec.taints}'])).stdout;
        return /unreachable.*NoExecute/.test(t) && /unreachable.*NoSchedule|NoSchedule.*unreachable/.test(t) ? t : undefined;
      });
      assert.match(taints, /"timeAdded"/);
      const node = json(await k(['get', 'node', 'n2', '-o', 'json']));
      const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
      assert.equal(ready.status, 'Unknown');
      assert.equal(ready.reason, 'NodeStatusUnknown');
      assert.equal(ready.message, 'Kubelet stopped posting node status.');
      const described = await k(['get', 'nodes']);
      assert.match(described.stdout, /n2\s+NotReady/);

      // All six run on n1 and n3, the old ones are terminating on n2.
      await eventually('six ready pods on the healthy nodes', async () => {
        const m = await podsOn();
        const healthy = (m.get('n1')?.length ?? 0) + (m.get('n3')?.length ?? 0);
        return healthy === 6 ? true : undefined;
      });
      const victim = json(await k(['get', 'pod', victims[0]!, '-o', 'json']));
      assert.ok(victim.metadata.deletionTimestamp, 'evicted pod is terminating');
      const dt = victim.status.conditions.find((c: { type: string }) => c.type === 'DisruptionTarget');
      assert.equal(dt?.reason, 'DeletionByTaintManager');
      const podReady = victim.status.conditions.find((c: { type: string }) => c.type === 'Ready');
      assert.equal(podReady.status, 'False');
      const events = await k(['get', 'events', '--field-selector', `involvedObject.name=${victims[0]!}`, '-o', 'jsonpath={.items[*].reason}']);
      assert.match(events.stdout, /TaintManagerEviction/);
      assert.match(events.stdout, /NodeNotReady/);

      await nodes.resumeHeartbeats('n2');
      await eventually('n2 untainted and Ready', async () => {
        const n = json(await k(['get', 'node', 'n2', '-o', 'json']));
        const r = n.status.conditions.find((c: { type: string }) => c.type === 'Ready');
        return (n.spec.taints ?? []).length === 0 && r.status === 'True' ? true : undefined;
      });
      // Back, its kubelet finishes the deletions it missed.
      await eventually('the evicted pods gone', async () =>
        (await k(['get', 'pod', victims[0]!])).code === 1 ? true : undefined,
      );
    });

    it('cordons and uncordons with the unschedulable taint', async () => {
      const c = await k(['cordon', 'n3']);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, /node\/n3 cordoned/);
      await eventually('the unschedulable taint', async () =>
        /node\.kubernetes\.io\/unschedulable/.test((await k(['get', 'node', 'n3', '-o', 'jsonpath={.spec.taints}'])).stdout) ? true : undefined,
      );
      assert.match((await k(['get', 'nodes'])).stdout, /n3\s+Ready,SchedulingDisabled/);
      assert.equal((await k(['uncordon', 'n3'])).code, 0);
      await eventually('the taint gone', async () =>
        (await k(['get', 'node', 'n3', '-o', 'jsonpath={.spec.taints}'])).stdout === '' ? true : undefined,
      );
    });

    it('counts a percentage budget against the Deployment\'s scale', async () => {
      const r = await k(['create', 'pdb', 'web', '--selector=app=web', '--max-unavailable=50%']);
      assert.equal(r.code, 0, r.stderr);
      const st = await eventually('the budget counted', async () => {
        const s = json(await k(['get', 'pdb', 'web', '-o', 'json'])).status;
        return s?.observedGeneration === 1 && s.currentHealthy === 6 ? s : undefined;
      });
      assert.deepEqual([st.expectedPods, st.desiredHealthy, st.disruptionsAllowed], [6, 3, 3]);
      assert.deepEqual(
        st.conditions.map((c: { type: string; status: string; reason: string }) => [c.type, c.status, c.reason]),
        [['DisruptionAllowed', 'True', 'SufficientPods']],
      );
      assert.match((await k(['get', 'pdb', 'web'])).stdout, /web\s+N\/A\s+50%\s+3\s/);
      assert.equal((await k(['delete', 'pdb', 'web'])).code, 0);
    });

    it('drains a node through the eviction API, retrying while the PodDisruptionBudget says no', async () => {
      // Both pods of "db" on n1: cordon the others while they are placed.
      for (const n of ['n2', 'n3']) assert.equal((await k(['cordon', n])).code, 0);
      assert.equal((await k(['create', 'deployment', 'db', '--image=busybox', '--replicas=2'])).code, 0);
      assert.equal((await k(['rollout', 'status', 'deployment/db', '--timeout=60s'])).code, 0);
      const dbPods = json(await k(['get', 'pods', '-l', 'app=db', '-o', 'json'])).items as { metadata: { name: string }; spec: { nodeName: string } }[];
      assert.deepEqual(dbPods.map((p) => p.spec.nodeName), ['n1', 'n1']);
      for (const n of ['n2', 'n3']) assert.equal((await k(['uncordon', n])).code, 0);

      // minAvailable 2 of 2: nothing may go, and a direct eviction is refused as upstream refuses it.
      const pdb = await k(['create', 'poddisruptionbudget', 'db', '--selector=app=db', '--min-available=2']);
      assert.equal(pdb.code, 0, pdb.stderr);
      await eventually('the budget counted', async () => {
        const st = json(await k(['get', 'pdb', 'db', '-o', 'json'])).status;
        return st?.currentHealthy === 2 && st.observedGeneration === 1 ? st : undefined;
      });
      const client = new RESTClient({ ...loadKubeconfig(kubeconfig) });
      const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
      const victim = dbPods[0]!.metadata.name;
      const refused = await client
        .create(podsRef, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim, namespace: 'default' } }, { subresource: 'eviction', name: victim })
        .then(() => undefined, (err: unknown) => err);
      assert.ok(refused instanceof StatusError, String(refused));
      assert.equal(refused.status.code, 429);
      assert.equal(refused.status.reason, 'TooManyRequests');
      assert.equal(refused.status.message, "Cannot evict pod as it would violate the pod's disruption budget.");
      assert.deepEqual(refused.status.details?.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 2 healthy pods and has 2 currently' }]);
      const st = json(await k(['get', 'pdb', 'db', '-o', 'json'])).status;
      assert.equal(st.disruptionsAllowed, 0);
      assert.deepEqual(
        st.conditions.map((c: { type: string; status: string; reason: string }) => [c.type, c.status, c.reason]),
        [['DisruptionAllowed', 'False', 'InsufficientPods']],
      );

      // minAvailable 1: one at a time. drain evicts one, is refused the other until its replacement runs.
      assert.equal((await k(['patch', 'pdb', 'db', '--type=merge', '-p', '{"spec":{"minAvailable":1}}'])).code, 0);
      await eventually('one disruption allowed', async () =>
        json(await k(['get', 'pdb', 'db', '-o', 'json'])).status?.disruptionsAllowed === 1 ? true : undefined,
      );
      const drain = await k(['drain', 'n1', '--ignore-daemonsets', '--pod-selector=app=db', '--timeout=90s']);
      assert.equal(drain.code, 0, drain.stderr);
      assert.match(drain.stdout + drain.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
      assert.match(drain.stdout, /node\/n1 drained/);
      const after = json(await k(['get', 'pods', '-l', 'app=db', '-o', 'json'])).items as { metadata: { deletionTimestamp?: string }; spec: { nodeName: string } }[];
      const running = after.filter((p) => !p.metadata.deletionTimestamp);
      assert.equal(running.length, 2);
      assert.ok(running.every((p) => p.spec.nodeName !== 'n1'), running.map((p) => p.spec.nodeName).join(','));
      assert.equal((await k(['uncordon', 'n1'])).code, 0);
    });
  });
}
