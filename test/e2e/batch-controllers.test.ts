// Jobs, CronJobs, TTL-after-finished and StatefulSets inside `k8ts server`, through real kubectl 1.33 and
// 1.29 against one server. The fake kubelet runs the pods: a container command ending in `exit N` finishes
// with that code, anything else keeps running and becomes Ready.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeKubelet } from '../helpers/fake-kubelet.js';
import { kubectl, kubectlAgainstServer, kubectlPath } from '../helpers/kubectl.js';

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('batch controllers and StatefulSets through kubectl', () => {
  const { k, kubeconfig } = kubectlAgainstServer(33, 'batch');
  const k29 = (args: string[], stdin?: string) => kubectl(kubectlPath(29), kubeconfig, args, stdin);
  let stopKubelet: (() => Promise<void>) | undefined;
  before(() => {
    stopKubelet = startFakeKubelet(kubeconfig);
  });
  after(async () => stopKubelet?.());

  it('create job, then wait --for=condition=complete (1.33)', async () => {
    const c = await k(['create', 'job', 'pi', '--image=busybox', '--', 'sh', '-c', 'exit 0']);
    assert.equal(c.code, 0, c.stderr);
    const w = await k(['wait', '--for=condition=complete', 'job/pi', '--timeout=60s']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout.trim(), 'job.batch/pi condition met');
    const row = (await k(['get', 'job', 'pi', '--no-headers'])).stdout;
    assert.match(row, /^pi\s+Complete\s+1\/1\s+/);
  });

  it('runs an Indexed Job to completedIndexes 0-2 (1.29)', async () => {
    const job = `apiVersion: batch/v1
kind: Job
metadata: {name: idx}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [sh, -c, "exit 0"]}]
`;
    assert.equal((await k29(['apply', '-f', '-'], job)).code, 0);
    const w = await k29(['wait', '--for=condition=complete', 'job/idx', '--timeout=60s']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal((await k29(['get', 'job', 'idx', '-o', 'jsonpath={.status.completedIndexes}'])).stdout, '0-2');
    const indexes = (await k29(['get', 'pods', '-l', 'batch.kubernetes.io/job-name=idx', '-o', 'jsonpath={.items[*].metadata.labels.batch\\.kubernetes\\.io/job-completion-index}'])).stdout;
    assert.deepEqual(indexes.split(' ').sort(), ['0', '1', '2']);
  });

  it('fails a Job at its backoff limit, and the TTL controller removes a finished one', async () => {
    const job = `apiVersion: batch/v1
kind: Job
metadata: {name: doomed}
spec:
  backoffLimit: 0
  ttlSecondsAfterFinished: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [sh, -c, "exit 1"]}]
`;
    assert.equal((await k(['apply', '-f', '-'], job)).code, 0);
    // The Failed condition is set and the Job deleted at once (TTL 0): watch for either.
    const seen = await eventually('the Job to fail and go', async () => {
      const r = await k(['get', 'job', 'doomed', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}']);
      if (r.code !== 0 && /NotFound/.test(r.stderr)) return 'gone';
      return undefined;
    });
    assert.equal(seen, 'gone');
    await eventually('the BackoffLimitExceeded event', async () => {
      const events = (await k(['get', 'events', '--field-selector', 'involvedObject.name=doomed', '-o', 'jsonpath={.items[*].reason}'])).stdout;
      return /BackoffLimitExceeded/.test(events) ? true : undefined;
    });
  });

  it('create job --from=cronjob/x makes a Job from the CronJob template (1.33)', async () => {
    assert.equal((await k(['create', 'cronjob', 'hello', '--image=busybox', '--schedule=0 0 1 1 *', '--', 'sh', '-c', 'exit 0'])).code, 0);
    const c = await k(['create', 'job', 'hello-manual', '--from=cronjob/hello']);
    assert.equal(c.code, 0, c.stderr);
    const w = await k(['wait', '--for=condition=complete', 'job/hello-manual', '--timeout=60s']);
    assert.equal(w.code, 0, w.stderr);
    const owner = (await k(['get', 'job', 'hello-manual', '-o', 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}'])).stdout;
    assert.equal(owner, 'CronJob/manual');
  });

  for (const [minor, run] of [
    [33, k],
    [29, k29],
  ] as const) {
    it(`StatefulSet: rollout status, scale in order, set image, history and undo (kubectl 1.${minor})`, async () => {
      const name = `web${minor}`;
      const sts = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ${name}}
spec:
  replicas: 3
  serviceName: ${name}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: "nginx:1"}]
`;
      assert.equal((await run(['apply', '-f', '-'], sts)).code, 0);
      const st = await run(['rollout', 'status', `sts/${name}`, '--timeout=60s']);
      assert.equal(st.code, 0, st.stderr);
      // The defaulted RollingUpdate has partition 0, so kubectl reports a partitioned roll out, as upstream's.
      assert.match(st.stdout, /partitioned roll out complete: 3 new pods have been updated\.\.\.\n$/);
      const pods = (await run(['get', 'pods', '-l', `app=${name}`, '-o', 'name'])).stdout.trim().split('\n').sort();
      assert.deepEqual(pods, [`pod/${name}-0`, `pod/${name}-1`, `pod/${name}-2`]);

      assert.equal((await run(['set', 'image', `sts/${name}`, 'c=nginx:2'])).code, 0);
      const st2 = await run(['rollout', 'status', `sts/${name}`, '--timeout=60s']);
      assert.equal(st2.code, 0, st2.stderr);
      const images = (await run(['get', 'pods', '-l', `app=${name}`, '-o', 'jsonpath={.items[*].spec.containers[0].image}'])).stdout;
      assert.equal(images, 'nginx:2 nginx:2 nginx:2');
      const hist = await run(['rollout', 'history', `sts/${name}`]);
      assert.equal(hist.code, 0, hist.stderr);
      assert.match(hist.stdout, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
      const undo = await run(['rollout', 'undo', `sts/${name}`]);
      assert.equal(undo.code, 0, undo.stderr);
      assert.equal((await run(['rollout', 'status', `sts/${name}`, '--timeout=60s'])).code, 0);
      assert.equal((await run(['get', 'sts', name, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).stdout, 'nginx:1');

      if (minor === 33) {
        // rollout restart stamps the template: a new revision, every pod replaced.
        const uid0 = (await run(['get', 'pod', `${name}-0`, '-o', 'jsonpath={.metadata.uid}'])).stdout;
        assert.equal((await run(['rollout', 'restart', `sts/${name}`])).code, 0);
        assert.equal((await run(['rollout', 'status', `sts/${name}`, '--timeout=60s'])).code, 0);
        await eventually('web-0 replaced', async () => {
          const uid = (await run(['get', 'pod', `${name}-0`, '-o', 'jsonpath={.metadata.uid}'])).stdout;
          return uid !== '' && uid !== uid0 ? true : undefined;
        });
      }

      // A partition keeps the lower ordinals at the old template.
      const part = await run(['patch', `sts/${name}`, '--type=merge', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}']);
      assert.equal(part.code, 0, part.stderr);
      assert.equal((await run(['set', 'image', `sts/${name}`, 'c=nginx:3'])).code, 0);
      const st3 = await run(['rollout', 'status', `sts/${name}`, '--timeout=60s']);
      assert.equal(st3.code, 0, st3.stderr);
      assert.match(st3.stdout, /partitioned roll out complete: 1 new pods have been updated\.\.\.\n$/);
      const byPod = (await run(['get', 'pods', '-l', `app=${name}`, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.containers[0].image} {end}'])).stdout.trim();
      assert.equal(byPod, `${name}-0=nginx:1 ${name}-1=nginx:1 ${name}-2=nginx:3`);

      assert.equal((await run(['scale', `sts/${name}`, '--replicas=1'])).code, 0);
      await eventually('one pod left', async () => {
        const left = (await run(['get', 'pods', '-l', `app=${name}`, '-o', 'name'])).stdout.trim();
        return left === `pod/${name}-0` ? true : undefined;
      });
      const row = (await run(['get', 'sts', name, '--no-headers'])).stdout;
      assert.match(row, new RegExp(`^${name}\\s+1/1\\s+`));
    });
  }
});
