// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: a candidate takes the lease
// when nobody holds it or when the holder has not renewed it for leaseDurationSeconds as measured by the
// candidate's own clock since it last saw the record change (so clock skew between machines does not
// matter); the leader renews every retryPeriod and gives up leadership if it cannot renew within
// renewDeadline. Writes carry the lease's resourceVersion, so two candidates never both win a round.
import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import type { Clock } from './clock.js';
import { realClock, sleep } from './clock.js';
import type { ResourceRef, RESTClient } from './rest-client.js';
import { isStatus } from './rest-client.js';

/** The lease record: what the holder writes into the Lease's spec. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

/** Storage of the lease record; `version` is the object's resourceVersion for optimistic concurrency. */
export interface LeaseLock {
  /** The record, or undefined when the lease does not exist. */
  get(): Promise<{ record: LeaseRecord; version: string } | undefined>;
  /** Creates the lease; false when someone else created it first. */
  create(record: LeaseRecord): Promise<boolean>;
  /** Replaces the record if the version still matches; false on a conflict. */
  update(record: LeaseRecord, version: string): Promise<boolean>;
  describe(): string;
}

const leasesRef = (namespace: string): ResourceRef => ({
  group: 'coordination.k8s.io',
  version: 'v1',
  resource: 'leases',
  namespace,
});

/** A LeaseLock on a Lease object through the REST client. */
export function leaseLock(client: RESTClient, namespace: string, name: string): LeaseLock {
  const ref = leasesRef(namespace);
  let last: Lease | undefined;
  const toSpec = (r: LeaseRecord): LeaseSpec => ({
    holderIdentity: r.holderIdentity,
    leaseDurationSeconds: r.leaseDurationSeconds,
    leaseTransitions: r.leaseTransitions,
    ...(r.acquireTime ? { acquireTime: r.acquireTime } : {}),
    ...(r.renewTime ? { renewTime: r.renewTime } : {}),
  });
  return {
    describe: () => `${namespace}/${name}`,
    async get() {
      try {
        last = (await client.get(ref, name)) as Lease;
      } catch (err) {
        if (isStatus(err, 404)) return undefined;
        throw err;
      }
      const s = last.spec ?? {};
      return {
        version: last.metadata?.resourceVersion ?? '',
        record: {
          holderIdentity: s.holderIdentity ?? '',
          leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
          leaseTransitions: s.leaseTransitions ?? 0,
          ...(s.acquireTime ? { acquireTime: s.acquireTime } : {}),
          ...(s.renewTime ? { renewTime: s.renewTime } : {}),
        },
      };
    },
    async create(record) {
      try {
        last = (await client.create(ref, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: toSpec(record),
        })) as Lease;
        return true;
      } catch (err) {
        if (isStatus(err, 409)) return false;
        throw err;
      }
    },
    async update(record, version) {
      const base = last ?? { metadata: { name, namespace } };
      try {
        last = (await client.update(ref, {
          ...base,
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { ...base.metadata, resourceVersion: version },
          spec: toSpec(record),
        })) as Lease;
        return true;
      } catch (err) {
        if (isStatus(err, 409)) return false;
        throw err;
      }
    },
  };
}

/** What the elector tells its user. */
export interface LeaderCallbacks {
  /** We lead until `signal` aborts; work started here must stop then. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called when run() ends, whether or not we ever led (as upstream does). */
  onStoppedLeading(): void;
  /** Someone (maybe us) was seen taking the lease. */
  onNewLeader?(identity: string): void;
}

/** Configuration of a LeaderElector. */
export interface LeaderElectionConfig {
  lock: LeaseLock;
  identity: string;
  callbacks: LeaderCallbacks;
  /** How long a lease is valid without renewal; default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up; default 10 s. */
  renewDeadlineMs?: number;
  /** The pause between tries; default 2 s. */
  retryPeriodMs?: number;
  /** Clear the lease on stop so a successor need not wait out the duration; default true. */
  releaseOnCancel?: boolean;
  clock?: Clock;
  /** The source of the acquire loop's jitter, in [0, 1); default Math.random (tests fix it). */
  random?: () => number;
  log?: Logger;
}

/** client-go's jitter factor for the acquire loop (wait.JitterUntil: each pause is period + rand × 1.2 × period). */
const jitterFactor = 1.2;

/** Formats a metav1.MicroTime. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

/** Takes part in a leader election. */
export class LeaderElector {
  readonly #lock: LeaseLock;
  readonly #identity: string;
  readonly #callbacks: LeaderCallbacks;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #release: boolean;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  #observed: LeaseRecord | undefined;
  #observedTime = 0;
  #reportedLeader = '';

  constructor(config: LeaderElectionConfig) {
    this.#leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (this.#leaseDurationMs <= this.#renewDeadlineMs)
      throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.#renewDeadlineMs <= jitterFactor * this.#retryPeriodMs)
      throw new Error('renewDeadline must be greater than retryPeriod*JitterFactor');
    if (this.#retryPeriodMs < 1) throw new Error('retryPeriod must be greater than zero');
    if (config.identity === '') throw new Error('Lock identity is empty');
    this.#lock = config.lock;
    this.#identity = config.identity;
    this.#callbacks = config.callbacks;
    this.#release = config.releaseOnCancel ?? true;
    this.#clock = config.clock ?? realClock;
    this.#random = config.random ?? Math.random;
    this.#log =
      config.log ?? logger('leader-election', { lock: config.lock.describe(), identity: config.identity });
  }

  /** True while the last record we wrote or saw names us. */
  isLeader(): boolean {
    return this.#observed?.holderIdentity === this.#identity;
  }

  /** The holder of the last record seen ('' when none). */
  getLeader(): string {
    return this.#observed?.holderIdentity ?? '';
  }

  /** Campaigns, leads while it can renew, and returns when leadership is lost or `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      if (!(await this.#acquire(signal))) return;
      const leading = new AbortController();
      const onAbort = (): void => leading.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        Promise.resolve(this.#callbacks.onStartedLeading(leading.signal)).catch((err: unknown) =>
          this.#log.error('onStartedLeading failed', { error: err as Error }),
        );
        await this.#renew(signal);
      } finally {
        signal.removeEventListener('abort', onAbort);
        leading.abort();
      }
      if (signal.aborted && this.#release) await this.#releaseLease();
    } finally {
      this.#callbacks.onStoppedLeading();
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    this.#log.info('attempting to acquire leader lease', {}, 2);
    while (!signal.aborted) {
      if (await this.#tryOnce()) {
        this.#log.info('successfully acquired lease');
        return true;
      }
      if (!(await this.#pause(this.#retryPeriodMs * (1 + this.#random() * jitterFactor), signal)))
        return false;
    }
    return false;
  }

  async #renew(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const deadline = this.#clock.now() + this.#renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && this.#clock.now() < deadline) {
        if (await this.#tryOnce()) {
          renewed = true;
          break;
        }
        if (!(await this.#pause(this.#retryPeriodMs, signal))) return;
      }
      if (signal.aborted) return;
      if (!renewed) {
        this.#log.warn('failed to renew lease: timed out', {});
        return;
      }
      if (!(await this.#pause(this.#retryPeriodMs, signal))) return;
    }
  }

  async #tryOnce(): Promise<boolean> {
    try {
      return await this.tryAcquireOrRenew();
    } catch (err) {
      this.#log.warn('error retrieving or updating lease', { error: err as Error });
      return false;
    }
  }

  /** One round of the election: true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#clock.now();
    const desired: LeaseRecord = {
      holderIdentity: this.#identity,
      leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    const current = await this.#lock.get();
    if (!current) {
      if (!(await this.#lock.create(desired))) return false;
      this.#see(desired, now);
      return true;
    }
    const { record, version } = current;
    if (!this.#observed || JSON.stringify(this.#observed) !== JSON.stringify(record)) this.#see(record, now);
    const held = record.holderIdentity !== '' && record.holderIdentity !== this.#identity;
    if (held && this.#observedTime + record.leaseDurationSeconds * 1000 > now) return false;
    if (record.holderIdentity === this.#identity) {
      if (record.acquireTime) desired.acquireTime = record.acquireTime;
      desired.leaseTransitions = record.leaseTransitions;
    } else {
      desired.leaseTransitions = record.leaseTransitions + 1;
    }
    if (!(await this.#lock.update(desired, version))) return false;
    this.#see(desired, now);
    return true;
  }

  async #releaseLease(): Promise<void> {
    try {
      const current = await this.#lock.get();
      if (!current || current.record.holderIdentity !== this.#identity) return;
      const now = this.#clock.now();
      const released: LeaseRecord = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: current.record.leaseTransitions,
      };
      if (await this.#lock.update(released, current.version)) this.#see(released, now);
    } catch (err) {
      this.#log.warn('failed to release lease', { error: err as Error });
    }
  }

  #see(record: LeaseRecord, now: number): void {
    this.#observed = record;
    this.#observedTime = now;
    if (record.holderIdentity !== '' && record.holderIdentity !== this.#reportedLeader) {
      this.#reportedLeader = record.holderIdentity;
      try {
        this.#callbacks.onNewLeader?.(record.holderIdentity);
      } catch (err) {
        this.#log.error('onNewLeader failed', { error: err as Error });
      }
    }
  }

  async #pause(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await sleep(this.#clock, ms, signal);
      return true;
    } catch {
      return false;
    }
  }
}
