// Upstream's UIDTrackingControllerExpectations: after a controller issues N creates or deletes it waits
// until its informer has reported them before acting on the same owner again, so that it never acts twice
// on a state its cache has not caught up with. Deletions are tracked by pod key, because a graceful delete
// is seen first as an update that sets deletionTimestamp and later as the delete itself: each must count
// once. Expectations that are never met expire after five minutes, so a lost watch event cannot stall an
// owner for ever.
import type { Clock } from '../../client/index.js';

/** How long unmet expectations hold an owner back (upstream's ExpectationsTimeout). */
export const expectationsTimeoutMs = 5 * 60 * 1000;

interface Expectation {
  add: number;
  del: number;
  /** When they were set, on the controller's clock. */
  setAt: number;
  /** Keys ("namespace/name") of pods whose deletion is still awaited. */
  deleting: Set<string>;
}

/** Creates and deletes each owner (by its queue key) still waits to see. */
export class ControllerExpectations {
  readonly #clock: Clock;
  readonly #byOwner = new Map<string, Expectation>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** True when the owner may act: nothing awaited, all seen, or the wait expired. */
  satisfied(ownerKey: string): boolean {
    const e = this.#byOwner.get(ownerKey);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.#clock.now() - e.setAt > expectationsTimeoutMs;
  }

  /** Replaces the owner's expectations with `count` creates. */
  expectCreations(ownerKey: string, count: number): void {
    this.#byOwner.set(ownerKey, { add: count, del: 0, setAt: this.#clock.now(), deleting: new Set() });
  }

  /** Replaces the owner's expectations with the deletion of these pods. */
  expectDeletions(ownerKey: string, podKeys: string[]): void {
    const deleting = new Set(podKeys);
    this.#byOwner.set(ownerKey, { add: 0, del: deleting.size, setAt: this.#clock.now(), deleting });
  }

  /** One create seen (or one that will never be seen because it was not made). */
  creationObserved(ownerKey: string): void {
    const e = this.#byOwner.get(ownerKey);
    if (e) e.add--;
  }

  /** The deletion of a pod seen; counts only for pods the owner is waiting on, and only once each. */
  deletionObserved(ownerKey: string, podKey: string): void {
    const e = this.#byOwner.get(ownerKey);
    if (e?.deleting.delete(podKey)) e.del--;
  }

  /** Forgets the owner (deleted, or recreated under the same name). */
  delete(ownerKey: string): void {
    this.#byOwner.delete(ownerKey);
  }

  /** What the owner still awaits, for tests and logs. */
  pending(ownerKey: string): { add: number; del: number } | undefined {
    const e = this.#byOwner.get(ownerKey);
    return e ? { add: e.add, del: e.del } : undefined;
  }
}
