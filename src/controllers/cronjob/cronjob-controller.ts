// The CronJob controller (upstream's pkg/controller/cronjob, the v2 controller): at each scheduled time it
// creates a Job named <cronjob>-<scheduled time in Unix minutes> from spec.jobTemplate, annotated with the
// scheduled time, and keeps status.active, lastScheduleTime and lastSuccessfulTime. It honours suspend,
// concurrencyPolicy (Allow, Forbid, Replace), startingDeadlineSeconds (a start later than that is missed),
// spec.timeZone, and the history limits of finished Jobs. Only the most recent missed time is started; more
// than 100 missed times raise TooManyMissedTimes. The clock is the context's, so tests can drive it.
import type { CronJobSpec, CronJobStatus, JobTemplateSpec } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, KubeObject, RateLimitingQueue, RESTClient, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { ClockedRequeue } from '../common/clocked-requeue.js';
import { newQueue, runWorkers } from '../common/controller.js';
import { hasStatusCause } from '../common/status-cause.js';
import type { Job } from '../job/job-controller.js';
import { isJobFinished, rfc3339 } from '../job/job-controller.js';
import { controllerOf } from '../replicaset/pod.js';
import type { CronSchedule } from './cron.js';
import { isKnownTimeZone, localTimeZone, parseCron, wallClock } from './cron.js';

const jobsRef = { group: 'batch', version: 'v1', resource: 'jobs' };
const cronJobsRef = { group: 'batch', version: 'v1', resource: 'cronjobs' };
/** The annotation with the time a Job was scheduled for, in the CronJob's zone. */
export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Upstream's nextScheduleDelta: look a little after the scheduled time, never just before it. */
const nextScheduleDeltaMs = 100;
/** Upstream's --concurrent-cron-job-syncs default. */
const workers = 5;

export interface CronJob extends KubeObject {
  spec?: CronJobSpec;
  status?: CronJobStatus;
}

/** Creates the Jobs of every CronJob on schedule. */
export class CronJobController implements Controller {
  readonly name = 'cronjob';
  private readonly client: RESTClient;
  private readonly cronJobs: SharedInformer<CronJob>;
  private readonly jobs: SharedInformer<Job>;
  private readonly queue: RateLimitingQueue<string>;
  private readonly requeue: ClockedRequeue;
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'cronjob' });
    this.recorder = ctx.recorder('cronjob-controller');
    this.queue = newQueue('cronjob');
    this.requeue = new ClockedRequeue(ctx.clock, this.queue);
    this.cronJobs = ctx.informers.informerFor<CronJob>(cronJobsRef);
    this.jobs = ctx.informers.informerFor<Job>(jobsRef);
    this.cronJobs.addEventHandler({
      onAdd: (cj) => this.queue.add(metaNamespaceKey(cj)),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) this.queue.add(metaNamespaceKey(cur));
      },
      onDelete: (obj) => this.queue.add(metaNamespaceKey(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj)),
    });
    const onJob = (job: Job): void => {
      const ref = controllerOf(job);
      if (ref?.kind === 'CronJob') this.queue.add(`${job.metadata?.namespace ?? ''}/${ref.name}`);
    };
    this.jobs.addEventHandler({
      onAdd: onJob,
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) onJob(cur);
      },
      onDelete: (obj) => onJob(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.cronJobs.waitForSync(signal), this.jobs.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.log);
    this.requeue.clear();
  }

  /** Upstream's sync: reconcile the Job list, maybe start one, clean up history, and look again later. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.cronJobs.lister.get(namespace, name);
    if (!cached) return;
    const cj = structuredClone<CronJob>(cached);
    const uid = cj.metadata?.uid;
    const jobs = this.jobs.lister.listNamespace(namespace).filter((j) => controllerOf(j)?.uid === uid);
    const before = JSON.stringify(cj.status ?? {});
    let requeueMs: number | undefined;
    let syncError: Error | undefined;
    try {
      requeueMs = await this.syncCronJob(cj, jobs);
    } catch (err) {
      syncError = err instanceof Error ? err : new Error(String(err));
    }
    if (JSON.stringify(cj.status ?? {}) !== before) {
      try {
        await this.client.updateStatus({ ...cronJobsRef, namespace }, cj);
      } catch (err) {
        if (!isStatus(err, 'NotFound')) syncError ??= err instanceof Error ? err : new Error(String(err));
      }
    }
    if (syncError) throw syncError;
    if (requeueMs !== undefined) this.requeue.addAfter(key, requeueMs);
    if (!cj.metadata?.deletionTimestamp && (cj.spec?.successfulJobsHistoryLimit != null || cj.spec?.failedJobsHistoryLimit != null)) {
      await this.cleanupFinishedJobs(cj, jobs);
    }
  }

  /** Returns when to look again (undefined: only on the next change). Mutates cj.status. */
  private async syncCronJob(cj: CronJob, jobs: Job[]): Promise<number | undefined> {
    const status = (cj.status ??= {});
    const now = this.clock.now();
    const children = new Set<string>();
    for (const job of jobs) {
      const jobUid = job.metadata?.uid ?? '';
      children.add(jobUid);
      const inActive = (status.active ?? []).some((r) => r.uid === jobUid);
      const finished = isJobFinished(job);
      if (!inActive && !finished) {
        // Created by someone else (kubectl create job --from=cronjob/...), or our status write was lost.
        const fresh = await this.client.get<CronJob>({ ...cronJobsRef, namespace: cj.metadata?.namespace ?? '' }, cj.metadata?.name ?? '').catch(() => undefined);
        if (fresh && (fresh.status?.active ?? []).some((r) => r.uid === jobUid)) {
          status.active = structuredClone(fresh.status?.active ?? []);
          continue;
        }
        this.recorder.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata?.name ?? ''}`);
      } else if (inActive && finished) {
        const cond = (job.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
        status.active = (status.active ?? []).filter((r) => r.uid !== jobUid);
        this.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata?.name ?? ''}, condition: ${cond?.type ?? ''}`);
      }
      if (finished && isJobSucceeded(job) && job.status?.completionTime) {
        const done = Date.parse(job.status.completionTime);
        if (!status.lastSuccessfulTime || done > Date.parse(status.lastSuccessfulTime)) status.lastSuccessfulTime = job.status.completionTime;
      }
    }
    // Active Jobs that are gone, checked against the API rather than the cache.
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        const j = await this.client.get<Job>({ ...jobsRef, namespace: ref.namespace ?? cj.metadata?.namespace ?? '' }, ref.name ?? '');
        if (j.metadata?.uid === ref.uid) continue;
      } catch (err) {
        if (!isStatus(err, 'NotFound')) throw err;
      }
      this.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name ?? ''}`);
      status.active = (status.active ?? []).filter((r) => r.uid !== ref.uid);
    }
    if (status.active?.length === 0) delete status.active;
    if (cj.metadata?.deletionTimestamp) return undefined;

    const spec = cj.spec;
    if (!spec) return undefined;
    const zone = spec.timeZone ?? localTimeZone();
    if (spec.timeZone && !isKnownTimeZone(spec.timeZone)) {
      this.recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${spec.timeZone}": unknown time zone ${spec.timeZone}`);
      return undefined;
    }
    let sched: CronSchedule;
    try {
      sched = parseCron(spec.schedule, zone);
    } catch (err) {
      this.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${(err as Error).message}`);
      return undefined;
    }
    if (spec.schedule.includes('TZ')) {
      this.recorder.event(
        cj,
        'Warning',
        'UnsupportedSchedule',
        `CRON_TZ or TZ used in schedule "${spec.schedule}" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
      );
    }
    if (spec.suspend === true) return undefined;

    let scheduled: number | undefined;
    try {
      scheduled = this.nextScheduleTime(cj, now, sched);
    } catch (err) {
      this.recorder.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule} : ${(err as Error).message}`);
      return undefined;
    }
    const requeue = nextScheduleTimeDuration(cj, now, sched);
    if (scheduled === undefined) return requeue;
    if (spec.startingDeadlineSeconds != null && scheduled + spec.startingDeadlineSeconds * 1000 < now) {
      this.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return requeue;
    }
    const jobName = jobNameFor(cj, scheduled);
    if ((status.active ?? []).some((r) => r.name === jobName) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled)) {
      return requeue;
    }
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (status.active?.length ?? 0) > 0) {
      this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return requeue;
    }
    if (policy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        const ns = ref.namespace ?? cj.metadata?.namespace ?? '';
        let job: Job;
        try {
          job = await this.client.get<Job>({ ...jobsRef, namespace: ns }, ref.name ?? '');
        } catch (err) {
          if (isStatus(err, 'NotFound')) {
            status.active = (status.active ?? []).filter((r) => r.uid !== ref.uid);
            continue;
          }
          throw err;
        }
        await this.deleteJob(cj, job);
        status.active = (status.active ?? []).filter((r) => r.uid !== ref.uid);
      }
      if (status.active?.length === 0) delete status.active;
    }

    const jobReq = jobFromTemplate(cj, scheduled, zone);
    let created: Job;
    try {
      created = await this.client.create<Job>({ ...jobsRef, namespace: cj.metadata?.namespace ?? '' }, jobReq);
    } catch (err) {
      if (isStatus(err, 'AlreadyExists')) {
        this.log.info('job already exists', { cronjob: metaNamespaceKey(cj), job: jobName });
        // Ours, made by a sync whose status write was lost: record it now rather than never.
        const existing = this.jobs.lister.get(cj.metadata?.namespace ?? '', jobName);
        if (existing && controllerOf(existing)?.uid === cj.metadata?.uid) {
          if (!isJobFinished(existing) && !(status.active ?? []).some((r) => r.uid === existing.metadata?.uid)) (status.active ??= []).push(objectReference(existing));
          status.lastScheduleTime = rfc3339(scheduled);
        }
        return requeue;
      }
      if (!hasStatusCause(err, 'NamespaceTerminating')) this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
      throw err;
    }
    this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name ?? ''}`);
    (status.active ??= []).push(objectReference(created));
    status.lastScheduleTime = rfc3339(scheduled);
    return requeue;
  }

  /** Upstream's nextScheduleTime: the most recent unmet time, within the starting deadline if any. */
  private nextScheduleTime(cj: CronJob, now: number, sched: CronSchedule): number | undefined {
    const r = mostRecentScheduleTime(cj, now, sched, true);
    if (r.mostRecent === undefined || r.mostRecent > now) return undefined;
    if (r.missed === 'many') {
      this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      this.log.info('too many missed times', { cronjob: metaNamespaceKey(cj) });
    }
    return r.mostRecent;
  }

  /** Deletes the oldest finished Jobs beyond the history limits. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: Job[]): Promise<void> {
    const succeeded = jobs.filter((j) => isJobFinished(j) && isJobSucceeded(j) && !j.metadata?.deletionTimestamp);
    const failed = jobs.filter((j) => isJobFinished(j) && !isJobSucceeded(j) && !j.metadata?.deletionTimestamp);
    const prune = async (list: Job[], limit: number | undefined): Promise<void> => {
      if (limit == null || list.length <= limit) return;
      list.sort(byStartTime);
      for (const job of list.slice(0, list.length - limit)) await this.deleteJob(cj, job);
    };
    await prune(succeeded, cj.spec?.successfulJobsHistoryLimit);
    await prune(failed, cj.spec?.failedJobsHistoryLimit);
  }

  /** Deletes a Job and its pods in the background, as upstream's jobControl.DeleteJob. */
  private async deleteJob(cj: CronJob, job: Job): Promise<void> {
    const name = job.metadata?.name ?? '';
    try {
      await this.client.delete({ ...jobsRef, namespace: job.metadata?.namespace ?? '' }, name, { propagationPolicy: 'Background' });
    } catch (err) {
      if (isStatus(err, 'NotFound')) return;
      this.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
      throw err;
    }
    this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
  }
}

type Missed = 'none' | 'few' | 'many';

/** Upstream's mostRecentScheduleTime. */
export function mostRecentScheduleTime(
  cj: CronJob,
  now: number,
  sched: CronSchedule,
  includeStartingDeadline: boolean,
): { earliest: number; mostRecent?: number; missed: Missed } {
  let earliest = Date.parse((cj.metadata?.creationTimestamp as string | undefined) ?? '') || now;
  if (cj.status?.lastScheduleTime) earliest = Date.parse(cj.status.lastScheduleTime);
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && deadline != null) earliest = Math.max(earliest, now - deadline * 1000);
  const t1 = sched.next(earliest);
  if (t1 === undefined) throw new Error('time difference between two schedules is less than 1 second');
  if (now < t1) return { earliest, missed: 'none' };
  const t2 = sched.next(t1);
  if (t2 === undefined) throw new Error('time difference between two schedules is less than 1 second');
  if (now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) throw new Error('time difference between two schedules is less than 1 second');
  // A rough count, as upstream's: how many intervals like the first fit between it and now.
  const elapsed = Math.floor((now - t1) / 1000);
  const missedCount = Math.floor(elapsed / between) + 1;
  const mostRecent = (Math.floor(t1 / 1000) + (missedCount - 1) * between) * 1000;
  return { earliest, mostRecent, missed: missedCount > 100 ? 'many' : 'few' };
}

/** Upstream's nextScheduleTimeDuration: until just after the next scheduled time. */
export function nextScheduleTimeDuration(cj: CronJob, now: number, sched: CronSchedule): number {
  let r: ReturnType<typeof mostRecentScheduleTime>;
  try {
    r = mostRecentScheduleTime(cj, now, sched, false);
  } catch {
    return nextScheduleDeltaMs;
  }
  const from = r.mostRecent ?? r.earliest;
  const next = sched.next(from);
  return next === undefined ? nextScheduleDeltaMs : next + nextScheduleDeltaMs - now;
}

/** <cronjob>-<scheduled time in Unix minutes>: one name per scheduled time, so no time runs twice. */
export function jobNameFor(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata?.name ?? ''}-${Math.floor(scheduledMs / 60_000)}`;
}

/** Upstream's getJobFromTemplate2. */
export function jobFromTemplate(cj: CronJob, scheduledMs: number, zone: string): Job {
  const template: JobTemplateSpec = cj.spec?.jobTemplate ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduledMs),
      namespace: cj.metadata?.namespace ?? '',
      labels: { ...template.metadata?.labels },
      annotations: { ...template.metadata?.annotations, [scheduledTimestampAnnotation]: rfc3339InZone(scheduledMs, zone) },
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata?.name ?? '', uid: cj.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: structuredClone(template.spec ?? { template: {} }),
  };
}

/** Go's time.Format(time.RFC3339) of an instant in a zone: "2026-03-01T10:00:00+01:00", or "Z" for UTC. */
export function rfc3339InZone(ms: number, zone: string): string {
  const wall = wallClock(ms, zone);
  const offsetMin = Math.round((wall - ms) / 60_000);
  const base = new Date(Math.floor(wall / 1000) * 1000).toISOString().slice(0, 19);
  if (offsetMin === 0) return `${base}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${base}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Go's time.RFC1123Z of an instant in UTC: "Sun, 01 Mar 2026 10:00:00 +0000". */
function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function isJobSucceeded(job: Job): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True');
}

function byStartTime(a: Job, b: Job): number {
  const ta = a.status?.startTime ? Date.parse(a.status.startTime) : -Infinity;
  const tb = b.status?.startTime ? Date.parse(b.status.startTime) : -Infinity;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
}

function objectReference(job: Job): ObjectReference {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    namespace: job.metadata?.namespace ?? '',
    name: job.metadata?.name ?? '',
    uid: job.metadata?.uid ?? '',
    resourceVersion: job.metadata?.resourceVersion ?? '',
  };
}

