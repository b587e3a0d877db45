// The pod garbage collector (upstream's pkg/controller/podgc). Every 20 s it looks at all pods and:
// - deletes terminated pods (not Pending, Running or Unknown) beyond --terminated-pod-gc-threshold, evicted
//   ones first, then oldest first (name breaks ties);
// - force-deletes terminating pods on nodes that are not ready and tainted node.kubernetes.io/out-of-service;
// - deletes pods bound to nodes that no longer exist: a missing node is quarantined for 40 s (it may only be
//   missing from the cache) and then looked up in the API; its pods are marked Failed with the
//   DisruptionTarget condition (DeletionByPodGC) and deleted with grace period 0;
// - force-deletes terminating pods that were never scheduled.
// A pod not yet terminal is patched to phase Failed before its deletion, as upstream does, so that no pod
// stays Running for ever with no kubelet left to say otherwise.
import { onAbort } from '../../base/abort.js';
import type { Logger } from '../../base/log.js';
import type { Clock, KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { isStatus } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import type { Pod } from '../replicaset/pod.js';
import { podKey } from '../replicaset/pod.js';

const podsRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };

/** Upstream's --terminated-pod-gc-threshold default. */
export const defaultTerminatedPodThreshold = 12500;
/** Upstream's gcCheckPeriod and quarantineTime. */
export const gcCheckPeriodMs = 20_000;
export const quarantineMs = 40_000;

export interface PodGCOptions {
  /** Terminated pods kept; 0 or less turns that part off. Default 12500. */
  terminatedPodThreshold?: number;
  checkPeriodMs?: number;
  quarantineMs?: number;
}

interface Node extends KubeObject {
  spec?: { taints?: { key: string; effect?: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

interface DisruptionCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** Deletes pods nobody else will: terminated beyond the threshold, orphaned, or stuck terminating. */
export class PodGCController implements Controller {
  readonly name = 'podgc';
  private readonly client: RESTClient;
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly threshold: number;
  private readonly periodMs: number;
  private readonly quarantineMs: number;
  /** Node names missing from the cache, with when they were first seen missing. */
  private readonly missingSince = new Map<string, number>();

  constructor(ctx: ControllerContext, options: PodGCOptions = {}) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'podgc' });
    this.threshold = options.terminatedPodThreshold ?? defaultTerminatedPodThreshold;
    this.periodMs = options.checkPeriodMs ?? gcCheckPeriodMs;
    this.quarantineMs = options.quarantineMs ?? quarantineMs;
    this.pods = ctx.informers.informerFor<Pod>(podsRef);
    this.nodes = ctx.informers.informerFor<Node>(nodesRef);
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.pods.waitForSync(signal), this.nodes.waitForSync(signal)]).catch(() => undefined);
    while (!signal.aborted) {
      try {
        await this.gc();
      } catch (err) {
        this.log.warn('pod GC pass failed', { error: err instanceof Error ? err.message : String(err) });
      }
      // The abort listener goes when the pause ends, so that passes leave none behind on the signal.
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.clock.clearTimeout(t);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        const t = this.clock.setTimeout(wake, this.periodMs);
        onAbort(signal, wake);
      });
    }
  }

  /** One pass, as upstream's gc(). */
  async gc(): Promise<void> {
    const pods = this.pods.lister.list();
    if (this.threshold > 0) await this.gcTerminated(pods);
    await this.gcTerminatingOutOfService(pods);
    await this.gcOrphaned(pods);
    await this.gcUnscheduledTerminating(pods);
  }

  private async gcTerminated(pods: Pod[]): Promise<void> {
    const terminated = pods.filter((p) => !['Pending', 'Running', 'Unknown'].includes(p.status?.phase ?? 'Pending'));
    const count = terminated.length - this.threshold;
    if (count <= 0) return;
    this.log.info('garbage collecting pods', { numPods: count });
    terminated.sort(evictedThenOldest);
    await Promise.all(terminated.slice(0, count).map((p) => this.markFailedAndDelete(p)));
  }

  private async gcTerminatingOutOfService(pods: Pod[]): Promise<void> {
    const victims: Pod[] = [];
    for (const pod of pods) {
      if (!pod.metadata?.deletionTimestamp) continue;
      const node = this.nodes.lister.get('', pod.spec?.nodeName ?? '');
      if (!node) continue;
      const ready = (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      if (!ready && (node.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/out-of-service')) victims.push(pod);
    }
    victims.sort(evictedThenOldest);
    await Promise.all(victims.map((p) => this.markFailedAndDelete(p)));
  }

  private async gcOrphaned(pods: Pod[]): Promise<void> {
    const existing = new Set(this.nodes.lister.list().map((n) => n.metadata?.name ?? ''));
    const now = this.clock.now();
    const referenced = new Set<string>();
    for (const pod of pods) {
      const node = pod.spec?.nodeName;
      if (!node || existing.has(node)) continue;
      referenced.add(node);
      if (!this.missingSince.has(node)) this.missingSince.set(node, now);
    }
    // Names no pod points at any more, or that came back, need no watching.
    for (const node of [...this.missingSince.keys()]) if (!referenced.has(node)) this.missingSince.delete(node);
    const deleted = new Set<string>();
    for (const [node, since] of this.missingSince) {
      if (now - since < this.quarantineMs) continue;
      try {
        await this.client.get(nodesRef, node);
        this.missingSince.delete(node);
      } catch (err) {
        if (isStatus(err, 'NotFound')) deleted.add(node);
        else this.log.warn('error while getting node', { node, error: err instanceof Error ? err.message : String(err) });
      }
    }
    for (const pod of pods) {
      if (!deleted.has(pod.spec?.nodeName ?? '')) continue;
      this.log.info('found orphaned pod assigned to the node, deleting', { pod: podKey(pod), node: pod.spec?.nodeName }, 2);
      await this.markFailedAndDelete(pod, {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'DeletionByPodGC',
        message: 'PodGC: node no longer exists',
      });
    }
  }

  private async gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    for (const pod of pods) {
      if (!pod.metadata?.deletionTimestamp || pod.spec?.nodeName) continue;
      this.log.info('found unscheduled terminating pod not assigned to any node, deleting', { pod: podKey(pod) }, 2);
      await this.markFailedAndDelete(pod);
    }
  }

  /** Upstream's markFailedAndDeletePodWithCondition: phase Failed (and the condition) first, then delete now. */
  private async markFailedAndDelete(pod: Pod, condition?: DisruptionCondition): Promise<void> {
    const ref = { ...podsRef, namespace: pod.metadata?.namespace ?? '' };
    const name = pod.metadata?.name ?? '';
    this.log.info('podgc is force deleting pod', { pod: podKey(pod) });
    try {
      const phase = pod.status?.phase;
      if (phase !== 'Succeeded' && phase !== 'Failed') {
        const status: Record<string, unknown> = { phase: 'Failed' };
        if (condition) {
          const t = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
          const others = (pod.status?.conditions ?? []).filter((c) => c.type !== condition.type);
          status.conditions = [...others, { ...condition, lastProbeTime: null, lastTransitionTime: t }];
        }
        await this.client.patch(ref, name, { metadata: { uid: pod.metadata?.uid }, status }, 'merge', { subresource: 'status' });
      }
      await this.client.delete(ref, name, { gracePeriodSeconds: 0 });
    } catch (err) {
      if (isStatus(err, 'NotFound')) return;
      this.log.warn('failed to delete pod', { pod: podKey(pod), error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Evicted pods first, then by creation time, then by name (upstream's byEvictionAndCreationTimestamp). */
function evictedThenOldest(a: Pod, b: Pod): number {
  const ea = a.status?.phase === 'Failed' && a.status.reason === 'Evicted';
  const eb = b.status?.phase === 'Failed' && b.status.reason === 'Evicted';
  if (ea !== eb) return ea ? -1 : 1;
  const ta = Date.parse((a.metadata?.creationTimestamp as string | undefined) ?? '');
  const tb = Date.parse((b.metadata?.creationTimestamp as string | undefined) ?? '');
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}
