// The StatefulSet controller (upstream's pkg/controller/statefulset): pods with stable identities
// <set>-<ordinal> (hostname the pod name, subdomain spec.serviceName, labels statefulset.kubernetes.io/
// pod-name and apps.kubernetes.io/pod-index), a PersistentVolumeClaim <template>-<pod> per claim template,
// created in order and each waiting for the previous to be Running and Ready (OrderedReady) or all at once
// (Parallel), removed in reverse order on scale-down. The pod template's history lives in
// ControllerRevisions; RollingUpdate replaces pods from the highest ordinal down to the partition, one at a
// time, OnDelete only when a pod is deleted. Status follows upstream's computeReplicaStatus, and the
// rollout completes (currentRevision := updateRevision) once every pod is updated and ready.
import type { StatefulSetSpec, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from '../../api/labels.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import type { OwnerReference, Pod } from '../replicaset/pod.js';
import { controllerOf, isPodAvailable, isPodReady } from '../replicaset/pod.js';
import type { Revision } from './revisions.js';
import { equalRevisions, hashRevision, revisionHashLabel, revisionLabel, templateOf, templatePatch } from './revisions.js';

const podsRef = { group: '', version: 'v1', resource: 'pods' };
const pvcsRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const setsRef = { group: 'apps', version: 'v1', resource: 'statefulsets' };
const revisionsRef = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };
export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';
/** Upstream's --concurrent-statefulset-syncs default. */
const workers = 5;

export interface StatefulSet extends KubeObject {
  spec?: StatefulSetSpec;
  status?: StatefulSetStatus;
}

type Claim = PersistentVolumeClaim & KubeObject;

/** Keeps every StatefulSet's ordered pods, claims and revisions. */
export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  private readonly client: RESTClient;
  private readonly sets: SharedInformer<StatefulSet>;
  private readonly pods: SharedInformer<Pod>;
  private readonly revisions: SharedInformer<Revision>;
  private readonly claims: SharedInformer<Claim>;
  private readonly queue = newQueue('statefulset');
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'statefulset' });
    this.recorder = ctx.recorder('statefulset-controller');
    this.sets = ctx.informers.informerFor<StatefulSet>(setsRef);
    this.pods = ctx.informers.informerFor<Pod>(podsRef);
    this.revisions = ctx.informers.informerFor<Revision>(revisionsRef);
    this.claims = ctx.informers.informerFor<Claim>(pvcsRef);
    const enqueueSet = (s: StatefulSet): void => this.queue.add(metaNamespaceKey(s));
    this.sets.addEventHandler({
      onAdd: enqueueSet,
      onUpdate: (_old, cur) => enqueueSet(cur),
      onDelete: (obj) => enqueueSet(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
    });
    const onPod = (pod: Pod): void => {
      const ref = controllerOf(pod);
      if (ref?.kind === 'StatefulSet') {
        this.queue.add(`${pod.metadata?.namespace ?? ''}/${ref.name}`);
        return;
      }
      if (!ref) for (const s of this.setsSelecting(pod)) enqueueSet(s);
    };
    this.pods.addEventHandler({
      onAdd: onPod,
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        onPod(cur);
        // Available comes minReadySeconds after Ready, with no event of its own.
        const ref = controllerOf(cur);
        if (ref?.kind === 'StatefulSet' && !isPodReady(old) && isPodReady(cur)) {
          const set = this.sets.lister.get(cur.metadata?.namespace ?? '', ref.name);
          const minReady = set?.spec?.minReadySeconds ?? 0;
          if (minReady > 0) this.queue.addAfter(`${cur.metadata?.namespace ?? ''}/${ref.name}`, minReady * 1000 + 1000);
        }
      },
      onDelete: (obj) => onPod(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.sets, this.pods, this.revisions, this.claims].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.log);
  }

  private setsSelecting(pod: Pod): StatefulSet[] {
    return this.sets.lister.listNamespace(pod.metadata?.namespace ?? '').filter((s) => {
      try {
        const sel = labelSelectorAsSelector(s.spec?.selector);
        return !sel.empty() && sel.matches(pod.metadata?.labels);
      } catch {
        return false;
      }
    });
  }

  // The sync.

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const set = this.sets.lister.get(namespace, name);
    if (!set || !set.spec) return;
    let selector: LabelSelector;
    try {
      selector = labelSelectorAsSelector(set.spec.selector);
    } catch (err) {
      this.log.warn('invalid selector', { statefulSet: key, error: (err as Error).message });
      return;
    }
    const pods = await this.claimPods(set, selector);
    const revisions = this.revisions.lister.listNamespace(namespace).filter((r) => controllerOf(r)?.uid === set.metadata?.uid);
    const status = await this.updateStatefulSet(set, pods, revisions);
    await this.writeStatus(set, status);
  }

  /** Owned pods, adopting matching orphans and releasing owned pods that stopped matching. */
  private async claimPods(set: StatefulSet, selector: LabelSelector): Promise<Pod[]> {
    const out: Pod[] = [];
    const uid = set.metadata?.uid;
    for (const pod of this.pods.lister.listNamespace(set.metadata?.namespace ?? '')) {
      const ref = controllerOf(pod);
      const matches = selector.matches(pod.metadata?.labels);
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches || set.metadata?.deletionTimestamp) {
          out.push(pod);
          continue;
        }
        await this.patchPod(pod, { metadata: { ownerReferences: [{ $patch: 'delete', uid }], uid: pod.metadata?.uid } }).catch(() => undefined);
        continue;
      }
      if (!matches || set.metadata?.deletionTimestamp || pod.metadata?.deletionTimestamp || ordinalOf(set, pod) === undefined) continue;
      if (await this.patchPod(pod, { metadata: { ownerReferences: [controllerRef(set)], uid: pod.metadata?.uid } }).then(() => true, () => false)) out.push(pod);
    }
    return out;
  }

  /** Upstream's defaultStatefulSetControl.UpdateStatefulSet (OrderedReady and Parallel, one pod updated at a time). */
  private async updateStatefulSet(set: StatefulSet, pods: Pod[], revisions: Revision[]): Promise<StatefulSetStatus> {
    const spec = set.spec!;
    const { current, update, collisionCount } = await this.ensureRevisions(set, revisions);
    const currentSet = withTemplate(set, templateOf(current));
    const updateSet = withTemplate(set, templateOf(update));
    const replicaCount = spec.replicas ?? 1;
    const start = spec.ordinals?.start ?? 0;
    const monotonic = (spec.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
    const minReady = spec.minReadySeconds ?? 0;
    const now = this.clock.now();
    const status: StatefulSetStatus = {
      ...(set.status ?? {}),
      replicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      currentRevision: current.metadata?.name ?? '',
      updateRevision: update.metadata?.name ?? '',
      collisionCount,
    };
    if (set.metadata?.generation !== undefined) status.observedGeneration = set.metadata.generation as number;
    const replicas: (Pod | undefined)[] = new Array<Pod | undefined>(replicaCount).fill(undefined);
    const condemned: Pod[] = [];
    for (const pod of pods) {
      const ord = ordinalOf(set, pod);
      if (ord === undefined) continue;
      if (ord >= start && ord < start + replicaCount) replicas[ord - start] = pod;
      else condemned.push(pod);
    }
    condemned.sort((a, b) => ordinalOf(set, b)! - ordinalOf(set, a)!);
    const partition = spec.updateStrategy?.type === 'OnDelete' ? 0 : (spec.updateStrategy?.rollingUpdate?.partition ?? 0);
    const currentCount = set.status?.currentReplicas ?? 0;
    const podFor = (i: number): Pod => {
      const ord = start + i;
      const rolling = spec.updateStrategy?.type !== 'OnDelete';
      const useCurrent = rolling && (spec.updateStrategy?.rollingUpdate ? i < partition : i < currentCount);
      return newPod(useCurrent ? currentSet : updateSet, ord, useCurrent ? current.metadata?.name ?? '' : update.metadata?.name ?? '');
    };

    const finish = (): StatefulSetStatus => {
      computeStatus(status, [...replicas.filter((p): p is Pod => p !== undefined), ...condemned], minReady, now);
      if (spec.updateStrategy?.type !== 'OnDelete' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
        status.currentRevision = status.updateRevision;
        status.currentReplicas = status.updatedReplicas;
      }
      return status;
    };
    if (set.metadata?.deletionTimestamp) return finish();

    // Healthy first pods in order: create what is missing, replace what failed, wait where OrderedReady must.
    let firstUnhealthy: Pod | undefined;
    for (let i = 0; i < replicaCount; i++) {
      let pod = replicas[i];
      if (pod && (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') && !pod.metadata?.deletionTimestamp) {
        if (pod.status.phase === 'Failed') this.recorder.event(set, 'Warning', 'RecreatingFailedPod', `StatefulSet ${metaNamespaceKey(set)} is recreating failed Pod ${pod.metadata?.name ?? ''}`);
        else this.recorder.event(set, 'Normal', 'RecreatingTerminatedPod', `StatefulSet ${metaNamespaceKey(set)} is recreating terminated Pod ${pod.metadata?.name ?? ''}`);
        await this.deletePod(set, pod);
        replicas[i] = pod = undefined;
        if (monotonic) return finish();
      }
      if (!pod) {
        const fresh = podFor(i);
        await this.createClaims(set, fresh);
        const created = await this.createPod(set, fresh);
        replicas[i] = created;
        if (monotonic) return finish();
        continue;
      }
      if (pod.metadata?.deletionTimestamp) {
        if (monotonic) return finish();
        continue;
      }
      const healthy = pod.status?.phase === 'Running' && isPodAvailable(pod, minReady, now);
      if (!healthy) {
        firstUnhealthy ??= pod;
        if (monotonic) return finish();
      }
      // A pod whose identity labels drifted gets them back; missing claims are made.
      await this.createClaims(set, pod);
      if (!identityMatches(set, pod)) await this.fixIdentity(set, pod);
    }

    // Scale down from the highest ordinal; OrderedReady waits for each to go and for the others to be healthy.
    for (const pod of condemned) {
      if (pod.metadata?.deletionTimestamp) {
        if (monotonic) return finish();
        continue;
      }
      if (monotonic && firstUnhealthy) return finish();
      await this.retainClaimsOnScaleDown(set, pod);
      await this.deletePod(set, pod);
      if (monotonic) return finish();
    }

    // RollingUpdate: the highest ordinal not yet at the update revision goes first, down to the partition.
    if (spec.updateStrategy?.type !== 'OnDelete') {
      for (let i = replicaCount - 1; i >= partition; i--) {
        const pod = replicas[i];
        if (!pod) return finish();
        if (pod.metadata?.labels?.[revisionLabel] !== update.metadata?.name && !pod.metadata?.deletionTimestamp) {
          this.log.info('terminating pod for update', { statefulSet: metaNamespaceKey(set), pod: pod.metadata?.name }, 2);
          await this.deletePod(set, pod);
          return finish();
        }
        if (!(pod.status?.phase === 'Running' && isPodAvailable(pod, minReady, now)) || pod.metadata?.deletionTimestamp) return finish();
      }
    }
    return finish();
  }

  /** The current and update revisions, creating the update revision (or reusing an equal one) as needed. */
  private async ensureRevisions(set: StatefulSet, revisions: Revision[]): Promise<{ current: Revision; update: Revision; collisionCount: number }> {
    const ns = set.metadata?.namespace ?? '';
    let collisionCount = set.status?.collisionCount ?? 0;
    const sorted = [...revisions].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    const maxRev = sorted.length > 0 ? (sorted[sorted.length - 1]!.revision ?? 0) : 0;
    const data = templatePatch(set.spec?.template);
    let update: Revision | undefined;
    const equal = sorted.filter((r) => equalRevisions(r, { data, revision: 0 }));
    if (equal.length > 0) {
      update = equal[equal.length - 1]!;
      if (update !== sorted[sorted.length - 1]) {
        // Going back to an older template: it becomes the newest revision again.
        update = await this.client.update<Revision>({ ...revisionsRef, namespace: ns }, { ...structuredClone(update), revision: maxRev + 1 });
      }
    } else {
      for (;;) {
        const hash = hashRevision(data, collisionCount);
        const rev: Revision = {
          apiVersion: 'apps/v1',
          kind: 'ControllerRevision',
          metadata: {
            name: `${(set.metadata?.name ?? '').slice(0, 223)}-${hash}`,
            namespace: ns,
            labels: { ...set.spec?.template?.metadata?.labels, [revisionHashLabel]: hash },
            ownerReferences: [controllerRef(set)],
          },
          data,
          revision: maxRev + 1,
        };
        try {
          update = await this.client.create<Revision>({ ...revisionsRef, namespace: ns }, rev);
          break;
        } catch (err) {
          if (!isStatus(err, 'AlreadyExists')) throw err;
          const existing = await this.client.get<Revision>({ ...revisionsRef, namespace: ns }, rev.metadata!.name!);
          if (equalRevisions(existing, rev) && controllerOf(existing)?.uid === set.metadata?.uid) {
            update = existing;
            break;
          }
          collisionCount++;
        }
      }
    }
    const currentName = set.status?.currentRevision;
    const current = (currentName && revisions.find((r) => r.metadata?.name === currentName)) || update;
    await this.truncateHistory(set, revisions, current, update);
    return { current, update, collisionCount };
  }

  /** Deletes the oldest revisions no pod uses beyond revisionHistoryLimit. */
  private async truncateHistory(set: StatefulSet, revisions: Revision[], current: Revision, update: Revision): Promise<void> {
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    const live = new Set([current.metadata?.name, update.metadata?.name]);
    for (const pod of this.pods.lister.listNamespace(set.metadata?.namespace ?? '')) {
      if (controllerOf(pod)?.uid === set.metadata?.uid) live.add(pod.metadata?.labels?.[revisionLabel]);
    }
    const history = revisions.filter((r) => !live.has(r.metadata?.name)).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    for (const r of history.slice(0, Math.max(0, history.length - limit))) {
      await this.client.delete({ ...revisionsRef, namespace: r.metadata?.namespace ?? '' }, r.metadata?.name ?? '').catch((err: unknown) => {
        if (!isStatus(err, 'NotFound')) throw err;
      });
    }
  }

  private async createPod(set: StatefulSet, pod: Pod): Promise<Pod> {
    const name = pod.metadata?.name ?? '';
    try {
      const created = await this.client.create<Pod>({ ...podsRef, namespace: set.metadata?.namespace ?? '' }, pod);
      this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${set.metadata?.name ?? ''} successful`);
      return created;
    } catch (err) {
      if (isStatus(err, 'AlreadyExists')) return pod;
      this.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${set.metadata?.name ?? ''} failed error: ${(err as Error).message}`);
      throw err;
    }
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.client.delete({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, name, { preconditions: { uid: pod.metadata?.uid ?? '' } });
      this.recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${name} in StatefulSet ${set.metadata?.name ?? ''} successful`);
    } catch (err) {
      if (isStatus(err, 'NotFound') || isStatus(err, 'Conflict')) return;
      this.recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${name} in StatefulSet ${set.metadata?.name ?? ''} failed error: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Creates the pod's missing claims (owned by the set when whenDeleted is Delete). */
  private async createClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const ns = set.metadata?.namespace ?? '';
    const podName = pod.metadata?.name ?? '';
    for (const tmpl of set.spec?.volumeClaimTemplates ?? []) {
      const claimName = `${tmpl.metadata?.name ?? ''}-${podName}`;
      if (this.claims.lister.get(ns, claimName)) continue;
      const matchLabels = set.spec?.selector?.matchLabels ?? {};
      const owned = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
      const claim: Claim = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name: claimName,
          namespace: ns,
          labels: { ...tmpl.metadata?.labels, ...matchLabels },
          ...(tmpl.metadata?.annotations ? { annotations: { ...tmpl.metadata.annotations } } : {}),
          // Upstream's setOwnerRef: a plain owner reference, so that the garbage collector takes the claim with the set.
          ...(owned ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata?.name ?? '', uid: set.metadata?.uid ?? '' }] } : {}),
        },
        spec: structuredClone(tmpl.spec ?? {}),
      };
      try {
        await this.client.create({ ...pvcsRef, namespace: ns }, claim);
        this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claimName} Pod ${podName} in StatefulSet ${set.metadata?.name ?? ''} success`);
      } catch (err) {
        if (isStatus(err, 'AlreadyExists')) continue;
        this.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${claimName} for Pod ${podName} in StatefulSet ${set.metadata?.name ?? ''} failed error: ${(err as Error).message}`);
        throw err;
      }
    }
  }

  /** whenScaled: Delete: a condemned pod's claims become the pod's, so they go with it. */
  private async retainClaimsOnScaleDown(set: StatefulSet, pod: Pod): Promise<void> {
    if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return;
    const ns = set.metadata?.namespace ?? '';
    for (const tmpl of set.spec.volumeClaimTemplates ?? []) {
      const claimName = `${tmpl.metadata?.name ?? ''}-${pod.metadata?.name ?? ''}`;
      const ref: OwnerReference = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
      await this.client
        .patch({ ...pvcsRef, namespace: ns }, claimName, { metadata: { ownerReferences: [ref] } }, 'strategic')
        .catch((err: unknown) => {
          if (!isStatus(err, 'NotFound')) throw err;
        });
    }
  }

  private async fixIdentity(set: StatefulSet, pod: Pod): Promise<void> {
    const ord = ordinalOf(set, pod)!;
    await this.patchPod(pod, { metadata: { labels: { [podNameLabel]: pod.metadata?.name ?? '', [podIndexLabel]: String(ord) } } }).catch((err: unknown) => {
      if (!isStatus(err, 'NotFound')) throw err;
    });
  }

  private async patchPod(pod: Pod, patch: Record<string, unknown>): Promise<void> {
    await this.client.patch({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, pod.metadata?.name ?? '', patch, 'strategic');
  }

  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    const old: Partial<StatefulSetStatus> = set.status ?? {};
    if (JSON.stringify(canonicalStatus(old)) === JSON.stringify(canonicalStatus(status))) return;
    const ref = { ...setsRef, namespace: set.metadata?.namespace ?? '' };
    try {
      await this.client.updateStatus(ref, { ...set, status });
    } catch (err) {
      if (isStatus(err, 'NotFound')) return;
      throw err;
    }
  }
}

/** The pod's ordinal when its name is <set>-<n>. */
export function ordinalOf(set: StatefulSet, pod: KubeObject): number | undefined {
  const prefix = `${set.metadata?.name ?? ''}-`;
  const name = pod.metadata?.name ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}

function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const ord = ordinalOf(set, pod);
  const labels = pod.metadata?.labels ?? {};
  return ord !== undefined && labels[podNameLabel] === pod.metadata?.name && labels[podIndexLabel] === String(ord);
}

function withTemplate(set: StatefulSet, template: PodTemplateSpec): StatefulSet {
  return { ...set, spec: { ...set.spec!, template } };
}

/** Upstream's newVersionedStatefulSetPod: identity, claims and revision label on the template's pod. */
function newPod(set: StatefulSet, ordinal: number, revision: string): Pod {
  const name = `${set.metadata?.name ?? ''}-${ordinal}`;
  const template = set.spec?.template ?? {};
  const spec = structuredClone(template.spec ?? { containers: [] });
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  for (const tmpl of set.spec?.volumeClaimTemplates ?? []) {
    const volName = tmpl.metadata?.name ?? '';
    const volumes = (spec.volumes ?? []).filter((v) => v.name !== volName);
    volumes.push({ name: volName, persistentVolumeClaim: { claimName: `${volName}-${name}` } });
    spec.volumes = volumes;
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata?.namespace ?? '',
      labels: { ...template.metadata?.labels, [podNameLabel]: name, [podIndexLabel]: String(ordinal), [revisionLabel]: revision },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ...(template.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
      ownerReferences: [controllerRef(set)],
    },
    spec: spec as unknown as Pod['spec'],
  };
}

/** Upstream's computeReplicaStatus. */
function computeStatus(status: StatefulSetStatus, pods: Pod[], minReady: number, now: number): void {
  for (const pod of pods) {
    const created = (pod.status?.phase ?? '') !== '';
    if (created) status.replicas++;
    if (pod.status?.phase === 'Running' && isPodReady(pod) && !pod.metadata?.deletionTimestamp) {
      status.readyReplicas = (status.readyReplicas ?? 0) + 1;
      if (isPodAvailable(pod, minReady, now)) status.availableReplicas = (status.availableReplicas ?? 0) + 1;
    }
    if (created && !pod.metadata?.deletionTimestamp) {
      const rev = pod.metadata?.labels?.[revisionLabel];
      if (rev === status.currentRevision) status.currentReplicas = (status.currentReplicas ?? 0) + 1;
      if (rev === status.updateRevision) status.updatedReplicas = (status.updatedReplicas ?? 0) + 1;
    }
  }
}

function canonicalStatus(s: Partial<StatefulSetStatus>): unknown {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined && v !== 0 && v !== '').sort(([a], [b]) => (a < b ? -1 : 1)));
}

function controllerRef(set: StatefulSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata?.name ?? '', uid: set.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}
