// kube-scheduler: watches pods and nodes through the client library, keeps the queue and the cache, runs
// one scheduling cycle at a time (filter, score, pick a node, assume the pod there) and hands each chosen
// pod to an asynchronous binding cycle (pods/binding), so the next pod is scheduled while the binding is
// written. Pods that fit nowhere get a PodScheduled=False condition, a FailedScheduling event and, if
// preemption helps, a nominated node; they wait in the queue for a cluster event that could help them.
import { hostname } from 'node:os';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { LabelSelector } from '../api/labels.js';
import { labelSelectorAsSelector, LabelSelector as Selector } from '../api/labels.js';
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import type { Clock, KubeObject, ResourceRef, RESTClient } from '../client/index.js';
import { DeletedFinalStateUnknown, EventRecorder, isStatus, LeaderElector, leaseLock, realClock, SharedInformer } from '../client/index.js';
import { SchedulerCache } from './cache.js';
import type { ResolvedConfiguration } from './config.js';
import { resolveConfiguration } from './config.js';
import type { Diagnosis, FrameworkHandle, PluginFactory, QueuedPodInfo } from './framework.js';
import { fitErrorMessage, Framework } from './framework.js';
import { SchedulerMetrics } from './metrics.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import { newPodInfo } from './pod-info.js';
import { inTreeRegistry } from './plugins/registry.js';
import { SchedulingQueue } from './queue.js';
import type { Node } from './types.js';
import { Status } from './types.js';

const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };

/** Upstream's minimum number of feasible nodes to find, and the adaptive percentage's floor. */
const minFeasibleNodesToFind = 100;
const minFeasibleNodesPercentageToFind = 5;
/** Bindings written at once; more wait their turn (the scheduling cycle does not). */
const maxConcurrentBindings = 64;

/** Upstream's rule for how many feasible nodes to look for before scoring. */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let pct = percentage;
  if (pct === 0) {
    pct = Math.trunc(50 - numAllNodes / 125);
    if (pct < minFeasibleNodesPercentageToFind) pct = minFeasibleNodesPercentageToFind;
  }
  const n = Math.trunc((numAllNodes * pct) / 100);
  return n < minFeasibleNodesToFind ? minFeasibleNodesToFind : n;
}

export const errNoNodesAvailable = 'no nodes available to schedule pods';

export interface SchedulerOptions {
  client: RESTClient;
  /** The decoded configuration file (defaults when absent). */
  config?: ResolvedConfiguration;
  /** Out-of-tree plugins by name, next to the in-tree ones. */
  outOfTreeRegistry?: ReadonlyMap<string, PluginFactory>;
  leaderElect?: boolean;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  log?: Logger;
  metrics?: SchedulerMetrics;
}

interface Profile {
  fw: Framework;
  /** Several recorders write in parallel; one object's events always go through the same one (in order). */
  recorders: EventRecorder[];
}

/** How many event writes a profile has in flight at most. */
const eventWriters = 8;

function recorderFor(p: Profile, uid: string): EventRecorder {
  let h = 0;
  for (let i = 0; i < uid.length; i++) h = (h * 31 + uid.charCodeAt(i)) | 0;
  return p.recorders[Math.abs(h) % p.recorders.length]!;
}

/** The outcome of one scheduling attempt. */
type Result = { node: string; evaluated: number; feasible: number } | { diagnosis: Diagnosis; numAllNodes: number; noNodes?: boolean };

/** The scheduler component. */
export class Scheduler {
  readonly config: ResolvedConfiguration;
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly metrics: SchedulerMetrics;
  readonly identity: string;
  readonly #opts: SchedulerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #profiles = new Map<string, Profile>();
  readonly #nominated = new Map<string, PodInfo[]>();
  readonly #nominatedNodeOf = new Map<string, string>();
  #nextStartNodeIndex = 0;
  #bindingsInFlight = 0;
  #bindWaiters: (() => void)[] = [];
  #pods: SharedInformer<Pod & KubeObject> | undefined;
  #pdbs: SharedInformer | undefined;
  readonly #informers: SharedInformer[] = [];
  #leader = false;

  constructor(options: SchedulerOptions) {
    this.#opts = options;
    this.#log = options.log ?? logger('scheduler');
    this.#clock = options.clock ?? realClock;
    this.metrics = options.metrics ?? new SchedulerMetrics();
    this.config = options.config ?? resolveConfiguration();
    this.identity = options.identity ?? `${hostname()}_${Math.random().toString(16).slice(2, 10)}`;
    const registry = new Map(inTreeRegistry());
    for (const [n, f] of options.outOfTreeRegistry ?? []) registry.set(n, f);
    for (const p of this.config.profiles) {
      const handle: FrameworkHandle = {
        cache: this.cache,
        framework: () => this.#profiles.get(p.schedulerName)!.fw,
        nominatedPods: (node) => this.#nominated.get(node) ?? [],
        preemptionActions: {
          nominate: (pod, node) => this.#nominate(pod, node),
          evict: (victim, preemptor, node) => this.#evict(p.schedulerName, victim, preemptor, node),
        },
        bindPod: (pod, node) => this.#bind(pod, node),
        defaultSelector: (pod) => this.#defaultSelector(pod),
        podDisruptionBudgets: () => (this.#pdbs?.lister.list() ?? []) as PodDisruptionBudget[],
        schedulerName: p.schedulerName,
      };
      const fw = new Framework(p.schedulerName, p.plugins, registry, p.args, handle);
      fw.percentageOfNodesToScore = p.percentageOfNodesToScore;
      const recorders = Array.from({ length: eventWriters }, () => new EventRecorder({ client: options.client, component: p.schedulerName, clock: this.#clock }));
      this.#profiles.set(p.schedulerName, { fw, recorders });
    }
    const first = this.#profiles.values().next().value!.fw;
    this.queue = new SchedulingQueue({
      less: (a, b) => first.queueSort.less(a, b),
      preEnqueue: (pod) => this.#profileOf(pod)?.fw.runPreEnqueue(pod) === null,
      interested: (plugin, event, q) => this.#profileOf(q.info)?.fw.interestedIn(plugin, event) ?? true,
      clock: this.#clock,
      initialBackoffMs: this.config.podInitialBackoffMs,
      maxBackoffMs: this.config.podMaxBackoffMs,
    });
    this.metrics.pendingPods(() => this.queue.pending);
  }

  /** The names of the profiles: pods with another spec.schedulerName are left alone. */
  get schedulerNames(): string[] {
    return [...this.#profiles.keys()];
  }

  /** The framework of a profile (default-scheduler when not named). */
  framework(schedulerName = 'default-scheduler'): Framework | undefined {
    return this.#profiles.get(schedulerName)?.fw;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  #profileOf(pod: PodInfo): Profile | undefined {
    return this.#profiles.get(pod.pod.spec?.schedulerName || 'default-scheduler');
  }

  /** Runs until the signal aborts; with leader election, schedules only while holding kube-system/kube-scheduler. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#opts.leaderElect === false) return this.#runScheduling(signal);
    const le = this.config.leaderElection;
    const elector = new LeaderElector({
      lock: leaseLock(this.#opts.client, le.resourceNamespace ?? 'kube-system', le.resourceName ?? 'kube-scheduler'),
      identity: this.identity,
      ...(this.#opts.leaseDurationMs !== undefined ? { leaseDurationMs: this.#opts.leaseDurationMs } : {}),
      ...(this.#opts.renewDeadlineMs !== undefined ? { renewDeadlineMs: this.#opts.renewDeadlineMs } : {}),
      ...(this.#opts.retryPeriodMs !== undefined ? { retryPeriodMs: this.#opts.retryPeriodMs } : {}),
      clock: this.#clock,
      callbacks: {
        onStartedLeading: (leading) => {
          this.#log.info('became leader', { identity: this.identity });
          void this.#runScheduling(leading);
        },
        onStoppedLeading: () => {
          if (this.#leader) this.#log.info('lost leadership', { identity: this.identity });
          this.#leader = false;
        },
      },
      log: this.#log,
    });
    await elector.run(signal);
  }

  async #runScheduling(signal: AbortSignal): Promise<void> {
    this.#leader = true;
    // A later term of leadership starts from what the informers list then, not from the last term's state.
    this.queue.reset();
    this.cache.clear();
    this.#nominated.clear();
    this.#nominatedNodeOf.clear();
    const client = this.#opts.client;
    const pods = SharedInformer.forResource<Pod & KubeObject>(client, podsRef, { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' });
    const nodes = SharedInformer.forResource<Node & KubeObject>(client, nodesRef);
    this.#pods = pods;
    const extra = ['services', 'replicationcontrollers'].map((r) => SharedInformer.forResource(client, { group: '', version: 'v1', resource: r }));
    const apps = ['replicasets', 'statefulsets'].map((r) => SharedInformer.forResource(client, { group: 'apps', version: 'v1', resource: r }));
    const namespaces = SharedInformer.forResource(client, { group: '', version: 'v1', resource: 'namespaces' });
    this.#pdbs = SharedInformer.forResource(client, { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' });
    this.#informers.push(pods as unknown as SharedInformer, nodes as unknown as SharedInformer, ...extra, ...apps, namespaces, this.#pdbs);
    this.cache.nsLabels = (ns) => namespaces.lister.get('', ns)?.metadata?.labels ?? { 'kubernetes.io/metadata.name': ns };
    nodes.addEventHandler({
      onAdd: (n) => {
        this.cache.addNode(n);
        this.queue.moveAllToActiveOrBackoffQueue('NodeAdd');
      },
      onUpdate: (o, n) => {
        this.cache.addNode(n);
        if (nodeSchedulingPropertiesChanged(o, n)) this.queue.moveAllToActiveOrBackoffQueue('NodeUpdate');
      },
      onDelete: (n) => {
        const node = n instanceof DeletedFinalStateUnknown ? n.obj : n;
        this.cache.removeNode(node.metadata?.name ?? '');
      },
    });
    pods.addEventHandler({
      onAdd: (p) => this.#podAdded(p),
      onUpdate: (o, p) => this.#podUpdated(o, p),
      onDelete: (p) => this.#podDeleted(p instanceof DeletedFinalStateUnknown ? p.obj : p),
    });
    for (const inf of this.#informers) inf.start();
    this.queue.run();
    try {
      await Promise.all(this.#informers.map((i) => i.waitForSync(signal)));
      this.#log.info('started scheduling', { profiles: this.schedulerNames, nodes: this.cache.nodeCount });
      await this.#scheduleLoop(signal);
    } catch (err) {
      if (!signal.aborted) this.#log.error('scheduler failed', { error: err as Error });
    } finally {
      this.queue.close();
      await Promise.all(this.#informers.map((i) => i.stop()));
      this.#informers.length = 0;
      for (const p of this.#profiles.values()) await Promise.all(p.recorders.map((r) => r.flush()));
      this.#leader = false;
    }
  }

  #responsibleFor(pod: Pod): boolean {
    return this.#profiles.has(pod.spec?.schedulerName || 'default-scheduler');
  }

  #podAdded(pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.cache.addPod(newPodInfo(pod), pod.spec.nodeName);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
      return;
    }
    if (!this.#responsibleFor(pod) || pod.metadata?.deletionTimestamp) return;
    const info = newPodInfo(pod);
    if (pod.status?.nominatedNodeName) this.#addNominated(info, pod.status.nominatedNodeName);
    this.queue.add(info);
  }

  #podUpdated(old: Pod, pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (pod.spec?.nodeName) {
      const wasAssigned = Boolean(old.spec?.nodeName);
      this.queue.delete(uid);
      this.#removeNominated(uid);
      this.cache.addPod(newPodInfo(pod), pod.spec.nodeName);
      if (!wasAssigned) this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
      else if (assignedPodChanged(old, pod)) this.queue.moveAllToActiveOrBackoffQueue('AssignedPodUpdate');
      return;
    }
    if (!this.#responsibleFor(pod) || this.cache.isAssumed(uid)) return;
    if (pod.metadata?.deletionTimestamp) {
      this.queue.delete(uid);
      this.#removeNominated(uid);
      return;
    }
    // Our own status writes (conditions, nominatedNodeName) change nothing the scheduler decides on.
    if (!podSpecChanged(old, pod)) return;
    const info = newPodInfo(pod);
    this.queue.update(info);
  }

  #podDeleted(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    // A pod Permit plugins were holding is gone: its binding cycle ends (upstream's RejectWaitingPod).
    for (const p of this.#profiles.values()) p.fw.getWaitingPod(uid)?.reject('', 'removed');
    if (this.cache.podState(uid)) {
      this.cache.removePod(uid);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
      return;
    }
    this.queue.delete(uid);
    this.#removeNominated(uid);
  }

  async #scheduleLoop(signal: AbortSignal): Promise<void> {
    const stop = (): void => this.queue.close();
    signal.addEventListener('abort', stop, { once: true });
    let lastYield = performance.now();
    try {
      for (;;) {
        const next = this.queue.pop();
        const q = next instanceof Promise ? await next : next;
        if (!q || signal.aborted) return;
        this.scheduleOne(q);
        // Let informers, bindings and the API server's answers in between pods.
        const now = performance.now();
        if (now - lastYield > 4) {
          await yieldToLoop();
          lastYield = performance.now();
        }
      }
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  /** One scheduling cycle for a popped pod; the binding cycle continues asynchronously. */
  scheduleOne(q: QueuedPodInfo): void {
    const profile = this.#profileOf(q.info);
    const latest = this.#latest(q.info);
    if (!profile || !latest || latest.spec?.nodeName || latest.metadata?.deletionTimestamp || this.cache.podState(q.info.uid)) {
      this.queue.done(q.info.uid);
      return;
    }
    const fw = profile.fw;
    const start = performance.now();
    const state = fw.newCycleState();
    let result: Result;
    try {
      result = this.schedulePod(fw, state, q.info);
    } catch (err) {
      this.#log.error('scheduling cycle failed', { pod: q.info.key, error: err as Error });
      this.#observe(fw, 'error', start);
      this.#handleFailure(profile, q, `${err instanceof Error ? err.message : String(err)}`, 'SchedulerError', undefined, false);
      return;
    }
    if ('diagnosis' in result) {
      let nominated: string | undefined;
      if (!result.noNodes && fw.postFilter.length > 0) {
        const pf = fw.runPostFilter(state, q.info, result.diagnosis.nodeStatuses);
        if (pf.status.code === 'Success') {
          nominated = pf.nominatedNodeName;
          this.metrics.preemptionAttempts.inc();
        } else if (pf.status.reasons.length > 0) {
          result.diagnosis.postFilterMsg = pf.status.message();
        }
      }
      q.unschedulablePlugins = result.diagnosis.unschedulablePlugins;
      const msg = result.noNodes ? errNoNodesAvailable : fitErrorMessage(result.numAllNodes, result.diagnosis);
      this.#observe(fw, 'unschedulable', start);
      this.#handleFailure(profile, q, msg, 'Unschedulable', nominated, true);
      return;
    }
    const node = result.node;
    this.cache.assumePod(q.info, node);
    const rs = fw.runReserve(state, q.info, node) ?? fw.runPermit(state, q.info, node);
    if (rs !== null && rs.code !== 'Wait') {
      fw.runUnreserve(state, q.info, node);
      this.cache.forgetPod(q.info.uid);
      this.#observe(fw, rs.isRejection() ? 'unschedulable' : 'error', start);
      this.#handleFailure(profile, q, rs.message(), rs.isRejection() ? 'Unschedulable' : 'SchedulerError', undefined, rs.isRejection());
      return;
    }
    void this.#bindingCycle(profile, state, q, node, start);
  }

  async #bindingCycle(profile: Profile, state: ReturnType<Framework['newCycleState']>, q: QueuedPodInfo, node: string, start: number): Promise<void> {
    const fw = profile.fw;
    const permit = await fw.waitOnPermit(q.info);
    if (permit !== null) {
      this.cache.forgetPod(q.info.uid);
      fw.runUnreserve(state, q.info, node);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
      const rejected = permit.isRejection();
      this.#observe(fw, rejected ? 'unschedulable' : 'error', start);
      // A rejection reads as upstream's FitError over the one node the pod was waiting for.
      const msg = rejected
        ? fitErrorMessage(1, { nodeStatuses: new Map([[node, permit]]), unschedulablePlugins: new Set([permit.plugin]), preFilterMsg: '', postFilterMsg: '' })
        : permit.message();
      if (rejected) q.unschedulablePlugins = new Set([permit.plugin]);
      this.#handleFailure(profile, q, msg, rejected ? 'Unschedulable' : 'SchedulerError', undefined, rejected);
      return;
    }
    let s: Status | null;
    try {
      s = (await fw.runPreBind(state, q.info, node)) ?? (await fw.runBind(state, q.info, node));
    } catch (err) {
      s = new Status('Error', [err instanceof Error ? err.message : String(err)]);
    }
    if (s === null) {
      this.#observe(fw, 'scheduled', start);
      this.metrics.podSchedulingSLI.observe({ attempts: String(q.attempts) }, (this.#clock.now() - q.initialAttemptTimestamp) / 1000);
      this.#removeNominated(q.info.uid);
      this.queue.done(q.info.uid);
      recorderFor(profile, q.info.uid).event(q.info.pod, 'Normal', 'Scheduled', `Successfully assigned ${q.info.key} to ${node}`);
      fw.runPostBind(state, q.info, node);
      return;
    }
    this.cache.forgetPod(q.info.uid);
    fw.runUnreserve(state, q.info, node);
    this.#observe(fw, 'error', start);
    // The space the assumed pod held is free again: pods waiting for it may fit.
    this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
    this.#handleFailure(profile, q, `Binding rejected: ${s.message()}`, 'SchedulerError', undefined, false);
  }

  #observe(fw: Framework, result: 'scheduled' | 'unschedulable' | 'error', start: number): void {
    this.metrics.scheduleAttempts.inc({ result, profile: fw.profileName });
    this.metrics.attemptDuration.observe({ result, profile: fw.profileName }, (performance.now() - start) / 1000);
  }

  /** Filters and scores nodes for one pod: the chosen node, or why none fits. */
  schedulePod(fw: Framework, state: ReturnType<Framework['newCycleState']>, pod: PodInfo): Result {
    const nodes = this.cache.nodeList();
    const diagnosis: Diagnosis = { nodeStatuses: new Map(), unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' };
    if (nodes.length === 0) return { diagnosis, numAllNodes: 0, noNodes: true };
    const pre = fw.runPreFilter(state, pod, nodes);
    if (pre !== null) {
      if (pre.code === 'Error') throw new Error(`running PreFilter plugin "${pre.plugin}": ${pre.message()}`);
      diagnosis.preFilterMsg = pre.message();
      diagnosis.unschedulablePlugins.add(pre.plugin);
      for (const n of nodes) diagnosis.nodeStatuses.set(n.name, pre);
      return { diagnosis, numAllNodes: nodes.length };
    }
    // A pod nominated by preemption tries its nominated node first.
    const nominatedName = pod.pod.status?.nominatedNodeName;
    if (nominatedName) {
      const n = this.cache.node(nominatedName);
      if (n && fw.runFilterWithNominated(state, pod, n, this.#nominated.get(n.name) ?? []) === null) return { node: n.name, evaluated: 1, feasible: 1 };
    }
    const pct = fw.percentageOfNodesToScore ?? this.config.percentageOfNodesToScore;
    const want = fw.scores.length === 0 ? nodes.length : numFeasibleNodesToFind(pct, nodes.length);
    const feasible: NodeInfo[] = [];
    const total = nodes.length;
    let processed = 0;
    const start = this.#nextStartNodeIndex % total;
    for (let k = 0; k < total && feasible.length < want; k++) {
      const n = nodes[(start + k) % total]!;
      processed++;
      const nominated = this.#nominated.size === 0 ? undefined : this.#nominated.get(n.name);
      const s = nominated ? fw.runFilterWithNominated(state, pod, n, nominated) : fw.runFilter(state, pod, n);
      if (s === null) {
        feasible.push(n);
        continue;
      }
      if (s.code === 'Error') throw new Error(`running "${s.plugin}" filter plugin: ${s.message()}`);
      diagnosis.nodeStatuses.set(n.name, s);
      diagnosis.unschedulablePlugins.add(s.plugin);
    }
    this.#nextStartNodeIndex = (start + processed) % total;
    if (feasible.length === 0) return { diagnosis, numAllNodes: total };
    if (feasible.length === 1) return { node: feasible[0]!.name, evaluated: processed, feasible: 1 };
    const ps = fw.runPreScore(state, pod, feasible);
    if (ps !== null && ps.code !== 'Success') throw new Error(`running PreScore plugin "${ps.plugin}": ${ps.message()}`);
    const scores = fw.runScore(state, pod, feasible);
    return { node: selectHost(feasible, scores), evaluated: processed, feasible: feasible.length };
  }

  #latest(info: PodInfo): Pod | undefined {
    if (!this.#pods) return info.pod;
    return this.#pods.indexer.getByKey(info.key);
  }

  #handleFailure(profile: Profile, q: QueuedPodInfo, message: string, reason: 'Unschedulable' | 'SchedulerError', nominated: string | undefined, unschedulable: boolean): void {
    const latest = this.#latest(q.info);
    if (!latest || latest.spec?.nodeName || latest.metadata?.deletionTimestamp) {
      this.queue.done(q.info.uid);
      return;
    }
    const info = latest === q.info.pod ? q.info : newPodInfo(latest);
    this.queue.addUnschedulableIfNotPresent({ ...q, info }, unschedulable);
    recorderFor(profile, q.info.uid).event(latest, 'Warning', 'FailedScheduling', message);
    const cond = (latest.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    const nominatedChanged = nominated !== undefined && latest.status?.nominatedNodeName !== nominated;
    if (cond?.status === 'False' && cond.reason === reason && cond.message === message && !nominatedChanged) return;
    const status: Record<string, unknown> = {
      conditions: [{ type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null, lastTransitionTime: rfc3339(this.#clock.now()) }],
    };
    if (nominated !== undefined) status.nominatedNodeName = nominated;
    const ns = info.namespace;
    this.#opts.client
      .patch({ ...podsRef, namespace: ns }, latest.metadata?.name ?? '', { status }, 'strategic', { subresource: 'status' })
      .catch((err: unknown) => {
        if (!isStatus(err, 404)) this.#log.warn('failed to update pod status', { pod: info.key, error: err as Error });
      });
  }

  async #bind(pod: PodInfo, node: string): Promise<void> {
    while (this.#bindingsInFlight >= maxConcurrentBindings) await new Promise<void>((r) => this.#bindWaiters.push(r));
    this.#bindingsInFlight++;
    try {
      await this.#opts.client.create(
        { ...podsRef, namespace: pod.namespace },
        { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.pod.metadata?.name ?? '', namespace: pod.namespace, uid: pod.uid }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
        { subresource: 'binding', name: pod.pod.metadata?.name ?? '' },
      );
    } finally {
      this.#bindingsInFlight--;
      this.#bindWaiters.shift()?.();
    }
  }

  #addNominated(pod: PodInfo, node: string): void {
    this.#removeNominated(pod.uid);
    const list = this.#nominated.get(node) ?? [];
    list.push(pod);
    this.#nominated.set(node, list);
    this.#nominatedNodeOf.set(pod.uid, node);
  }

  #removeNominated(uid: string): void {
    const node = this.#nominatedNodeOf.get(uid);
    if (node === undefined) return;
    this.#nominatedNodeOf.delete(uid);
    const list = (this.#nominated.get(node) ?? []).filter((p) => p.uid !== uid);
    if (list.length === 0) this.#nominated.delete(node);
    else this.#nominated.set(node, list);
  }

  #nominate(pod: PodInfo, node: string): void {
    this.#addNominated(pod, node);
  }

  /** Preemption's eviction: mark the victim with DisruptionTarget, then delete it gracefully. */
  #evict(schedulerName: string, victim: PodInfo, preemptor: PodInfo, node: string): void {
    const ref = { ...podsRef, namespace: victim.namespace };
    const name = victim.pod.metadata?.name ?? '';
    const profile = this.#profiles.get(schedulerName)!;
    const condition = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'PreemptionByScheduler',
      message: `${schedulerName}: preempting to accommodate a higher priority pod`,
      lastTransitionTime: rfc3339(this.#clock.now()),
    };
    void (async () => {
      try {
        await this.#opts.client.patch(ref, name, { status: { conditions: [condition] } }, 'strategic', { subresource: 'status' });
        await this.#opts.client.delete(ref, name, { preconditions: { uid: victim.uid } });
        recorderFor(profile, victim.uid).event(victim.pod, 'Normal', 'Preempted', `Preempted by pod ${preemptor.uid} on node ${node}`);
      } catch (err) {
        if (!isStatus(err, 404)) this.#log.warn('failed to preempt victim', { victim: victim.key, error: err as Error });
      }
    })();
  }

  /** The Services', ReplicationControllers', ReplicaSets' and StatefulSets' selectors that select the pod. */
  #defaultSelector(pod: PodInfo): LabelSelector {
    const [services, rcs, rss, sss] = this.#informers.slice(2, 6);
    let set: Record<string, string> = {};
    for (const svc of services?.lister.listNamespace(pod.namespace) ?? []) {
      const sel = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
      if (sel && Object.keys(sel).length > 0 && Selector.fromSet(sel).matches(pod.labels)) set = { ...set, ...sel };
    }
    let selector = Selector.fromSet(set);
    const owner = pod.pod.metadata?.ownerReferences?.find((o) => o.controller);
    if (owner) {
      if (owner.kind === 'ReplicationController') {
        const rc = rcs?.lister.get(pod.namespace, owner.name);
        const sel = (rc?.spec as { selector?: Record<string, string> } | undefined)?.selector;
        if (sel) selector = Selector.fromSet({ ...set, ...sel });
      } else if (owner.kind === 'ReplicaSet' || owner.kind === 'StatefulSet') {
        const obj = (owner.kind === 'ReplicaSet' ? rss : sss)?.lister.get(pod.namespace, owner.name);
        const sel = (obj?.spec as { selector?: unknown } | undefined)?.selector;
        if (sel) {
          try {
            const reqs = labelSelectorAsSelector(sel).requirements().requirements;
            selector = selector.add(...reqs);
          } catch {
            // An invalid selector adds nothing, as upstream ignores it.
          }
        }
      }
    }
    return selector;
  }
}

/** Picks the highest total score; ties are broken at random (reservoir sampling, as upstream). */
export function selectHost(nodes: readonly NodeInfo[], totals: Float64Array): string {
  let best = 0;
  let ties = 1;
  for (let i = 1; i < nodes.length; i++) {
    if (totals[i]! > totals[best]!) {
      best = i;
      ties = 1;
    } else if (totals[i] === totals[best]) {
      ties++;
      if (Math.random() * ties < 1) best = i;
    }
  }
  return nodes[best]!.name;
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function podSpecChanged(a: Pod, b: Pod): boolean {
  if (a.spec === b.spec && a.metadata?.labels === b.metadata?.labels) return false;
  return JSON.stringify([a.spec, a.metadata?.labels, a.metadata?.annotations]) !== JSON.stringify([b.spec, b.metadata?.labels, b.metadata?.annotations]);
}

function assignedPodChanged(a: Pod, b: Pod): boolean {
  return JSON.stringify([a.metadata?.labels, a.spec?.containers?.map((c) => c.resources)]) !== JSON.stringify([b.metadata?.labels, b.spec?.containers?.map((c) => c.resources)]) || Boolean(b.metadata?.deletionTimestamp) !== Boolean(a.metadata?.deletionTimestamp);
}

function nodeSchedulingPropertiesChanged(a: Node, b: Node): boolean {
  return (
    a.spec?.unschedulable !== b.spec?.unschedulable ||
    JSON.stringify([a.metadata?.labels, a.spec?.taints, a.status?.allocatable, a.status?.conditions?.map((c) => [c.type, c.status])]) !==
      JSON.stringify([b.metadata?.labels, b.spec?.taints, b.status?.allocatable, b.status?.conditions?.map((c) => [c.type, c.status])])
  );
}
