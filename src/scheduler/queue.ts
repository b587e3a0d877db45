// The scheduling queue, as upstream's PriorityQueue: activeQ (ordered by the QueueSort plugin), backoffQ
// (pods waiting out 1 s doubling to 10 s after a failed attempt), and the unschedulable pods, which wait for
// a cluster event that could help them (a node added, a pod deleted, ...) or for five minutes. Pods whose
// PreEnqueue plugins refuse them (scheduling gates) wait aside, in "gated".
import type { Clock, TimerHandle } from '../client/index.js';
import { realClock } from '../client/index.js';
import type { ClusterEvent, QueuedPodInfo } from './framework.js';
import { Heap } from './heap.js';
import type { PodInfo } from './pod-info.js';

type Where = 'active' | 'backoff' | 'unschedulable' | 'gated';

export interface SchedulingQueueOptions {
  less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  /** Whether the pod may enter activeQ (PreEnqueue); false keeps it gated. */
  preEnqueue?: (pod: PodInfo) => boolean;
  /** Whether a cluster event could help a pod the named plugin rejected. */
  interested?: (plugin: string, event: ClusterEvent, pod: QueuedPodInfo) => boolean;
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a pod stays unschedulable without any event before it is retried (upstream: 5 min). */
  maxInUnschedulableMs?: number;
}

/** The three queues of pending pods. */
export class SchedulingQueue {
  readonly #opts: Required<Omit<SchedulingQueueOptions, 'preEnqueue' | 'interested'>> & Pick<SchedulingQueueOptions, 'preEnqueue' | 'interested'>;
  readonly #active: Heap<QueuedPodInfo>;
  readonly #backoff: Heap<QueuedPodInfo>;
  /** Where each pending pod is, and its current entry (heap entries not equal to it are stale). */
  readonly #where = new Map<string, { where: Where; qpi: QueuedPodInfo }>();
  readonly #unschedulable = new Map<string, QueuedPodInfo>();
  readonly #inFlight = new Set<string>();
  #counts = { active: 0, backoff: 0, unschedulable: 0, gated: 0 };
  #waiters: ((q: QueuedPodInfo | undefined) => void)[] = [];
  #closed = false;
  schedulingCycle = 0;
  #moveRequestCycle = -1;
  readonly #timers = new Map<string, TimerHandle>();

  constructor(opts: SchedulingQueueOptions) {
    this.#opts = { clock: realClock, initialBackoffMs: 1000, maxBackoffMs: 10_000, maxInUnschedulableMs: 5 * 60_000, ...opts };
    this.#active = new Heap((a, b) => this.#opts.less(a, b));
    this.#backoff = new Heap((a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  }

  /** Pending pods per queue (scheduler_pending_pods). */
  get pending(): Readonly<Record<Where, number>> {
    return this.#counts;
  }

  /** Whether the pod is pending in some queue. */
  has(uid: string): boolean {
    return this.#where.has(uid);
  }

  /** Upstream's backoff: initial × 2^(attempts-1), at most max. */
  backoffDuration(q: QueuedPodInfo): number {
    let d = this.#opts.initialBackoffMs;
    for (let i = 1; i < q.attempts; i++) {
      if (d > this.#opts.maxBackoffMs - d) return this.#opts.maxBackoffMs;
      d += d;
    }
    return d;
  }

  backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDuration(q);
  }

  #set(q: QueuedPodInfo, where: Where): void {
    const uid = q.info.uid;
    const prev = this.#where.get(uid);
    if (prev) {
      this.#counts[prev.where]--;
      if (prev.where === 'unschedulable' || prev.where === 'gated') this.#unschedulable.delete(uid);
    }
    this.#where.set(uid, { where, qpi: q });
    this.#counts[where]++;
    switch (where) {
      case 'active':
        this.#active.push(q);
        this.#wake();
        break;
      case 'backoff':
        this.#backoff.push(q);
        break;
      case 'unschedulable':
      case 'gated':
        this.#unschedulable.set(uid, q);
        break;
    }
  }

  #remove(uid: string): void {
    const prev = this.#where.get(uid);
    if (!prev) return;
    this.#counts[prev.where]--;
    this.#where.delete(uid);
    this.#unschedulable.delete(uid);
  }

  /** A new pending pod. */
  add(info: PodInfo): void {
    if (this.#closed) return;
    const now = this.#opts.clock.now();
    const q: QueuedPodInfo = { info, timestamp: now, initialAttemptTimestamp: now, attempts: 0, unschedulablePlugins: new Set(), cycle: 0 };
    this.#set(q, this.#gate(q) ? 'gated' : 'active');
  }

  #gate(q: QueuedPodInfo): boolean {
    return this.#opts.preEnqueue !== undefined && !this.#opts.preEnqueue(q.info);
  }

  /** A pending pod changed: keep its place, but retry an unschedulable or gated pod now. */
  update(info: PodInfo): void {
    const e = this.#where.get(info.uid);
    if (!e) {
      if (!this.#inFlight.has(info.uid)) this.add(info);
      return;
    }
    const q: QueuedPodInfo = { ...e.qpi, info };
    if (e.where === 'unschedulable' || e.where === 'gated') {
      if (this.#gate(q)) return this.#set(q, 'gated');
      q.timestamp = this.#opts.clock.now();
      return this.#set(q, this.#isBackingOff(e.qpi) ? 'backoff' : 'active');
    }
    this.#set(q, e.where);
  }

  delete(uid: string): void {
    this.#remove(uid);
  }

  /** Waits for the next pod of activeQ (undefined once closed). */
  pop(): Promise<QueuedPodInfo | undefined> | QueuedPodInfo | undefined {
    const q = this.#popNow();
    if (q || this.#closed) return q;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #popNow(): QueuedPodInfo | undefined {
    for (;;) {
      const q = this.#active.pop();
      if (!q) return undefined;
      const e = this.#where.get(q.info.uid);
      if (!e || e.qpi !== q || e.where !== 'active') continue;
      this.#remove(q.info.uid);
      q.attempts++;
      q.cycle = ++this.schedulingCycle;
      this.#inFlight.add(q.info.uid);
      return q;
    }
  }

  #wake(): void {
    while (this.#waiters.length > 0) {
      const q = this.#popNow();
      if (!q) return;
      this.#waiters.shift()!(q);
    }
  }

  /** The scheduling attempt of a popped pod ended (bound, or re-queued). */
  done(uid: string): void {
    this.#inFlight.delete(uid);
  }

  /**
   * Puts back a pod whose attempt failed. Unschedulable pods wait for an event, unless one came during
   * their attempt; pods that failed with an error wait out their backoff.
   */
  addUnschedulableIfNotPresent(q: QueuedPodInfo, unschedulable: boolean): void {
    this.#inFlight.delete(q.info.uid);
    if (this.#where.has(q.info.uid) || this.#closed) return;
    q.timestamp = this.#opts.clock.now();
    if (!unschedulable || this.#moveRequestCycle >= q.cycle) this.#set(q, 'backoff');
    else this.#set(q, 'unschedulable');
  }

  #isBackingOff(q: QueuedPodInfo): boolean {
    return this.backoffExpiry(q) > this.#opts.clock.now();
  }

  /** A cluster event: unschedulable pods it could help go to activeQ, or to backoffQ if still backing off. */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, filter?: (q: QueuedPodInfo) => boolean): void {
    const interested = this.#opts.interested;
    for (const q of [...this.#unschedulable.values()]) {
      if (this.#where.get(q.info.uid)?.where !== 'unschedulable') continue;
      if (filter && !filter(q)) continue;
      if (interested && q.unschedulablePlugins.size > 0 && ![...q.unschedulablePlugins].some((p) => interested(p, event, q))) continue;
      this.#set(q, this.#isBackingOff(q) ? 'backoff' : 'active');
    }
    this.#moveRequestCycle = this.schedulingCycle;
  }

  /** Moves pods whose backoff ended to activeQ. */
  flushBackoffQCompleted(): void {
    const now = this.#opts.clock.now();
    for (;;) {
      const q = this.#backoff.peek();
      if (!q) return;
      const e = this.#where.get(q.info.uid);
      if (!e || e.qpi !== q || e.where !== 'backoff') {
        this.#backoff.pop();
        continue;
      }
      if (this.backoffExpiry(q) > now) return;
      this.#backoff.pop();
      this.#set(q, 'active');
    }
  }

  /** Retries pods that have been unschedulable longer than the limit. */
  flushUnschedulablePodsLeftover(): void {
    const now = this.#opts.clock.now();
    for (const q of [...this.#unschedulable.values()]) {
      const e = this.#where.get(q.info.uid);
      if (e?.where !== 'unschedulable') continue;
      if (now - q.timestamp > this.#opts.maxInUnschedulableMs) this.#set(q, this.#isBackingOff(q) ? 'backoff' : 'active');
    }
  }

  /** Runs the periodic flushes (backoff every second, leftovers every 30 s) until closed. */
  run(): void {
    const clock = this.#opts.clock;
    const every = (name: string, ms: number, fn: () => void): void => {
      const tick = (): void => {
        if (this.#closed) return;
        fn();
        this.#timers.set(name, clock.setTimeout(tick, ms));
      };
      this.#timers.set(name, clock.setTimeout(tick, ms));
    };
    every('backoff', 1000, () => this.flushBackoffQCompleted());
    every('leftover', 30_000, () => this.flushUnschedulablePodsLeftover());
  }

  /** Empties every queue and opens it again (a new term of leadership starts from a fresh list). */
  reset(): void {
    this.close();
    this.#active.clear();
    this.#backoff.clear();
    this.#where.clear();
    this.#unschedulable.clear();
    this.#inFlight.clear();
    this.#counts = { active: 0, backoff: 0, unschedulable: 0, gated: 0 };
    this.#timers.clear();
    this.#moveRequestCycle = -1;
    this.#closed = false;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) this.#opts.clock.clearTimeout(t);
    for (const w of this.#waiters.splice(0)) w(undefined);
  }
}
