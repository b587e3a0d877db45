// Leases for keys with a time to live, shared between writes as kube-apiserver's lease manager shares them
// (k8s.io/apiserver/pkg/storage/etcd3/lease_manager.go): granting a lease is a raft write and every lease
// costs etcd a timer, so a write reuses the last lease when that lease outlives the wanted TTL by no more
// than a reuse window. The window is 5% of the TTL, at most 60 s; a lease carries at most 1000 keys. Each
// granted lease lasts TTL + window, so a key may live up to that window longer than asked, never shorter.

/** Tunables, upstream's defaults when absent. */
export interface LeaseManagerOptions {
  /** The longest reuse window, in seconds. */
  reuseDurationSeconds?: number;
  /** The reuse window as a fraction of the TTL. */
  reuseDurationPercent?: number;
  /** How many writes one lease serves before a new one is granted. */
  maxObjectCount?: number;
  now?: () => number;
}

/** Hands out etcd lease IDs (decimal strings: IDs use all 64 bits) for a TTL in seconds. */
export class LeaseManager {
  private readonly grant: (ttlSeconds: number) => Promise<string>;
  private readonly reuseSeconds: number;
  private readonly reusePercent: number;
  private readonly maxObjects: number;
  private readonly now: () => number;
  private prevId: string | undefined;
  private prevExpiresAt = 0;
  private attached = 0;
  /** Calls run one at a time, so that concurrent writes wait for one grant and share it. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(grant: (ttlSeconds: number) => Promise<string>, options: LeaseManagerOptions = {}) {
    this.grant = grant;
    this.reuseSeconds = options.reuseDurationSeconds ?? 60;
    this.reusePercent = options.reuseDurationPercent ?? 0.05;
    this.maxObjects = options.maxObjectCount ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** A lease that lives at least `ttlSeconds` from now. */
  getLease(ttlSeconds: number): Promise<string> {
    const run = this.queue.then(() => this.getLeaseNow(ttlSeconds));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Drops the cached lease (etcd no longer knows it, e.g. after its data was restored). */
  forget(id: string): void {
    if (this.prevId === id) {
      this.prevId = undefined;
      this.prevExpiresAt = 0;
    }
  }

  private async getLeaseNow(ttlSeconds: number): Promise<string> {
    const now = this.now();
    const reuse = Math.min(Math.trunc(this.reusePercent * ttlSeconds), this.reuseSeconds);
    const valid = now + ttlSeconds * 1000 < this.prevExpiresAt;
    const sufficient = now + (ttlSeconds + reuse) * 1000 > this.prevExpiresAt;
    this.attached += 1;
    if (this.prevId !== undefined && valid && sufficient && this.attached <= this.maxObjects)
      return this.prevId;
    const ttl = ttlSeconds + reuse;
    const id = await this.grant(ttl);
    this.prevId = id;
    this.prevExpiresAt = now + ttl * 1000;
    this.attached = 1;
    return id;
  }
}
