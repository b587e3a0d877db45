// Requeues at a time on the controller's clock (schedules, TTLs), separate from the work queue's own
// delays: retries after failures stay on real time, so a test that drives a fake clock never strands a
// failed sync waiting for a clock step.
import type { Clock, RateLimitingQueue, TimerHandle } from '../../client/index.js';

/** Adds keys to a queue after delays measured on `clock`; of several pending adds of a key the earliest wins. */
export class ClockedRequeue {
  readonly #clock: Clock;
  readonly #queue: RateLimitingQueue<string>;
  readonly #pending = new Map<string, { at: number; timer: TimerHandle }>();

  constructor(clock: Clock, queue: RateLimitingQueue<string>) {
    this.#clock = clock;
    this.#queue = queue;
  }

  addAfter(key: string, ms: number): void {
    if (ms <= 0) {
      this.#queue.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const prev = this.#pending.get(key);
    if (prev) {
      if (prev.at <= at) return;
      this.#clock.clearTimeout(prev.timer);
    }
    const timer = this.#clock.setTimeout(() => {
      this.#pending.delete(key);
      this.#queue.add(key);
    }, ms);
    this.#pending.set(key, { at, timer });
  }

  /** Drops every pending add (on shutdown). */
  clear(): void {
    for (const p of this.#pending.values()) this.#clock.clearTimeout(p.timer);
    this.#pending.clear();
  }
}
