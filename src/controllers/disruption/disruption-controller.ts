// The disruption controller (upstream's pkg/controller/disruption): keeps each PodDisruptionBudget's
// status, which the API server's eviction handler consults: how many of its pods are healthy, how many
// must stay healthy (minAvailable, or the expected count less maxUnavailable, percentages taken of the
// owning controllers' scale through their scale subresource), and so how many disruptions are allowed
// now. Evictions the API server granted are listed in status.disruptedPods until the pod is seen
// terminating, or for two minutes at most.
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import { getScaledValueFromIntOrPercent } from '../../api/intstr.js';
import { formatLabelSelector, labelSelectorAsSelector } from '../../api/labels.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import type { Pod } from '../replicaset/pod.js';
import { controllerOf, isPodReady } from '../replicaset/pod.js';

const podsRef = { group: '', version: 'v1', resource: 'pods' };
const pdbsRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
const replicaSetsRef = { group: 'apps', version: 'v1', resource: 'replicasets' };

/** How long a granted eviction counts the pod as disrupted without seeing it deleted (upstream: 2 min). */
export const deletionTimeoutMs = 2 * 60 * 1000;

type Budget = PodDisruptionBudget & KubeObject;

/** The workload kinds whose scale subresource gives the expected pod count. */
const scaleResources: Record<string, { group: string; version: string; resource: string }> = {
  'apps/Deployment': { group: 'apps', version: 'v1', resource: 'deployments' },
  'apps/ReplicaSet': { group: 'apps', version: 'v1', resource: 'replicasets' },
  'apps/StatefulSet': { group: 'apps', version: 'v1', resource: 'statefulsets' },
  '/ReplicationController': { group: '', version: 'v1', resource: 'replicationcontrollers' },
};

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** What the budget's numbers come to for the given pods. */
export interface BudgetCounts {
  expectedCount: number;
  desiredHealthy: number;
}

/** Upstream's getExpectedPodCount, given the controllers' total scale (asked for only when needed). */
export async function expectedPodCount(spec: Budget['spec'], podCount: number, scale: () => Promise<number>): Promise<BudgetCounts> {
  const maxUnavailable = spec?.maxUnavailable;
  const minAvailable = spec?.minAvailable;
  if (maxUnavailable !== undefined) {
    const expectedCount = await scale();
    const unavailable = getScaledValueFromIntOrPercent(maxUnavailable, expectedCount, true);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - unavailable) };
  }
  if (typeof minAvailable === 'number') return { expectedCount: podCount, desiredHealthy: minAvailable };
  if (typeof minAvailable === 'string') {
    const expectedCount = await scale();
    return { expectedCount, desiredHealthy: getScaledValueFromIntOrPercent(minAvailable, expectedCount, true) };
  }
  return { expectedCount: 0, desiredHealthy: 0 };
}

/** Keeps PodDisruptionBudget status. */
export class DisruptionController implements Controller {
  readonly name = 'disruption';
  private readonly client: RESTClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly pdbs: SharedInformer<Budget>;
  private readonly pods: SharedInformer<Pod>;
  private readonly replicaSets: SharedInformer;
  private readonly queue = newQueue('disruption');
  /** Pods whose DisruptionTarget condition may have gone stale. */
  private readonly stalePodDisruptionQueue = newQueue('disruption-stale-pod');
  /** How long a pod may carry DisruptionTarget without being deleted (upstream: 2 min); tests shorten it. */
  stalePodDisruptionTimeoutMs = 2 * 60 * 1000;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'disruption' });
    this.recorder = ctx.recorder('controllermanager');
    this.pdbs = ctx.informers.informerFor<Budget>(pdbsRef);
    this.pods = ctx.informers.informerFor<Pod>(podsRef);
    this.replicaSets = ctx.informers.informerFor(replicaSetsRef);
    this.pdbs.addEventHandler({
      onAdd: (p) => this.queue.add(metaNamespaceKey(p)),
      onUpdate: (_o, p) => this.queue.add(metaNamespaceKey(p)),
      onDelete: (obj) => this.queue.add(metaNamespaceKey(obj)),
    });
    const onPod = (pod: Pod): void => {
      for (const pdb of this.budgetsOf(pod)) this.queue.add(metaNamespaceKey(pdb));
      const staleAt = this.staleDisruptionAt(pod);
      if (staleAt !== undefined) this.stalePodDisruptionQueue.addAfter(metaNamespaceKey(pod), Math.max(0, staleAt - this.clock.now()));
    };
    this.pods.addEventHandler({
      onAdd: onPod,
      onUpdate: (old, cur) => {
        onPod(cur);
        if (JSON.stringify(old.metadata?.labels) !== JSON.stringify(cur.metadata?.labels)) onPod(old);
      },
      onDelete: (obj) => onPod(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.pdbs.waitForSync(signal), this.pods.waitForSync(signal), this.replicaSets.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await Promise.all([
      runWorkers(this.queue, 2, (key) => this.sync(key), signal, this.log),
      runWorkers(this.stalePodDisruptionQueue, 2, (key) => this.syncStalePodDisruption(key), signal, this.log),
    ]);
  }

  /** When a live pod's DisruptionTarget=True condition counts as stale, if it has one. */
  private staleDisruptionAt(pod: Pod): number | undefined {
    if (pod.metadata?.deletionTimestamp) return undefined;
    const c = pod.status?.conditions?.find((x) => x.type === 'DisruptionTarget' && x.status === 'True');
    if (!c) return undefined;
    const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
    return (Number.isNaN(since) ? this.clock.now() : since) + this.stalePodDisruptionTimeoutMs;
  }

  /**
   * Upstream's syncStalePodDisruption: an eviction marks the pod before deleting it; when the delete never
   * came, the mark is reset to False so that the pod is not taken for one on its way out.
   */
  private async syncStalePodDisruption(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pod = this.pods.lister.get(namespace, name);
    if (!pod) return;
    const staleAt = this.staleDisruptionAt(pod);
    if (staleAt === undefined) return;
    const now = this.clock.now();
    if (staleAt > now) {
      this.stalePodDisruptionQueue.addAfter(key, staleAt - now);
      return;
    }
    const conditions = (pod.status?.conditions ?? []).map((c) =>
      c.type === 'DisruptionTarget' ? { type: 'DisruptionTarget', status: 'False', lastTransitionTime: new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z') } : c,
    );
    try {
      await this.client.updateStatus({ ...podsRef, namespace }, { ...structuredClone(pod), status: { ...structuredClone(pod.status), conditions } });
      this.log.info('Reset stale DisruptionTarget condition to False', { pod: key }, 2);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  /** The budgets of the pod's namespace whose selector matches it. */
  private budgetsOf(pod: Pod): Budget[] {
    return this.pdbs.lister.listNamespace(pod.metadata?.namespace ?? '').filter((pdb) => {
      try {
        return labelSelectorAsSelector(pdb.spec?.selector).matches(pod.metadata?.labels ?? {});
      } catch {
        return false;
      }
    });
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pdb = this.pdbs.lister.get(namespace, name);
    if (!pdb) return;
    try {
      await this.trySync(pdb);
    } catch (err) {
      if (isStatus(err, 409)) throw err;
      this.log.warn('failed to sync pdb', { pdb: key, error: err instanceof Error ? err.message : String(err) });
      await this.failSafe(pdb, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  private async trySync(pdb: Budget): Promise<void> {
    const namespace = pdb.metadata?.namespace ?? '';
    const selector = labelSelectorAsSelector(pdb.spec?.selector);
    const pods = this.pods.lister.listNamespace(namespace, selector);
    if (pods.length === 0) this.recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    let counts: BudgetCounts;
    const unmanaged: string[] = [];
    try {
      counts = await expectedPodCount(pdb.spec, pods.length, () => this.expectedScale(pods, unmanaged));
    } catch (err) {
      this.recorder.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    if (unmanaged.length > 0) {
      this.recorder.event(
        pdb,
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${formatLabelSelector(pdb.spec?.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const now = this.clock.now();
    const { disrupted, recheckAt } = this.buildDisruptedPodMap(pods, pdb, now);
    const currentHealthy = countHealthyPods(pods, disrupted, now);
    await this.updateStatus(pdb, currentHealthy, counts, disrupted);
    if (recheckAt !== undefined) this.queue.addAfter(metaNamespaceKey(pdb), Math.max(0, recheckAt - now) + 100);
  }

  /** The summed scale of the pods' controllers; pods without one are listed in `unmanaged`. */
  private async expectedScale(pods: Pod[], unmanaged: string[]): Promise<number> {
    const scales = new Map<string, number>();
    for (const pod of pods) {
      let ref = controllerOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata?.name ?? '');
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const ns = pod.metadata?.namespace ?? '';
      // A Deployment's ReplicaSets share the Deployment's scale.
      if (ref.kind === 'ReplicaSet' && groupOf(ref.apiVersion) === 'apps') {
        const rs = this.replicaSets.lister.get(ns, ref.name);
        const owner = rs && rs.metadata?.uid === ref.uid ? controllerOf(rs) : undefined;
        if (owner?.kind === 'Deployment' && groupOf(owner.apiVersion) === 'apps') ref = owner;
        if (scales.has(ref.uid)) continue;
      }
      const resource = scaleResources[`${groupOf(ref.apiVersion)}/${ref.kind}`];
      if (!resource) throw new Error(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
      let scale: KubeObject;
      try {
        scale = await this.client.getScale({ ...resource, namespace: ns }, ref.name);
      } catch (err) {
        if (isStatus(err, 404)) throw new Error(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
        throw err;
      }
      if (scale.metadata?.uid !== ref.uid) throw new Error(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
      scales.set(ref.uid, Number((scale.spec as { replicas?: number } | undefined)?.replicas ?? 0));
    }
    let total = 0;
    for (const v of scales.values()) total += v;
    return total;
  }

  /** Upstream's buildDisruptedPodMap: granted evictions still waiting for their pod to terminate. */
  private buildDisruptedPodMap(pods: Pod[], pdb: Budget, now: number): { disrupted: Record<string, string>; recheckAt?: number } {
    const granted = pdb.status?.disruptedPods ?? {};
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const name = pod.metadata?.name ?? '';
      const at = granted[name];
      if (at === undefined) continue;
      const expectedDeletion = Date.parse(at) + deletionTimeoutMs;
      if (expectedDeletion < now) {
        this.recorder.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${metaNamespaceKey(pdb)} to be deleted but it wasn't`);
        continue;
      }
      disrupted[name] = at;
      if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
    }
    return recheckAt === undefined ? { disrupted } : { disrupted, recheckAt };
  }

  private async updateStatus(pdb: Budget, currentHealthy: number, counts: BudgetCounts, disrupted: Record<string, string>): Promise<void> {
    let disruptionsAllowed = currentHealthy - counts.desiredHealthy;
    // A budget that expects no pods stays safe until its first pods are counted.
    if (counts.expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const generation = Number(pdb.metadata?.generation ?? 0);
    const cur = pdb.status;
    const next: PodDisruptionBudgetStatus = {
      currentHealthy,
      desiredHealthy: counts.desiredHealthy,
      expectedPods: counts.expectedCount,
      disruptionsAllowed,
      observedGeneration: generation,
      ...(Object.keys(disrupted).length > 0 ? { disruptedPods: disrupted } : {}),
      conditions: disruptionAllowedCondition(cur?.conditions, disruptionsAllowed > 0, generation, this.clock.now()),
    };
    if (
      cur &&
      cur.currentHealthy === next.currentHealthy &&
      cur.desiredHealthy === next.desiredHealthy &&
      cur.expectedPods === next.expectedPods &&
      cur.disruptionsAllowed === next.disruptionsAllowed &&
      cur.observedGeneration === next.observedGeneration &&
      JSON.stringify(cur.disruptedPods ?? {}) === JSON.stringify(disrupted) &&
      JSON.stringify(cur.conditions) === JSON.stringify(next.conditions)
    ) {
      return;
    }
    await this.client.updateStatus({ ...pdbsRef, namespace: pdb.metadata?.namespace ?? '' }, { ...structuredClone(pdb), status: next });
  }

  /** On failure no disruption is allowed, and the condition says why (upstream's failSafe). */
  private async failSafe(pdb: Budget, message: string): Promise<void> {
    const generation = Number(pdb.metadata?.generation ?? 0);
    const status: PodDisruptionBudgetStatus = {
      ...(pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }),
      disruptionsAllowed: 0,
      conditions: setCondition(pdb.status?.conditions, { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message, observedGeneration: generation }, this.clock.now()),
    };
    await this.client
      .updateStatus({ ...pdbsRef, namespace: pdb.metadata?.namespace ?? '' }, { ...structuredClone(pdb), status })
      .catch(() => undefined);
  }
}

/** Upstream's countHealthyPods: ready pods neither terminating nor already granted an eviction. */
export function countHealthyPods(pods: Pod[], disrupted: Record<string, string>, now: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata?.name ?? ''];
    if (at !== undefined && Date.parse(at) + deletionTimeoutMs > now) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

function setCondition(conditions: Condition[] | undefined, c: Omit<Condition, 'lastTransitionTime'>, now: number): Condition[] {
  const old = conditions?.find((x) => x.type === c.type);
  const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return [...(conditions ?? []).filter((x) => x.type !== c.type), { ...c, lastTransitionTime }];
}

/** The DisruptionAllowed condition: SufficientPods or InsufficientPods. */
function disruptionAllowedCondition(conditions: Condition[] | undefined, allowed: boolean, generation: number, now: number): Condition[] {
  return setCondition(
    conditions,
    { type: 'DisruptionAllowed', status: allowed ? 'True' : 'False', reason: allowed ? 'SufficientPods' : 'InsufficientPods', message: '', observedGeneration: generation },
    now,
  );
}
