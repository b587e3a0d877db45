// The Job controller (upstream's pkg/controller/job): runs pods until spec.completions of them succeed
// (one per index for Indexed Jobs), at most spec.parallelism at a time, and fails the Job when failures
// pass backoffLimit, when it runs past activeDeadlineSeconds, or when a podFailurePolicy rule says so.
//
// Pods are tracked with the batch.kubernetes.io/job-tracking finalizer, as upstream does: a finished pod
// is first written into status.uncountedTerminatedPods, then its finalizer is removed, then it moves into
// the succeeded/failed counters. A pod whose finalizer removal is awaited counts as having none, so no pod
// is counted twice even while the informer lags. The terminal Complete/Failed condition comes after the
// interim SuccessCriteriaMet/FailureTarget once no pod is left uncounted or terminating (1.31+ behaviour).
// Pod failures delay replacements by 10 s doubling per failure since the last success, capped at 10 min.
import type { JobCondition, JobSpec, JobStatus, SuccessPolicy } from 'kubernetes-types/batch/v1.js';
import type { LabelSelector } from '../../api/labels.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import { hasStatusCause } from '../common/status-cause.js';
import { ControllerExpectations } from '../replicaset/controller-expectations.js';
import type { OwnerReference, Pod } from '../replicaset/pod.js';
import { controllerOf, isPodActive, isPodReady, podKey } from '../replicaset/pod.js';
import { podsToDelete } from '../replicaset/pods-to-delete.js';
import { slowStartBatch } from '../replicaset/slow-start-batch.js';
import { completionIndexAnnotation, completionIndexOf, formatIndexes, parseIndexes } from './indexes.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';

const podsRef = { group: '', version: 'v1', resource: 'pods' };
const jobsRef = { group: 'batch', version: 'v1', resource: 'jobs' };

/** The finalizer that keeps a Job's finished pods until the Job has counted them. */
export const jobTrackingFinalizer = 'batch.kubernetes.io/job-tracking';
/** Upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const defaultPodFailureBackoffMs = 10_000;
export const maxPodFailureBackoffMs = 10 * 60_000;
/** Upstream's syncJobBatchPeriod: pod changes of one Job within this window make one sync. */
export const defaultSyncBatchMs = 1000;
/** Upstream's MaxUncountedPods and MaxPodCreateDeletePerSync. */
const maxUncountedPods = 500;
const maxPodCreateDeletePerSync = 500;
/** Upstream's --concurrent-job-syncs default. */
const workers = 5;
const orphanPrefix = 'orphan-pod:';
/** The failures of a pod's index so far, counted and ignored by the pod failure policy (backoffLimitPerIndex). */
export const indexFailureCountAnnotation = 'batch.kubernetes.io/job-index-failure-count';
export const indexIgnoredFailureCountAnnotation = 'batch.kubernetes.io/job-index-ignored-failure-count';

/** A batch/v1 Job as the controller reads it. */
export interface Job extends KubeObject {
  spec?: JobSpec;
  status?: JobStatus;
}

export interface JobControllerOptions {
  /** How long pod changes are gathered before a sync; default upstream's 1 s. */
  syncBatchMs?: number;
  /** The first pod failure backoff; default 10 s. */
  podFailureBackoffMs?: number;
}

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureMs?: number;
}

type Finished = Omit<JobCondition, 'lastProbeTime' | 'lastTransitionTime'>;

/** What one sync knows about a Job and its pods. */
interface SyncCtx {
  key: string;
  job: Job;
  status: JobStatus;
  pods: Pod[];
  active: Pod[];
  ready: number;
  terminating: number;
  hasFinalizer: (p: Pod) => boolean;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  succeeded: number;
  prevSucceededIndexes: Set<number>;
  succeededIndexes: Set<number>;
  /** With backoffLimitPerIndex: the failed indexes, and per index the failed pod kept until its replacement exists. */
  failedIndexes?: Set<number>;
  delayedPerIndex: Map<number, Pod>;
  finished?: Finished;
  backoff: BackoffRecord;
}

/** Runs every Job's pods to completion or failure. */
export class JobController implements Controller {
  readonly name = 'job';
  private readonly client: RESTClient;
  private readonly jobs: SharedInformer<Job>;
  private readonly pods: SharedInformer<Pod>;
  private readonly queue = newQueue('job');
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly batchMs: number;
  private readonly backoffBaseMs: number;
  /** Exposed for tests: the pod creates and deletes each Job still waits to see. */
  readonly expectations: ControllerExpectations;
  /** Per Job key, the UIDs of pods whose finalizer removal the informer has not shown yet. */
  private readonly finalizerRemovals = new Map<string, Set<string>>();
  private readonly backoffs = new Map<string, BackoffRecord>();

  constructor(ctx: ControllerContext, options: JobControllerOptions = {}) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'job' });
    this.recorder = ctx.recorder('job-controller');
    this.batchMs = options.syncBatchMs ?? defaultSyncBatchMs;
    this.backoffBaseMs = options.podFailureBackoffMs ?? defaultPodFailureBackoffMs;
    this.expectations = new ControllerExpectations(ctx.clock);
    this.jobs = ctx.informers.informerFor<Job>(jobsRef);
    this.pods = ctx.informers.informerFor<Pod>(podsRef);
    this.jobs.addEventHandler({
      onAdd: (job) => this.queue.add(metaNamespaceKey(job)),
      onUpdate: (old, cur) => {
        if (old.metadata?.uid !== cur.metadata?.uid) this.onJobDeleted(old);
        this.queue.add(metaNamespaceKey(cur));
      },
      onDelete: (obj) => this.onJobDeleted(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
    });
    this.pods.addEventHandler({
      onAdd: (pod) => this.onPodAdded(pod),
      onUpdate: (old, cur) => this.onPodUpdated(old, cur),
      onDelete: (obj) => this.onPodDeleted(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.jobs.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.log);
  }

  // Event handlers.

  private onJobDeleted(job: Job): void {
    const key = metaNamespaceKey(job);
    this.expectations.delete(key);
    this.finalizerRemovals.delete(key);
    this.backoffs.delete(key);
    // Its pods keep their finalizer until someone removes it: that is now the controller's job.
    const uid = job.metadata?.uid;
    for (const pod of this.pods.lister.listNamespace(job.metadata?.namespace ?? '')) {
      if (controllerOf(pod)?.uid === uid && hasTrackingFinalizer(pod)) this.queue.add(orphanPrefix + podKey(pod));
    }
    this.queue.add(key);
  }

  private onPodAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.onPodDeleted(pod, false);
      return;
    }
    const job = this.jobOf(pod);
    if (!job) {
      // An orphan: a Job selecting it may adopt it.
      if (!controllerOf(pod)) for (const j of this.jobsSelecting(pod)) this.queue.add(metaNamespaceKey(j));
      return;
    }
    const key = metaNamespaceKey(job);
    this.expectations.creationObserved(key);
    this.queue.addAfter(key, this.batchMs);
  }

  private onPodUpdated(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const job = this.jobOf(cur);
    if (!job) return;
    const key = metaNamespaceKey(job);
    if (cur.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) this.expectations.deletionObserved(key, podKey(cur));
    if (!hasTrackingFinalizer(cur)) this.finalizerRemovals.get(key)?.delete(cur.metadata?.uid ?? '');
    this.queue.addAfter(key, this.batchMs);
  }

  private onPodDeleted(pod: Pod, gone = true): void {
    const ref = controllerOf(pod);
    if (!ref) return;
    const job = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
    if (!job) {
      if (!gone && hasTrackingFinalizer(pod)) this.queue.add(orphanPrefix + podKey(pod));
      return;
    }
    const key = metaNamespaceKey(job);
    this.expectations.deletionObserved(key, podKey(pod));
    if (gone) this.finalizerRemovals.get(key)?.delete(pod.metadata?.uid ?? '');
    this.queue.addAfter(key, this.batchMs);
  }

  /** The unfinished Job controlling a pod; a tracked pod without one is queued to lose its finalizer. */
  private jobOf(pod: Pod): Job | undefined {
    const ref = controllerOf(pod);
    const job = ref ? this.resolveControllerRef(pod.metadata?.namespace ?? '', ref) : undefined;
    if ((!job || isJobFinished(job)) && hasTrackingFinalizer(pod)) this.queue.add(orphanPrefix + podKey(pod));
    return job;
  }

  private jobsSelecting(pod: Pod): Job[] {
    return this.jobs.lister.listNamespace(pod.metadata?.namespace ?? '').filter((j) => {
      try {
        const sel = labelSelectorAsSelector(j.spec?.selector);
        return !sel.empty() && sel.matches(pod.metadata?.labels) && !isJobFinished(j);
      } catch {
        return false;
      }
    });
  }

  /**
   * Upstream's getPodsForJob: the pods the Job controls, after adopting matching orphans (which get the
   * tracking finalizer) and releasing controlled pods that stopped matching (which lose it).
   */
  private async claimPods(job: Job): Promise<Pod[]> {
    const uid = job.metadata?.uid;
    const ns = job.metadata?.namespace ?? '';
    let selector: LabelSelector;
    try {
      selector = labelSelectorAsSelector(job.spec?.selector);
    } catch (err) {
      // Validation keeps bad selectors out; with one, keep what the Job controls and touch nothing else.
      this.log.warn('invalid selector', { job: metaNamespaceKey(job), error: (err as Error).message });
      return this.pods.lister.listNamespace(ns).filter((p) => controllerOf(p)?.uid === uid);
    }
    const out: Pod[] = [];
    let canAdopt: Promise<boolean> | undefined;
    for (const pod of this.pods.lister.listNamespace(ns)) {
      const ref = controllerOf(pod);
      const matches = !selector.empty() && selector.matches(pod.metadata?.labels);
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches || job.metadata?.deletionTimestamp) out.push(pod);
        else await this.patchPodMeta(pod, { ownerReferences: [{ $patch: 'delete', uid }], [`$deleteFromPrimitiveList/finalizers`]: [jobTrackingFinalizer] });
        continue;
      }
      if (!matches || job.metadata?.deletionTimestamp || pod.metadata?.deletionTimestamp || isJobFinished(job)) continue;
      // Adopt only after an uncached read shows the Job is not being deleted.
      canAdopt ??= this.client
        .get<Job>({ ...jobsRef, namespace: ns }, job.metadata?.name ?? '')
        .then((fresh) => fresh.metadata?.uid === uid && !fresh.metadata?.deletionTimestamp, () => false);
      if (!(await canAdopt)) continue;
      if (await this.patchPodMeta(pod, { ownerReferences: [controllerRef(job)], finalizers: [jobTrackingFinalizer] })) {
        const finalizers = [...((pod.metadata?.finalizers as string[] | undefined) ?? [])];
        if (!finalizers.includes(jobTrackingFinalizer)) finalizers.push(jobTrackingFinalizer);
        out.push({ ...pod, metadata: { ...pod.metadata, finalizers, ownerReferences: [controllerRef(job)] } });
      }
    }
    return out;
  }

  /** A strategic merge patch of the pod's metadata with its UID as precondition; false when it is gone. */
  private async patchPodMeta(pod: Pod, meta: Record<string, unknown>): Promise<boolean> {
    try {
      await this.client.patch({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, pod.metadata?.name ?? '', { metadata: { ...meta, uid: pod.metadata?.uid } }, 'strategic');
      return true;
    } catch (err) {
      if (isStatus(err, 'NotFound') || isStatus(err, 'Conflict') || isStatus(err, 'Invalid')) return false;
      throw err;
    }
  }

  private resolveControllerRef(namespace: string, ref: OwnerReference): Job | undefined {
    if (ref.kind !== 'Job') return undefined;
    const job = this.jobs.lister.get(namespace, ref.name);
    return job && job.metadata?.uid === ref.uid ? job : undefined;
  }

  // The sync.

  async sync(key: string): Promise<void> {
    if (key.startsWith(orphanPrefix)) return this.syncOrphanPod(key.slice(orphanPrefix.length));
    const { namespace, name } = splitMetaNamespaceKey(key);
    const job = this.jobs.lister.get(namespace, name);
    if (!job) {
      this.backoffs.delete(key);
      this.expectations.delete(key);
      return;
    }
    if (isJobFinished(job)) {
      this.backoffs.delete(key);
      return;
    }
    const spec = job.spec;
    if (!spec) return;
    // A Job handed to another controller (spec.managedBy, beta since 1.32) is left to it.
    if (spec.managedBy != null && spec.managedBy !== 'kubernetes.io/job-controller') return;
    if (spec.completionMode && spec.completionMode !== 'NonIndexed' && spec.completionMode !== 'Indexed') {
      this.recorder.event(job, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    const satisfied = this.expectations.satisfied(key);
    const now = this.clock.now();
    const pods = await this.claimPods(job);
    const awaited = this.finalizerRemovals.get(key);
    const hasFinalizer = (p: Pod): boolean => hasTrackingFinalizer(p) && !awaited?.has(p.metadata?.uid ?? '');
    const status: JobStatus = structuredClone(job.status ?? {});
    status.uncountedTerminatedPods ??= {};
    const indexed = spec.completionMode === 'Indexed';
    const completions = spec.completions ?? undefined;
    const validIndex = (p: Pod): boolean => {
      if (!indexed) return true;
      const ix = completionIndexOf(p);
      return ix !== undefined && ix < (completions ?? 0);
    };
    const active = pods.filter(isPodActive);
    const ctx: SyncCtx = {
      key,
      job,
      status,
      pods,
      active,
      ready: active.filter(isPodReady).length,
      terminating: pods.filter(isTerminating).length,
      hasFinalizer,
      uncountedSucceeded: new Set(status.uncountedTerminatedPods.succeeded ?? []),
      uncountedFailed: new Set(status.uncountedTerminatedPods.failed ?? []),
      succeeded: 0,
      prevSucceededIndexes: new Set(),
      delayedPerIndex: new Map(),
      succeededIndexes: new Set(),
      backoff: { failuresAfterLastSuccess: 0 },
    };
    const fresh = (set: Set<string>, pred: (p: Pod) => boolean): Pod[] =>
      pods.filter((p) => hasFinalizer(p) && !set.has(p.metadata?.uid ?? '') && validIndex(p) && pred(p));
    const newSucceeded = fresh(ctx.uncountedSucceeded, (p) => p.status?.phase === 'Succeeded');
    const newFailed = fresh(ctx.uncountedFailed, (p) => isPodFailed(p, job));
    ctx.succeeded = (status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    const failed =
      (status.failed ?? 0) + newFailed.filter((p) => matchPodFailurePolicy(spec.podFailurePolicy, p).countFailed).length + ctx.uncountedFailed.size;
    const suspended = spec.suspend === true;
    if (!status.startTime && !suspended) status.startTime = rfc3339(now);
    ctx.backoff = this.newBackoffRecord(key, newSucceeded, newFailed);

    // The end state, in upstream's order: what an earlier sync decided, the pod failure policy, backoff
    // limit and deadline, then (Indexed) the success indexes; success by completions comes after manageJob.
    const successMet = (status.conditions ?? []).find((c) => c.type === 'SuccessCriteriaMet' && c.status === 'True');
    if (successMet) ctx.finished = { type: 'SuccessCriteriaMet', status: 'True', reason: successMet.reason, message: successMet.message };
    if (!ctx.finished) {
      const target = (status.conditions ?? []).find((c) => c.type === 'FailureTarget' && c.status === 'True');
      if (target) {
        ctx.finished = { type: 'Failed', status: 'True', reason: target.reason, message: target.message };
      } else if (spec.podFailurePolicy) {
        for (const p of pods) {
          if (!isPodFailed(p, job)) continue;
          const msg = matchPodFailurePolicy(spec.podFailurePolicy, p).failJobMessage;
          if (msg !== undefined) {
            ctx.finished = { type: 'FailureTarget', status: 'True', reason: 'PodFailurePolicy', message: msg };
            break;
          }
        }
      }
    }
    if (!ctx.finished) {
      if (failed > (spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) {
        ctx.finished = { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      } else if (spec.activeDeadlineSeconds != null && status.startTime && !suspended) {
        const left = spec.activeDeadlineSeconds * 1000 - (now - Date.parse(status.startTime));
        if (left <= 0) {
          ctx.finished = { type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
        } else {
          this.queue.addAfter(key, left);
        }
      }
    }
    if (indexed) {
      ctx.prevSucceededIndexes = parseIndexes(status.completedIndexes, completions ?? 0);
      ctx.succeededIndexes = new Set(ctx.prevSucceededIndexes);
      for (const p of pods) {
        if (p.status?.phase === 'Succeeded' && hasFinalizer(p) && validIndex(p)) ctx.succeededIndexes.add(completionIndexOf(p)!);
      }
      ctx.succeeded = ctx.succeededIndexes.size;
      if (spec.backoffLimitPerIndex != null) {
        const failedIx = parseIndexes(status.failedIndexes, completions ?? 0);
        for (const p of pods) {
          if (hasFinalizer(p) && validIndex(p) && isIndexFailed(job, p)) failedIx.add(completionIndexOf(p)!);
        }
        ctx.failedIndexes = failedIx;
        if (!ctx.finished) {
          if (spec.maxFailedIndexes != null && failedIx.size > spec.maxFailedIndexes) {
            ctx.finished = { type: 'FailureTarget', status: 'True', reason: 'MaxFailedIndexesExceeded', message: 'Job has exceeded the specified maximal number of failed indexes' };
          } else if (failedIx.size > 0 && failedIx.size + ctx.succeededIndexes.size >= (completions ?? 0)) {
            ctx.finished = { type: 'FailureTarget', status: 'True', reason: 'FailedIndexes', message: 'Job has failed indexes' };
          }
        }
        ctx.delayedPerIndex = delayedDeletionPerIndex(ctx, job, validIndex, this.clock);
      }
      if (!ctx.finished) {
        const msg = matchSuccessPolicy(spec.successPolicy, completions ?? 0, ctx.succeededIndexes);
        if (msg !== undefined) ctx.finished = { type: 'SuccessCriteriaMet', status: 'True', reason: 'SuccessPolicy', message: msg };
      }
    }

    let activeCount = active.length;
    let manageError: Error | undefined;
    if (ctx.finished) {
      // The Job is over: stop what still runs. Finalizers stay until the pods are counted below.
      const { deleted, deletedReady, error } = await this.deletePods(job, active, false);
      if (deleted !== active.length) ctx.finished = undefined;
      activeCount -= deleted;
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      manageError = error;
    } else {
      let managed = false;
      if (satisfied && !job.metadata?.deletionTimestamp) {
        try {
          activeCount = await this.manageJob(ctx);
        } catch (err) {
          manageError = toError(err);
        }
        managed = true;
      }
      const complete = completions == null ? ctx.succeeded > 0 && activeCount === 0 : ctx.succeeded >= completions && activeCount === 0;
      if (complete) {
        ctx.finished = { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
      } else if (managed) {
        const [type, st, reason, message, event] = suspended
          ? (['Suspended', 'True', 'JobSuspended', 'Job suspended', 'Suspended'] as const)
          : (['Suspended', 'False', 'JobResumed', 'Job resumed', 'Resumed'] as const);
        if (ensureCondition(status, type, st, reason, message, now)) {
          this.recorder.event(job, 'Normal', event, message);
          // A resumed Job's deadline counts from now, as if it had been created now.
          if (!suspended) status.startTime = rfc3339(now);
        }
      }
    }
    status.active = activeCount;
    status.ready = ctx.ready;
    status.terminating = ctx.terminating;
    try {
      await this.trackStatusAndRemoveFinalizers(ctx);
    } catch (err) {
      throw new Error(`tracking status: ${toError(err).message}`);
    }
    if (manageError) throw manageError;
  }

  /** Creates or deletes pods to reach the wanted number of active ones; returns the active count. */
  private async manageJob(ctx: SyncCtx): Promise<number> {
    const { job, key } = ctx;
    const spec = job.spec!;
    let active = ctx.active.length;
    if (spec.suspend === true) {
      const { deleted, deletedReady, error } = await this.deletePods(job, ctx.active, true);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      if (error) throw error;
      return active - deleted;
    }
    const parallelism = spec.parallelism ?? 1;
    let want: number;
    if (spec.completions == null) want = ctx.succeeded > 0 ? active : parallelism;
    else want = Math.max(0, Math.min(spec.completions - ctx.succeeded, parallelism));

    const indexed = spec.completionMode === 'Indexed';
    const excess = this.podsForRemoval(ctx, Math.max(0, active - want)).slice(0, maxPodCreateDeletePerSync);
    if (excess.length > 0) {
      this.log.info('deleting excess pods for job', { job: key, deleteCount: excess.length, targetActive: want, currentActive: active }, 2);
      const { deleted, deletedReady, error } = await this.deletePods(job, excess, true);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      if (error) throw error;
      return active - deleted;
    }
    const terminating = spec.podReplacementPolicy === 'Failed' ? ctx.terminating : 0;
    let diff = want - terminating - active;
    if (diff <= 0) return active;
    const perIndex = spec.backoffLimitPerIndex != null;
    const remaining = perIndex ? 0 : this.remainingBackoffMs(ctx.backoff);
    if (remaining > 0) {
      this.log.info('delaying pod creation for job due to backoff', { job: key, delayMs: remaining }, 2);
      this.queue.addAfter(key, remaining);
      return active;
    }
    diff = Math.min(diff, maxPodCreateDeletePerSync);
    let indexes: number[] = [];
    if (indexed) {
      indexes = firstPendingIndexes(ctx, diff, spec.completions ?? 0);
      if (perIndex) {
        // Each index waits out its own backoff, counted from its last failed pod.
        let soonest = Infinity;
        const now = indexes.filter((ix) => {
          const prev = ctx.delayedPerIndex.get(ix);
          const wait = prev ? backoffRemainingMs({ failuresAfterLastSuccess: indexFailureCounts(prev).absolute + 1, lastFailureMs: finishedTime(prev, this.clock) }, this.backoffBaseMs, this.clock.now()) : 0;
          if (wait > 0) soonest = Math.min(soonest, wait);
          return wait === 0;
        });
        if (now.length === 0 && soonest !== Infinity) {
          this.queue.addAfter(key, soonest);
          return active;
        }
        indexes = now;
      }
      diff = indexes.length;
      if (diff === 0) return active;
    }
    this.log.info('creating pods for job', { job: key, createCount: diff, targetActive: want, currentActive: active }, 2);
    this.expectations.expectCreations(key, diff);
    let next = 0;
    const { successes, error } = await slowStartBatch(diff, 1, async () => {
      const index = indexes[next++];
      try {
        await this.createPod(job, index, index !== undefined && perIndex ? newIndexFailureCounts(job, ctx.delayedPerIndex.get(index)) : undefined);
      } catch (err) {
        this.expectations.creationObserved(key);
        if (hasStatusCause(err, 'NamespaceTerminating')) return;
        throw err;
      }
    });
    // Creates never attempted will never be observed.
    for (let i = next; i < diff; i++) this.expectations.creationObserved(key);
    active += successes;
    if (error) throw error;
    return active;
  }

  /** Upstream's activePodsForRemoval: duplicated or out-of-range indexes first, then the least valuable. */
  private podsForRemoval(ctx: SyncCtx, atLeast: number): Pod[] {
    const rm: Pod[] = [];
    let left = ctx.active;
    if (ctx.job.spec?.completionMode === 'Indexed') {
      const completions = ctx.job.spec.completions ?? 0;
      const seen = new Set<number>();
      left = [];
      for (const p of [...ctx.active].sort((a, b) => Number(isPodReady(b)) - Number(isPodReady(a)))) {
        const ix = completionIndexOf(p);
        if (ix === undefined || ix >= completions || seen.has(ix)) rm.push(p);
        else {
          seen.add(ix);
          left.push(p);
        }
      }
    }
    if (rm.length < atLeast) rm.push(...podsToDelete(left, [], atLeast - rm.length, this.clock.now()));
    return rm;
  }

  /** One pod from the template, with the tracking finalizer and, for Indexed Jobs, its index. */
  private async createPod(job: Job, index: number | undefined, failureCounts?: { counted: number; ignored: number }): Promise<void> {
    const template = structuredClone(job.spec?.template ?? {});
    const namespace = job.metadata?.namespace ?? '';
    const jobName = job.metadata?.name ?? '';
    const meta = template.metadata ?? {};
    const labels: Record<string, string> = { ...meta.labels };
    const annotations: Record<string, string> = { ...meta.annotations };
    const spec = (template.spec ?? { containers: [] });
    let generateName = `${jobName}-`;
    if (index !== undefined) {
      annotations[completionIndexAnnotation] = String(index);
      if (failureCounts) {
        annotations[indexFailureCountAnnotation] = String(failureCounts.counted);
        if (failureCounts.ignored > 0) annotations[indexIgnoredFailureCountAnnotation] = String(failureCounts.ignored);
      }
      labels[completionIndexAnnotation] = String(index);
      spec.hostname = `${jobName}-${index}`;
      // Upstream's podGenerateNameWithIndex: the prefix fits the 58 characters of a generated name.
      const suffix = `-${index}-`;
      generateName = `${jobName}${suffix}`.length > 58 ? `${jobName.slice(0, 58 - suffix.length)}${suffix}` : `${jobName}${suffix}`;
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        if ((c.env ?? []).some((e) => e.name === 'JOB_COMPLETION_INDEX')) continue;
        (c.env ??= []).push({
          name: 'JOB_COMPLETION_INDEX',
          valueFrom: { fieldRef: { fieldPath: `metadata.labels['${completionIndexAnnotation}']` } },
        });
      }
    }
    const finalizers = [...(meta.finalizers ?? [])];
    if (!finalizers.includes(jobTrackingFinalizer)) finalizers.push(jobTrackingFinalizer);
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName,
        namespace,
        labels,
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        finalizers,
        ownerReferences: [controllerRef(job)],
      },
      spec: spec as unknown as Pod['spec'],
    };
    let created: Pod;
    try {
      created = await this.client.create<Pod>({ ...podsRef, namespace }, pod);
    } catch (err) {
      if (!hasStatusCause(err, 'NamespaceTerminating')) this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${toError(err).message}`);
      throw err;
    }
    this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
  }

  /**
   * Deletes pods in parallel. With `unfinalize` their tracking finalizer goes first (pods the Job does not
   * count: excess and suspended ones); without, it stays so that the pods are counted as failures.
   */
  private async deletePods(job: Job, pods: Pod[], unfinalize: boolean): Promise<{ deleted: number; deletedReady: number; error?: Error }> {
    const key = metaNamespaceKey(job);
    let deleted = 0;
    let deletedReady = 0;
    let error: Error | undefined;
    if (pods.length > 0) this.expectations.expectDeletions(key, pods.map(podKey));
    await Promise.all(
      pods.map(async (pod) => {
        const ref = { ...podsRef, namespace: pod.metadata?.namespace ?? '' };
        const name = pod.metadata?.name ?? '';
        try {
          if (unfinalize && hasTrackingFinalizer(pod)) await this.removeFinalizer(pod);
          await this.client.delete(ref, name);
          this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
        } catch (err) {
          if (!isStatus(err, 'NotFound')) {
            this.expectations.deletionObserved(key, podKey(pod));
            this.recorder.event(job, 'Warning', 'FailedDelete', `Error deleting: ${toError(err).message}`);
            error ??= toError(err);
            return;
          }
          this.expectations.deletionObserved(key, podKey(pod));
        }
        deleted++;
        if (isPodReady(pod)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, ...(error ? { error } : {}) };
  }

  private async removeFinalizer(pod: Pod): Promise<void> {
    const patch = { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [jobTrackingFinalizer] } };
    try {
      await this.client.patch({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, pod.metadata?.name ?? '', patch, 'strategic');
    } catch (err) {
      if (!isStatus(err, 'NotFound')) throw err;
    }
  }

  /**
   * Upstream's trackJobStatusAndRemoveFinalizers: finished pods go into uncountedTerminatedPods (written
   * first), lose their finalizer, then move into the counters; then the terminal condition once nothing is
   * left uncounted or terminating.
   */
  private async trackStatusAndRemoveFinalizers(ctx: SyncCtx): Promise<void> {
    const { job, status, key } = ctx;
    const spec = job.spec!;
    const indexed = spec.completionMode === 'Indexed';
    const completions = spec.completions ?? 0;
    const uncounted = status.uncountedTerminatedPods!;
    const withFinalizer = new Set(ctx.pods.filter(ctx.hasFinalizer).map((p) => p.metadata?.uid ?? ''));
    cleanUncounted(status, withFinalizer);
    const toUnfinalize: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    const pods = indexed ? [...ctx.pods].sort((a, b) => (completionIndexOf(a) ?? -1) - (completionIndexOf(b) ?? -1)) : ctx.pods;
    const failing = ctx.finished !== undefined && ctx.finished.type !== 'SuccessCriteriaMet';
    for (const pod of pods) {
      if (!ctx.hasFinalizer(pod)) continue;
      const uid = pod.metadata?.uid ?? '';
      const consideredFailed = isPodFailed(pod, job);
      let canRemove = job.metadata?.deletionTimestamp !== undefined || ctx.finished !== undefined || pod.status?.phase === 'Succeeded' || consideredFailed;
      // With backoffLimitPerIndex a failed pod stays until its replacement carries its failure count.
      if (canRemove && job.metadata?.deletionTimestamp === undefined && ctx.finished === undefined && pod.status?.phase !== 'Succeeded') {
        const ix = completionIndexOf(pod);
        if (ix !== undefined && ctx.delayedPerIndex.get(ix)?.metadata?.uid === uid) canRemove = false;
      }
      if (!canRemove) continue;
      toUnfinalize.push(pod);
      const ix = completionIndexOf(pod);
      if (pod.status?.phase === 'Succeeded' && !ctx.uncountedFailed.has(uid)) {
        if (indexed) {
          if (ix !== undefined && ix < completions && !ctx.prevSucceededIndexes.has(ix)) newSucceededIndexes.push(ix);
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          (uncounted.succeeded ??= []).push(uid);
        }
      } else if (consideredFailed || failing) {
        if (!ctx.uncountedFailed.has(uid) && (!indexed || (ix !== undefined && ix < completions))) {
          if (matchPodFailurePolicy(spec.podFailurePolicy, pod).countFailed) (uncounted.failed ??= []).push(uid);
        }
      }
      if (newSucceededIndexes.length + (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0) >= maxUncountedPods) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      status.succeeded = ctx.succeededIndexes.size;
      status.completedIndexes = formatIndexes(ctx.succeededIndexes);
      if (ctx.failedIndexes) status.failedIndexes = formatIndexes(ctx.failedIndexes);
    }
    const now = this.clock.now();
    let finished = ctx.finished;
    if (finished?.type === 'FailureTarget') {
      (status.conditions ??= []).push(newCondition(finished, now));
      finished = { ...finished, type: 'Failed' };
    }
    if (finished?.type === 'SuccessCriteriaMet') {
      if (!(status.conditions ?? []).some((c) => c.type === 'SuccessCriteriaMet')) (status.conditions ??= []).push(newCondition(finished, now));
      finished = { ...finished, type: 'Complete' };
    }

    // 1. Write the uncounted pods (and interim conditions) before any finalizer goes.
    let current = job;
    if (statusDiffers(current.status, status)) current = await this.writeStatus(current, status);
    this.backoffs.set(key, ctx.backoff);
    // 2. Remove the finalizers.
    let rmError: Error | undefined;
    if (toUnfinalize.length > 0) {
      let awaited = this.finalizerRemovals.get(key);
      if (!awaited) this.finalizerRemovals.set(key, (awaited = new Set()));
      await Promise.all(
        toUnfinalize.map(async (pod) => {
          const uid = pod.metadata?.uid ?? '';
          awaited.add(uid);
          try {
            await this.removeFinalizer(pod);
            withFinalizer.delete(uid);
          } catch (err) {
            awaited.delete(uid);
            rmError ??= toError(err);
          }
        }),
      );
    }
    // 3. Count the pods that lost their finalizer.
    cleanUncounted(status, withFinalizer);
    if (rmError) {
      if (statusDiffers(current.status, status)) await this.writeStatus(current, status);
      throw rmError;
    }
    // 4. The terminal condition once every pod is counted and none is terminating.
    let jobFinished = false;
    const uncountedLeft = (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0);
    if (!reachedMax && finished && uncountedLeft === 0 && ctx.terminating === 0) {
      ensureCondition(status, finished.type, 'True', finished.reason ?? '', finished.message ?? '', now);
      if (finished.type === 'Complete') status.completionTime = status.conditions!.find((c) => c.type === 'Complete')!.lastTransitionTime;
      jobFinished = true;
    }
    if (statusDiffers(current.status, status)) {
      current = await this.writeStatus(current, status);
      if (jobFinished) this.recordFinished(current, finished!);
    }
  }

  private recordFinished(job: Job, finished: Finished): void {
    if (finished.type === 'Complete') {
      const completions = job.spec?.completions;
      if (completions != null && (job.status?.succeeded ?? 0) > completions) {
        this.recorder.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      }
      this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
      this.log.info('job completed', { job: metaNamespaceKey(job), reason: finished.reason, succeeded: job.status?.succeeded ?? 0, failed: job.status?.failed ?? 0 });
    } else {
      this.recorder.event(job, 'Warning', finished.reason ?? '', finished.message ?? '');
      this.log.info('job failed', { job: metaNamespaceKey(job), reason: finished.reason, message: finished.message });
    }
  }

  /** Writes the status through the status subresource; a conflict fails the sync, which retries. */
  private async writeStatus(job: Job, status: JobStatus): Promise<Job> {
    const ref = { ...jobsRef, namespace: job.metadata?.namespace ?? '' };
    return this.client.updateStatus<Job>(ref, { ...job, status: normalizeStatus(status) });
  }

  /** Upstream's backoffStore.newBackoffRecord: failures since the last success, and the last failure's time. */
  private newBackoffRecord(key: string, newSucceeded: Pod[], newFailed: Pod[]): BackoffRecord {
    const rec: BackoffRecord = { ...(this.backoffs.get(key) ?? { failuresAfterLastSuccess: 0 }) };
    const byFinish = (a: Pod, b: Pod): number => finishedTime(a, this.clock) - finishedTime(b, this.clock);
    const failedSorted = [...newFailed].sort(byFinish);
    if (newSucceeded.length === 0) {
      if (failedSorted.length === 0) return rec;
      rec.failuresAfterLastSuccess += failedSorted.length;
      rec.lastFailureMs = finishedTime(failedSorted[failedSorted.length - 1]!, this.clock);
      return rec;
    }
    const lastSuccess = Math.max(...newSucceeded.map((p) => finishedTime(p, this.clock)));
    const after = failedSorted.filter((p) => finishedTime(p, this.clock) > lastSuccess);
    return after.length === 0
      ? { failuresAfterLastSuccess: 0 }
      : { failuresAfterLastSuccess: after.length, lastFailureMs: finishedTime(after[after.length - 1]!, this.clock) };
  }

  private remainingBackoffMs(rec: BackoffRecord): number {
    return backoffRemainingMs(rec, this.backoffBaseMs, this.clock.now());
  }

  /** A tracked pod whose Job is gone or finished loses its finalizer. */
  private async syncOrphanPod(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pod = this.pods.lister.get(namespace, name);
    if (!pod || !hasTrackingFinalizer(pod)) return;
    const ref = controllerOf(pod);
    if (ref && ref.kind === 'Job' && ref.apiVersion === 'batch/v1') {
      const job = this.resolveControllerRef(namespace, ref);
      if (job && !isJobFinished(job)) return;
    } else if (ref) {
      return;
    }
    await this.removeFinalizer(pod);
  }
}

/** How long pod creation must still wait: base × 2^(failures−1), capped at 10 min, from the last failure. */
export function backoffRemainingMs(rec: BackoffRecord, baseMs: number, nowMs: number): number {
  if (rec.failuresAfterLastSuccess === 0 || rec.lastFailureMs === undefined) return 0;
  let backoff = baseMs;
  for (let i = 1; i < rec.failuresAfterLastSuccess; i++) {
    backoff *= 2;
    if (backoff >= maxPodFailureBackoffMs) {
      backoff = maxPodFailureBackoffMs;
      break;
    }
  }
  const elapsed = nowMs - rec.lastFailureMs;
  return elapsed > backoff ? 0 : backoff - elapsed;
}

/**
 * Upstream's matchSuccessPolicy for Indexed Jobs: the first rule whose succeededIndexes (all of them, or
 * succeededCount of them) or whose succeededCount alone is met, as "Matched rules at index N".
 */
export function matchSuccessPolicy(policy: SuccessPolicy | undefined, completions: number, succeeded: Set<number>): string | undefined {
  if (!policy || succeeded.size === 0) return undefined;
  for (const [index, rule] of policy.rules.entries()) {
    if (rule.succeededIndexes != null) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      if (required.size === 0) continue;
      let count = 0;
      for (const ix of required) if (succeeded.has(ix)) count++;
      if (rule.succeededCount != null ? count >= rule.succeededCount : count === required.size) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount != null && succeeded.size >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}

/** Whether the Job has a True Complete or Failed condition. */
export function isJobFinished(job: Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

function hasTrackingFinalizer(pod: KubeObject): boolean {
  return ((pod.metadata?.finalizers as string[] | undefined) ?? []).includes(jobTrackingFinalizer);
}

function isTerminating(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata?.deletionTimestamp !== undefined && phase !== 'Succeeded' && phase !== 'Failed';
}

/** Upstream's isPodFailed: Failed, or (unless only failed pods are replaced) deleted before succeeding. */
function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (job.spec?.podFailurePolicy || job.spec?.podReplacementPolicy === 'Failed') return false;
  return pod.metadata?.deletionTimestamp !== undefined && pod.status?.phase !== 'Succeeded';
}

/** Upstream's isIndexFailed: a counted failure of a pod whose index already used up backoffLimitPerIndex, or FailIndex. */
function isIndexFailed(job: Job, pod: Pod): boolean {
  if (!isPodFailed(pod, job)) return false;
  const match = matchPodFailurePolicy(job.spec?.podFailurePolicy, pod);
  if (match.action === 'FailIndex') return true;
  return match.countFailed && indexFailureCounts(pod).counted >= (job.spec?.backoffLimitPerIndex ?? 0);
}

/** The failure counts a pod carries for its index (0 when missing or malformed). */
function indexFailureCounts(pod: Pod): { counted: number; ignored: number; absolute: number } {
  const read = (key: string): number => {
    const v = Number(pod.metadata?.annotations?.[key] ?? '0');
    return Number.isInteger(v) && v >= 0 && v <= 2147483647 ? v : 0;
  };
  const counted = read(indexFailureCountAnnotation);
  const ignored = read(indexIgnoredFailureCountAnnotation);
  return { counted, ignored, absolute: counted + ignored };
}

/** The counts a replacement pod inherits from the failed pod it replaces. */
function newIndexFailureCounts(job: Job, replaced: Pod | undefined): { counted: number; ignored: number } {
  if (!replaced) return { counted: 0, ignored: 0 };
  const { counted, ignored } = indexFailureCounts(replaced);
  return matchPodFailurePolicy(job.spec?.podFailurePolicy, replaced).countFailed ? { counted: counted + 1, ignored } : { counted, ignored: ignored + 1 };
}

/** Upstream's getPodsWithDelayedDeletionPerIndex: per pending index, its latest failed, still tracked pod. */
function delayedDeletionPerIndex(ctx: SyncCtx, job: Job, validIndex: (p: Pod) => boolean, clock: Clock): Map<number, Pod> {
  const activeIx = new Set(ctx.active.map(completionIndexOf));
  const out = new Map<number, Pod>();
  for (const p of ctx.pods) {
    if (!ctx.hasFinalizer(p) || !validIndex(p) || !isPodFailed(p, job)) continue;
    const ix = completionIndexOf(p)!;
    if (ctx.succeededIndexes.has(ix) || ctx.failedIndexes?.has(ix) || activeIx.has(ix)) continue;
    const prev = out.get(ix);
    if (!prev || (indexFailureCounts(prev).absolute <= indexFailureCounts(p).absolute && finishedTime(p, clock) >= finishedTime(prev, clock))) out.set(ix, p);
  }
  return out;
}

/** With restartPolicy OnFailure, container restarts of running pods count against backoffLimit. */
function pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    const st = p.status as { initContainerStatuses?: { restartCount?: number }[]; containerStatuses?: { restartCount?: number }[] };
    for (const c of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])]) restarts += c.restartCount ?? 0;
  }
  const limit = job.spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** The lowest indexes neither succeeded nor held by an active pod. */
function firstPendingIndexes(ctx: SyncCtx, count: number, completions: number): number[] {
  const taken = new Set([...ctx.succeededIndexes, ...(ctx.failedIndexes ?? [])]);
  for (const p of ctx.active) {
    const ix = completionIndexOf(p);
    if (ix !== undefined) taken.add(ix);
  }
  if (ctx.job.spec?.podReplacementPolicy === 'Failed') {
    for (const p of ctx.pods) {
      const ix = completionIndexOf(p);
      if (ix !== undefined && isTerminating(p)) taken.add(ix);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

/** When a pod finished: its containers' last finishedAt, else its deletion time, else now. */
function finishedTime(pod: Pod, clock: Clock): number {
  const st = pod.status as { containerStatuses?: { state?: { terminated?: { finishedAt?: string } } }[] } | undefined;
  let latest = NaN;
  for (const c of st?.containerStatuses ?? []) {
    const t = Date.parse(c.state?.terminated?.finishedAt ?? '');
    if (!Number.isNaN(t) && !(t <= latest)) latest = t;
  }
  if (!Number.isNaN(latest)) return latest;
  const del = Date.parse((pod.metadata?.deletionTimestamp as string | undefined) ?? '');
  return Number.isNaN(del) ? clock.now() : del;
}

/** Moves uncounted UIDs whose pods no longer carry the finalizer into the counters. */
function cleanUncounted(status: JobStatus, withFinalizer: Set<string>): void {
  const u = status.uncountedTerminatedPods!;
  const keepS = (u.succeeded ?? []).filter((x) => withFinalizer.has(x));
  status.succeeded = (status.succeeded ?? 0) + (u.succeeded?.length ?? 0) - keepS.length;
  u.succeeded = keepS;
  const keepF = (u.failed ?? []).filter((x) => withFinalizer.has(x));
  status.failed = (status.failed ?? 0) + (u.failed?.length ?? 0) - keepF.length;
  u.failed = keepF;
}

/** Upstream's ensureJobConditionStatus; true when the conditions changed. */
function ensureCondition(status: JobStatus, type: string, st: string, reason: string, message: string, now: number): boolean {
  const list = (status.conditions ??= []);
  const found = list.find((c) => c.type === type);
  if (found) {
    if (found.status === st && (found.reason ?? '') === reason && (found.message ?? '') === message) return false;
    Object.assign(found, newCondition({ type, status: st, reason, message }, now));
    return true;
  }
  if (st === 'False') {
    if (list.length === 0) delete status.conditions;
    return false;
  }
  list.push(newCondition({ type, status: st, reason, message }, now));
  return true;
}

function newCondition(c: Finished, now: number): JobCondition {
  const t = rfc3339(now);
  return { type: c.type, status: c.status, lastProbeTime: t, lastTransitionTime: t, reason: c.reason ?? '', message: c.message ?? '' };
}

/** The status as upstream serializes it: zero counters and empty UID lists left out. */
function normalizeStatus(status: JobStatus): JobStatus {
  const out: JobStatus = structuredClone(status);
  for (const k of ['active', 'succeeded', 'failed'] as const) if (!out[k]) delete out[k];
  const u = out.uncountedTerminatedPods ?? {};
  if (u.succeeded?.length === 0) delete u.succeeded;
  if (u.failed?.length === 0) delete u.failed;
  out.uncountedTerminatedPods = u;
  if (out.completedIndexes === '') delete out.completedIndexes;
  return out;
}

function statusDiffers(old: JobStatus | undefined, next: JobStatus): boolean {
  return JSON.stringify(sortKeys(normalizeStatus(old ?? {}))) !== JSON.stringify(sortKeys(normalizeStatus(next)));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

function controllerRef(job: Job): OwnerReference {
  return { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata?.name ?? '', uid: job.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}


function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
