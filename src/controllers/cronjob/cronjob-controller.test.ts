// The CronJob controller on a fake clock against a real API server (no Job controller runs: the test
// finishes Jobs by writing their status). The clock starts at the real time, because the API server stamps
// creationTimestamp from it, and then moves a minute at a time through several schedules.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock } from '../../client/index.js';
import { markJobComplete, until, useApiServer } from '../../../test/helpers/controller-harness.js';
import type { Job } from '../job/job-controller.js';
import type { CronJob } from './cronjob-controller.js';
import { CronJobController, jobFromTemplate, rfc3339InZone } from './cronjob-controller.js';

const api = useApiServer();
const cronRef = (namespace: string) => ({ group: 'batch', version: 'v1', resource: 'cronjobs', namespace });
const jobsRef = (namespace: string) => ({ group: 'batch', version: 'v1', resource: 'jobs', namespace });

describe('CronJob controller', () => {
  // Each test runs its own controller on a clock that starts at the real time, as creation times do.
  let clock: FakeClock;
  let ac: AbortController;
  beforeEach(async () => {
    clock = new FakeClock(Date.now());
    ac = new AbortController();
    const ctx = api.context(clock, 'cronjob-test');
    const controller = new CronJobController(ctx);
    ctx.informers.start(ac.signal);
    void controller.run(ac.signal);
    await ctx.informers.waitForSync();
  });
  afterEach(() => ac.abort());

  async function cronJob(ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
    await api.client.create(cronRef(ns), {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name },
      spec: {
        schedule: '* * * * *',
        ...spec,
        jobTemplate: {
          metadata: { labels: { app: name } },
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
        },
      },
    });
  }
  const jobs = async (ns: string): Promise<Job[]> =>
    (await api.client.list<Job>(jobsRef(ns))).items.filter((j) => !j.metadata?.deletionTimestamp).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  const get = (ns: string, name: string): Promise<CronJob> => api.client.get<CronJob>(cronRef(ns), name);
  /** Moves the clock to 1 s after the next whole minute. */
  const nextMinute = async (): Promise<number> => {
    const target = Math.floor(clock.now() / 60_000) * 60_000 + 60_000;
    await clock.step(target + 1000 - clock.now());
    return target;
  };
  const hasEvent = (ns: string, name: string, text: string) =>
    until(`event "${text}"`, async () => ((await api.events(ns, name)).some((e) => e.startsWith(text)) ? true : undefined));

  it('starts a Job each minute with Allow, named by the scheduled minute, and notes its completion', async () => {
    const ns = await api.namespace('cron');
    await cronJob(ns, 'tick', { concurrencyPolicy: 'Allow', timeZone: 'Etc/UTC' });
    const first = await nextMinute();
    const j1 = await until('the first Job', async () => (await jobs(ns))[0]);
    assert.equal(j1.metadata?.name, `tick-${first / 60_000}`);
    assert.equal(j1.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(first).toISOString().replace('.000Z', 'Z'));
    assert.equal(j1.metadata?.labels?.app, 'tick');
    const cj = await until('status.active', async () => {
      const c = await get(ns, 'tick');
      return c.status?.active?.length === 1 ? c : undefined;
    });
    assert.equal(cj.status?.lastScheduleTime, new Date(first).toISOString().replace('.000Z', 'Z'));
    assert.equal(cj.status?.active?.[0]?.name, j1.metadata?.name);
    await hasEvent(ns, 'tick', `SuccessfulCreate: Created job ${j1.metadata?.name}`);

    const second = await nextMinute();
    await until('a second Job running alongside', async () => ((await jobs(ns)).length === 2 ? true : undefined));
    await markJobComplete(api.client, j1, second);
    const done = await until('the first Job out of active', async () => {
      const c = await get(ns, 'tick');
      return c.status?.active?.length === 1 && c.status.lastSuccessfulTime ? c : undefined;
    });
    assert.equal(done.status?.active?.[0]?.name, `tick-${second / 60_000}`);
    await hasEvent(ns, 'tick', `SawCompletedJob: Saw completed job: ${j1.metadata?.name}, condition: Complete`);
  });

  it('with Forbid, skips a run while one is active; with Replace, deletes the running one', async () => {
    const ns = await api.namespace('cron');
    await cronJob(ns, 'solo', { concurrencyPolicy: 'Forbid' });
    await nextMinute();
    await until('the first Job', async () => ((await jobs(ns)).length === 1 ? true : undefined));
    await until('status.active', async () => ((await get(ns, 'solo')).status?.active?.length === 1 ? true : undefined));
    await nextMinute();
    await hasEvent(ns, 'solo', 'JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid');
    assert.equal((await jobs(ns)).length, 1);

    await api.client.patch(cronRef(ns), 'solo', { spec: { concurrencyPolicy: 'Replace' } }, 'merge');
    const old = (await jobs(ns))[0]!;
    const t = await nextMinute();
    const replaced = await until('the replacement', async () => {
      const list = await jobs(ns);
      return list.length === 1 && list[0]!.metadata?.name === `solo-${t / 60_000}` ? list[0] : undefined;
    });
    assert.notEqual(replaced.metadata?.name, old.metadata?.name);
    await hasEvent(ns, 'solo', `SuccessfulDelete: Deleted job ${old.metadata?.name}`);
  });

  it('keeps successfulJobsHistoryLimit finished Jobs, deleting the oldest', async () => {
    const ns = await api.namespace('cron');
    await cronJob(ns, 'hist', { successfulJobsHistoryLimit: 1 });
    for (let i = 0; i < 2; i++) {
      const t = await nextMinute();
      const job = await until('the Job', async () => (await jobs(ns)).find((j) => j.metadata?.name === `hist-${t / 60_000}`));
      await until('status.active', async () => ((await get(ns, 'hist')).status?.active?.length === 1 ? true : undefined));
      await markJobComplete(api.client, job, t + (i + 1) * 1000);
      await until('active emptied', async () => ((await get(ns, 'hist')).status?.active === undefined ? true : undefined));
    }
    await until('one finished Job kept', async () => ((await jobs(ns)).length === 1 ? true : undefined));
    await hasEvent(ns, 'hist', 'SuccessfulDelete: Deleted job hist-');
  });

  it('skips a scheduled time missed by more than startingDeadlineSeconds, and starts the next one', async () => {
    const ns = await api.namespace('cron');
    await cronJob(ns, 'hourly', { schedule: '0 * * * *', startingDeadlineSeconds: 60, suspend: true });
    const hour = Math.floor(clock.now() / 3_600_000) * 3_600_000 + 3_600_000;
    await clock.step(hour + 5 * 60_000 - clock.now());
    await api.client.patch(cronRef(ns), 'hourly', { spec: { suspend: false } }, 'merge');
    await until('the controller to see the resumed CronJob', async () => ((await get(ns, 'hourly')).spec?.suspend === false ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await jobs(ns)).length, 0, 'the start 5 minutes ago is past the 60 s deadline');
    await clock.step(hour + 3_600_000 + 30_000 - clock.now());
    const job = await until('the next hour\'s Job', async () => (await jobs(ns))[0]);
    assert.equal(job.metadata?.name, `hourly-${(hour + 3_600_000) / 60_000}`);
  });

  it('builds Jobs as upstream: owner reference, template copy, scheduled time in the CronJob zone', () => {
    const cj: CronJob = {
      metadata: { name: 'x', namespace: 'ns', uid: 'u1' },
      spec: { schedule: '0 9 * * *', timeZone: 'Europe/Berlin', jobTemplate: { metadata: { annotations: { a: 'b' } }, spec: { template: {} } } },
    };
    const at = Date.parse('2026-03-01T08:00:00Z');
    const job = jobFromTemplate(cj, at, 'Europe/Berlin');
    assert.equal(job.metadata?.name, `x-${at / 60_000}`);
    assert.deepEqual(job.metadata?.annotations, { a: 'b', 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2026-03-01T09:00:00+01:00' });
    assert.deepEqual(job.metadata?.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'x', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
    assert.equal(rfc3339InZone(Date.parse('2026-07-01T12:00:00Z'), 'America/New_York'), '2026-07-01T08:00:00-04:00');
  });
  it('starts nothing while suspended, then only the most recent missed time, warning when too many were missed', async () => {
    const ns = await api.namespace('cron');
    await cronJob(ns, 'late', { suspend: true });
    await clock.step(150 * 60_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await jobs(ns)).length, 0);
    await api.client.patch(cronRef(ns), 'late', { spec: { suspend: false } }, 'merge');
    const job = await until('one Job', async () => (await jobs(ns))[0]);
    assert.equal(job.metadata?.name, `late-${Math.floor(clock.now() / 60_000)}`);
    await hasEvent(ns, 'late', 'TooManyMissedTimes: too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    assert.equal((await jobs(ns)).length, 1);
  });
});
