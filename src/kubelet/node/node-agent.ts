// The node half of the kubelet: registers the Node (creating it, or adopting an existing one), renews the
// node Lease in kube-node-lease every 10 s (leaseDurationSeconds 40), and checks the status every 10 s,
// patching nodes/status when it changed or when 5 minutes passed since the last report, as upstream's
// kubelet does with node leases on. One agent per node; a simulated fleet runs many with cheap timers.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import type { Kube } from '../api-types.js';
import type { Clock, RESTClient, TimerHandle } from '../../client/index.js';
import { isStatus, realClock } from '../../client/index.js';
import type { HostInfo } from './host-info.js';
import type { NodeHealth, NodeVersions } from './node-status.js';
import {
  initialNode,
  nodeLeaseDurationSeconds,
  nodeLeaseRenewIntervalMs,
  nodeStatus,
  nodeStatusChanged,
  nodeStatusReportFrequencyMs,
  nodeStatusUpdateFrequencyMs,
} from './node-status.js';

const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const leasesRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

/** Options of a NodeAgent. */
export interface NodeAgentOptions {
  client: RESTClient;
  nodeName: string;
  host: HostInfo;
  versions: NodeVersions;
  /** The node's health now (runtime readiness, pressure). */
  health: () => NodeHealth;
  log: Logger;
  clock?: Clock;
  labels?: Record<string, string>;
  /** Spreads the first renewals of many agents over the interval (0..1 of it). */
  startOffset?: number;
}

/** The MicroTime format of Lease times. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Registers one node and keeps its lease and status current. */
export class NodeAgent {
  readonly #o: NodeAgentOptions;
  readonly #clock: Clock;
  #node: Node | undefined;
  #lease: Lease | undefined;
  #lastReported: Node['status'] | undefined;
  #lastReportAt = 0;
  #timers: TimerHandle[] = [];
  #stopped = false;
  /** Count of lease renewals and status patches (for benchmarks and tests). */
  readonly counters = { leaseRenewals: 0, statusPatches: 0, errors: 0 };

  constructor(options: NodeAgentOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
  }

  /** The Node as last written or read. */
  get node(): Node | undefined {
    return this.#node;
  }

  /** Creates or adopts the Node; retries with backoff until it succeeds or the agent stops. */
  async register(): Promise<Node> {
    let delay = 100;
    for (;;) {
      try {
        return await this.#registerOnce();
      } catch (err) {
        if (this.#stopped) throw err;
        this.#o.log.warn('unable to register node with API server', { node: this.#o.nodeName, error: err instanceof Error ? err.message : String(err) });
        await new Promise((r) => this.#clock.setTimeout(() => r(undefined), delay));
        delay = Math.min(delay * 2, 7000);
      }
    }
  }

  async #registerOnce(): Promise<Node> {
    const now = this.#clock.now();
    const want = initialNode(this.#o.nodeName, this.#o.host, this.#o.versions, this.#o.health(), now, this.#o.labels);
    try {
      this.#node = await this.#o.client.create<Kube<Node>>(nodesRef, want as Kube<Node>);
      this.#o.log.info('Successfully registered node', { node: this.#o.nodeName });
    } catch (err) {
      if (!isStatus(err, 'AlreadyExists')) throw err;
      // An existing Node is ours again: reconcile the labels we own, then report status.
      const labels = want.metadata!.labels!;
      this.#node = await this.#o.client.patch<Kube<Node>>(nodesRef, this.#o.nodeName, { metadata: { labels } }, 'strategic');
    }
    // Creating a node does not store its status (the status subresource owns it): report it now.
    await this.#reportStatus(true);
    await this.#renewLease();
    return this.#node;
  }

  /** Starts the lease and status loops (after register). */
  start(): void {
    const offset = this.#o.startOffset ?? 0;
    this.#schedule(() => this.#renewLease(), Math.floor(offset * nodeLeaseRenewIntervalMs), nodeLeaseRenewIntervalMs);
    this.#schedule(() => this.#reportStatus(false), Math.floor(offset * nodeStatusUpdateFrequencyMs) + nodeStatusUpdateFrequencyMs, nodeStatusUpdateFrequencyMs);
  }

  /** Stops the loops; pending requests finish on their own. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) this.#clock.clearTimeout(t);
    this.#timers = [];
  }

  #schedule(fn: () => Promise<void>, firstMs: number, periodMs: number): void {
    const slot = this.#timers.length;
    const run = (): void => {
      if (this.#stopped) return;
      void fn()
        .catch((err: unknown) => {
          this.counters.errors++;
          this.#o.log.info('node update failed', { node: this.#o.nodeName, error: err instanceof Error ? err.message : String(err) }, 2);
        })
        .finally(() => {
          // A little jitter (upstream: 4 %) keeps a fleet's requests from bunching up.
          if (!this.#stopped) this.#timers[slot] = this.#clock.setTimeout(run, periodMs * (1 + Math.random() * 0.04));
        });
    };
    this.#timers[slot] = this.#clock.setTimeout(run, firstMs);
  }

  /** Renews (or creates) the node's Lease now. */
  async renewLease(): Promise<void> {
    await this.#renewLease();
  }

  async #renewLease(): Promise<void> {
    const now = microTime(this.#clock.now());
    const c = this.#o.client;
    const ref = leasesRef;
    if (this.#lease !== undefined) {
      try {
        this.#lease = await c.update<Kube<Lease>>(ref, { ...this.#lease, spec: { ...this.#lease.spec, renewTime: now } } as Kube<Lease>);
        this.counters.leaseRenewals++;
        return;
      } catch (err) {
        if (!isStatus(err, 'Conflict') && !isStatus(err, 'NotFound')) throw err;
        this.#lease = undefined;
      }
    }
    try {
      const cur = await c.get<Kube<Lease>>(ref, this.#o.nodeName);
      this.#lease = await c.update<Kube<Lease>>(ref, {
        ...cur,
        spec: { ...cur.spec, holderIdentity: this.#o.nodeName, leaseDurationSeconds: nodeLeaseDurationSeconds, renewTime: now },
      });
    } catch (err) {
      if (!isStatus(err, 'NotFound')) throw err;
      const owner = this.#node?.metadata?.uid
        ? [{ apiVersion: 'v1', kind: 'Node', name: this.#o.nodeName, uid: this.#node.metadata.uid }]
        : undefined;
      this.#lease = await c.create<Kube<Lease>>(ref, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.#o.nodeName, namespace: 'kube-node-lease', ...(owner ? { ownerReferences: owner } : {}) },
        spec: { holderIdentity: this.#o.nodeName, leaseDurationSeconds: nodeLeaseDurationSeconds, renewTime: now },
      });
    }
    this.counters.leaseRenewals++;
  }

  /** Patches nodes/status when it changed, or when the report frequency has passed; `force` always. */
  async reportStatus(force = false): Promise<void> {
    await this.#reportStatus(force);
  }

  async #reportStatus(force: boolean): Promise<void> {
    const now = this.#clock.now();
    const status = nodeStatus(this.#o.host, this.#o.versions, this.#o.health(), this.#lastReported ?? this.#node?.status, now);
    if (!force && !nodeStatusChanged(status, this.#lastReported) && now - this.#lastReportAt < nodeStatusReportFrequencyMs) return;
    this.#node = await this.#o.client.patch<Kube<Node>>(nodesRef, this.#o.nodeName, { status }, 'merge', { subresource: 'status' });
    this.#lastReported = status;
    this.#lastReportAt = now;
    this.counters.statusPatches++;
  }
}
