// A token bucket that hands out reservations, as golang.org/x/time/rate's Reserve does: a caller takes a
// token now, possibly going into debt, and learns how long to wait before using it. Both the REST client's
// QPS limit and the work queue's overall limiter are built on it.
import type { Clock } from './clock.js';
import { realClock } from './clock.js';

/** A QPS/burst token bucket. The bucket starts full. */
export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Clock = realClock) {
    if (!(qps > 0) || !(burst >= 1))
      throw new Error(`token bucket needs qps > 0 and burst >= 1, got ${qps}/${burst}`);
    this.qps = qps;
    this.burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Takes one token and returns how many ms the caller must wait before acting (0 when one was there). */
  reserve(): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.qps) * 1000);
  }
}
