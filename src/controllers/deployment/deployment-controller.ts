// The Deployment controller (upstream's pkg/controller/deployment): keeps one ReplicaSet per pod template
// revision, rolls pods from the old ReplicaSets to the new one (RollingUpdate within maxSurge and
// maxUnavailable, or Recreate), scales proportionally when replicas change mid-rollout, prunes old
// ReplicaSets beyond revisionHistoryLimit, and reports status and the Available/Progressing conditions.
// Like upstream it keeps no expectations: writes carry the cached resourceVersion, so acting on a stale
// cache fails with a conflict and the key is retried.
import type { IntOrString } from '../../api/intstr.js';
import { getScaledValueFromIntOrPercent } from '../../api/intstr.js';
import type { LabelSelector, MetaLabelSelector } from '../../api/labels.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import {
  DeletedFinalStateUnknown,
  isStatus,
  metaNamespaceKey,
  splitMetaNamespaceKey,
} from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import type { OwnerReference, Pod } from '../replicaset/pod.js';
import { controllerOf } from '../replicaset/pod.js';
import { computeHash } from './compute-hash.js';

const deploymentsRef = { group: 'apps', version: 'v1', resource: 'deployments' };
const replicaSetsRef = { group: 'apps', version: 'v1', resource: 'replicasets' };
const podsRef = { group: '', version: 'v1', resource: 'pods' };

const revisionAnnotation = 'deployment.kubernetes.io/revision';
const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
const hashLabel = 'pod-template-hash';
/** Deployment annotations that are not copied onto its ReplicaSets. */
const skippedAnnotations = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  revisionAnnotation,
  revisionHistoryAnnotation,
  desiredReplicasAnnotation,
  maxReplicasAnnotation,
  'deprecated.deployment.rollback.to',
]);
/** Opts a deployment in to rolling back by itself when a rollout exceeds its progress deadline (k8ts only). */
export const rollbackOnDeadlineAnnotation = 'k8ts.io/rollback-on-progress-deadline';
/** Marks a ReplicaSet whose rollout completed, under that opt-in: a revision a rollback may return to. */
export const becameAvailableAnnotation = 'k8ts.io/became-available';
/** progressDeadlineSeconds at this value means no deadline. */
const maxInt32 = 2147483647;
/** Upstream's --concurrent-deployment-syncs default. */
const workers = 5;

/** A deployment condition. */
export interface DeploymentCondition {
  type: string;
  status: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** apps/v1 DeploymentStatus. */
interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: DeploymentCondition[];
  collisionCount?: number;
}

/** A pod template. */
interface PodTemplate {
  metadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
}

/** The Deployment fields the controller reads. */
interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: MetaLabelSelector;
    template?: PodTemplate;
    strategy?: { type?: string; rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    paused?: boolean;
    progressDeadlineSeconds?: number;
  };
  status?: DeploymentStatus;
}

/** The ReplicaSet fields the controller reads and writes. */
interface ReplicaSet extends KubeObject {
  spec?: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: MetaLabelSelector;
    template?: PodTemplate;
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
    conditions?: {
      type: string;
      status: string;
      lastTransitionTime?: string;
      reason?: string;
      message?: string;
    }[];
  };
}

/** Rolls Deployments out through ReplicaSets. */
export class DeploymentController implements Controller {
  readonly name = 'deployment';
  private readonly client: RESTClient;
  private readonly deployments: SharedInformer<Deployment>;
  private readonly replicaSets: SharedInformer<ReplicaSet>;
  private readonly pods: SharedInformer<Pod>;
  private readonly queue = newQueue('deployment');
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'deployment' });
    this.recorder = ctx.recorder('deployment-controller');
    this.deployments = ctx.informers.informerFor<Deployment>(deploymentsRef);
    this.replicaSets = ctx.informers.informerFor<ReplicaSet>(replicaSetsRef);
    this.pods = ctx.informers.informerFor<Pod>(podsRef);
    this.deployments.addEventHandler({
      onAdd: (d) => this.queue.add(metaNamespaceKey(d)),
      onUpdate: (_old, cur) => this.queue.add(metaNamespaceKey(cur)),
      onDelete: (obj) =>
        this.queue.add(metaNamespaceKey(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj)),
    });
    this.replicaSets.addEventHandler({
      onAdd: (rs) => this.onReplicaSetChanged(rs),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        const oldRef = controllerOf(old);
        if (oldRef && oldRef.uid !== controllerOf(cur)?.uid) this.onReplicaSetChanged(old);
        this.onReplicaSetChanged(cur);
      },
      onDelete: (obj) => {
        const rs = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
        const d = this.ownerOf(rs);
        if (d) this.queue.add(metaNamespaceKey(d));
      },
    });
    // Recreate waits for the old pods to be gone: their deletion is what it waits for.
    this.pods.addEventHandler({
      onDelete: (obj) => {
        const pod = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
        const ref = controllerOf(pod);
        if (ref?.kind !== 'ReplicaSet') return;
        const rs = this.replicaSets.lister.get(pod.metadata?.namespace ?? '', ref.name);
        const d = rs && rs.metadata?.uid === ref.uid ? this.ownerOf(rs) : undefined;
        if (d?.spec?.strategy?.type === 'Recreate') this.queue.add(metaNamespaceKey(d));
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([
      this.deployments.waitForSync(signal),
      this.replicaSets.waitForSync(signal),
      this.pods.waitForSync(signal),
    ]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.log);
  }

  private onReplicaSetChanged(rs: ReplicaSet): void {
    const ref = controllerOf(rs);
    if (ref) {
      const d = this.ownerOf(rs);
      if (d) this.queue.add(metaNamespaceKey(d));
      return;
    }
    // An orphan: any deployment selecting it may adopt it.
    for (const d of this.deployments.lister.listNamespace(rs.metadata?.namespace ?? '')) {
      const sel = selectorOf(d);
      if (sel && !sel.empty() && sel.matches(rs.metadata?.labels)) this.queue.add(metaNamespaceKey(d));
    }
  }

  /** The deployment a controller reference on the ReplicaSet names, if it exists with that UID. */
  private ownerOf(rs: ReplicaSet): Deployment | undefined {
    const ref = controllerOf(rs);
    if (ref?.kind !== 'Deployment') return undefined;
    const d = this.deployments.lister.get(rs.metadata?.namespace ?? '', ref.name);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  // The sync.

  /** Level-triggered: one step of the deployment's rollout, then its status. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.deployments.lister.get(namespace, name);
    if (!cached) return;
    const d: Deployment = structuredClone(cached);
    const selector = selectorOf(d);
    if (!selector || selector.empty()) {
      // Upstream refuses to act on a deployment that would select every pod.
      if ((d.metadata?.generation ?? 0) !== d.status?.observedGeneration) {
        this.recorder.event(
          d,
          'Warning',
          'SelectingAll',
          'This deployment is selecting all pods. A non-empty selector is required.',
        );
        await this.writeStatus(d, {
          ...d.status,
          observedGeneration: d.metadata?.generation as number | undefined,
        });
      }
      return;
    }
    const rsList = await this.claimReplicaSets(d, selector);
    if (d.metadata?.deletionTimestamp) {
      await this.syncStatusOnly(d, rsList);
      return;
    }
    await this.checkPausedConditions(d);
    if (d.spec?.paused) {
      await this.syncScale(d, rsList);
      return;
    }
    if (this.isScalingEvent(d, rsList)) {
      await this.syncScale(d, rsList);
      return;
    }
    if (d.spec?.strategy?.type === 'Recreate') await this.rolloutRecreate(d, rsList);
    else await this.rolloutRolling(d, rsList);
  }

  /** Upstream's ClaimReplicaSets: adopts matching orphans and releases owned ones that stopped matching. */
  private async claimReplicaSets(d: Deployment, selector: LabelSelector): Promise<ReplicaSet[]> {
    const out: ReplicaSet[] = [];
    const uid = d.metadata?.uid ?? '';
    const ns = d.metadata?.namespace ?? '';
    let rechecked = false;
    for (const rs of this.replicaSets.lister.listNamespace(ns)) {
      const ref = controllerOf(rs);
      const matches = selector.matches(rs.metadata?.labels);
      if (ref) {
        if (ref.uid !== uid) continue;
        // Copies: the sync keeps them in step with what it writes.
        if (matches) out.push(structuredClone(rs));
        else if (!d.metadata?.deletionTimestamp)
          await this.patchOwner(rs, {
            metadata: { ownerReferences: [{ $patch: 'delete', uid }], uid: rs.metadata?.uid },
          });
        continue;
      }
      if (!matches || d.metadata?.deletionTimestamp || rs.metadata?.deletionTimestamp) continue;
      if (!rechecked) {
        // Adopt only if the deployment, read fresh, is still the same one and not being deleted.
        const fresh = await this.client.get<Deployment>(
          { ...deploymentsRef, namespace: ns },
          d.metadata?.name ?? '',
        );
        if (fresh.metadata?.uid !== uid || fresh.metadata?.deletionTimestamp) return out;
        rechecked = true;
      }
      const adopted = await this.patchOwner(rs, {
        metadata: { ownerReferences: [controllerRef(d)], uid: rs.metadata?.uid },
      });
      if (adopted) out.push(adopted);
    }
    return out;
  }

  private async patchOwner(rs: ReplicaSet, patch: unknown): Promise<ReplicaSet | undefined> {
    try {
      return await this.client.patch<ReplicaSet>(
        { ...replicaSetsRef, namespace: rs.metadata?.namespace ?? '' },
        rs.metadata?.name ?? '',
        patch,
        'strategic',
      );
    } catch (err) {
      if (isStatus(err, 'NotFound') || isStatus(err, 'Invalid')) return undefined;
      throw err;
    }
  }

  /** Upstream's getAllReplicaSetsAndSyncRevision: the new ReplicaSet (made when asked) and the old ones. */
  private async getAllReplicaSets(
    d: Deployment,
    rsList: ReplicaSet[],
    create: boolean,
  ): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const existing = findNewReplicaSet(d, rsList);
    const oldRSs = rsList.filter((rs) => rs !== existing);
    const newRS = await this.syncNewReplicaSet(d, existing, oldRSs, create);
    return { newRS, oldRSs };
  }

  private async syncNewReplicaSet(
    d: Deployment,
    existing: ReplicaSet | undefined,
    oldRSs: ReplicaSet[],
    create: boolean,
  ): Promise<ReplicaSet | undefined> {
    const newRevision = String(maxRevision(oldRSs) + 1);
    const ns = d.metadata?.namespace ?? '';
    if (existing) {
      const rsCopy: ReplicaSet = structuredClone(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
      const minReadyChanged = (rsCopy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      let rs = existing;
      if (annotationsChanged || minReadyChanged) {
        rsCopy.spec = { ...rsCopy.spec, minReadySeconds: d.spec?.minReadySeconds ?? 0 };
        rs = await this.client.update<ReplicaSet>({ ...replicaSetsRef, namespace: ns }, rsCopy);
      }
      await this.setDeploymentRevision(d, rs.metadata?.annotations?.[revisionAnnotation] ?? '');
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        const status = structuredClone(d.status ?? {});
        setCondition(
          status,
          this.newCondition(
            'Progressing',
            'True',
            'FoundNewReplicaSet',
            `Found new replica set "${rs.metadata?.name ?? ''}"`,
          ),
        );
        await this.writeStatus(d, status);
      }
      return rs;
    }
    if (!create) return undefined;

    const collisionCount = d.status?.collisionCount ?? 0;
    const template: PodTemplate = structuredClone(d.spec?.template ?? {});
    const hash = computeHash(template, collisionCount);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [hashLabel]: hash } };
    const selector: MetaLabelSelector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...selector.matchLabels, [hashLabel]: hash };
    const replicas = newRSNewReplicas(d, [...oldRSs], undefined);
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata?.name ?? ''}-${hash}`,
        namespace: ns,
        ownerReferences: [controllerRef(d)],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    rs.spec = { ...rs.spec, replicas };
    let created: ReplicaSet;
    try {
      created = await this.client.create<ReplicaSet>({ ...replicaSetsRef, namespace: ns }, rs);
    } catch (err) {
      if (!isStatus(err, 'AlreadyExists')) {
        if (hasProgressDeadline(d)) {
          const status = structuredClone(d.status ?? {});
          setCondition(
            status,
            this.newCondition(
              'Progressing',
              'False',
              'ReplicaSetCreateError',
              `Failed to create new replica set "${rs.metadata?.name ?? ''}": ${errorMessage(err)}`,
            ),
          );
          await this.writeStatus(d, status);
        }
        throw err;
      }
      // Ours from an earlier sync the cache has not shown yet, or a true hash collision.
      const other = await this.client.get<ReplicaSet>(
        { ...replicaSetsRef, namespace: ns },
        rs.metadata?.name ?? '',
      );
      if (
        controllerOf(other)?.uid === d.metadata?.uid &&
        equalIgnoreHash(other.spec?.template, d.spec?.template)
      )
        return other;
      const status = structuredClone(d.status ?? {});
      status.collisionCount = collisionCount + 1;
      await this.writeStatus(d, status);
      throw new Error(
        `found a hash collision for deployment "${d.metadata?.name ?? ''}" - bumping collisionCount (${collisionCount}->${collisionCount + 1}) to resolve it`,
      );
    }
    if (replicas > 0) {
      this.recorder.event(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${created.metadata?.name ?? ''} from 0 to ${replicas}`,
      );
    }
    await this.setDeploymentRevision(d, newRevision);
    if (hasProgressDeadline(d)) {
      const status = structuredClone(d.status ?? {});
      setCondition(
        status,
        this.newCondition(
          'Progressing',
          'True',
          'NewReplicaSetCreated',
          `Created new replica set "${created.metadata?.name ?? ''}"`,
        ),
      );
      await this.writeStatus(d, status);
    }
    return created;
  }

  /** Keeps the deployment's revision annotation at its new ReplicaSet's. */
  private async setDeploymentRevision(d: Deployment, revision: string): Promise<void> {
    if (!revision || d.metadata?.annotations?.[revisionAnnotation] === revision) return;
    const updated = await this.client.patch<Deployment>(
      { ...deploymentsRef, namespace: d.metadata?.namespace ?? '' },
      d.metadata?.name ?? '',
      {
        metadata: {
          annotations: { [revisionAnnotation]: revision },
          resourceVersion: d.metadata?.resourceVersion,
        },
      },
      'merge',
    );
    d.metadata = updated.metadata;
  }

  // Strategies.

  private async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSets(d, rsList, true);
    const all = newRS ? [...oldRSs, newRS] : oldRSs;
    if (newRS && (await this.reconcileNewReplicaSet(d, newRS, all)))
      return this.syncRolloutStatus(d, newRS, this.fresh(all));
    if (await this.reconcileOldReplicaSets(d, newRS, oldRSs, all))
      return this.syncRolloutStatus(d, newRS, this.fresh(all));
    if (isComplete(d, this.calculateStatus(d, newRS, all))) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(d, newRS, all);
  }

  private async rolloutRecreate(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSets(d, rsList, false);
    let all = newRS ? [...oldRSs, newRS] : oldRSs;
    let scaledDown = false;
    for (const rs of oldRSs) {
      if ((rs.spec?.replicas ?? 0) === 0) continue;
      await this.scaleReplicaSet(d, rs, 0);
      scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(d, newRS, this.fresh(all));
    if (this.oldPodsRunning(newRS, oldRSs)) return this.syncRolloutStatus(d, newRS, all);
    if (!newRS) {
      ({ newRS, oldRSs } = await this.getAllReplicaSets(d, rsList, true));
      all = newRS ? [...oldRSs, newRS] : oldRSs;
    }
    if (newRS && (newRS.spec?.replicas ?? 0) !== replicasOf(d)) {
      await this.scaleReplicaSet(d, newRS, replicasOf(d));
      return this.syncRolloutStatus(d, newRS, this.fresh(all));
    }
    if (isComplete(d, this.calculateStatus(d, newRS, all))) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(d, newRS, all);
  }

  /** Whether any pod of an old ReplicaSet may still run (terminating ones included). */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
    if (oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
    const oldUids = new Set(oldRSs.map((rs) => rs.metadata?.uid));
    for (const pod of this.pods.lister.listNamespace(
      oldRSs[0]?.metadata?.namespace ?? newRS?.metadata?.namespace ?? '',
    )) {
      const ref = controllerOf(pod);
      if (!ref || !oldUids.has(ref.uid)) continue;
      const phase = pod.status?.phase;
      if (phase !== 'Failed' && phase !== 'Succeeded') return true;
    }
    return false;
  }

  /** Grows (or shrinks) the new ReplicaSet within maxSurge; true when it changed. */
  private async reconcileNewReplicaSet(
    d: Deployment,
    newRS: ReplicaSet,
    all: ReplicaSet[],
  ): Promise<boolean> {
    const want = replicasOf(d);
    const have = newRS.spec?.replicas ?? 0;
    if (have === want) return false;
    if (have > want) return this.scaleReplicaSet(d, newRS, want);
    const next = newRSNewReplicas(d, all, newRS);
    return this.scaleReplicaSet(d, newRS, next);
  }

  /** Shrinks old ReplicaSets as far as maxUnavailable lets it; true when any changed. */
  private async reconcileOldReplicaSets(
    d: Deployment,
    newRS: ReplicaSet | undefined,
    oldRSs: ReplicaSet[],
    all: ReplicaSet[],
  ): Promise<boolean> {
    if (sum(oldRSs, (rs) => rs.spec?.replicas ?? 0) === 0) return false;
    const allPods = sum(all, (rs) => rs.spec?.replicas ?? 0);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = newRS ? (newRS.spec?.replicas ?? 0) - (newRS.status?.availableReplicas ?? 0) : 0;
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Unhealthy old replicas go first: removing them costs no availability.
    const byAge = [...oldRSs].sort(byCreation);
    let cleaned = 0;
    for (const rs of byAge) {
      if (cleaned >= maxScaledDown) break;
      const replicas = rs.spec?.replicas ?? 0;
      const unhealthy = replicas - (rs.status?.availableReplicas ?? 0);
      if (replicas === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      await this.scaleReplicaSet(d, rs, replicas - down);
      // Later steps read the counts as they are now.
      rs.spec = { ...rs.spec, replicas: replicas - down };
      cleaned += down;
    }
    const available = sum(all, (rs) => Math.min(rs.status?.availableReplicas ?? 0, rs.spec?.replicas ?? 0));
    let scaled = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of byAge) {
        if (scaled >= total) break;
        const replicas = rs.spec?.replicas ?? 0;
        if (replicas === 0) continue;
        const down = Math.min(replicas, total - scaled);
        await this.scaleReplicaSet(d, rs, replicas - down);
        scaled += down;
      }
    }
    return cleaned + scaled > 0;
  }

  /** Upstream's sync: scaling only (paused, or replicas changed), then status. */
  private async syncScale(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSets(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanup(d, oldRSs);
    const all = newRS ? [...oldRSs, newRS] : oldRSs;
    await this.writeStatusIfChanged(d, this.calculateStatus(d, newRS, this.fresh(all)));
  }

  /** Spreads a change of spec.replicas over the active ReplicaSets in proportion to their sizes. */
  private async scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const want = replicasOf(d);
    const target = activeOrLatest(newRS, oldRSs);
    if (target) {
      if ((target.spec?.replicas ?? 0) === want) return;
      await this.scaleReplicaSet(d, target, want);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const rs of oldRSs) if ((rs.spec?.replicas ?? 0) > 0) await this.scaleReplicaSet(d, rs, 0);
      return;
    }
    if (d.spec?.strategy?.type === 'Recreate') return;
    const active = [...oldRSs, ...(newRS ? [newRS] : [])].filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    const current = sum(active, (rs) => rs.spec?.replicas ?? 0);
    const allowed = want > 0 ? want + maxSurge(d) : 0;
    const toAdd = allowed - current;
    // Growing favours the largest and newest; shrinking the largest and oldest.
    active.sort((a, b) => {
      const sa = a.spec?.replicas ?? 0;
      const sb = b.spec?.replicas ?? 0;
      if (sa !== sb) return sb - sa;
      return toAdd > 0 ? -byCreation(a, b) : byCreation(a, b);
    });
    const sizes = new Map<ReplicaSet, number>();
    let added = 0;
    for (const rs of active) {
      if (toAdd === 0) {
        sizes.set(rs, rs.spec?.replicas ?? 0);
        continue;
      }
      const p = proportion(rs, d, toAdd, added);
      sizes.set(rs, (rs.spec?.replicas ?? 0) + p);
      added += p;
    }
    const first = active[0];
    if (first && toAdd !== 0) sizes.set(first, Math.max(0, (sizes.get(first) ?? 0) + toAdd - added));
    for (const rs of active) await this.scaleReplicaSet(d, rs, sizes.get(rs) ?? 0);
  }

  /** A change of spec.replicas not yet carried to the ReplicaSets' desired-replicas annotation. */
  private isScalingEvent(d: Deployment, rsList: ReplicaSet[]): boolean {
    const newRS = findNewReplicaSet(d, rsList);
    const active = rsList.filter((rs) => rs === newRS || (rs.spec?.replicas ?? 0) > 0);
    return active.some((rs) => {
      const desired = intAnnotation(rs, desiredReplicasAnnotation);
      return desired !== undefined && desired !== replicasOf(d);
    });
  }

  /** Sets the ReplicaSet's size and replica annotations; records the scaling event. True when it wrote. */
  private async scaleReplicaSet(d: Deployment, rs: ReplicaSet, newScale: number): Promise<boolean> {
    const oldScale = rs.spec?.replicas ?? 0;
    const copy: ReplicaSet = structuredClone(rs);
    const annotationsChanged = setReplicasAnnotations(copy, replicasOf(d), replicasOf(d) + maxSurge(d));
    if (oldScale === newScale && !annotationsChanged) return false;
    copy.spec = { ...copy.spec, replicas: newScale };
    const updated = await this.client.update<ReplicaSet>(
      { ...replicaSetsRef, namespace: rs.metadata?.namespace ?? '' },
      copy,
    );
    rs.metadata = updated.metadata;
    rs.spec = updated.spec;
    if (oldScale !== newScale) {
      const op = oldScale < newScale ? 'up' : 'down';
      this.recorder.event(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${op} replica set ${rs.metadata?.name ?? ''} from ${oldScale} to ${newScale}`,
      );
    }
    return true;
  }

  /** Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
  private async cleanup(d: Deployment, oldRSs: ReplicaSet[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const alive = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = alive.length - limit;
    if (diff <= 0) return;
    alive.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of alive.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || (rs.spec?.replicas ?? 0) !== 0) continue;
      if (((rs.metadata?.generation as number | undefined) ?? 0) > (rs.status?.observedGeneration ?? 0))
        continue;
      try {
        await this.client.delete(
          { ...replicaSetsRef, namespace: rs.metadata?.namespace ?? '' },
          rs.metadata?.name ?? '',
          {
            preconditions: { uid: rs.metadata?.uid ?? '' },
          },
        );
      } catch (err) {
        if (!isStatus(err, 'NotFound')) throw err;
      }
    }
  }

  /** The ReplicaSets as the cache holds them now, keeping the ones just written when newer. */
  private fresh(all: ReplicaSet[]): ReplicaSet[] {
    return all.map((rs) => {
      const cached = this.replicaSets.lister.get(rs.metadata?.namespace ?? '', rs.metadata?.name ?? '');
      return cached && Number(cached.metadata?.resourceVersion) > Number(rs.metadata?.resourceVersion)
        ? cached
        : rs;
    });
  }

  // Status.

  private calculateStatus(d: Deployment, newRS: ReplicaSet | undefined, all: ReplicaSet[]): DeploymentStatus {
    const available = sum(all, (rs) => rs.status?.availableReplicas ?? 0);
    const total = sum(all, (rs) => rs.spec?.replicas ?? 0);
    const status: DeploymentStatus = {
      ...structuredClone(d.status ?? {}),
      observedGeneration: d.metadata?.generation as number | undefined,
      replicas: sum(all, (rs) => rs.status?.replicas ?? 0),
      updatedReplicas: newRS ? (newRS.status?.replicas ?? 0) : 0,
      readyReplicas: sum(all, (rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(
        status,
        this.newCondition(
          'Available',
          'True',
          'MinimumReplicasAvailable',
          'Deployment has minimum availability.',
        ),
      );
    } else {
      setCondition(
        status,
        this.newCondition(
          'Available',
          'False',
          'MinimumReplicasUnavailable',
          'Deployment does not have minimum availability.',
        ),
      );
    }
    return status;
  }

  /** Status plus the Progressing condition: progressed, progressing, or timed out. */
  private async syncRolloutStatus(
    d: Deployment,
    newRS: ReplicaSet | undefined,
    all: ReplicaSet[],
  ): Promise<void> {
    const status = this.calculateStatus(d, newRS, all);
    if (!hasProgressDeadline(d))
      status.conditions = status.conditions?.filter((c) => c.type !== 'Progressing');
    const current = getCondition(status, 'Progressing');
    const completeAlready =
      status.replicas === status.updatedReplicas && current?.reason === 'NewReplicaSetAvailable';
    if (hasProgressDeadline(d) && !completeAlready) {
      const subject = newRS
        ? `ReplicaSet "${newRS.metadata?.name ?? ''}"`
        : `Deployment "${d.metadata?.name ?? ''}"`;
      if (isComplete(d, status)) {
        setCondition(
          status,
          this.newCondition(
            'Progressing',
            'True',
            'NewReplicaSetAvailable',
            `${subject} has successfully progressed.`,
          ),
        );
      } else if (isProgressing(d, status)) {
        const cond = this.newCondition(
          'Progressing',
          'True',
          'ReplicaSetUpdated',
          `${subject} is progressing.`,
        );
        if (current?.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
        // Replaced rather than merged, so that lastUpdateTime moves and the deadline restarts.
        status.conditions = status.conditions?.filter((c) => c.type !== 'Progressing');
        setCondition(status, cond);
      } else if (this.timedOut(d, status)) {
        setCondition(
          status,
          this.newCondition(
            'Progressing',
            'False',
            'ProgressDeadlineExceeded',
            `${subject} has timed out progressing.`,
          ),
        );
      }
    }
    // A ReplicaSet that cannot make its pods (the new one first) shows on the deployment.
    const failure = [...(newRS ? [newRS] : []), ...all.filter((rs) => rs !== newRS)]
      .flatMap((rs) => rs.status?.conditions ?? [])
      .find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    if (failure) {
      const at = failure.lastTransitionTime;
      setCondition(status, { ...failure, lastUpdateTime: at, lastTransitionTime: at });
    } else {
      status.conditions = status.conditions?.filter((c) => c.type !== 'ReplicaFailure');
    }
    if (sameStatus(d.status, status)) this.requeueStuck(d, status);
    else await this.writeStatus(d, status);
    await this.followRollbackPolicy(d, newRS, all, status);
  }

  /**
   * Beyond upstream, for deployments that opt in with the annotation `k8ts.io/rollback-on-progress-deadline:
   * "true"` (docs/deployments.md): a ReplicaSet whose rollout completed is marked as having become available,
   * and a rollout that exceeds its progress deadline puts the template of the newest marked ReplicaSet back,
   * as `kubectl rollout undo` would, with a DeploymentRollback event. A rollout back to a marked template
   * that fails again is left alone, so a deployment never swings between two revisions.
   */
  private async followRollbackPolicy(
    d: Deployment,
    newRS: ReplicaSet | undefined,
    all: ReplicaSet[],
    status: DeploymentStatus,
  ): Promise<void> {
    if (d.metadata?.annotations?.[rollbackOnDeadlineAnnotation] !== 'true' || !newRS) return;
    const ns = d.metadata?.namespace ?? '';
    const name = d.metadata?.name ?? '';
    const progressing = getCondition(status, 'Progressing');
    const marked = (rs: ReplicaSet): boolean => rs.metadata?.annotations?.[becameAvailableAnnotation] === 'true';
    if (progressing?.status === 'True' && progressing.reason === 'NewReplicaSetAvailable') {
      if (!marked(newRS)) {
        await this.client.patch(
          { ...replicaSetsRef, namespace: ns },
          newRS.metadata?.name ?? '',
          { metadata: { annotations: { [becameAvailableAnnotation]: 'true' } } },
          'merge',
        );
      }
      return;
    }
    if (progressing?.reason !== 'ProgressDeadlineExceeded' || marked(newRS)) return;
    const target = all
      .filter((rs) => rs !== newRS && marked(rs))
      .sort((a, b) => revisionOf(b) - revisionOf(a))[0];
    if (!target) {
      this.recorder.event(d, 'Warning', 'DeploymentRollbackRevisionNotFound', 'Unable to find last revision.');
      return;
    }
    const template: PodTemplate = structuredClone(target.spec?.template ?? {});
    if (template.metadata?.labels) delete template.metadata.labels[hashLabel];
    // The test keeps a user's template change made meanwhile: the patch then fails and the next sync decides.
    await this.client.patch(
      { ...deploymentsRef, namespace: ns },
      name,
      [
        { op: 'test', path: '/metadata/generation', value: d.metadata?.generation },
        { op: 'replace', path: '/spec/template', value: template },
      ],
      'json',
    );
    this.recorder.event(
      d,
      'Normal',
      'DeploymentRollback',
      `Rolled back deployment "${name}" to revision ${revisionOf(target)}: ${progressing.message ?? 'progress deadline exceeded'}`,
    );
  }

  private timedOut(d: Deployment, status: DeploymentStatus): boolean {
    const cond = getCondition(status, 'Progressing');
    if (!cond || cond.reason === 'NewReplicaSetAvailable') return false;
    if (cond.reason === 'ProgressDeadlineExceeded') return true;
    const from = Date.parse(cond.lastUpdateTime ?? '');
    return !Number.isNaN(from) && from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < this.clock.now();
  }

  /** Looks again when the deadline of a rollout that makes no progress runs out. */
  private requeueStuck(d: Deployment, status: DeploymentStatus): void {
    const cond = getCondition(status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond) return;
    if (isComplete(d, status) || cond.reason === 'ProgressDeadlineExceeded') return;
    const from = Date.parse(cond.lastUpdateTime ?? '');
    if (Number.isNaN(from)) return;
    const after = from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - this.clock.now();
    const key = metaNamespaceKey(d);
    if (after < 1000) this.queue.addRateLimited(key);
    else this.queue.addAfter(key, after + 1000);
  }

  /** Marks the Progressing condition paused or resumed (Unknown), unless the deadline already passed. */
  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === 'ProgressDeadlineExceeded') return;
    const pausedNoted = cond?.reason === 'DeploymentPaused';
    const status = structuredClone(d.status ?? {});
    if (d.spec?.paused && !pausedNoted) {
      setCondition(
        status,
        this.newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'),
      );
    } else if (!d.spec?.paused && pausedNoted) {
      setCondition(
        status,
        this.newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'),
      );
    } else {
      return;
    }
    await this.writeStatus(d, status);
  }

  private async syncStatusOnly(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSets(d, rsList, false);
    await this.writeStatusIfChanged(d, this.calculateStatus(d, newRS, newRS ? [...oldRSs, newRS] : oldRSs));
  }

  private async writeStatusIfChanged(d: Deployment, status: DeploymentStatus): Promise<void> {
    if (!sameStatus(d.status, status)) await this.writeStatus(d, status);
  }

  /** Writes the status; `d` follows what the server returned, so later writes in this sync build on it. */
  private async writeStatus(d: Deployment, status: DeploymentStatus): Promise<void> {
    const updated = await this.client.updateStatus<Deployment>(
      { ...deploymentsRef, namespace: d.metadata?.namespace ?? '' },
      { ...d, status },
    );
    d.metadata = updated.metadata;
    d.status = updated.status;
  }

  private newCondition(type: string, status: string, reason: string, message: string): DeploymentCondition {
    const now = rfc3339(this.clock.now());
    return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
  }
}

// Helpers after upstream's deployment/util.

function selectorOf(d: Deployment): LabelSelector | undefined {
  try {
    return labelSelectorAsSelector(d.spec?.selector);
  } catch {
    return undefined;
  }
}

function replicasOf(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

function sum(list: ReplicaSet[], f: (rs: ReplicaSet) => number): number {
  return list.reduce((n, rs) => n + f(rs), 0);
}

/** Oldest first; ties by name. */
function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = Date.parse((a.metadata?.creationTimestamp as string | undefined) ?? '') || 0;
  const tb = Date.parse((b.metadata?.creationTimestamp as string | undefined) ?? '') || 0;
  if (ta !== tb) return ta - tb;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** maxSurge and maxUnavailable resolved against spec.replicas (surge rounds up, unavailable down). */
function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  if (d.spec?.strategy?.type === 'Recreate') return { surge: 0, unavailable: 0 };
  const ru = d.spec?.strategy?.rollingUpdate;
  const desired = replicasOf(d);
  const surge = getScaledValueFromIntOrPercent(ru?.maxSurge ?? '25%', desired, true);
  let unavailable = getScaledValueFromIntOrPercent(ru?.maxUnavailable ?? '25%', desired, false);
  // Both zero would never let the rollout move.
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function maxSurge(d: Deployment): number {
  return fenceposts(d).surge;
}

function maxUnavailable(d: Deployment): number {
  const replicas = replicasOf(d);
  if (d.spec?.strategy?.type === 'Recreate' || replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicas);
}

/** The size the new ReplicaSet may grow to now. */
function newRSNewReplicas(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): number {
  const want = replicasOf(d);
  if (d.spec?.strategy?.type === 'Recreate') return want;
  const current = sum(all, (rs) => rs.spec?.replicas ?? 0);
  const have = newRS?.spec?.replicas ?? 0;
  const maxTotal = want + maxSurge(d);
  if (current >= maxTotal) return have;
  return have + Math.min(maxTotal - current, want - have);
}

function isComplete(d: Deployment, s: DeploymentStatus): boolean {
  const want = replicasOf(d);
  return (
    s.updatedReplicas === want &&
    s.replicas === want &&
    s.availableReplicas === want &&
    (s.observedGeneration ?? 0) >= ((d.metadata?.generation as number | undefined) ?? 0)
  );
}

function isProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const o = d.status ?? {};
  return (
    (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) ||
    (s.replicas ?? 0) - (s.updatedReplicas ?? 0) < (o.replicas ?? 0) - (o.updatedReplicas ?? 0) ||
    (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0)
  );
}

function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = intAnnotation(rs, desiredReplicasAnnotation);
  return (
    desired === replicasOf(d) &&
    (rs.spec?.replicas ?? 0) === replicasOf(d) &&
    (rs.status?.availableReplicas ?? 0) === replicasOf(d)
  );
}

function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== maxInt32;
}

/** The only ReplicaSet with replicas, or the latest when none has any; undefined when several have. */
function activeOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const sorted = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = [...(newRS ? [newRS] : []), ...sorted].filter((rs) => (rs.spec?.replicas ?? 0) > 0);
  if (active.length === 0) return newRS ?? sorted[0];
  return active.length === 1 ? active[0] : undefined;
}

/** This ReplicaSet's share of a change of `toAdd` replicas, by the size it had at the last max-replicas. */
function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  const replicas = rs.spec?.replicas ?? 0;
  if (replicas === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (replicasOf(d) === 0) {
    fraction = -replicas;
  } else {
    const deploymentReplicas = replicasOf(d) + maxSurge(d);
    const annotated = intAnnotation(rs, maxReplicasAnnotation) ?? d.status?.replicas ?? 0;
    const size = annotated === 0 ? replicas : (replicas * deploymentReplicas) / annotated;
    fraction = Math.sign(size) * Math.round(Math.abs(size)) - replicas;
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function intAnnotation(obj: KubeObject, key: string): number | undefined {
  const v = obj.metadata?.annotations?.[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

function revisionOf(rs: ReplicaSet): number {
  return intAnnotation(rs, revisionAnnotation) ?? 0;
}

function maxRevision(list: ReplicaSet[]): number {
  return list.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

/** Two pod templates equal apart from the pod-template-hash label. */
function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  const strip = (t: PodTemplate | undefined): PodTemplate => {
    const c: PodTemplate = structuredClone(t ?? {});
    if (c.metadata?.labels) {
      delete c.metadata.labels[hashLabel];
      if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
    }
    return c;
  };
  return canonical(strip(a)) === canonical(strip(b));
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(
          Object.entries(val as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
        )
      : val,
  );
}

/** The oldest owned ReplicaSet whose template is the deployment's. */
function findNewReplicaSet(d: Deployment, rsList: ReplicaSet[]): ReplicaSet | undefined {
  return [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Copies the deployment's annotations and sets revision (keeping the history); true when changed. */
function setNewReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  newRevision: string,
  exists: boolean,
): boolean {
  const before = canonical(rs.metadata?.annotations ?? {});
  const ann: Record<string, string> = { ...rs.metadata?.annotations };
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {}))
    if (!skippedAnnotations.has(k)) ann[k] = v;
  const oldRevision = ann[revisionAnnotation];
  const oldNum = oldRevision !== undefined && /^\d+$/.test(oldRevision) ? Number(oldRevision) : 0;
  if (oldNum < Number(newRevision)) {
    ann[revisionAnnotation] = newRevision;
    if (exists && oldRevision) {
      const history = ann[revisionHistoryAnnotation];
      ann[revisionHistoryAnnotation] = history ? `${history},${oldRevision}` : oldRevision;
    }
  }
  rs.metadata = { ...rs.metadata, annotations: ann };
  if (!exists) setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d));
  return canonical(rs.metadata.annotations) !== before;
}

/** Sets desired-replicas and max-replicas; true when changed. */
function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = { ...rs.metadata?.annotations };
  if (ann[desiredReplicasAnnotation] === String(desired) && ann[maxReplicasAnnotation] === String(max))
    return false;
  ann[desiredReplicasAnnotation] = String(desired);
  ann[maxReplicasAnnotation] = String(max);
  rs.metadata = { ...rs.metadata, annotations: ann };
  return true;
}

function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Upstream's SetDeploymentCondition: no-op for the same status and reason; keeps the transition time. */
function setCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const cur = getCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  if (cur && cur.status === cond.status) cond.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), cond];
}

function sameStatus(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return canonical(a ?? {}) === canonical(b);
}

function controllerRef(d: Deployment): OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: d.metadata?.name ?? '',
    uid: d.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
