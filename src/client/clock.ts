// Time as the client library sees it. Everything that waits (rate limiters, the work queue, leader election,
// the reflector's backoff) takes a Clock so that tests can step time instead of sleeping.

/** A timer handle returned by a Clock. */
export type TimerHandle = { readonly id: number };

/** Wall time and timers; `realClock` is the default, `FakeClock` the test double. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

let nextId = 0;
const realTimers = new Map<number, NodeJS.Timeout>();

/** The process clock: Date.now and node timers (unref'd, so a pending wait never keeps a process alive). */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const id = ++nextId;
    const t = setTimeout(
      () => {
        realTimers.delete(id);
        fn();
      },
      Math.max(0, ms),
    );
    t.unref();
    realTimers.set(id, t);
    return { id };
  },
  clearTimeout(handle) {
    const t = realTimers.get(handle.id);
    if (t) clearTimeout(t);
    realTimers.delete(handle.id);
  },
};

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal!.reason as Error);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
