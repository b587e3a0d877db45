// The TTL-after-finished controller (upstream's pkg/controller/ttlafterfinished): a Job with
// spec.ttlSecondsAfterFinished is deleted that many seconds after it finished (its Complete or Failed
// condition), with propagationPolicy Foreground so that its pods go first, and a UID precondition so that
// a new Job of the same name is never deleted by mistake. Before deleting it reads the Job afresh from the
// API, in case the TTL was changed since the cache saw it.
import type { Logger } from '../../base/log.js';
import type { Clock, RateLimitingQueue, RESTClient, SharedInformer } from '../../client/index.js';
import { isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { ClockedRequeue } from '../common/clocked-requeue.js';
import { newQueue, runWorkers } from '../common/controller.js';
import type { Job } from '../job/job-controller.js';
import { isJobFinished } from '../job/job-controller.js';

const jobsRef = { group: 'batch', version: 'v1', resource: 'jobs' };
/** Upstream's --concurrent-ttl-after-finished-syncs default. */
const workers = 5;

/** Deletes finished Jobs once their ttlSecondsAfterFinished has passed. */
export class TTLAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished';
  private readonly client: RESTClient;
  private readonly jobs: SharedInformer<Job>;
  private readonly queue: RateLimitingQueue<string>;
  private readonly requeue: ClockedRequeue;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'ttl-after-finished' });
    this.queue = newQueue('ttl_jobs_to_delete');
    this.requeue = new ClockedRequeue(ctx.clock, this.queue);
    this.jobs = ctx.informers.informerFor<Job>(jobsRef);
    const consider = (job: Job): void => {
      if (needsCleanup(job)) this.queue.add(metaNamespaceKey(job));
    };
    this.jobs.addEventHandler({ onAdd: consider, onUpdate: (_old, cur) => consider(cur) });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.jobs.waitForSync(signal).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.log);
    this.requeue.clear();
  }

  /** Deletes the Job if its TTL has run out, else looks again when it will have. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.jobs.lister.get(namespace, name);
    if (!cached || !needsCleanup(cached)) return;
    const left = this.timeLeftMs(cached);
    if (left === undefined) return;
    if (left > 0) {
      this.requeue.addAfter(key, left);
      return;
    }
    // The cache may be stale: the TTL may have been changed or removed since.
    let fresh: Job;
    try {
      fresh = await this.client.get<Job>({ ...jobsRef, namespace }, name);
    } catch (err) {
      if (isStatus(err, 'NotFound')) return;
      throw err;
    }
    if (!needsCleanup(fresh)) return;
    const freshLeft = this.timeLeftMs(fresh);
    if (freshLeft === undefined) return;
    if (freshLeft > 0) {
      this.requeue.addAfter(key, freshLeft);
      return;
    }
    this.log.info('cleaning up job', { job: key }, 4);
    try {
      await this.client.delete({ ...jobsRef, namespace }, name, {
        propagationPolicy: 'Foreground',
        preconditions: { uid: fresh.metadata?.uid ?? '' },
      });
    } catch (err) {
      if (isStatus(err, 'NotFound') || isStatus(err, 'Conflict')) return;
      throw err;
    }
  }

  /** Milliseconds until the Job expires (≤ 0: expired); undefined when its finish time is unknown. */
  private timeLeftMs(job: Job): number | undefined {
    const finishedAt = jobFinishTime(job);
    if (finishedAt === undefined) {
      this.log.warn('unable to find the time when the Job finished', { job: metaNamespaceKey(job) });
      return undefined;
    }
    return finishedAt + (job.spec?.ttlSecondsAfterFinished ?? 0) * 1000 - this.clock.now();
  }
}

/** A finished Job with a TTL, not already being deleted. */
function needsCleanup(job: Job): boolean {
  return job.spec?.ttlSecondsAfterFinished != null && !job.metadata?.deletionTimestamp && isJobFinished(job);
}

/** When the Job finished: its Complete or Failed condition's lastTransitionTime. */
export function jobFinishTime(job: Job): number | undefined {
  const c = (job.status?.conditions ?? []).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  const t = Date.parse(c?.lastTransitionTime ?? '');
  return Number.isNaN(t) ? undefined : t;
}
