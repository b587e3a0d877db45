// The ReplicaSet controller (upstream's pkg/controller/replicaset): keeps spec.replicas pods matching each
// ReplicaSet's selector. It adopts matching orphans and releases pods that stopped matching, creates the
// missing pods from the template in slow-start batches, deletes the least valuable surplus pods, and
// reports counts in the status. Expectations keep it from acting on a ReplicaSet again before its pod
// informer has seen the creates and deletes it already issued.
import type { LabelSelector, MetaLabelSelector } from '../../api/labels.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import { ControllerExpectations } from './controller-expectations.js';
import type { OwnerReference, Pod } from './pod.js';
import { controllerOf, isPodActive, isPodAvailable, isPodReady, podKey } from './pod.js';
import { podsToDelete } from './pods-to-delete.js';
import { slowStartBatch } from './slow-start-batch.js';

const podsRef = { group: '', version: 'v1', resource: 'pods' };
const replicaSetsRef = { group: 'apps', version: 'v1', resource: 'replicasets' };
const rsApiVersion = 'apps/v1';
const rsKind = 'ReplicaSet';

/** Most pods created or deleted in one sync (upstream's BurstReplicas). */
export const burstReplicas = 500;
/** The first slow-start batch of creates; each batch that fully succeeds doubles the next. */
const slowStartInitialBatchSize = 1;
/** Upstream's --concurrent-replicaset-syncs default. */
const workers = 5;

/** A ReplicaSet condition. */
interface ReplicaSetCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** apps/v1 ReplicaSetStatus. */
interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaSetCondition[];
  [key: string]: unknown;
}

/** The ReplicaSet fields the controller reads. */
interface ReplicaSet extends KubeObject {
  spec?: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: MetaLabelSelector;
    template?: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
      spec?: Record<string, unknown>;
    };
  };
  status?: ReplicaSetStatus;
}

/** Keeps the pods of every ReplicaSet at spec.replicas. */
export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  private readonly client: RESTClient;
  private readonly replicaSets: SharedInformer<ReplicaSet>;
  private readonly pods: SharedInformer<Pod>;
  private readonly queue = newQueue('replicaset');
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Exposed for tests: what each ReplicaSet still waits to see. */
  readonly expectations: ControllerExpectations;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'replicaset' });
    this.recorder = ctx.recorder('replicaset-controller');
    this.expectations = new ControllerExpectations(ctx.clock);
    this.replicaSets = ctx.informers.informerFor<ReplicaSet>(replicaSetsRef);
    this.pods = ctx.informers.informerFor<Pod>(podsRef);
    this.replicaSets.addEventHandler({
      onAdd: (rs) => this.queue.add(metaNamespaceKey(rs)),
      onUpdate: (old, cur) => {
        // The same name with a new UID: the old one was deleted and recreated while we looked away.
        if (old.metadata?.uid !== cur.metadata?.uid) this.onReplicaSetDeleted(old);
        this.queue.add(metaNamespaceKey(cur));
      },
      onDelete: (obj) => this.onReplicaSetDeleted(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
    });
    this.pods.addEventHandler({
      onAdd: (pod) => this.onPodAdded(pod),
      onUpdate: (old, cur) => this.onPodUpdated(old, cur),
      onDelete: (obj) => this.onPodDeleted(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.replicaSets.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.log);
  }

  // Event handlers: they only adjust expectations and enqueue.

  private onReplicaSetDeleted(rs: ReplicaSet): void {
    const key = metaNamespaceKey(rs);
    // A new ReplicaSet of the same name must start without the old one's expectations.
    this.expectations.delete(key);
    this.queue.add(key);
  }

  private onPodAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      // Seen first while already terminating (after a restart): a deletion, never a creation.
      this.onPodDeleted(pod);
      return;
    }
    const ref = controllerOf(pod);
    if (ref) {
      const rs = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
      if (!rs) return;
      const key = metaNamespaceKey(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    // An orphan: every ReplicaSet that selects it may want to adopt it. No creation is observed, since
    // nobody waits for an orphan.
    for (const rs of this.replicaSetsSelecting(pod)) this.queue.add(metaNamespaceKey(rs));
  }

  private onPodUpdated(old: Pod, cur: Pod): void {
    // Resyncs and relists repeat objects unchanged.
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelsChanged = !sameLabels(old.metadata?.labels, cur.metadata?.labels);
    if (cur.metadata?.deletionTimestamp) {
      // A graceful delete starts: count it now, so that a replacement is made without waiting for the
      // kubelet to finish the pod.
      this.onPodDeleted(cur);
      if (labelsChanged) this.onPodDeleted(old);
      return;
    }
    const curRef = controllerOf(cur);
    const oldRef = controllerOf(old);
    const refChanged = JSON.stringify(curRef) !== JSON.stringify(oldRef);
    if (refChanged && oldRef) {
      const rs = this.resolveControllerRef(old.metadata?.namespace ?? '', oldRef);
      if (rs) this.queue.add(metaNamespaceKey(rs));
    }
    if (curRef) {
      const rs = this.resolveControllerRef(cur.metadata?.namespace ?? '', curRef);
      if (!rs) return;
      const key = metaNamespaceKey(rs);
      this.queue.add(key);
      // Becoming available happens minReadySeconds after becoming ready, with no event of its own.
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0) this.queue.addAfter(key, minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) {
      for (const rs of this.replicaSetsSelecting(cur)) this.queue.add(metaNamespaceKey(rs));
    }
  }

  private onPodDeleted(pod: Pod): void {
    const ref = controllerOf(pod);
    if (!ref) return;
    const rs = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
    if (!rs) return;
    const key = metaNamespaceKey(rs);
    this.expectations.deletionObserved(key, podKey(pod));
    this.queue.add(key);
  }

  /** The ReplicaSet a controller reference names, if it exists with that UID. */
  private resolveControllerRef(namespace: string, ref: OwnerReference): ReplicaSet | undefined {
    if (ref.kind !== rsKind) return undefined;
    const rs = this.replicaSets.lister.get(namespace, ref.name);
    return rs && rs.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets of the pod's namespace whose selector matches it; an empty selector matches nothing here. */
  private replicaSetsSelecting(pod: Pod): ReplicaSet[] {
    const out: ReplicaSet[] = [];
    for (const rs of this.replicaSets.lister.listNamespace(pod.metadata?.namespace ?? '')) {
      let sel: LabelSelector;
      try {
        sel = labelSelectorAsSelector(rs.spec?.selector);
      } catch {
        continue;
      }
      if (sel.empty() || !sel.matches(pod.metadata?.labels)) continue;
      out.push(rs);
    }
    if (out.length > 1) {
      this.log.warn('user error! more than one ReplicaSet is selecting pods with labels', { pod: podKey(pod), labels: pod.metadata?.labels });
    }
    return out;
  }

  // The sync.

  /** Level-triggered: brings the ReplicaSet's pods to spec.replicas and its status up to date. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const rs = this.replicaSets.lister.get(namespace, name);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    let selector: LabelSelector;
    try {
      selector = labelSelectorAsSelector(rs.spec?.selector);
    } catch (err) {
      // Validation keeps bad selectors out; one that slips through is not worth retrying.
      this.log.warn('invalid selector', { replicaSet: key, error: err instanceof Error ? err.message : String(err) });
      return;
    }
    // Every pod of the namespace, so that owned pods that stopped matching are found and released.
    const active = this.pods.lister.listNamespace(namespace).filter(isPodActive);
    const owned = await this.claimPods(rs, selector, active);
    let manageError: Error | undefined;
    if (needsSync && !rs.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(key, rs, owned);
      } catch (err) {
        manageError = err instanceof Error ? err : new Error(String(err));
      }
    }
    const status = this.calculateStatus(rs, owned, manageError);
    const updated = await this.updateStatus(rs, status);
    const minReady = updated.spec?.minReadySeconds ?? 0;
    const replicas = updated.spec?.replicas ?? 1;
    // A last resort against missed readiness changes: look again once pods could have become available.
    if (!manageError && minReady > 0 && updated.status?.readyReplicas === replicas && updated.status.availableReplicas !== replicas) {
      this.queue.addAfter(key, minReady * 1000);
    }
    if (manageError) throw manageError;
  }

  /**
   * Upstream's PodControllerRefManager.ClaimPods: the pods this ReplicaSet owns after adopting matching
   * orphans and releasing owned pods that no longer match.
   */
  private async claimPods(rs: ReplicaSet, selector: LabelSelector, pods: Pod[]): Promise<Pod[]> {
    const claimed: Pod[] = [];
    const errors: string[] = [];
    const uid = rs.metadata?.uid ?? '';
    const deleting = rs.metadata?.deletionTimestamp !== undefined;
    let canAdopt: Promise<void> | undefined;
    for (const pod of pods) {
      const ref = controllerOf(pod);
      const matches = selector.matches(pod.metadata?.labels);
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches) {
          claimed.push(pod);
          continue;
        }
        // A ReplicaSet being deleted lets the garbage collector have its pods rather than orphan them.
        if (deleting) continue;
        try {
          await this.releasePod(rs, pod);
        } catch (err) {
          errors.push(errorMessage(err));
        }
        continue;
      }
      if (deleting || !matches || pod.metadata?.deletionTimestamp) continue;
      try {
        // Check once, uncached, that the ReplicaSet is not being deleted before adopting anything.
        canAdopt ??= this.recheckNotDeleted(rs);
        await canAdopt.catch((err: unknown) => {
          throw new Error(`can't adopt Pod ${podKey(pod)} (${pod.metadata?.uid ?? ''}): ${errorMessage(err)}`);
        });
        if (await this.adoptPod(rs, pod)) claimed.push(pod);
      } catch (err) {
        errors.push(errorMessage(err));
      }
    }
    if (errors.length > 0) throw new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
    return claimed;
  }

  private async recheckNotDeleted(rs: ReplicaSet): Promise<void> {
    const ns = rs.metadata?.namespace ?? '';
    const name = rs.metadata?.name ?? '';
    const fresh = await this.client.get<ReplicaSet>({ ...replicaSetsRef, namespace: ns }, name);
    if (fresh.metadata?.uid !== rs.metadata?.uid) {
      throw new Error(`original ReplicaSet ${ns}/${name} is gone: got uid ${fresh.metadata?.uid ?? ''}, wanted ${rs.metadata?.uid ?? ''}`);
    }
    const ts = fresh.metadata?.deletionTimestamp as string | undefined;
    if (ts) throw new Error(`${ns}/${name} has just been deleted at ${ts}`);
  }

  /** Makes the ReplicaSet the pod's controller; false when the pod is gone. */
  private async adoptPod(rs: ReplicaSet, pod: Pod): Promise<boolean> {
    // The pod's UID in the patch is a precondition: a recreated pod of the same name is not adopted.
    const patch = { metadata: { ownerReferences: [controllerRef(rs)], uid: pod.metadata?.uid } };
    try {
      await this.client.patch({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, pod.metadata?.name ?? '', patch, 'strategic');
      return true;
    } catch (err) {
      if (isStatus(err, 'NotFound')) return false;
      throw err;
    }
  }

  /** Removes the ReplicaSet's owner reference from the pod. */
  private async releasePod(rs: ReplicaSet, pod: Pod): Promise<void> {
    const patch = { metadata: { ownerReferences: [{ $patch: 'delete', uid: rs.metadata?.uid }], uid: pod.metadata?.uid } };
    try {
      await this.client.patch({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, pod.metadata?.name ?? '', patch, 'strategic');
    } catch (err) {
      // Gone, or recreated under a new UID, or no longer ours: there is nothing left to release.
      if (isStatus(err, 'NotFound') || isStatus(err, 'Invalid')) return;
      throw err;
    }
  }

  /** Creates or deletes pods to reach spec.replicas, at most burstReplicas at a time. */
  private async manageReplicas(key: string, rs: ReplicaSet, pods: Pod[]): Promise<void> {
    const wanted = rs.spec?.replicas ?? 1;
    const diff = pods.length - wanted;
    if (diff < 0) {
      const count = Math.min(-diff, burstReplicas);
      this.expectations.expectCreations(key, count);
      this.log.info('too few replicas', { replicaSet: key, need: wanted, creating: count }, 2);
      const { successes, error } = await slowStartBatch(count, slowStartInitialBatchSize, async () => {
        try {
          await this.createPod(rs);
        } catch (err) {
          // In a terminating namespace every create fails; that is not the ReplicaSet's failure.
          if (hasCause(err, 'NamespaceTerminating')) return;
          throw err;
        }
      });
      // Creates never attempted will never be observed.
      for (let i = successes; i < count; i++) this.expectations.creationObserved(key);
      if (error) throw error;
    } else if (diff > 0) {
      const count = Math.min(diff, burstReplicas);
      this.log.info('too many replicas', { replicaSet: key, need: wanted, deleting: count }, 2);
      const victims = podsToDelete(pods, this.indirectlyRelatedPods(rs), count, this.clock.now());
      this.expectations.expectDeletions(key, victims.map(podKey));
      const errors: Error[] = [];
      await Promise.all(
        victims.map(async (pod) => {
          try {
            await this.deletePod(rs, pod);
          } catch (err) {
            // This deletion will never be observed.
            this.expectations.deletionObserved(key, podKey(pod));
            if (!isStatus(err, 'NotFound')) errors.push(err instanceof Error ? err : new Error(String(err)));
          }
        }),
      );
      if (errors[0]) throw errors[0];
    }
  }

  /** One pod from the template, as upstream's RealPodControl.CreatePods makes it. */
  private async createPod(rs: ReplicaSet): Promise<void> {
    const template = rs.spec?.template ?? {};
    const labels = { ...template.metadata?.labels };
    if (Object.keys(labels).length === 0) throw new Error('unable to create pods, no labels');
    const namespace = rs.metadata?.namespace ?? '';
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata?.name ?? ''}-`,
        namespace,
        labels,
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ...(template.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
        ownerReferences: [controllerRef(rs)],
      },
      spec: structuredClone(template.spec ?? {}),
    };
    let created: Pod;
    try {
      created = await this.client.create<Pod>({ ...podsRef, namespace }, pod);
    } catch (err) {
      if (!hasCause(err, 'NamespaceTerminating')) this.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
      throw err;
    }
    this.log.info('created pod', { replicaSet: metaNamespaceKey(rs), pod: created.metadata?.name }, 4);
    this.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
  }

  private async deletePod(rs: ReplicaSet, pod: Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.client.delete({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, name);
    } catch (err) {
      if (isStatus(err, 'NotFound')) throw err;
      this.recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
      throw new Error(`unable to delete pods: ${errorMessage(err)}`);
    }
    this.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }

  /** The pods of every ReplicaSet sharing this one's controller (its Deployment's other generations). */
  private indirectlyRelatedPods(rs: ReplicaSet): Pod[] {
    const owner = controllerOf(rs);
    if (!owner) return [];
    const seen = new Set<string>();
    const out: Pod[] = [];
    for (const related of this.replicaSets.lister.list()) {
      if (controllerOf(related)?.uid !== owner.uid) continue;
      let sel: LabelSelector;
      try {
        sel = labelSelectorAsSelector(related.spec?.selector);
      } catch {
        continue;
      }
      for (const pod of this.pods.lister.listNamespace(related.metadata?.namespace ?? '', sel)) {
        const uid = pod.metadata?.uid ?? '';
        if (seen.has(uid)) continue;
        seen.add(uid);
        out.push(pod);
      }
    }
    return out;
  }

  /** Upstream's calculateStatus. */
  private calculateStatus(rs: ReplicaSet, pods: Pod[], manageError: Error | undefined): ReplicaSetStatus {
    const status: ReplicaSetStatus = structuredClone(rs.status ?? {});
    const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const now = this.clock.now();
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const pod of pods) {
      const labels = pod.metadata?.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
    }
    const failure = status.conditions?.find((c) => c.type === 'ReplicaFailure');
    if (manageError && !failure) {
      const diff = pods.length - (rs.spec?.replicas ?? 1);
      const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
      status.conditions = [
        ...(status.conditions ?? []),
        { type: 'ReplicaFailure', status: 'True', lastTransitionTime: rfc3339(now), reason, message: manageError.message },
      ];
    } else if (!manageError && failure) {
      status.conditions = status.conditions?.filter((c) => c.type !== 'ReplicaFailure');
      if (status.conditions?.length === 0) delete status.conditions;
    }
    status.replicas = pods.length;
    status.fullyLabeledReplicas = fullyLabeled;
    status.readyReplicas = ready;
    status.availableReplicas = available;
    return status;
  }

  /** Writes the status through the status subresource when it changed; one retry on a fresh copy. */
  private async updateStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<ReplicaSet> {
    const old = rs.status ?? {};
    const generation = rs.metadata?.generation as number | undefined;
    if (
      (old.replicas ?? 0) === status.replicas &&
      (old.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (old.readyReplicas ?? 0) === status.readyReplicas &&
      (old.availableReplicas ?? 0) === status.availableReplicas &&
      generation === old.observedGeneration &&
      JSON.stringify(old.conditions ?? []) === JSON.stringify(status.conditions ?? [])
    ) {
      return rs;
    }
    // The generation acted on; a retry below must not claim a newer spec was seen.
    const next: ReplicaSetStatus = { ...status, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
    const ref = { ...replicaSetsRef, namespace: rs.metadata?.namespace ?? '' };
    try {
      return await this.client.updateStatus<ReplicaSet>(ref, { ...structuredClone(rs), status: next });
    } catch (err) {
      if (isStatus(err, 'NotFound')) return rs;
      const fresh = await this.client.get<ReplicaSet>(ref, rs.metadata?.name ?? '');
      return this.client.updateStatus<ReplicaSet>(ref, { ...fresh, status: next });
    }
  }
}

/** The controller owner reference a ReplicaSet puts on its pods. */
function controllerRef(rs: ReplicaSet): OwnerReference {
  return {
    apiVersion: rsApiVersion,
    kind: rsKind,
    name: rs.metadata?.name ?? '',
    uid: rs.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Whether a failed request's Status carries a cause of this type (upstream's HasStatusCause). */
function hasCause(err: unknown, type: string): boolean {
  const causes = (err as { status?: { details?: { causes?: { type?: string }[] } } } | undefined)?.status?.details?.causes;
  return Array.isArray(causes) && causes.some((c) => c.type === type);
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a?.[k] === b?.[k]);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
