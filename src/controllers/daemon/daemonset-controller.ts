// The DaemonSet controller (upstream's pkg/controller/daemon): one pod of each DaemonSet on every node that
// should run it (nodeSelector, required node affinity, taints against the pod's tolerations plus the ones
// every daemon pod gets). Each pod is pinned to its node by a required node affinity on metadata.name and
// left for the scheduler to bind. Template revisions are kept as ControllerRevisions named
// <daemonset>-<hash>, and the pods carry the hash in the controller-revision-hash label; a RollingUpdate
// replaces old pods node by node within maxUnavailable (or, with maxSurge, starts the new pod first), an
// OnDelete update waits for someone to delete them. The status counts what kubectl rollout status reads.
import type { PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { IntOrString } from '../../api/intstr.js';
import { getScaledValueFromIntOrPercent } from '../../api/intstr.js';
import type { MetaLabelSelector } from '../../api/labels.js';
import { labelSelectorAsSelector } from '../../api/labels.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import { computeHash } from '../deployment/compute-hash.js';
import type { Node } from '../nodelifecycle/taints.js';
import { ControllerExpectations } from '../replicaset/controller-expectations.js';
import type { OwnerReference, Pod } from '../replicaset/pod.js';
import { controllerOf, isPodAvailable, isPodReady, podKey } from '../replicaset/pod.js';
import { slowStartBatch } from '../replicaset/slow-start-batch.js';
import {
  addOrUpdateTolerations,
  daemonPodTolerations,
  nodeShouldRunDaemonPod,
  pinToNode,
  revisionHashLabel,
  targetNodeName,
  templateGenerationLabel,
} from './daemon-util.js';

const podsRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const daemonSetsRef = { group: 'apps', version: 'v1', resource: 'daemonsets' };
const revisionsRef = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };
const templateGenerationAnnotation = 'deprecated.daemonset.template.generation';
/** Backoff between replacements of a failing daemon pod on one node (upstream: 1 s doubling to 15 min). */
const failedPodBackoffInitialMs = 1000;
const failedPodBackoffMaxMs = 15 * 60 * 1000;
/** Upstream's BurstReplicas for daemon pods. */
const burstReplicas = 250;

type NodeObject = Node & KubeObject;

interface DaemonSet extends KubeObject {
  spec?: {
    selector?: MetaLabelSelector;
    template?: PodTemplateSpec;
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: IntOrString; maxSurge?: IntOrString } };
  };
  status?: Record<string, unknown> & { collisionCount?: number };
}

interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision?: number;
}

/** Upstream's getPatch: the part of the DaemonSet a revision keeps, replacing the template on rollback. */
function revisionData(ds: DaemonSet): unknown {
  return { spec: { template: { ...structuredClone(ds.spec?.template ?? {}), $patch: 'replace' } } };
}

function creationMs(obj: KubeObject): number {
  const ts = obj.metadata?.creationTimestamp;
  return typeof ts === 'string' ? Date.parse(ts) || 0 : 0;
}

/** Oldest first; the name breaks ties. */
function byAge(a: KubeObject, b: KubeObject): number {
  return creationMs(a) - creationMs(b) || String(a.metadata?.name).localeCompare(String(b.metadata?.name));
}

/** Keeps one pod of each DaemonSet on every eligible node. */
export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  private readonly client: RESTClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly daemonSets: SharedInformer<DaemonSet>;
  private readonly nodes: SharedInformer<NodeObject>;
  private readonly pods: SharedInformer<Pod>;
  private readonly revisions: SharedInformer<ControllerRevision>;
  private readonly queue = newQueue('daemonset');
  readonly expectations: ControllerExpectations;
  /** Per DaemonSet and node: when a failed pod may next be replaced (upstream's failedPodsBackoff). */
  private readonly failedPodsBackoff = new Map<string, { delayMs: number; until: number }>();

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'daemonset' });
    this.recorder = ctx.recorder('daemonset-controller');
    this.expectations = new ControllerExpectations(ctx.clock);
    this.daemonSets = ctx.informers.informerFor<DaemonSet>(daemonSetsRef);
    this.nodes = ctx.informers.informerFor<NodeObject>(nodesRef);
    this.pods = ctx.informers.informerFor<Pod>(podsRef);
    this.revisions = ctx.informers.informerFor<ControllerRevision>(revisionsRef);
    const all = (): void => {
      for (const ds of this.daemonSets.lister.list()) this.queue.add(metaNamespaceKey(ds));
    };
    this.daemonSets.addEventHandler({
      onAdd: (ds) => this.queue.add(metaNamespaceKey(ds)),
      onUpdate: (_o, ds) => this.queue.add(metaNamespaceKey(ds)),
      onDelete: (obj) => {
        const key = metaNamespaceKey(obj);
        this.expectations.delete(key);
      },
    });
    this.nodes.addEventHandler({
      onAdd: all,
      onUpdate: (o, n) => {
        const relevant = (x: NodeObject): string => JSON.stringify([x.metadata?.labels, x.spec?.taints, x.spec?.unschedulable]);
        if (relevant(o) !== relevant(n)) all();
      },
      onDelete: all,
    });
    this.pods.addEventHandler({
      onAdd: (pod) => {
        const ds = this.ownerOf(pod);
        if (ds) {
          this.expectations.creationObserved(metaNamespaceKey(ds));
          this.queue.add(metaNamespaceKey(ds));
        } else if (!controllerOf(pod)) {
          for (const d of this.selecting(pod)) this.queue.add(metaNamespaceKey(d));
        }
      },
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        const ds = this.ownerOf(cur);
        if (!ds) return;
        const key = metaNamespaceKey(ds);
        if (cur.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) this.expectations.deletionObserved(key, podKey(cur));
        this.queue.add(key);
        const minReady = ds.spec?.minReadySeconds ?? 0;
        if (!isPodReady(old) && isPodReady(cur) && minReady > 0) this.queue.addAfter(key, minReady * 1000 + 500);
      },
      onDelete: (obj) => {
        const pod = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
        const ds = this.ownerOf(pod);
        if (!ds) return;
        const key = metaNamespaceKey(ds);
        this.expectations.deletionObserved(key, podKey(pod));
        this.queue.add(key);
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.daemonSets, this.nodes, this.pods, this.revisions].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, 2, (key) => this.sync(key), signal, this.log);
  }

  private ownerOf(pod: Pod): DaemonSet | undefined {
    const ref = controllerOf(pod);
    if (ref?.kind !== 'DaemonSet') return undefined;
    const ds = this.daemonSets.lister.get(pod.metadata?.namespace ?? '', ref.name);
    return ds?.metadata?.uid === ref.uid ? ds : undefined;
  }

  private selecting(pod: Pod): DaemonSet[] {
    return this.daemonSets.lister.listNamespace(pod.metadata?.namespace ?? '').filter((ds) => {
      try {
        const sel = labelSelectorAsSelector(ds.spec?.selector);
        return !sel.empty() && sel.matches(pod.metadata?.labels ?? {});
      } catch {
        return false;
      }
    });
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const ds = this.daemonSets.lister.get(namespace, name);
    if (!ds) {
      this.expectations.delete(key);
      for (const k of this.failedPodsBackoff.keys()) if (k.startsWith(`${key}/`)) this.failedPodsBackoff.delete(k);
      return;
    }
    if (ds.metadata?.deletionTimestamp) return;
    const nodes = this.nodes.lister.list();
    const hash = await this.constructHistory(ds);
    const nodeToPods = await this.nodesToDaemonPods(ds);
    if (this.expectations.satisfied(key)) {
      await this.manage(ds, key, nodes, nodeToPods, hash);
      if (ds.spec?.updateStrategy?.type !== 'OnDelete' && this.expectations.satisfied(key)) {
        await this.rollingUpdate(ds, key, nodes, await this.nodesToDaemonPods(ds), hash);
      }
      await this.cleanupHistory(ds, hash);
    }
    await this.updateStatus(ds, nodes, await this.nodesToDaemonPods(ds), hash);
  }

  /** The DaemonSet's pods by target node, after adopting matching orphans. */
  private async nodesToDaemonPods(ds: DaemonSet): Promise<Map<string, Pod[]>> {
    const uid = ds.metadata?.uid ?? '';
    const selector = labelSelectorAsSelector(ds.spec?.selector);
    const out = new Map<string, Pod[]>();
    for (const pod of this.pods.lister.listNamespace(ds.metadata?.namespace ?? '')) {
      const ref = controllerOf(pod);
      if (ref && ref.uid !== uid) continue;
      if (!selector.matches(pod.metadata?.labels ?? {})) {
        // Relabelled out of the selector: let it go (the DaemonSet makes a new one for its node).
        if (ref && !ds.metadata?.deletionTimestamp) await this.releasePod(ds, pod);
        continue;
      }
      if (!ref) {
        if (pod.metadata?.deletionTimestamp || selector.empty()) continue;
        const patch = { metadata: { ownerReferences: [controllerRefOf(ds)], uid: pod.metadata?.uid } };
        try {
          await this.client.patch({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, pod.metadata?.name ?? '', patch, 'strategic');
        } catch (err) {
          if (isStatus(err, 404)) continue;
          throw err;
        }
      }
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      out.set(node, [...(out.get(node) ?? []), pod]);
    }
    return out;
  }

  private async releasePod(ds: DaemonSet, pod: Pod): Promise<void> {
    const patch = { metadata: { ownerReferences: [{ $patch: 'delete', uid: ds.metadata?.uid }], uid: pod.metadata?.uid } };
    try {
      await this.client.patch({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, pod.metadata?.name ?? '', patch, 'strategic');
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 422)) throw err;
    }
  }

  /** Creates and deletes daemon pods so that each node has the pods it should (upstream's manage). */
  private async manage(ds: DaemonSet, key: string, nodes: NodeObject[], nodeToPods: Map<string, Pod[]>, hash: string): Promise<void> {
    const surge = this.maxSurge(ds, nodes) > 0;
    const needPods: string[] = [];
    const toDelete: Pod[] = [];
    const nodeNames = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    for (const node of nodes) {
      const name = node.metadata?.name ?? '';
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(ds.spec?.template?.spec, node);
      const pods = nodeToPods.get(name) ?? [];
      if (shouldRun && pods.length === 0) {
        needPods.push(name);
      } else if (shouldContinueRunning) {
        const running: Pod[] = [];
        for (const pod of pods) {
          if (pod.metadata?.deletionTimestamp) continue;
          if (pod.status?.phase === 'Failed') {
            // A pod that keeps failing is replaced at a growing interval, not in a tight loop.
            const backoffKey = `${key}/${name}`;
            const wait = this.failedPodsBackoff.get(backoffKey);
            const now = this.clock.now();
            if (wait && now < wait.until) {
              this.queue.addAfter(key, wait.until - now);
              continue;
            }
            const delayMs = Math.min(wait ? wait.delayMs * 2 : failedPodBackoffInitialMs, failedPodBackoffMaxMs);
            this.failedPodsBackoff.set(backoffKey, { delayMs, until: now + delayMs });
            this.recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${podKey(pod)} on node ${name}, will try to kill it`);
            toDelete.push(pod);
          } else running.push(pod);
        }
        if (running.length > 1) toDelete.push(...this.surplus(running.sort(byAge), hash, surge, ds));
      } else {
        for (const pod of pods) if (!pod.metadata?.deletionTimestamp) toDelete.push(pod);
      }
    }
    // Pods for nodes that no longer exist.
    for (const [node, pods] of nodeToPods) {
      if (nodeNames.has(node)) continue;
      for (const pod of pods) if (!pod.metadata?.deletionTimestamp) toDelete.push(pod);
    }
    await this.syncNodes(ds, key, toDelete, needPods, hash);
  }

  /** Of several running pods on one node, the ones to delete: all but the oldest (with surge, the oldest old and new). */
  private surplus(running: Pod[], hash: string, surge: boolean, ds: DaemonSet): Pod[] {
    if (!surge) return running.slice(1);
    const updated = running.filter((p) => p.metadata?.labels?.[revisionHashLabel] === hash);
    const old = running.filter((p) => p.metadata?.labels?.[revisionHashLabel] !== hash);
    const keep = new Set<Pod>();
    if (updated[0]) keep.add(updated[0]);
    if (old[0] && !(updated[0] && isPodAvailable(updated[0], ds.spec?.minReadySeconds ?? 0, this.clock.now()))) keep.add(old[0]);
    return running.filter((p) => !keep.has(p));
  }

  private maxSurge(ds: DaemonSet, nodes: NodeObject[]): number {
    const ru = ds.spec?.updateStrategy?.type === 'OnDelete' ? undefined : ds.spec?.updateStrategy?.rollingUpdate;
    if (ru?.maxSurge === undefined) return 0;
    return getScaledValueFromIntOrPercent(ru.maxSurge, this.desiredNumber(ds, nodes), true);
  }

  private desiredNumber(ds: DaemonSet, nodes: NodeObject[]): number {
    return nodes.filter((n) => nodeShouldRunDaemonPod(ds.spec?.template?.spec, n).shouldRun).length;
  }

  /** Upstream's rollingUpdate: which old pods go now, and (with surge) which nodes get a new pod first. */
  private async rollingUpdate(ds: DaemonSet, key: string, nodes: NodeObject[], nodeToPods: Map<string, Pod[]>, hash: string): Promise<void> {
    const desired = this.desiredNumber(ds, nodes);
    const ru = ds.spec?.updateStrategy?.rollingUpdate;
    const maxSurge = this.maxSurge(ds, nodes);
    let maxUnavailable = getScaledValueFromIntOrPercent(ru?.maxUnavailable ?? 1, desired, true);
    // Neither surge nor unavailability would never move: upstream falls back to one unavailable.
    if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const now = this.clock.now();
    const available = (p: Pod): boolean => isPodAvailable(p, minReady, now);
    const oldToDelete: Pod[] = [];
    // Pods left on nodes that are gone wait for pod GC; they must not hold up the rollout of the others.
    const existing = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    nodeToPods = new Map([...nodeToPods].filter(([node]) => existing.has(node)));
    if (maxSurge === 0) {
      let numUnavailable = 0;
      const replaceNow: Pod[] = [];
      const candidates: Pod[] = [];
      for (const pods of nodeToPods.values()) {
        const found = updatedPodsOnNode(pods, hash);
        if (!found) {
          numUnavailable++;
          continue;
        }
        const { newPod, oldPod } = found;
        if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
        else if (newPod) {
          if (!available(newPod)) numUnavailable++;
        } else if (oldPod) {
          if (!available(oldPod)) replaceNow.push(oldPod);
          else if (numUnavailable < maxUnavailable) candidates.push(oldPod);
        }
      }
      const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
      oldToDelete.push(...replaceNow, ...candidates.slice(0, remaining));
      if (oldToDelete.length > 0) await this.syncNodes(ds, key, oldToDelete, [], hash);
      return;
    }
    let numSurge = 0;
    const wantNew: string[] = [];
    for (const [node, pods] of nodeToPods) {
      const found = updatedPodsOnNode(pods, hash);
      if (!found) {
        numSurge++;
        continue;
      }
      const { newPod, oldPod } = found;
      if (!oldPod) continue;
      if (!newPod) {
        if (!available(oldPod)) wantNew.push(node);
        else if (numSurge < maxSurge) {
          numSurge++;
          wantNew.push(node);
        }
        continue;
      }
      if (!available(newPod)) {
        numSurge++;
        continue;
      }
      oldToDelete.push(oldPod);
    }
    if (oldToDelete.length > 0 || wantNew.length > 0) await this.syncNodes(ds, key, oldToDelete, wantNew, hash);
  }

  /** Creates pods for `nodes` in slow-start batches and deletes `victims`, under expectations. */
  private async syncNodes(ds: DaemonSet, key: string, victims: Pod[], nodes: string[], hash: string): Promise<void> {
    const create = nodes.slice(0, burstReplicas);
    const del = victims.slice(0, burstReplicas);
    if (create.length === 0 && del.length === 0) return;
    this.expectations.expectCreations(key, create.length);
    this.expectations.expectDeletions(key, del.map(podKey));
    const errors: Error[] = [];
    let i = 0;
    const { successes, error } = await slowStartBatch(create.length, 1, () => this.createPod(ds, create[i++]!, hash));
    for (let k = successes; k < create.length; k++) this.expectations.creationObserved(key);
    if (error) errors.push(error);
    await Promise.all(
      del.map(async (pod) => {
        const name = pod.metadata?.name ?? '';
        try {
          await this.client.delete({ ...podsRef, namespace: pod.metadata?.namespace ?? '' }, name);
          this.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
        } catch (err) {
          this.expectations.deletionObserved(key, podKey(pod));
          if (isStatus(err, 404)) return;
          this.recorder.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${err instanceof Error ? err.message : String(err)}`);
          errors.push(err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
    if (errors[0]) throw errors[0];
  }

  private async createPod(ds: DaemonSet, nodeName: string, hash: string): Promise<void> {
    const template = ds.spec?.template ?? {};
    const spec: PodSpec = structuredClone(template.spec ?? { containers: [] });
    spec.tolerations = addOrUpdateTolerations(spec.tolerations, daemonPodTolerations(spec.hostNetwork === true));
    spec.affinity = pinToNode(spec.affinity, nodeName);
    const generation = ds.metadata?.annotations?.[templateGenerationAnnotation];
    const namespace = ds.metadata?.namespace ?? '';
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata?.name ?? ''}-`,
        namespace,
        labels: { ...template.metadata?.labels, [revisionHashLabel]: hash, ...(generation ? { [templateGenerationLabel]: generation } : {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [controllerRefOf(ds)],
      },
      spec,
    };
    let created: Pod;
    try {
      created = await this.client.create<Pod>({ ...podsRef, namespace }, pod as unknown as Pod);
    } catch (err) {
      this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
  }

  /**
   * Upstream's constructHistory: makes sure a ControllerRevision holds the current template (renumbering
   * an old one that matches it to the newest revision) and returns its hash.
   */
  private async constructHistory(ds: DaemonSet): Promise<string> {
    const namespace = ds.metadata?.namespace ?? '';
    const ref = { ...revisionsRef, namespace };
    const data = revisionData(ds);
    const owned = this.ownedRevisions(ds);
    const maxRevision = owned.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
    const dataJson = JSON.stringify(data);
    const match = owned.filter((r) => JSON.stringify(r.data) === dataJson).sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];
    if (match) {
      const hash = match.metadata?.labels?.[revisionHashLabel] ?? '';
      if ((match.revision ?? 0) < maxRevision) {
        await this.client.patch(ref, match.metadata?.name ?? '', { revision: maxRevision + 1 }, 'merge');
      }
      return hash;
    }
    const collisionCount = ds.status?.collisionCount ?? 0;
    const hash = computeHash(ds.spec?.template ?? {}, collisionCount);
    const revision: ControllerRevision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: `${ds.metadata?.name ?? ''}-${hash}`,
        namespace,
        labels: { ...ds.spec?.template?.metadata?.labels, [revisionHashLabel]: hash },
        ...(ds.metadata?.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [controllerRefOf(ds)],
      },
      data,
      revision: maxRevision + 1,
    };
    try {
      await this.client.create(ref, revision);
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
      const existing = await this.client.get<ControllerRevision>(ref, revision.metadata!.name!);
      if (controllerOf(existing)?.uid === ds.metadata?.uid && JSON.stringify(existing.data) === dataJson) return hash;
      // A hash collision: count it, and the next sync names the revision differently.
      await this.client.updateStatus({ ...daemonSetsRef, namespace }, { ...structuredClone(ds), status: { ...ds.status, collisionCount: collisionCount + 1 } });
      throw new Error(`found a hash collision for DaemonSet ${metaNamespaceKey(ds)}; bumped collisionCount to resolve it`);
    }
    return hash;
  }

  private ownedRevisions(ds: DaemonSet): ControllerRevision[] {
    return this.revisions.lister.listNamespace(ds.metadata?.namespace ?? '').filter((r) => controllerOf(r)?.uid === ds.metadata?.uid);
  }

  /** Deletes the oldest revisions no pod uses beyond revisionHistoryLimit (default 10). */
  private async cleanupHistory(ds: DaemonSet, hash: string): Promise<void> {
    const limit = ds.spec?.revisionHistoryLimit ?? 10;
    const inUse = new Set([hash]);
    for (const pod of this.pods.lister.listNamespace(ds.metadata?.namespace ?? '')) {
      if (controllerOf(pod)?.uid === ds.metadata?.uid) inUse.add(pod.metadata?.labels?.[revisionHashLabel] ?? '');
    }
    const old = this.ownedRevisions(ds)
      .filter((r) => !inUse.has(r.metadata?.labels?.[revisionHashLabel] ?? ''))
      .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    for (const r of old.slice(0, Math.max(0, old.length - limit))) {
      await this.client.delete({ ...revisionsRef, namespace: r.metadata?.namespace ?? '' }, r.metadata?.name ?? '').catch((err: unknown) => {
        if (!isStatus(err, 404)) throw err;
      });
    }
  }

  /** Upstream's updateDaemonSetStatus. */
  private async updateStatus(ds: DaemonSet, nodes: NodeObject[], nodeToPods: Map<string, Pod[]>, hash: string): Promise<void> {
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let updated = 0;
    let available = 0;
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const now = this.clock.now();
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(ds.spec?.template?.spec, node);
      const pods = [...(nodeToPods.get(node.metadata?.name ?? '') ?? [])].sort(byAge);
      if (!shouldRun) {
        if (pods.length > 0) misscheduled++;
        continue;
      }
      desired++;
      const pod = pods[0];
      if (!pod) continue;
      current++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
      if (pod.metadata?.labels?.[revisionHashLabel] === hash) updated++;
    }
    const counts: Record<string, number | undefined> = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata?.generation as number | undefined,
      // Go omits these when zero.
      updatedNumberScheduled: updated || undefined,
      numberAvailable: available || undefined,
      numberUnavailable: desired - available || undefined,
    };
    const unchanged = Object.entries(counts).every(([k, v]) => ds.status?.[k] === v);
    if (!unchanged) {
      const status: Record<string, unknown> = { ...ds.status };
      for (const [k, v] of Object.entries(counts)) {
        if (v === undefined) delete status[k];
        else status[k] = v;
      }
      await this.client.updateStatus({ ...daemonSetsRef, namespace: ds.metadata?.namespace ?? '' }, { ...structuredClone(ds), status });
    }
    if (minReady > 0 && ready !== available) this.queue.addAfter(metaNamespaceKey(ds), minReady * 1000);
  }
}

/** The newest and the old pod on a node, or undefined when there are several of either (findUpdatedPodsOnNode). */
function updatedPodsOnNode(pods: Pod[], hash: string): { newPod?: Pod; oldPod?: Pod } | undefined {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    if (pod.metadata?.labels?.[revisionHashLabel] === hash) {
      if (newPod) return undefined;
      newPod = pod;
    } else {
      if (oldPod) return undefined;
      oldPod = pod;
    }
  }
  return { ...(newPod ? { newPod } : {}), ...(oldPod ? { oldPod } : {}) };
}

function controllerRefOf(ds: DaemonSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata?.name ?? '', uid: ds.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}
