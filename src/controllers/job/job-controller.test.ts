// The Job controller against a real in-process API server, with the fake kubelet finishing pods whose
// command ends in `exit N`. Batching and the pod failure backoff are shortened so that the suite is quick.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../client/index.js';
import { SharedInformer } from '../../client/index.js';
import { startFakeKubelet } from '../../../test/helpers/fake-kubelet.js';
import { until, useApiServer } from '../../../test/helpers/controller-harness.js';
import type { Pod } from '../replicaset/pod.js';
import type { Job } from './job-controller.js';
import { JobController, jobTrackingFinalizer } from './job-controller.js';

const api = useApiServer();
const jobsRef = (namespace: string) => ({ group: 'batch', version: 'v1', resource: 'jobs', namespace });
const podsRef = (namespace: string) => ({ group: '', version: 'v1', resource: 'pods', namespace });

const ac = new AbortController();
let stopKubelet: () => Promise<void>;
/** The most pods of each job seen active at once, from a watch. */
const maxActive = new Map<string, number>();
let podWatch: SharedInformer<Pod>;

function jobObject(name: string, spec: Record<string, unknown>, command = ['sh', '-c', 'exit 0']): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command }] } },
    },
  };
}

async function finished(ns: string, name: string, type: 'Complete' | 'Failed'): Promise<Job> {
  return until(`job ${ns}/${name} ${type}`, async () => {
    const job = await api.client.get<Job>(jobsRef(ns), name);
    return job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ? job : undefined;
  });
}

const conditionTypes = (job: Job): string[] => (job.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason ?? ''}`);

describe('Job controller', () => {
  before(async () => {
    stopKubelet = startFakeKubelet(api.client);
    const ctx = api.context(undefined, 'job-test');
    const controller = new JobController(ctx, { syncBatchMs: 50, podFailureBackoffMs: 300 });
    ctx.informers.start(ac.signal);
    void controller.run(ac.signal);
    podWatch = SharedInformer.forResource<Pod>(api.client, { group: '', version: 'v1', resource: 'pods' });
    const track = (): void => {
      const counts = new Map<string, number>();
      for (const p of podWatch.lister.list()) {
        const phase = p.status?.phase;
        if (p.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') continue;
        const job = `${p.metadata?.namespace}/${p.metadata?.labels?.['batch.kubernetes.io/job-name'] ?? ''}`;
        counts.set(job, (counts.get(job) ?? 0) + 1);
      }
      for (const [k, v] of counts) maxActive.set(k, Math.max(maxActive.get(k) ?? 0, v));
    };
    podWatch.addEventHandler({ onAdd: track, onUpdate: track });
    podWatch.start();
    await podWatch.waitForSync();
  });

  after(async () => {
    ac.abort();
    await podWatch.stop();
    await stopKubelet();
  });

  it('runs completions pods at most parallelism at a time, then completes and lets the pods go', async () => {
    const ns = await api.namespace('job');
    await api.client.create(jobsRef(ns), jobObject('four', { completions: 4, parallelism: 2 }));
    const job = await finished(ns, 'four', 'Complete');
    const conds = job.status?.conditions ?? [];
    assert.equal(job.status?.succeeded, 4);
    assert.equal(job.status?.failed, undefined);
    assert.equal(job.status?.active, undefined);
    assert.equal(job.status?.ready, 0);
    assert.equal(job.status?.terminating, 0);
    assert.deepEqual(job.status?.uncountedTerminatedPods, {});
    assert.ok(job.status?.startTime && job.status.completionTime);
    assert.deepEqual(conditionTypes(job), ['SuccessCriteriaMet=True/CompletionsReached', 'Complete=True/CompletionsReached']);
    assert.equal(conds[1]?.message, 'Reached expected number of succeeded pods');
    assert.ok((maxActive.get(`${ns}/four`) ?? 0) <= 2, `at most 2 active, saw ${maxActive.get(`${ns}/four`)}`);
    const pods = (await api.client.list<Pod>(podsRef(ns))).items;
    assert.equal(pods.length, 4);
    for (const p of pods) {
      assert.deepEqual(p.metadata?.finalizers ?? [], [], 'tracking finalizer removed');
      assert.equal((p.metadata?.ownerReferences as { kind: string }[] | undefined)?.[0]?.kind, 'Job');
      assert.match(p.metadata?.name ?? '', /^four-[a-z0-9]{5}$/);
    }
    const events = await until<string[]>('events', async () => {
      const e = await api.events(ns, 'four');
      return e.includes('Completed: Job completed') ? e : undefined;
    });
    assert.equal(events.filter((e) => e.startsWith('SuccessfulCreate: Created pod: four-')).length, 4);
  });

  it('completes a work-queue Job (no completions) once a pod succeeded and none is left active', async () => {
    const ns = await api.namespace('job');
    const job = jobObject('queue', { parallelism: 2 });
    delete (job.spec as { completions?: number }).completions;
    await api.client.create(jobsRef(ns), job);
    const done = await finished(ns, 'queue', 'Complete');
    assert.equal(done.spec?.completions, undefined);
    assert.ok((done.status?.succeeded ?? 0) >= 1);
    assert.equal(done.status?.active, undefined);
  });

  it('gives Indexed pods their index (annotation, label, env, hostname) and reports completedIndexes', async () => {
    const ns = await api.namespace('job');
    await api.client.create(jobsRef(ns), jobObject('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    const job = await finished(ns, 'idx', 'Complete');
    assert.equal(job.status?.completedIndexes, '0-2');
    assert.equal(job.status?.succeeded, 3);
    const pods = (await api.client.list<Pod>(podsRef(ns))).items;
    const byIndex = new Map(pods.map((p) => [p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'], p]));
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2']);
    const p1 = byIndex.get('1')!;
    assert.equal(p1.metadata?.labels?.['batch.kubernetes.io/job-completion-index'], '1');
    assert.match(p1.metadata?.name ?? '', /^idx-1-[a-z0-9]{5}$/);
    const spec = p1.spec as { hostname?: string; containers: { env?: unknown[] }[] };
    assert.equal(spec.hostname, 'idx-1');
    assert.deepEqual(spec.containers[0]!.env, [
      { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } },
    ]);
  });

  it('completes an Indexed Job early when its successPolicy is met, stopping the other pods', async () => {
    const ns = await api.namespace('job');
    await api.client.create(
      jobsRef(ns),
      jobObject('leader', { completions: 3, parallelism: 3, completionMode: 'Indexed', successPolicy: { rules: [{ succeededIndexes: '0' }] } }, ['sleep', '3600']),
    );
    const pods = await until('3 running pods', async () => {
      const list = (await api.client.list<Pod>(podsRef(ns))).items.filter((p) => p.status?.phase === 'Running');
      return list.length === 3 ? list : undefined;
    });
    const leader = pods.find((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '0')!;
    await api.client.patch(podsRef(ns), leader.metadata!.name!, { status: { phase: 'Succeeded' } }, 'merge', { subresource: 'status' });
    const job = await finished(ns, 'leader', 'Complete');
    assert.deepEqual(conditionTypes(job), ['SuccessCriteriaMet=True/SuccessPolicy', 'Complete=True/SuccessPolicy']);
    assert.equal(job.status?.conditions?.[1]?.message, 'Matched rules at index 0');
    assert.equal(job.status?.completedIndexes, '0');
    assert.equal(job.status?.succeeded, 1);
    assert.equal(job.status?.failed, undefined);
  });

  it('fails with BackoffLimitExceeded once failures pass backoffLimit', async () => {
    const ns = await api.namespace('job');
    await api.client.create(jobsRef(ns), jobObject('bad', { backoffLimit: 2 }, ['sh', '-c', 'exit 1']));
    const job = await finished(ns, 'bad', 'Failed');
    assert.equal(job.status?.failed, 3);
    assert.equal(job.status?.succeeded, undefined);
    assert.deepEqual(conditionTypes(job), ['FailureTarget=True/BackoffLimitExceeded', 'Failed=True/BackoffLimitExceeded']);
    assert.equal(job.status?.conditions?.[1]?.message, 'Job has reached the specified backoff limit');
    assert.equal(job.status?.completionTime, undefined);
    const events = await until<string[]>('the failure event', async () => {
      const e = await api.events(ns, 'bad');
      return e.includes('BackoffLimitExceeded: Job has reached the specified backoff limit') ? e : undefined;
    });
    assert.equal(events.filter((e) => e.startsWith('SuccessfulCreate')).length, 3);
    const pods = (await api.client.list<Pod>(podsRef(ns))).items;
    assert.ok(pods.every((p) => !((p.metadata?.finalizers as string[] | undefined) ?? []).includes(jobTrackingFinalizer)));
  });

  it('with restartPolicy OnFailure, counts container restarts of running pods against backoffLimit', async () => {
    const ns = await api.namespace('job');
    const job = jobObject('restarts', { backoffLimit: 2 }, ['sleep', '3600']);
    job.spec!.template.spec!.restartPolicy = 'OnFailure';
    await api.client.create(jobsRef(ns), job);
    const pod = await until('a running pod', async () => (await api.client.list<Pod>(podsRef(ns))).items.find((p) => p.status?.phase === 'Running'));
    // The kubelet restarted the container once: below the limit.
    const restarted = (n: number) => ({ status: { containerStatuses: [{ name: 'main', image: 'busybox', imageID: '', ready: true, started: true, restartCount: n, state: { running: {} } }] } });
    await api.client.patch(podsRef(ns), pod.metadata!.name!, restarted(1), 'merge', { subresource: 'status' });
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!(await api.client.get<Job>(jobsRef(ns), 'restarts')).status?.conditions?.some((c) => c.type === 'FailureTarget'));
    await api.client.patch(podsRef(ns), pod.metadata!.name!, restarted(2), 'merge', { subresource: 'status' });
    const failed = await finished(ns, 'restarts', 'Failed');
    assert.deepEqual(conditionTypes(failed), ['FailureTarget=True/BackoffLimitExceeded', 'Failed=True/BackoffLimitExceeded']);
  });

  it('with backoffLimitPerIndex, retries each index on its own and fails with FailedIndexes', async () => {
    const ns = await api.namespace('job');
    await api.client.create(
      jobsRef(ns),
      jobObject('perindex', { completions: 2, parallelism: 2, completionMode: 'Indexed', backoffLimitPerIndex: 1 }, ['sh', '-c', 'exit 1']),
    );
    const job = await finished(ns, 'perindex', 'Failed');
    assert.deepEqual(conditionTypes(job), ['FailureTarget=True/FailedIndexes', 'Failed=True/FailedIndexes']);
    assert.equal(job.status?.conditions?.[1]?.message, 'Job has failed indexes');
    assert.equal(job.status?.failedIndexes, '0,1');
    assert.equal(job.status?.failed, 4);
    const pods = (await api.client.list<Pod>(podsRef(ns))).items;
    const counts = pods.map((p) => `${p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index']}:${p.metadata?.annotations?.['batch.kubernetes.io/job-index-failure-count']}`).sort();
    assert.deepEqual(counts, ['0:0', '0:1', '1:0', '1:1']);
  });

  it('stops a Job past activeDeadlineSeconds with DeadlineExceeded and deletes its pods', async () => {
    const ns = await api.namespace('job');
    await api.client.create(jobsRef(ns), jobObject('slow', { parallelism: 2, completions: 2, activeDeadlineSeconds: 2 }, ['sleep', '3600']));
    await until('2 running pods', async () => {
      const pods = (await api.client.list<Pod>(podsRef(ns))).items;
      return pods.filter((p) => p.status?.phase === 'Running').length === 2 ? true : undefined;
    });
    const job = await finished(ns, 'slow', 'Failed');
    assert.deepEqual(conditionTypes(job), ['FailureTarget=True/DeadlineExceeded', 'Failed=True/DeadlineExceeded']);
    assert.equal(job.status?.conditions?.[1]?.message, 'Job was active longer than specified deadline');
    assert.equal(job.status?.active, undefined);
    assert.equal(job.status?.failed, 2);
    await until('the pods to go', async () => ((await api.client.list(podsRef(ns))).items.length === 0 ? true : undefined));
    await until('the DeadlineExceeded event and both SuccessfulDelete events', async () => {
      const events = await api.events(ns, 'slow');
      return events.includes('DeadlineExceeded: Job was active longer than specified deadline') && events.filter((e) => e.startsWith('SuccessfulDelete')).length === 2
        ? true
        : undefined;
    });
  });

  it('creates no pods while suspended, deletes them on suspend, and makes them again on resume', async () => {
    const ns = await api.namespace('job');
    await api.client.create(jobsRef(ns), jobObject('held', { suspend: true, parallelism: 2, completions: 2 }, ['sleep', '3600']));
    const suspended = await until('the Suspended condition', async () => {
      const j = await api.client.get<Job>(jobsRef(ns), 'held');
      return j.status?.conditions?.some((c) => c.type === 'Suspended' && c.status === 'True') ? j : undefined;
    });
    assert.equal(suspended.status?.startTime, undefined);
    assert.equal((await api.client.list(podsRef(ns))).items.length, 0);
    await api.client.patch(jobsRef(ns), 'held', { spec: { suspend: false } }, 'merge');
    const resumed = await until('2 pods and the resumed condition', async () => {
      const j = await api.client.get<Job>(jobsRef(ns), 'held');
      return j.status?.active === 2 && j.status.conditions?.some((c) => c.type === 'Suspended' && c.status === 'False' && c.reason === 'JobResumed') ? j : undefined;
    });
    assert.ok(resumed.status?.startTime);
    await api.client.patch(jobsRef(ns), 'held', { spec: { suspend: true } }, 'merge');
    await until('the pods to go again', async () => {
      const j = await api.client.get<Job>(jobsRef(ns), 'held');
      const pods = (await api.client.list(podsRef(ns))).items;
      return pods.length === 0 && !j.status?.active && j.status?.failed === undefined ? true : undefined;
    });
    await until('the Suspended and Resumed events', async () => {
      const events = await api.events(ns, 'held');
      return events.includes('Suspended: Job suspended') && events.includes('Resumed: Job resumed') ? true : undefined;
    });
  });

  it('applies podFailurePolicy: Ignore does not count, FailJob fails at once with the rule in the message', async () => {
    const ns = await api.namespace('job');
    const policy = {
      rules: [
        { action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } },
        { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      ],
    };
    await api.client.create(jobsRef(ns), jobObject('fatal', { backoffLimit: 6, podFailurePolicy: policy }, ['sh', '-c', 'exit 42']));
    const job = await finished(ns, 'fatal', 'Failed');
    assert.deepEqual(conditionTypes(job), ['FailureTarget=True/PodFailurePolicy', 'Failed=True/PodFailurePolicy']);
    assert.match(job.status?.conditions?.[1]?.message ?? '', new RegExp(`^Container main for pod ${ns}/fatal-[a-z0-9]{5} failed with exit code 42 matching FailJob rule at index 1$`));
    assert.equal(job.status?.failed, 1);

    // exit 3 is ignored: failures never count, so the Job keeps replacing the pod.
    await api.client.create(jobsRef(ns), jobObject('ignored', { backoffLimit: 0, podFailurePolicy: policy }, ['sh', '-c', 'exit 3']));
    await until('a second pod after an ignored failure', async () => {
      const pods = (await api.client.list<Pod>(podsRef(ns), { labelSelector: 'batch.kubernetes.io/job-name=ignored' })).items;
      return pods.length >= 2 ? true : undefined;
    });
    const j = await api.client.get<Job>(jobsRef(ns), 'ignored');
    assert.equal(j.status?.failed, undefined);
    assert.ok(!j.status?.conditions?.some((c) => c.type === 'Failed'));
    await api.client.delete(jobsRef(ns), 'ignored', { propagationPolicy: 'Orphan' });
  });

  it('adopts a matching orphan pod, giving it the tracking finalizer, and counts it', async () => {
    const ns = await api.namespace('job');
    await api.client.create(podsRef(ns), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { team: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } });
    await until('the stray pod running', async () => ((await api.client.get<Pod>(podsRef(ns), 'stray')).status?.phase === 'Running' ? true : undefined));
    const job = jobObject('adopter', { manualSelector: true, selector: { matchLabels: { team: 'a' } } }, ['sleep', '3600']);
    job.spec!.template.metadata = { labels: { team: 'a' } };
    const created = await api.client.create<Job>(jobsRef(ns), job);
    const adopted = await until('the orphan adopted', async () => {
      const p = await api.client.get<Pod>(podsRef(ns), 'stray');
      const refs = (p.metadata?.ownerReferences as { uid: string; controller?: boolean }[] | undefined) ?? [];
      return refs.some((r) => r.uid === created.metadata?.uid && r.controller) ? p : undefined;
    });
    assert.deepEqual(adopted.metadata?.finalizers, [jobTrackingFinalizer]);
    await api.client.patch(podsRef(ns), 'stray', { status: { phase: 'Succeeded' } }, 'merge', { subresource: 'status' });
    const done = await finished(ns, 'adopter', 'Complete');
    assert.equal(done.status?.succeeded, 1);
    assert.deepEqual((await api.client.list(podsRef(ns))).items.map((p) => p.metadata?.name), ['stray']);
  });

  it('takes the tracking finalizer off the pods of a deleted Job', async () => {
    const ns = await api.namespace('job');
    await api.client.create(jobsRef(ns), jobObject('gone', {}, ['sleep', '3600']));
    const pod = await until('a running pod', async () => (await api.client.list<Pod>(podsRef(ns))).items.find((p) => p.status?.phase === 'Running'));
    assert.deepEqual(pod.metadata?.finalizers, [jobTrackingFinalizer]);
    await api.client.delete(jobsRef(ns), 'gone', { propagationPolicy: 'Orphan' });
    await until('the finalizer to go', async () => {
      const p = await api.client.get<KubeObject>(podsRef(ns), pod.metadata!.name!);
      return ((p.metadata?.finalizers as string[] | undefined) ?? []).length === 0 ? true : undefined;
    });
  });
});
