// The TTL-after-finished controller on a fake clock against a real API server: a finished Job goes once its
// TTL has passed on that clock (deleted in the foreground), not before; Jobs without a TTL stay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../client/index.js';
import { markJobComplete, until, useApiServer } from '../../../test/helpers/controller-harness.js';
import type { Job } from '../job/job-controller.js';
import { TTLAfterFinishedController } from './ttl-after-finished-controller.js';

const api = useApiServer();
const jobsRef = (namespace: string) => ({ group: 'batch', version: 'v1', resource: 'jobs', namespace });

describe('TTL-after-finished controller', () => {
  const clock = new FakeClock(Date.parse('2026-03-01T10:00:00Z'));
  const ac = new AbortController();
  before(async () => {
    const ctx = api.context(clock, 'ttl-test');
    const controller = new TTLAfterFinishedController(ctx);
    ctx.informers.start(ac.signal);
    void controller.run(ac.signal);
    await ctx.informers.waitForSync();
  });
  after(() => ac.abort());

  async function finishedJob(ns: string, name: string, ttl: number | undefined): Promise<void> {
    const job = await api.client.create<Job>(jobsRef(ns), {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}),
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await markJobComplete(api.client, job, clock.now());
  }

  it('deletes a finished Job in the foreground once ttlSecondsAfterFinished has passed', async () => {
    const ns = await api.namespace('ttl');
    await finishedJob(ns, 'short', 100);
    await finishedJob(ns, 'keep', undefined);
    await until('the controller to schedule its look', () => (clock.pending > 0 ? true : undefined));
    await clock.step(99_000);
    await new Promise((r) => setTimeout(r, 200));
    const early = await api.client.get<Job>(jobsRef(ns), 'short');
    assert.equal(early.metadata?.deletionTimestamp, undefined, 'not before the TTL');
    await clock.step(2_000);
    const deleting = await until('the Job to be deleted', async () => {
      const j = await api.client.get<Job>(jobsRef(ns), 'short');
      return j.metadata?.deletionTimestamp ? j : undefined;
    });
    assert.deepEqual(deleting.metadata?.finalizers, ['foregroundDeletion']);
    const kept = await api.client.get<Job>(jobsRef(ns), 'keep');
    assert.equal(kept.metadata?.deletionTimestamp, undefined);
  });

  it('deletes at once a Job whose TTL ran out before the controller saw it', async () => {
    const ns = await api.namespace('ttl');
    await finishedJob(ns, 'zero', 0);
    await until('the Job to be deleted', async () => ((await api.client.get<Job>(jobsRef(ns), 'zero')).metadata?.deletionTimestamp ? true : undefined));
  });
});
