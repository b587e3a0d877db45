// The DaemonSet controller inside `k8ts server`, through real kubectl, with the fake kubelet playing the
// nodes: a DaemonSet follows nodes as they join, leave and get tainted, keeps its pods on a node that
// stops answering (its automatic tolerations), and rolls out a new template node by node.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FakeNodes } from '../helpers/fake-kubelet.js';
import { fastNodeFlags, startFakeNodes } from '../helpers/fake-kubelet.js';
import { eventually } from '../helpers/eventually.js';
import type { KubectlResult } from '../helpers/kubectl.js';
import { kubectlAgainstServer } from '../helpers/kubectl.js';

const json = (r: KubectlResult): any => {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

interface PodView {
  metadata: { name: string; deletionTimestamp?: string; labels: Record<string, string> };
  spec: { nodeName?: string; tolerations?: { key?: string; effect?: string }[]; affinity?: any };
}

const daemonSet = (image: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: ${image}}]
`;

for (const minor of [29, 33]) {
  describe(`DaemonSets with kubectl 1.${minor}`, () => {
    const { k, kubeconfig } = kubectlAgainstServer(minor, 'daemonset', fastNodeFlags);
    let nodes: FakeNodes | undefined;
    after(async () => nodes?.stop());

    const pods = async (): Promise<PodView[]> =>
      (json(await k(['get', 'pods', '-l', 'app=agent', '-o', 'json'])).items as PodView[]).filter((p) => !p.metadata.deletionTimestamp);
    const podNodes = async (): Promise<string> =>
      (await pods())
        .map((p) => p.spec.nodeName ?? '?')
        .sort()
        .join(',');
    const waitNodes = (want: string): Promise<true> =>
      eventually(`daemon pods on ${want}`, async () => ((await podNodes()) === want ? true : undefined));

    it('runs one pod per node, pinned by node affinity, with the automatic tolerations', async () => {
      nodes = await startFakeNodes(kubeconfig, ['n1', 'n2'], { heartbeatMs: 500 });
      assert.equal((await k(['apply', '-f', '-'], daemonSet('busybox:1.36'))).code, 0);
      const status = await k(['rollout', 'status', 'ds/agent', '--timeout=60s']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /daemon set "agent" successfully rolled out/);
      await waitNodes('n1,n2');
      const pod = (await pods())[0]!;
      const terms = pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
      assert.deepEqual(terms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [pod.spec.nodeName] }] }]);
      const tolerated = (pod.spec.tolerations ?? []).map((t) => `${t.key}:${t.effect}`);
      for (const t of ['not-ready:NoExecute', 'unreachable:NoExecute', 'disk-pressure:NoSchedule', 'memory-pressure:NoSchedule', 'pid-pressure:NoSchedule', 'unschedulable:NoSchedule']) {
        assert.ok(tolerated.includes(`node.kubernetes.io/${t}`), `${t} in ${tolerated.join(' ')}`);
      }
      assert.ok(pod.metadata.labels['controller-revision-hash']);
      const st = json(await k(['get', 'ds', 'agent', '-o', 'json'])).status;
      assert.equal(st.desiredNumberScheduled, 2);
      assert.equal(st.currentNumberScheduled, 2);
      assert.equal(st.numberReady, 2);
      assert.equal(st.updatedNumberScheduled, 2);
      assert.equal(st.numberAvailable, 2);
      assert.equal(st.numberMisscheduled, 0);
    });

    it('follows nodes as they join, get tainted and leave', async () => {
      assert.ok(nodes);
      await nodes.addNode('n3');
      await waitNodes('n1,n2,n3');
      // A NoSchedule taint the pod does not tolerate: the pod may stay but counts as misscheduled.
      assert.equal((await k(['taint', 'nodes', 'n3', 'dedicated=db:NoSchedule'])).code, 0);
      await eventually('misscheduled 1', async () => {
        const st = json(await k(['get', 'ds', 'agent', '-o', 'json'])).status;
        return st.numberMisscheduled === 1 && st.desiredNumberScheduled === 2 ? true : undefined;
      });
      assert.equal(await podNodes(), 'n1,n2,n3');
      // NoExecute: the pod goes.
      assert.equal((await k(['taint', 'nodes', 'n3', 'dedicated=db:NoExecute'])).code, 0);
      await waitNodes('n1,n2');
      assert.equal((await k(['taint', 'nodes', 'n3', 'dedicated-'])).code, 0);
      await waitNodes('n1,n2,n3');
      await nodes.removeNode('n2');
      await waitNodes('n1,n3');
    });

    it('keeps its pod on a node that stopped answering, where other pods are evicted', async () => {
      assert.ok(nodes);
      const run = await k(['run', 'plain', '--image=busybox', '--overrides={"spec":{"nodeName":"n1"}}']);
      assert.equal(run.code, 0, run.stderr);
      await eventually('plain running', async () => ((await k(['get', 'pod', 'plain', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running' ? true : undefined));
      nodes.stopHeartbeats('n1');
      await eventually('the plain pod evicted', async () =>
        (await k(['get', 'pod', 'plain', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout !== '' ? true : undefined,
      );
      assert.equal(await podNodes(), 'n1,n3');
      await nodes.resumeHeartbeats('n1');
    });

    it('replaces a failed daemon pod', async () => {
      const onN3 = (await pods()).find((p) => p.spec.nodeName === 'n3')!;
      const failed = await k(['patch', 'pod', onN3.metadata.name, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Failed"}}']);
      assert.equal(failed.code, 0, failed.stderr);
      await eventually('a new pod on n3', async () => {
        const now = (await pods()).filter((p) => p.spec.nodeName === 'n3');
        return now.length === 1 && now[0]!.metadata.name !== onN3.metadata.name ? true : undefined;
      });
      const events = await k(['get', 'events', '--field-selector', 'involvedObject.name=agent', '-o', 'jsonpath={.items[*].reason}']);
      assert.match(events.stdout, /FailedDaemonPod/);
    });

    it('releases a pod relabelled out of its selector and replaces it', async () => {
      const onN1 = (await pods()).find((p) => p.spec.nodeName === 'n1')!;
      assert.equal((await k(['label', 'pod', onN1.metadata.name, 'app=stray', '--overwrite'])).code, 0);
      await eventually('the stray pod released', async () =>
        (json(await k(['get', 'pod', onN1.metadata.name, '-o', 'json'])).metadata.ownerReferences ?? []).length === 0 ? true : undefined,
      );
      await waitNodes('n1,n3');
      assert.equal((await k(['delete', 'pod', onN1.metadata.name, '--wait=false'])).code, 0);
    });

    it('rolls out a new template node by node, with history', async () => {
      assert.equal((await k(['apply', '-f', '-'], daemonSet('busybox:1.37'))).code, 0);
      const status = await k(['rollout', 'status', 'ds/agent', '--timeout=60s']);
      assert.equal(status.code, 0, status.stderr);
      const images = (await pods()).map((p) => JSON.stringify(p)).join('\n');
      assert.doesNotMatch(images, /busybox:1\.36/);
      const history = await k(['rollout', 'history', 'ds/agent']);
      assert.equal(history.code, 0, history.stderr);
      assert.match(history.stdout, /^1\s/m);
      assert.match(history.stdout, /^2\s/m);
      const revisions = json(await k(['get', 'controllerrevisions', '-o', 'json'])).items as { metadata: { name: string } }[];
      assert.equal(revisions.length, 2);
      assert.ok(revisions.every((r) => r.metadata.name.startsWith('agent-')));
      const undo = await k(['rollout', 'undo', 'ds/agent']);
      assert.equal(undo.code, 0, undo.stderr);
      assert.equal((await k(['rollout', 'status', 'ds/agent', '--timeout=60s'])).code, 0);
      const image = await k(['get', 'ds', 'agent', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
      assert.equal(image.stdout, 'busybox:1.36');
      await eventually('old-template pods again', async () => {
        const ps = await pods();
        return ps.length === 2 && ps.every((p) => JSON.stringify(p).includes('busybox:1.36')) ? true : undefined;
      });
      // With maxSurge the new pod starts beside the old one before the old one goes.
      const surge = daemonSet('busybox:1.38').replace('rollingUpdate: {maxUnavailable: 1}', 'rollingUpdate: {maxSurge: 1, maxUnavailable: 0}');
      assert.equal((await k(['apply', '-f', '-'], surge)).code, 0);
      const surged = await k(['rollout', 'status', 'ds/agent', '--timeout=60s']);
      assert.equal(surged.code, 0, surged.stderr);
      await eventually('new-template pods only', async () => {
        const ps = await pods();
        return ps.length === 2 && ps.every((p) => JSON.stringify(p).includes('busybox:1.38')) ? true : undefined;
      });

      // OnDelete: a new template replaces nothing until a pod is deleted.
      const onDelete = daemonSet('busybox:1.39').replace('{type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}', '{type: OnDelete}');
      assert.equal((await k(['apply', '-f', '-'], onDelete)).code, 0);
      const synced = await eventually('the new template seen', async () => {
        const ds = json(await k(['get', 'ds', 'agent', '-o', 'json']));
        return ds.status.observedGeneration === ds.metadata.generation ? ds.status : undefined;
      });
      assert.equal(synced.updatedNumberScheduled ?? 0, 0);
      const old = (await pods())[0]!;
      assert.equal((await k(['delete', 'pod', old.metadata.name, '--wait=false'])).code, 0);
      await eventually('one pod of the new template', async () => {
        const ps = await pods();
        return ps.length === 2 && ps.filter((p) => JSON.stringify(p).includes('busybox:1.39')).length === 1 ? true : undefined;
      });
    });
  });
}
