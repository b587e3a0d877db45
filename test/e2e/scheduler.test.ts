// The scheduler inside `k8ts server`, seen through kubectl 1.32: nodes are plain Node objects (no kubelet),
// FailedScheduling in `kubectl describe`, a pending pod bound as soon as a node that fits is added,
// preemption, /metrics; and beside it a second scheduler (`k8ts scheduler` with its own profile) and the
// custom scheduler of docs/scheduler.md, each binding only its own pods.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { runMyScheduler } from '../examples/my-scheduler.js';
import { K8tsProcess } from '../helpers/k8ts-process.js';
import { kubectlAgainstServer } from '../helpers/kubectl.js';

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const node = (name: string, cpu: string, labels: Record<string, string> = {}): string => `
apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels: ${JSON.stringify({ 'kubernetes.io/hostname': name, ...labels })}
status:
  capacity: {cpu: "${cpu}", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "${cpu}", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---`;

const pod = (name: string, cpu: string, extra = ''): string => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  ${extra}
  containers: [{name: c, image: busybox, resources: {requests: {cpu: "${cpu}"}}}]
---`;

describe('scheduler in k8ts server, through kubectl', () => {
  const { k, kubeconfig } = kubectlAgainstServer(32, 'scheduler');
  const nodeOf = async (name: string): Promise<string | undefined> => {
    const r = await k(['get', 'pod', name, '-o', 'jsonpath={.spec.nodeName}']);
    return r.code === 0 && r.stdout !== '' ? r.stdout : undefined;
  };

  it('explains why a pod is pending in describe, and binds it once a node fits', async () => {
    assert.equal((await k(['apply', '-f', '-'], node('small-1', '1', { pool: 'small' }) + node('small-2', '1', { pool: 'small' }))).code, 0);
    assert.equal((await k(['apply', '-f', '-'], pod('big', '2', 'nodeSelector: {pool: small}'))).code, 0);
    // The scheduler records the event, then patches the condition (as upstream's handleSchedulingFailure
    // does): two requests, which may land in either order.
    const text = await eventually('FailedScheduling and PodScheduled=False in describe', async () => {
      const r = await k(['describe', 'pod', 'big']);
      return /FailedScheduling/.test(r.stdout) && /PodScheduled\s+False/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(text, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/2 nodes are available: 2 Insufficient cpu\. preemption: 0\/2 nodes are available: 2 No preemption victims found for incoming pod\./);
    assert.match(text, /PodScheduled\s+False/);
    assert.equal((await k(['apply', '-f', '-'], node('small-big', '4', { pool: 'small' }))).code, 0);
    // Bound on the node-add event, well before the five-minute retry of unschedulable pods.
    assert.equal(await eventually('big bound', () => nodeOf('big'), 15_000), 'small-big');
    const events = await k(['get', 'events', '--field-selector', 'involvedObject.name=big', '-o', 'jsonpath={range .items[*]}{.reason}:{.source.component}{"\\n"}{end}']);
    assert.match(events.stdout, /Scheduled:default-scheduler/);
  });

  it('preempts a lower-priority pod, nominating the node, and never the higher one', async () => {
    const classes = `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: batch}
value: 100
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: critical}
value: 100000
---`;
    assert.equal((await k(['apply', '-f', '-'], classes + node('solo', '1', { pool: 'solo' }))).code, 0);
    const onSolo = 'nodeSelector: {pool: solo}';
    assert.equal((await k(['apply', '-f', '-'], pod('filler', '800m', `${onSolo}\n  priorityClassName: batch`))).code, 0);
    assert.equal(await eventually('filler bound', () => nodeOf('filler')), 'solo');
    assert.equal((await k(['apply', '-f', '-'], pod('vip', '800m', `${onSolo}\n  priorityClassName: critical`))).code, 0);
    assert.equal((await k(['get', 'pod', 'vip', '-o', 'jsonpath={.spec.priority}'])).stdout, '100000');
    // Priority admission: the system classes exist, and an unknown class is refused.
    assert.equal((await k(['apply', '-f', '-'], pod('node-critical', '1m', 'priorityClassName: system-node-critical'))).code, 0);
    assert.equal((await k(['get', 'pod', 'node-critical', '-o', 'jsonpath={.spec.priority} {.spec.preemptionPolicy}'])).stdout, '2000001000 PreemptLowerPriority');
    const unknown = await k(['apply', '-f', '-'], pod('no-class', '1m', 'priorityClassName: gold'));
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /pods "no-class" is forbidden: no PriorityClass with name gold was found/);
    // No kubelet runs: once the scheduler has deleted the victim gracefully, finish the deletion as one would.
    await eventually('filler terminating', async () => ((await k(['get', 'pod', 'filler', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout !== '' ? true : undefined));
    assert.equal((await k(['get', 'pod', 'vip', '-o', 'jsonpath={.status.nominatedNodeName}'])).stdout, 'solo');
    assert.equal((await k(['delete', 'pod', 'filler', '--grace-period=0', '--force'])).code, 0);
    assert.equal(await eventually('vip bound', () => nodeOf('vip')), 'solo');
    // A lower-priority pod cannot push the critical one out.
    assert.equal((await k(['apply', '-f', '-'], pod('late', '800m', `${onSolo}\n  priorityClassName: batch`))).code, 0);
    const text = await eventually('late FailedScheduling', async () => {
      const r = await k(['describe', 'pod', 'late']);
      return /FailedScheduling/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(text, /0\/\d+ nodes are available: .*Insufficient cpu/);
    assert.equal((await k(['get', 'pod', 'vip', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout, '');
  });

  it('holds the kube-scheduler Lease and serves scheduler metrics on /metrics', async () => {
    const lease = await k(['get', 'lease', 'kube-scheduler', '-n', 'kube-system', '-o', 'jsonpath={.spec.holderIdentity}']);
    assert.equal(lease.code, 0, lease.stderr);
    assert.notEqual(lease.stdout, '');
    const r = await k(['get', '--raw', '/metrics']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} \d+/);
    assert.match(r.stdout, /scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"\} \d+/);
    assert.match(r.stdout, /scheduler_scheduling_attempt_duration_seconds_bucket\{result="scheduled",profile="default-scheduler",le="0.001"\} \d+/);
    assert.match(r.stdout, /scheduler_pending_pods\{queue="unschedulable"\} 1/);
  });

  it('runs beside a second scheduler and a custom one, each binding only its own pods', async () => {
    const dir = path.dirname(kubeconfig);
    const cfg = path.join(dir, 'second.yaml');
    writeFileSync(
      cfg,
      `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: second-scheduler
  plugins:
    score:
      disabled: [{name: ImageLocality}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
`,
    );
    const second = new K8tsProcess(['scheduler', '--kubeconfig', kubeconfig, '--config', cfg, '--metrics-port', '0']);
    const client = new RESTClient(loadKubeconfig(kubeconfig));
    const ac = new AbortController();
    const custom = runMyScheduler(client, ac.signal);
    try {
      const port = (await second.waitForLog(/"msg":"serving metrics","port":(\d+)/))[1];
      await second.waitForLog(/started scheduling/);
      const pods = ['default-scheduler', 'second-scheduler', 'my-scheduler', 'nobody'].map((s) => pod(`by-${s}`, '10m', `schedulerName: ${s}`)).join('');
      assert.equal((await k(['apply', '-f', '-'], pods)).code, 0);
      for (const s of ['default-scheduler', 'second-scheduler', 'my-scheduler']) {
        await eventually(`by-${s} bound`, () => nodeOf(`by-${s}`));
        const ev = await eventually(`by-${s} Scheduled event`, async () => {
          const r = await k(['get', 'events', '--field-selector', `involvedObject.name=by-${s},reason=Scheduled`, '-o', 'jsonpath={.items[*].source.component}']);
          return r.stdout !== '' ? r.stdout : undefined;
        });
        assert.equal(ev, s, `by-${s} was bound by ${ev}`);
      }
      assert.equal(await nodeOf('by-nobody'), undefined);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /scheduler_schedule_attempts_total\{result="scheduled",profile="second-scheduler"\} 1/);
    } finally {
      ac.abort();
      await custom;
      client.close();
      assert.equal(await second.stop(), 0);
      rmSync(cfg, { force: true });
    }
  });
});
