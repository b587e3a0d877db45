// Upstream's per-key exponential backoff (client-go util/flowcontrol.Backoff) as the kubelet uses it for
// restarting crashed containers: 10 s doubling to 5 min; an entry untouched for twice the maximum (10 min)
// starts over at the initial delay.

/** The kubelet's CrashLoopBackOff delays. */
export const containerBackOffInitialMs = 10_000;
export const containerBackOffMaxMs = 300_000;

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

/** Per-key backoff; time is passed in so that the tests can step it. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(initialMs = containerBackOffInitialMs, maxMs = containerBackOffMaxMs) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
  }

  #expired(eventTime: number, lastUpdate: number): boolean {
    return eventTime - lastUpdate > this.#maxMs * 2;
  }

  /** The current delay of `key` (0 when it has none). */
  get(key: string): number {
    return this.#entries.get(key)?.backoffMs ?? 0;
  }

  /** Moves `key` to its next delay: the initial one when it is new or expired, else double, capped. */
  next(key: string, eventTime: number): void {
    const e = this.#entries.get(key);
    if (e === undefined || this.#expired(eventTime, e.lastUpdate)) {
      this.#entries.set(key, { backoffMs: this.#initialMs, lastUpdate: eventTime });
      return;
    }
    e.backoffMs = Math.min(e.backoffMs * 2, this.#maxMs);
    e.lastUpdate = eventTime;
  }

  /** True while `now` is within the key's delay after `eventTime` (e.g. the container's finish time). */
  isInBackOffSince(key: string, eventTime: number, now: number): boolean {
    const e = this.#entries.get(key);
    if (e === undefined || this.#expired(now, e.lastUpdate)) return false;
    return now - eventTime < e.backoffMs;
  }

  /** Forgets keys whose entries have expired. */
  gc(now: number): void {
    for (const [k, e] of this.#entries) if (this.#expired(now, e.lastUpdate)) this.#entries.delete(k);
  }

  /** Forgets one key. */
  reset(key: string): void {
    this.#entries.delete(key);
  }
}
