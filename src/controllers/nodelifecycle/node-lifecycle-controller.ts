// The node lifecycle controller (upstream's pkg/controller/nodelifecycle): it watches each node's
// heartbeats (its Lease in kube-node-lease and its Ready condition's lastHeartbeatTime). A node silent
// for longer than --node-monitor-grace-period (--node-startup-grace-period before its first status) gets
// its conditions set to Unknown, its pods marked not ready, and the NoExecute taint unreachable (or
// not-ready when the kubelet reports Ready=False); the taint-eviction controller evicts from there.
// NoExecute taints are rate limited per zone, as upstream: --node-eviction-rate while a zone is healthy,
// --secondary-node-eviction-rate (0 in small clusters) while it is partly disrupted, and none at all when
// every node of every zone is down ("master disruption mode": the fault is then most likely ours).
// NoSchedule taints follow the conditions and spec.unschedulable at once, without a rate limit.
import { onAbort } from '../../base/abort.js';
import type { NodeCondition } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import { podsOnNode } from '../common/pod-node-index.js';
import type { Pod } from '../replicaset/pod.js';
import type { Node, Taint } from './taints.js';
import { swapNodeTaints, taintKeys, timeNow } from './taints.js';

const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const podsRef = { group: '', version: 'v1', resource: 'pods' };
const leasesRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
const nodeLeaseNamespace = 'kube-node-lease';

/** Upstream's defaults (kube-controller-manager 1.33). */
export const nodeLifecycleDefaults = {
  nodeMonitorPeriodMs: 5_000,
  nodeMonitorGracePeriodMs: 50_000,
  nodeStartupGracePeriodMs: 60_000,
  nodeEvictionRate: 0.1,
  secondaryNodeEvictionRate: 0.01,
  largeClusterSizeThreshold: 50,
  unhealthyZoneThreshold: 0.55,
};
/** How often the rate-limited NoExecute tainting queue is worked (upstream's NodeEvictionPeriod). */
const nodeEvictionPeriodMs = 100;

export const unreachableTaintNoExecute: Taint = { key: taintKeys.unreachable, effect: 'NoExecute' };
export const notReadyTaintNoExecute: Taint = { key: taintKeys.notReady, effect: 'NoExecute' };

/** Conditions the controller sets to Unknown when the kubelet goes silent. */
const conditionTypes = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** The NoSchedule taint each condition state implies. */
const conditionTaints: { type: string; status: string; key: string }[] = [
  { type: 'Ready', status: 'False', key: taintKeys.notReady },
  { type: 'Ready', status: 'Unknown', key: taintKeys.unreachable },
  { type: 'MemoryPressure', status: 'True', key: taintKeys.memoryPressure },
  { type: 'DiskPressure', status: 'True', key: taintKeys.diskPressure },
  { type: 'PIDPressure', status: 'True', key: taintKeys.pidPressure },
  { type: 'NetworkUnavailable', status: 'True', key: taintKeys.networkUnavailable },
];
const managedNoScheduleKeys = new Set([...conditionTaints.map((c) => c.key), taintKeys.unschedulable]);

type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

interface NodeHealth {
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  lastHeartbeatTime?: string | undefined;
  leaseRenewTime?: string | undefined;
}

interface Lease extends KubeObject {
  spec?: { renewTime?: string };
}

type NodeObject = Node & KubeObject;

/** A token bucket that answers at once whether a token is there (flowcontrol's TryAccept). */
class TryLimiter {
  private tokens = 1;
  private last: number;
  private qps: number;
  private readonly clock: Clock;
  constructor(qps: number, clock: Clock) {
    this.qps = qps;
    this.clock = clock;
    this.last = clock.now();
  }
  setQPS(qps: number): void {
    if (qps !== this.qps) {
      this.qps = qps;
      this.tokens = 1;
      this.last = this.clock.now();
    }
  }
  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    const now = this.clock.now();
    this.tokens = Math.min(1, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** A node's condition of a type. */
export function nodeCondition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/** Upstream's zone key: region and zone labels joined by ":\0:". */
export function zoneOf(node: Node & KubeObject): string {
  const l = node.metadata?.labels ?? {};
  const region = l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\x00:${zone}`;
}

/** Upstream's ComputeZoneState from the Ready conditions of one zone's nodes. */
export function computeZoneState(ready: (NodeCondition | undefined)[], unhealthyZoneThreshold: number): { notReady: number; state: ZoneState } {
  let readyNodes = 0;
  let notReady = 0;
  for (const c of ready) {
    if (c?.status === 'True') readyNodes++;
    else notReady++;
  }
  if (readyNodes === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (notReady + readyNodes) >= unhealthyZoneThreshold) return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

/** Watches node heartbeats; marks silent nodes Unknown and taints them. */
export class NodeLifecycleController implements Controller {
  readonly name = 'nodelifecycle';
  private readonly client: RESTClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly nodes: SharedInformer<NodeObject>;
  private readonly leases: SharedInformer<Lease>;
  private readonly pods: SharedInformer<Pod>;
  private readonly noScheduleQueue = newQueue('node-lifecycle-noschedule');
  private readonly cfg: typeof nodeLifecycleDefaults;
  private readonly health = new Map<string, NodeHealth>();
  private zoneStates = new Map<string, ZoneState>();
  private readonly limiters = new Map<string, TryLimiter>();
  /** Nodes waiting for a NoExecute taint, by zone, in arrival order. */
  private readonly zoneNoExecuteTainter = new Map<string, Set<string>>();
  private readonly registered = new Set<string>();

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'nodelifecycle' });
    this.recorder = ctx.recorder('node-controller');
    const c = ctx.config ?? {};
    this.cfg = {
      nodeMonitorPeriodMs: c.nodeMonitorPeriodMs ?? nodeLifecycleDefaults.nodeMonitorPeriodMs,
      nodeMonitorGracePeriodMs: c.nodeMonitorGracePeriodMs ?? nodeLifecycleDefaults.nodeMonitorGracePeriodMs,
      nodeStartupGracePeriodMs: c.nodeStartupGracePeriodMs ?? nodeLifecycleDefaults.nodeStartupGracePeriodMs,
      nodeEvictionRate: c.nodeEvictionRate ?? nodeLifecycleDefaults.nodeEvictionRate,
      secondaryNodeEvictionRate: c.secondaryNodeEvictionRate ?? nodeLifecycleDefaults.secondaryNodeEvictionRate,
      largeClusterSizeThreshold: c.largeClusterSizeThreshold ?? nodeLifecycleDefaults.largeClusterSizeThreshold,
      unhealthyZoneThreshold: c.unhealthyZoneThreshold ?? nodeLifecycleDefaults.unhealthyZoneThreshold,
    };
    this.nodes = ctx.informers.informerFor<NodeObject>(nodesRef);
    this.leases = ctx.informers.informerFor<Lease>(leasesRef);
    this.pods = ctx.informers.informerFor<Pod>(podsRef);
    this.nodes.addEventHandler({
      onAdd: (n) => this.noScheduleQueue.add(n.metadata?.name ?? ''),
      onUpdate: (_o, n) => this.noScheduleQueue.add(n.metadata?.name ?? ''),
      onDelete: (obj) => {
        const n = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
        const name = n.metadata?.name ?? '';
        this.health.delete(name);
        for (const q of this.zoneNoExecuteTainter.values()) q.delete(name);
        if (this.registered.delete(name)) {
          this.recorder.event(nodeRef(name), 'Normal', 'RemovingNode', `Node ${name} event: Removing Node ${name} from Controller`);
        }
      },
    });
    this.pods.addEventHandler({
      onAdd: (p) => this.processPod(p),
      onUpdate: (_o, p) => this.processPod(p),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.nodes.waitForSync(signal), this.leases.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    const loop = (periodMs: number, fn: () => Promise<void>): Promise<void> =>
      (async () => {
        while (!signal.aborted) {
          try {
            await fn();
          } catch (err) {
            this.log.warn('node lifecycle pass failed', { error: err instanceof Error ? err.message : String(err) });
          }
          // The abort listener goes when the pause ends: one left behind per pass (ten a second for the
          // eviction pass) piled up on the signal and made every later addEventListener slower.
          await new Promise<void>((resolve) => {
            const wake = (): void => {
              this.clock.clearTimeout(h);
              signal.removeEventListener('abort', wake);
              resolve();
            };
            const h = this.clock.setTimeout(wake, periodMs);
            onAbort(signal, wake);
          });
        }
      })();
    await Promise.all([
      loop(this.cfg.nodeMonitorPeriodMs, () => this.monitorNodeHealth()),
      loop(nodeEvictionPeriodMs, () => this.doNoExecuteTaintingPass()),
      runWorkers(this.noScheduleQueue, 1, (name) => this.doNoScheduleTaintingPass(name), signal, this.log),
    ]);
  }

  /** One pass over every node: heartbeats, Unknown conditions, zone states, NoExecute taints. */
  async monitorNodeHealth(): Promise<void> {
    const zoneReady = new Map<string, (NodeCondition | undefined)[]>();
    for (const cached of this.nodes.lister.list()) {
      const name = cached.metadata?.name ?? '';
      if (!this.registered.has(name)) {
        this.registered.add(name);
        this.recorder.event(nodeRef(name), 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
      }
      let observed: NodeCondition | undefined;
      let current: NodeCondition | undefined;
      let node = cached;
      for (let attempt = 0; ; attempt++) {
        try {
          [observed, current] = await this.tryUpdateNodeHealth(node);
          break;
        } catch (err) {
          if (!isStatus(err, 409) || attempt >= 4) {
            if (isStatus(err, 404)) break;
            throw err;
          }
          node = await this.client.get<NodeObject>(nodesRef, name);
        }
      }
      const zone = zoneOf(node);
      if (!zoneReady.has(zone)) zoneReady.set(zone, []);
      // Nodes labelled exclude-disruption do not count towards their zone's state.
      if (node.metadata?.labels?.['node.kubernetes.io/exclude-disruption'] === undefined) zoneReady.get(zone)!.push(current);
      if (current) this.processTaintBaseEviction(node, current);
      if (observed?.status === 'True' && current !== undefined && current.status !== 'True') {
        this.recorder.event(nodeRef(name), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
        await this.markPodsNotReady(name);
      }
    }
    await this.handleDisruption(zoneReady);
  }

  /** Upstream's tryUpdateNodeHealth: returns the Ready condition as observed and as it is after our write. */
  private async tryUpdateNodeHealth(node: NodeObject): Promise<[NodeCondition | undefined, NodeCondition | undefined]> {
    const name = node.metadata?.name ?? '';
    const now = this.clock.now();
    const ready = nodeCondition(node, 'Ready');
    const created = Date.parse(String(node.metadata?.creationTimestamp ?? '')) || now;
    let h = this.health.get(name);
    let gracePeriod: number;
    let observed: NodeCondition | undefined = ready;
    if (!ready) {
      // Never posted a status: the startup grace runs from the node's creation.
      observed = { type: 'Ready', status: 'Unknown', lastTransitionTime: timeNow(created) };
      gracePeriod = this.cfg.nodeStartupGracePeriodMs;
      if (!h) h = { probeTimestamp: created, readyTransitionTimestamp: created };
    } else {
      gracePeriod = this.cfg.nodeMonitorGracePeriodMs;
    }
    if (!h) {
      h = { probeTimestamp: now, readyTransitionTimestamp: now, lastHeartbeatTime: ready?.lastHeartbeatTime };
    } else if (ready && ready.lastHeartbeatTime !== h.lastHeartbeatTime) {
      h.probeTimestamp = now;
      h.lastHeartbeatTime = ready.lastHeartbeatTime;
    }
    const lease = this.leases.lister.get(nodeLeaseNamespace, name);
    const renew = lease?.spec?.renewTime;
    if (renew !== undefined && renew !== h.leaseRenewTime && (h.leaseRenewTime === undefined || Date.parse(renew) > Date.parse(h.leaseRenewTime))) {
      h.leaseRenewTime = renew;
      h.probeTimestamp = now;
    }
    this.health.set(name, h);
    if (now <= h.probeTimestamp + gracePeriod) return [observed, ready];
    // Silent for too long: every condition the kubelet owns becomes Unknown.
    const conditions: NodeCondition[] = (node.status?.conditions ?? []).map((c) => ({ ...c }));
    let changed = false;
    for (const type of conditionTypes) {
      const c = conditions.find((x) => x.type === type);
      if (!c) {
        conditions.push({
          type,
          status: 'Unknown',
          reason: 'NodeStatusNeverUpdated',
          message: 'Kubelet never posted node status.',
          lastHeartbeatTime: timeNow(created),
          lastTransitionTime: timeNow(now),
        });
        changed = true;
      } else if (c.status !== 'Unknown') {
        c.status = 'Unknown';
        c.reason = 'NodeStatusUnknown';
        c.message = 'Kubelet stopped posting node status.';
        c.lastTransitionTime = timeNow(now);
        changed = true;
      }
    }
    const current = conditions.find((c) => c.type === 'Ready');
    if (changed) {
      this.log.info('node stopped posting status', { node: name, graceMs: gracePeriod });
      await this.client.updateStatus(nodesRef, { ...structuredClone(node), status: { ...structuredClone(node.status), conditions } });
      h.readyTransitionTimestamp = now;
    }
    return [observed, current];
  }

  /** Queues a not-ready node for its NoExecute taint, or takes the taints off a ready one. */
  private processTaintBaseEviction(node: NodeObject, ready: NodeCondition): void {
    const name = node.metadata?.name ?? '';
    const taints = node.spec?.taints ?? [];
    const has = (t: Taint): boolean => taints.some((x) => x.key === t.key && x.effect === t.effect);
    const zone = zoneOf(node);
    const queue = (): void => {
      if (!this.zoneNoExecuteTainter.has(zone)) this.zoneNoExecuteTainter.set(zone, new Set());
      this.zoneNoExecuteTainter.get(zone)!.add(name);
    };
    if (ready.status === 'False') {
      // Swapping one NoExecute taint for the other is not rate limited.
      if (has(unreachableTaintNoExecute)) void this.swap(name, [notReadyTaintNoExecute], [unreachableTaintNoExecute]);
      else if (!has(notReadyTaintNoExecute)) queue();
    } else if (ready.status === 'Unknown') {
      if (has(notReadyTaintNoExecute)) void this.swap(name, [unreachableTaintNoExecute], [notReadyTaintNoExecute]);
      else if (!has(unreachableTaintNoExecute)) queue();
    } else {
      for (const q of this.zoneNoExecuteTainter.values()) q.delete(name);
      if (has(unreachableTaintNoExecute) || has(notReadyTaintNoExecute)) {
        void this.swap(name, [], [unreachableTaintNoExecute, notReadyTaintNoExecute]);
      }
    }
  }

  private async swap(name: string, add: Taint[], remove: Taint[]): Promise<void> {
    try {
      await swapNodeTaints(this.client, name, add, remove, this.clock.now());
    } catch (err) {
      this.log.warn('failed to update node taints', { node: name, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Applies queued NoExecute taints as each zone's rate limiter allows. */
  private async doNoExecuteTaintingPass(): Promise<void> {
    for (const [zone, queue] of this.zoneNoExecuteTainter) {
      for (const name of [...queue]) {
        const node = this.nodes.lister.get('', name);
        const ready = node ? nodeCondition(node, 'Ready') : undefined;
        if (!node || !ready || ready.status === 'True') {
          queue.delete(name);
          continue;
        }
        const limiter = this.limiterFor(zone);
        if (!limiter.tryAccept()) break;
        queue.delete(name);
        const [add, remove] =
          ready.status === 'False' ? [notReadyTaintNoExecute, unreachableTaintNoExecute] : [unreachableTaintNoExecute, notReadyTaintNoExecute];
        this.log.info('tainting node', { node: name, taint: add.key });
        await this.swap(name, [add], [remove]);
      }
    }
  }

  private limiterFor(zone: string): TryLimiter {
    let l = this.limiters.get(zone);
    if (!l) this.limiters.set(zone, (l = new TryLimiter(this.cfg.nodeEvictionRate, this.clock)));
    return l;
  }

  /** Zone states and their eviction rates; master disruption mode when every zone is fully down. */
  private async handleDisruption(zoneReady: Map<string, (NodeCondition | undefined)[]>): Promise<void> {
    const next = new Map<string, ZoneState>();
    const sizes = new Map<string, number>();
    for (const [zone, conds] of zoneReady) {
      next.set(zone, computeZoneState(conds, this.cfg.unhealthyZoneThreshold).state);
      sizes.set(zone, conds.length);
    }
    const allFull = (m: Map<string, ZoneState>): boolean => m.size > 0 && [...m.values()].every((s) => s === 'FullDisruption');
    const allWasFullyDisrupted = allFull(this.zoneStates);
    const allAreFullyDisrupted = allFull(next);
    if (allAreFullyDisrupted) {
      if (!allWasFullyDisrupted) {
        this.log.info('Controller detected that all Nodes are not-Ready. Entering master disruption mode.');
        for (const node of this.nodes.lister.list()) {
          await this.swap(node.metadata?.name ?? '', [], [unreachableTaintNoExecute, notReadyTaintNoExecute]);
        }
      }
      for (const q of this.zoneNoExecuteTainter.values()) q.clear();
      for (const zone of next.keys()) this.limiterFor(zone).setQPS(0);
      this.zoneStates = next;
      return;
    }
    if (allWasFullyDisrupted) {
      this.log.info('Controller detected that some Nodes are Ready. Exiting master disruption mode.');
      // Heartbeats missed while everything was down must not count against the nodes now.
      const now = this.clock.now();
      for (const h of this.health.values()) {
        h.probeTimestamp = now;
        h.readyTransitionTimestamp = now;
      }
    }
    for (const [zone, state] of next) {
      if (this.zoneStates.get(zone) !== state) this.log.info('zone state', { zone, state });
      const qps =
        state === 'Normal' || state === 'FullDisruption'
          ? this.cfg.nodeEvictionRate
          : (sizes.get(zone) ?? 0) > this.cfg.largeClusterSizeThreshold
            ? this.cfg.secondaryNodeEvictionRate
            : 0;
      this.limiterFor(zone).setQPS(qps);
    }
    this.zoneStates = next;
  }

  /** NoSchedule taints from the node's conditions and spec.unschedulable. */
  private async doNoScheduleTaintingPass(name: string): Promise<void> {
    const node = this.nodes.lister.get('', name);
    if (!node) return;
    const want: Taint[] = [];
    for (const ct of conditionTaints) {
      if (nodeCondition(node, ct.type)?.status === ct.status) want.push({ key: ct.key, effect: 'NoSchedule' });
    }
    if (node.spec?.unschedulable) want.push({ key: taintKeys.unschedulable, effect: 'NoSchedule' });
    const have = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' && managedNoScheduleKeys.has(t.key));
    const add = want.filter((w) => !have.some((h) => h.key === w.key));
    const remove = have.filter((h) => !want.some((w) => w.key === h.key));
    if (add.length === 0 && remove.length === 0) return;
    await swapNodeTaints(this.client, name, add, remove, this.clock.now());
  }

  /** Pods that land on (or change on) a node that is not ready are marked not ready too. */
  private processPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const node = this.nodes.lister.get('', nodeName);
    const ready = node ? nodeCondition(node, 'Ready') : undefined;
    if (!ready || ready.status === 'True') return;
    if (!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status !== 'False')) return;
    this.markPodNotReady(pod).catch((err: unknown) =>
      this.log.warn('failed to mark pod not ready', { pod: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  /** Upstream's MarkPodsNotReady for the pods on one node. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const pods = podsOnNode(this.pods, nodeName);
    await Promise.all(pods.map((p) => this.markPodNotReady(p)));
  }

  private async markPodNotReady(pod: Pod): Promise<void> {
    const c = pod.status?.conditions?.find((x) => x.type === 'Ready');
    if (!c || c.status === 'False') return;
    const conditions = (pod.status?.conditions ?? []).map((x) =>
      x.type === 'Ready' ? { ...x, status: 'False', lastTransitionTime: timeNow(this.clock.now()) } : x,
    );
    const ns = pod.metadata?.namespace ?? '';
    try {
      await this.client.updateStatus({ ...podsRef, namespace: ns }, { ...structuredClone(pod), status: { ...structuredClone(pod.status), conditions } });
      this.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    } catch (err) {
      // A newer pod (409) is seen again through the informer; a deleted one needs nothing.
      if (!isStatus(err, 409) && !isStatus(err, 404)) throw err;
    }
  }
}

function nodeRef(name: string): { apiVersion: string; kind: string; name: string; uid: string } {
  // Upstream refers to nodes in events with the name as UID.
  return { apiVersion: 'v1', kind: 'Node', name, uid: name };
}
