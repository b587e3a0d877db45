// The scheduling framework: the extension points upstream defines (QueueSort, PreFilter, Filter,
// PostFilter, PreScore, Score with NormalizeScore, Reserve, Permit, PreBind, Bind, PostBind) and a Framework
// that runs one profile's plugins at each of them, in the configured order.
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { LabelSelector } from '../api/labels.js';
import { goDuration } from '../base/go-duration.js';
import type { SchedulerCache } from './cache.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import type { NodeScoreList } from './types.js';
import { CycleState, maxNodeScore, Status } from './types.js';

/** Every plugin has upstream's name. */
export interface Plugin {
  readonly name: string;
}

/** A pod waiting in the scheduling queue. */
export interface QueuedPodInfo {
  info: PodInfo;
  /** When the pod was (last) added to the queue, for PrioritySort's tie-break. */
  timestamp: number;
  /** When the pod was first seen, for latency metrics. */
  initialAttemptTimestamp: number;
  attempts: number;
  /** Plugins that rejected the pod last time: only cluster events they care about move it. */
  unschedulablePlugins: Set<string>;
  /** The scheduling cycle in which it was popped. */
  cycle: number;
}

/** Decides whether a pod may enter the active queue at all (scheduling gates). */
export interface PreEnqueuePlugin extends Plugin {
  preEnqueue(pod: PodInfo): Status | null;
}

export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

/** Adjustments a PreFilter's state accepts when preemption tries removing or adding pods. */
export interface PreFilterExtensions {
  addPod(state: CycleState, pod: PodInfo, toAdd: PodInfo, node: NodeInfo): void;
  removePod(state: CycleState, pod: PodInfo, toRemove: PodInfo, node: NodeInfo): void;
}

export interface PreFilterPlugin extends Plugin {
  /** Null for success; a Status with code Skip to skip this plugin's Filter. */
  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null;
  preFilterExtensions?: PreFilterExtensions;
}

export interface FilterPlugin extends Plugin {
  /** Null when the pod fits the node. */
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null;
}

/** What a PostFilter (preemption) decides. */
export interface PostFilterResult {
  nominatedNodeName?: string;
  status: Status;
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: PodInfo, statuses: ReadonlyMap<string, Status>): PostFilterResult;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rescales the raw scores into 0..100 in place. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: NodeScoreList): void;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status | null;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

/** A Permit plugin's answer: null (allow), a rejection or error, or Wait with how long at most. */
export type PermitResult = Status | null | { status: Status; timeoutMs: number };

export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: PodInfo, nodeName: string): PermitResult;
}

/** Upstream's cap on how long a Permit plugin may make a pod wait. */
export const maxPermitWaitMs = 15 * 60 * 1000;

/**
 * A pod that Permit plugins hold before its binding cycle (upstream's WaitingPod): each plugin that said
 * Wait must allow it; one rejection, or a plugin's timeout, fails it.
 */
export class WaitingPod {
  readonly pod: PodInfo;
  readonly nodeName: string;
  readonly #pending = new Map<string, NodeJS.Timeout>();
  #settle: ((s: Status | null) => void) | undefined;
  readonly #result: Promise<Status | null>;

  constructor(pod: PodInfo, nodeName: string, waits: ReadonlyMap<string, number>) {
    this.pod = pod;
    this.nodeName = nodeName;
    this.#result = new Promise((resolve) => (this.#settle = resolve));
    for (const [plugin, timeoutMs] of waits) {
      const timer = setTimeout(() => this.reject(plugin, `rejected due to timeout after waiting ${goDuration(timeoutMs)} at plugin ${plugin}`), timeoutMs);
      timer.unref?.();
      this.#pending.set(plugin, timer);
    }
  }

  /** The plugins that have not allowed the pod yet. */
  pendingPlugins(): string[] {
    return [...this.#pending.keys()];
  }

  /** One plugin lets the pod go on; the binding cycle starts once all have. */
  allow(plugin: string): void {
    const timer = this.#pending.get(plugin);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#pending.delete(plugin);
    if (this.#pending.size === 0) this.#done(null);
  }

  /** Fails the pod's scheduling with the plugin's message. */
  reject(plugin: string, message: string): void {
    this.#done(new Status('Unschedulable', [message], plugin));
  }

  /** Resolves with null once allowed, or with the rejection. */
  wait(): Promise<Status | null> {
    return this.#result;
  }

  #done(s: Status | null): void {
    for (const t of this.#pending.values()) clearTimeout(t);
    this.#pending.clear();
    this.#settle?.(s);
    this.#settle = undefined;
  }
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | null>;
}

export interface BindPlugin extends Plugin {
  /** Null when bound; a Status with code Skip to let the next Bind plugin do it. */
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | null>;
}

export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: PodInfo, nodeName: string): void;
}

/** Cluster events that can make a rejected pod schedulable (upstream's ClusterEvent, coarse-grained). */
export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeUpdate'
  | 'NodeDelete'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'UnscheduledPodDelete';

/** Plugins that reject pods say which events are worth a retry. */
export interface EnqueueExtensions {
  events(): readonly ClusterEvent[];
}

/** What plugin constructors receive. */
export interface FrameworkHandle {
  cache: SchedulerCache;
  /** This profile's framework, for plugins that run other plugins (preemption). */
  framework(): Framework;
  /** Pods nominated to a node by preemption (waiting for victims to go). */
  nominatedPods(nodeName: string): readonly PodInfo[];
  /** Where preemption writes: nominations, victim deletions, events. */
  preemptionActions?: PreemptionActions;
  /** Writes pods/binding (DefaultBinder). */
  bindPod?: (pod: PodInfo, nodeName: string) => Promise<void>;
  /** The selector of the Services and controller that own a pod, for PodTopologySpread's defaults. */
  defaultSelector?: (pod: PodInfo) => LabelSelector;
  /** The cluster's PodDisruptionBudgets, which preemption tries not to violate. */
  podDisruptionBudgets?: () => readonly PodDisruptionBudget[];
  schedulerName: string;
}

/** The API writes preemption needs, provided by the scheduler. */
export interface PreemptionActions {
  nominate(pod: PodInfo, nodeName: string): void;
  evict(victim: PodInfo, preemptor: PodInfo, nodeName: string): void;
}

/** A plugin's arguments from pluginConfig. */
export type PluginArgs = Record<string, unknown>;

/** Builds a plugin. */
export type PluginFactory = (args: PluginArgs | undefined, handle: FrameworkHandle) => Plugin;

/** Which plugins run at which point, in order, with score weights. */
export interface ProfilePlugins {
  preEnqueue: string[];
  queueSort: string[];
  preFilter: string[];
  filter: string[];
  postFilter: string[];
  preScore: string[];
  score: { name: string; weight: number }[];
  reserve: string[];
  permit: string[];
  preBind: string[];
  bind: string[];
  postBind: string[];
}

/** The verdicts of one scheduling attempt. */
export interface Diagnosis {
  nodeStatuses: Map<string, Status>;
  unschedulablePlugins: Set<string>;
  preFilterMsg: string;
  postFilterMsg: string;
}

/** Upstream's FitError text: "0/N nodes are available: <counts of each reason, sorted>. <postfilter>." */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg !== '') {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const s of d.nodeStatuses.values()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort(byteCompare);
    if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  }
  if (d.postFilterMsg !== '') msg += ` ${d.postFilterMsg}`;
  return msg;
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Upstream's DefaultNormalizeScore: scale to 0..max by the highest score, optionally reversed. */
export function defaultNormalizeScore(max: number, reverse: boolean, scores: NodeScoreList): void {
  let highest = 0;
  for (const s of scores) if (s.score > highest) highest = s.score;
  if (highest === 0) {
    if (reverse) for (const s of scores) s.score = max;
    return;
  }
  for (const s of scores) {
    let v = Math.trunc((max * s.score) / highest);
    if (reverse) v = max - v;
    s.score = v;
  }
}

function isA<T>(p: Plugin, method: string): p is Plugin & T {
  return typeof (p as unknown as Record<string, unknown>)[method] === 'function';
}

/** One profile: its plugins instantiated and ordered per extension point. */
export class Framework {
  readonly profileName: string;
  readonly plugins = new Map<string, Plugin>();
  readonly preEnqueue: PreEnqueuePlugin[];
  readonly queueSort: QueueSortPlugin;
  readonly preFilter: PreFilterPlugin[];
  readonly filters: FilterPlugin[];
  readonly postFilter: PostFilterPlugin[];
  readonly preScore: PreScorePlugin[];
  readonly scores: { plugin: ScorePlugin; weight: number }[];
  readonly reserve: ReservePlugin[];
  readonly permit: PermitPlugin[];
  readonly preBind: PreBindPlugin[];
  readonly bind: BindPlugin[];
  readonly postBind: PostBindPlugin[];
  percentageOfNodesToScore: number | undefined;
  readonly #scoreList: NodeScoreList = [];
  readonly #waitingPods = new Map<string, WaitingPod>();

  constructor(profileName: string, config: ProfilePlugins, registry: ReadonlyMap<string, PluginFactory>, args: ReadonlyMap<string, PluginArgs>, handle: FrameworkHandle) {
    this.profileName = profileName;
    const get = (name: string): Plugin => {
      let p = this.plugins.get(name);
      if (!p) {
        const factory = registry.get(name);
        if (!factory) throw new Error(`plugin "${name}" does not exist`);
        p = factory(args.get(name), handle);
        this.plugins.set(name, p);
      }
      return p;
    };
    const at = <T>(names: string[], method: string, point: string): (Plugin & T)[] =>
      names.map((n) => {
        const p = get(n);
        if (!isA<T>(p, method)) throw new Error(`plugin "${n}" does not extend ${point} plugin`);
        return p;
      });
    this.preEnqueue = at<PreEnqueuePlugin>(config.preEnqueue, 'preEnqueue', 'PreEnqueue');
    const sorts = at<QueueSortPlugin>(config.queueSort, 'less', 'QueueSort');
    if (sorts.length !== 1) throw new Error(`one queue sort plugin required for profile with schedulerName "${profileName}"`);
    this.queueSort = sorts[0]!;
    this.preFilter = at<PreFilterPlugin>(config.preFilter, 'preFilter', 'PreFilter');
    this.filters = at<FilterPlugin>(config.filter, 'filter', 'Filter');
    this.postFilter = at<PostFilterPlugin>(config.postFilter, 'postFilter', 'PostFilter');
    this.preScore = at<PreScorePlugin>(config.preScore, 'preScore', 'PreScore');
    this.scores = config.score.map((s) => {
      const p = get(s.name);
      if (!isA<ScorePlugin>(p, 'score')) throw new Error(`plugin "${s.name}" does not extend Score plugin`);
      return { plugin: p, weight: s.weight };
    });
    this.reserve = at<ReservePlugin>(config.reserve, 'reserve', 'Reserve');
    this.permit = at<PermitPlugin>(config.permit, 'permit', 'Permit');
    this.preBind = at<PreBindPlugin>(config.preBind, 'preBind', 'PreBind');
    this.bind = at<BindPlugin>(config.bind, 'bind', 'Bind');
    if (this.bind.length === 0) throw new Error(`at least one bind plugin is needed for profile with schedulerName "${profileName}"`);
    this.postBind = at<PostBindPlugin>(config.postBind, 'postBind', 'PostBind');
  }

  /** The cluster events that could help a pod the given plugins rejected (all events when unknown). */
  interestedIn(pluginName: string, event: ClusterEvent): boolean {
    const p = this.plugins.get(pluginName);
    if (!p || !isA<EnqueueExtensions>(p, 'events')) return true;
    return p.events().includes(event);
  }

  /** PreEnqueue: null when the pod may be queued. */
  runPreEnqueue(pod: PodInfo): Status | null {
    for (const p of this.preEnqueue) {
      const s = p.preEnqueue(pod);
      if (s !== null) {
        s.plugin = p.name;
        return s;
      }
    }
    return null;
  }

  /** PreFilter: null, or the rejection every node gets. */
  runPreFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null {
    for (const p of this.preFilter) {
      const s = p.preFilter(state, pod, nodes);
      if (s === null) continue;
      if (s.code === 'Skip') {
        state.skipFilter.add(p.name);
        continue;
      }
      s.plugin = p.name;
      return s;
    }
    return null;
  }

  /** Filter: null when the node fits; the first plugin's rejection otherwise. */
  runFilter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const filters = this.filters;
    for (let i = 0; i < filters.length; i++) {
      const p = filters[i]!;
      if (state.skipFilter.size > 0 && state.skipFilter.has(p.name)) continue;
      const s = p.filter(state, pod, node);
      if (s !== null) {
        if (s.plugin === '') s.plugin = p.name;
        return s;
      }
    }
    return null;
  }

  /**
   * Filter as upstream's RunFilterPluginsWithNominatedPods: pods nominated to the node with at least this
   * pod's priority count as if they were there, so a preemptor's space is not taken by another pod.
   */
  runFilterWithNominated(state: CycleState, pod: PodInfo, node: NodeInfo, nominated: readonly PodInfo[]): Status | null {
    let relevant: PodInfo[] | undefined;
    for (const n of nominated) {
      if (n.uid !== pod.uid && n.priority >= pod.priority && !node.pods.has(n.uid)) (relevant ??= []).push(n);
    }
    if (!relevant) return this.runFilter(state, pod, node);
    const withNominated = node.clone();
    const st = state.clone();
    for (const n of relevant) {
      withNominated.addPod(n);
      for (const p of this.preFilter) p.preFilterExtensions?.addPod(st, pod, n, withNominated);
    }
    const s = this.runFilter(st, pod, withNominated);
    if (s !== null) return s;
    return this.runFilter(state, pod, node);
  }

  runPreScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null {
    for (const p of this.preScore) {
      const s = p.preScore(state, pod, nodes);
      if (s === null) continue;
      if (s.code === 'Skip') {
        state.skipScore.add(p.name);
        continue;
      }
      s.plugin = p.name;
      return s;
    }
    return null;
  }

  /** Score, NormalizeScore and weights: the total per node, in the order of `nodes`. */
  runScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Float64Array {
    const totals = new Float64Array(nodes.length);
    // One list of entries reused across cycles: scoring 500 nodes a pod should not allocate 500 objects.
    const list = this.#scoreList;
    while (list.length < nodes.length) list.push({ name: '', score: 0 });
    list.length = nodes.length;
    for (let i = 0; i < nodes.length; i++) list[i]!.name = nodes[i]!.name;
    for (const { plugin, weight } of this.scores) {
      if (state.skipScore.has(plugin.name)) continue;
      for (let i = 0; i < nodes.length; i++) list[i]!.score = plugin.score(state, pod, nodes[i]!);
      plugin.normalizeScore?.(state, pod, list);
      for (let i = 0; i < nodes.length; i++) {
        const s = list[i]!.score;
        if (s > maxNodeScore || s < 0) throw new Error(`plugin "${plugin.name}" returns an invalid score ${s}, it should be in the range of [0, ${maxNodeScore}] after normalizing`);
        totals[i]! += s * weight;
      }
    }
    return totals;
  }

  runReserve(state: CycleState, pod: PodInfo, nodeName: string): Status | null {
    for (const p of this.reserve) {
      const s = p.reserve(state, pod, nodeName);
      if (s !== null) {
        s.plugin = p.name;
        return s;
      }
    }
    return null;
  }

  runUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.reserve.length - 1; i >= 0; i--) this.reserve[i]!.unreserve(state, pod, nodeName);
  }

  /**
   * Runs the Permit plugins: null when all allow, the first rejection or error, or Wait when some plugins
   * hold the pod (it is then in waitingPods until waitOnPermit settles it).
   */
  runPermit(state: CycleState, pod: PodInfo, nodeName: string): Status | null {
    const waits = new Map<string, number>();
    for (const p of this.permit) {
      const r = p.permit(state, pod, nodeName);
      if (r === null) continue;
      const s = r instanceof Status ? r : r.status;
      if (s.code === 'Wait') {
        const timeoutMs = r instanceof Status ? 0 : r.timeoutMs;
        waits.set(p.name, Math.min(Math.max(timeoutMs, 0), maxPermitWaitMs));
        continue;
      }
      s.plugin = p.name;
      return s;
    }
    if (waits.size === 0) return null;
    this.#waitingPods.set(pod.uid, new WaitingPod(pod, nodeName, waits));
    return new Status('Wait', [], [...waits.keys()][0]);
  }

  /** Waits until the pod's Permit plugins allow it (null) or one rejects it; at once when none held it. */
  async waitOnPermit(pod: PodInfo): Promise<Status | null> {
    const w = this.#waitingPods.get(pod.uid);
    if (!w) return null;
    try {
      return await w.wait();
    } finally {
      this.#waitingPods.delete(pod.uid);
    }
  }

  /** A pod Permit plugins are holding (upstream's GetWaitingPod), for plugins to allow or reject. */
  getWaitingPod(uid: string): WaitingPod | undefined {
    return this.#waitingPods.get(uid);
  }

  /** Every pod Permit plugins are holding (upstream's IterateOverWaitingPods). */
  waitingPods(): WaitingPod[] {
    return [...this.#waitingPods.values()];
  }

  async runPreBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | null> {
    for (const p of this.preBind) {
      const s = await p.preBind(state, pod, nodeName);
      if (s !== null) {
        s.plugin = p.name;
        return s;
      }
    }
    return null;
  }

  async runBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | null> {
    for (const p of this.bind) {
      const s = await p.bind(state, pod, nodeName);
      if (s !== null && s.code === 'Skip') continue;
      if (s !== null) s.plugin = p.name;
      return s;
    }
    return new Status('Skip', ['all bind plugins skipped']);
  }

  runPostBind(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (const p of this.postBind) p.postBind(state, pod, nodeName);
  }

  /** Runs PostFilter plugins until one nominates a node. */
  runPostFilter(state: CycleState, pod: PodInfo, statuses: ReadonlyMap<string, Status>): PostFilterResult {
    let last: PostFilterResult = { status: new Status('Unschedulable') };
    for (const p of this.postFilter) {
      const r = p.postFilter(state, pod, statuses);
      if (r.status.code === 'Success') return r;
      last = r;
    }
    return last;
  }

  newCycleState(): CycleState {
    return new CycleState();
  }
}
