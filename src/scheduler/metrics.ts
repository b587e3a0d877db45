// The scheduler's metrics in Prometheus' text format: counters, gauges and histograms with labels, under
// upstream's names (scheduler_schedule_attempts_total, scheduler_scheduling_attempt_duration_seconds,
// scheduler_pending_pods, ...). One registry per scheduler; `text()` is what /metrics serves.

type Labels = Record<string, string>;

function labelText(names: readonly string[], values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${(values[i] ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function fmt(v: number): string {
  if (v === Infinity) return '+Inf';
  return String(v);
}

interface Metric {
  text(): string;
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  readonly #values = new Map<string, { labels: string[]; v: number }>();
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }
  inc(labels: Labels = {}, by = 1): void {
    const vals = this.labelNames.map((n) => labels[n] ?? '');
    const k = vals.join('\0');
    const e = this.#values.get(k);
    if (e) e.v += by;
    else this.#values.set(k, { labels: vals, v: by });
  }
  get(labels: Labels = {}): number {
    return this.#values.get(this.labelNames.map((n) => labels[n] ?? '').join('\0'))?.v ?? 0;
  }
  text(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const e of this.#values.values()) lines.push(`${this.name}${labelText(this.labelNames, e.labels)} ${fmt(e.v)}`);
    return lines.join('\n');
  }
}

/** A value per label set, read when scraped. */
export class Gauge implements Metric {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly collect: () => { labels: Labels; value: number }[];
  constructor(name: string, help: string, labelNames: readonly string[], collect: () => { labels: Labels; value: number }[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.collect = collect;
  }
  text(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const s of this.collect()) lines.push(`${this.name}${labelText(this.labelNames, this.labelNames.map((n) => s.labels[n] ?? ''))} ${fmt(s.value)}`);
    return lines.join('\n');
  }
}

/** Upstream's ExponentialBuckets(start, factor, count). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  let v = start;
  for (let i = 0; i < count; i++) {
    out.push(Number(v.toPrecision(12)));
    v *= factor;
  }
  return out;
}

/** Observations counted into cumulative buckets, per label set. */
export class Histogram implements Metric {
  readonly #values = new Map<string, { labels: string[]; counts: number[]; sum: number; count: number }>();
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly buckets: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.buckets = buckets;
  }
  observe(labels: Labels, v: number): void {
    const vals = this.labelNames.map((n) => labels[n] ?? '');
    const k = vals.join('\0');
    let e = this.#values.get(k);
    if (!e) {
      e = { labels: vals, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#values.set(k, e);
    }
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) e.counts[i]!++;
    e.sum += v;
    e.count++;
  }
  count(labels: Labels = {}): number {
    return this.#values.get(this.labelNames.map((n) => labels[n] ?? '').join('\0'))?.count ?? 0;
  }
  text(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const e of this.#values.values()) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${labelText(this.labelNames, e.labels, `le="${fmt(b)}"`)} ${e.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText(this.labelNames, e.labels, 'le="+Inf"')} ${e.count}`);
      lines.push(`${this.name}_sum${labelText(this.labelNames, e.labels)} ${e.sum}`);
      lines.push(`${this.name}_count${labelText(this.labelNames, e.labels)} ${e.count}`);
    }
    return lines.join('\n');
  }
}

/** A set of metrics served together. */
export class MetricsRegistry {
  readonly #metrics: Metric[] = [];
  register<T extends Metric>(m: T): T {
    this.#metrics.push(m);
    return m;
  }
  /** The Prometheus text exposition (version 0.0.4). */
  text(): string {
    return this.#metrics.map((m) => m.text()).join('\n') + '\n';
  }
}

/** The content type of `text()`. */
export const metricsContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** The scheduler's metrics under upstream's names. */
export class SchedulerMetrics {
  readonly registry = new MetricsRegistry();
  readonly scheduleAttempts = this.registry.register(
    new Counter('scheduler_schedule_attempts_total', 'Number of attempts to schedule pods, by the result. Unschedulable means a pod could not be scheduled, while error means an internal scheduler problem.', ['result', 'profile']),
  );
  readonly attemptDuration = this.registry.register(
    new Histogram('scheduler_scheduling_attempt_duration_seconds', 'Scheduling attempt latency in seconds (scheduling algorithm + binding)', ['result', 'profile'], exponentialBuckets(0.001, 2, 15)),
  );
  readonly podSchedulingSLI = this.registry.register(
    new Histogram('scheduler_pod_scheduling_sli_duration_seconds', 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.', ['attempts'], exponentialBuckets(0.01, 2, 20)),
  );
  readonly preemptionAttempts = this.registry.register(new Counter('scheduler_preemption_attempts_total', 'Total preemption attempts in the cluster till now'));
  readonly preemptionVictims = this.registry.register(new Histogram('scheduler_preemption_victims', 'Number of selected preemption victims', [], exponentialBuckets(1, 2, 7)));

  /** Adds scheduler_pending_pods{queue}, read from the queue when scraped. */
  pendingPods(read: () => Readonly<Record<string, number>>): void {
    this.registry.register(
      new Gauge('scheduler_pending_pods', "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.", ['queue'], () =>
        Object.entries(read()).map(([queue, value]) => ({ labels: { queue }, value })),
      ),
    );
  }
}
