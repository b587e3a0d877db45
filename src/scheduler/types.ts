// The scheduler framework's vocabulary: statuses with upstream's codes, the per-cycle state, and the pod and
// node shapes plugins read. Kept free of I/O so plugins can be tested without an API server.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';

export type { Node, Pod };

/** Upstream's status codes (framework.Code). */
export type Code = 'Success' | 'Error' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Wait' | 'Skip';

/** A plugin's verdict. Success is usually `null` in hot paths (no allocation). */
export class Status {
  readonly code: Code;
  readonly reasons: readonly string[];
  /** The plugin that failed, set by the framework. */
  plugin: string;

  constructor(code: Code, reasons: readonly string[] = [], plugin = '') {
    this.code = code;
    this.reasons = reasons;
    this.plugin = plugin;
  }

  /** The reasons joined as upstream's Status.Message(). */
  message(): string {
    return this.reasons.join(', ');
  }

  isRejection(): boolean {
    return this.code === 'Unschedulable' || this.code === 'UnschedulableAndUnresolvable';
  }
}

/** A verdict the caller may share (never mutate it): statuses with fixed reasons are made once. */
export function fixedStatus(code: Code, reason: string, plugin: string): Status {
  return new Status(code, [reason], plugin);
}

/** What plugins keep for one scheduling cycle, by key (upstream's CycleState). */
export class CycleState {
  readonly #data = new Map<string, unknown>();
  /** Plugins whose PreFilter said Skip: their Filter is not run this cycle. */
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();

  read<T>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  write(key: string, value: unknown): void {
    this.#data.set(key, value);
  }

  /** A copy whose plugin states may be changed without touching this one (preemption's dry runs). */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.#data) {
      const cl = (v as { clone?: () => unknown } | undefined)?.clone;
      c.#data.set(k, typeof cl === 'function' ? cl.call(v) : v);
    }
    for (const s of this.skipFilter) c.skipFilter.add(s);
    for (const s of this.skipScore) c.skipScore.add(s);
    return c;
  }
}

/** The highest score a Score plugin may give after normalising (framework.MaxNodeScore). */
export const maxNodeScore = 100;

/** Scores per node, in the order of the nodes handed to PreScore. */
export type NodeScoreList = { name: string; score: number }[];
