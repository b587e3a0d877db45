// The controller work queue, with client-go's guarantees: an item is in the queue at most once however
// often it is added; an item being processed is never handed to a second worker, and if it is added again
// meanwhile it is queued once more when the first worker calls done. On top: delayed adds and per-item
// rate-limited retries.
import type { Clock, TimerHandle } from './clock.js';
import { realClock } from './clock.js';
import type { RateLimiter } from './rate-limiters.js';
import { defaultControllerRateLimiter } from './rate-limiters.js';

/** Options of a RateLimitingQueue. */
export interface WorkQueueOptions<T> {
  clock?: Clock;
  rateLimiter?: RateLimiter<T>;
  name?: string;
}

/** A de-duplicating, delaying, rate-limited FIFO of work items (usually "namespace/name" keys). */
export class RateLimitingQueue<T = string> {
  readonly name: string;
  readonly #clock: Clock;
  readonly #limiter: RateLimiter<T>;
  readonly #queue: T[] = [];
  /** Items that need processing: queued, or added again while being processed. */
  readonly #dirty = new Set<T>();
  readonly #processing = new Set<T>();
  readonly #waiting = new Map<T, { at: number; timer: TimerHandle }>();
  readonly #getters: ((item: T | undefined) => void)[] = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions<T> = {}) {
    this.name = options.name ?? '';
    this.#clock = options.clock ?? realClock;
    this.#limiter = options.rateLimiter ?? defaultControllerRateLimiter<T>(this.#clock);
  }

  /** Marks the item as needing processing. */
  add(item: T): void {
    if (this.#shuttingDown || this.#dirty.has(item)) return;
    this.#dirty.add(item);
    if (this.#processing.has(item)) return;
    const getter = this.#getters.shift();
    if (getter) {
      this.#dirty.delete(item);
      this.#processing.add(item);
      getter(item);
    } else this.#queue.push(item);
  }

  /** Adds the item after `ms`; of several pending delayed adds of one item, the earliest wins. */
  addAfter(item: T, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(item);
      return;
    }
    const at = this.#clock.now() + ms;
    const pending = this.#waiting.get(item);
    if (pending) {
      if (pending.at <= at) return;
      this.#clock.clearTimeout(pending.timer);
    }
    const timer = this.#clock.setTimeout(() => {
      this.#waiting.delete(item);
      this.add(item);
    }, ms);
    this.#waiting.set(item, { at, timer });
  }

  /** Adds the item once the rate limiter allows: the usual way to retry after a failure. */
  addRateLimited(item: T): void {
    this.addAfter(item, this.#limiter.when(item));
  }

  /** Ends the item's backoff: call it when processing succeeded. */
  forget(item: T): void {
    this.#limiter.forget(item);
  }

  /** How often the item has been retried since it was last forgotten. */
  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }

  /** The next item to process, waiting if there is none; undefined once the queue shut down. */
  get(): Promise<T | undefined> {
    const item = this.#queue.shift();
    if (item !== undefined) {
      this.#dirty.delete(item);
      this.#processing.add(item);
      return Promise.resolve(item);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks the item as processed; if it was added meanwhile, it goes back into the queue. */
  done(item: T): void {
    this.#processing.delete(item);
    if (this.#dirty.has(item)) {
      this.#dirty.delete(item);
      this.add(item);
    }
  }

  /** Items waiting to be handed out (not counting delayed or in-process ones). */
  len(): number {
    return this.#queue.length;
  }

  /** Stops accepting items; waiting get() calls resolve with undefined, queued items are still handed out. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) this.#clock.clearTimeout(timer);
    this.#waiting.clear();
    for (const g of this.#getters.splice(0)) g(undefined);
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }
}
