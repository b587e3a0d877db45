// The taint-eviction controller (upstream's pkg/controller/tainteviction, once the node lifecycle
// controller's "taint manager"): a pod on a node with a NoExecute taint it does not tolerate is deleted at
// once; one that tolerates every such taint for a limited time (the least tolerationSeconds of the
// tolerations in use) is deleted when that time has passed since the controller saw the taint, unless the
// taint goes first. Before the delete the pod gets the DisruptionTarget condition, and an Event says why.
import type { PodCondition, Toleration } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, KubeObject, RESTClient, SharedInformer, TimerHandle } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import { podsOnNode } from '../common/pod-node-index.js';
import type { Node, Taint } from '../nodelifecycle/taints.js';
import { timeNow, toleratesTaint } from '../nodelifecycle/taints.js';

const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const podsRef = { group: '', version: 'v1', resource: 'pods' };

interface Pod extends KubeObject {
  spec?: { nodeName?: string; tolerations?: Toleration[] };
  status?: { conditions?: PodCondition[]; [key: string]: unknown };
}
type NodeObject = Node & KubeObject;

interface ScheduledEviction {
  createdAt: number;
  fireAt: number;
  timer: TimerHandle;
}

/**
 * Upstream's GetMatchingTolerations: whether every taint is tolerated, and the first toleration that
 * tolerates each.
 */
export function matchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined): { all: boolean; used: Toleration[] } {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = (tolerations ?? []).find((x) => toleratesTaint(x, taint));
    if (!t) return { all: false, used: [] };
    used.push(t);
  }
  return { all: true, used };
}

/** Upstream's getMinTolerationTime in ms: 0 to evict now, -1 to tolerate forever. */
export function minTolerationMs(used: readonly Toleration[]): number {
  if (used.length === 0) return 0;
  let min = Infinity;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Infinity ? -1 : min * 1000;
}

/** Deletes pods from nodes with NoExecute taints they do not tolerate (for long enough). */
export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller';
  private readonly client: RESTClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly nodes: SharedInformer<NodeObject>;
  private readonly pods: SharedInformer<Pod>;
  /** Keys "node/<name>" and "pod/<ns>/<name>". */
  private readonly queue = newQueue('taint-eviction');
  private readonly evictQueue = newQueue('taint-eviction-delete');
  /** Scheduled deletions by pod key. */
  readonly scheduled = new Map<string, ScheduledEviction>();

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log.with({ controller: 'taint-eviction-controller' });
    this.recorder = ctx.recorder('taint-eviction-controller');
    this.nodes = ctx.informers.informerFor<NodeObject>(nodesRef);
    this.pods = ctx.informers.informerFor<Pod>(podsRef);
    this.nodes.addEventHandler({
      onAdd: (n) => {
        if (noExecuteTaints(n).length > 0) this.queue.add(`node/${n.metadata?.name ?? ''}`);
      },
      onUpdate: (o, n) => {
        if (JSON.stringify(noExecuteTaints(o)) !== JSON.stringify(noExecuteTaints(n))) this.queue.add(`node/${n.metadata?.name ?? ''}`);
      },
      onDelete: (obj) => {
        const n = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
        this.queue.add(`node/${n.metadata?.name ?? ''}`);
      },
    });
    this.pods.addEventHandler({
      onAdd: (p) => {
        if (p.spec?.nodeName) this.queue.add(`pod/${metaNamespaceKey(p)}`);
      },
      onUpdate: (o, p) => {
        if (p.spec?.nodeName && (o.spec?.nodeName !== p.spec.nodeName || JSON.stringify(o.spec?.tolerations) !== JSON.stringify(p.spec.tolerations))) {
          this.queue.add(`pod/${metaNamespaceKey(p)}`);
        }
      },
      onDelete: (obj) => {
        const p = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
        this.cancel(metaNamespaceKey(obj), { apiVersion: 'v1', kind: 'Pod', metadata: { name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? '' } });
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.nodes.waitForSync(signal), this.pods.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    signal.addEventListener('abort', () => {
      for (const s of this.scheduled.values()) this.clock.clearTimeout(s.timer);
      this.scheduled.clear();
    });
    await Promise.all([
      runWorkers(this.queue, 4, (key) => Promise.resolve(this.sync(key)), signal, this.log),
      runWorkers(this.evictQueue, 8, (key) => this.evict(key), signal, this.log),
    ]);
  }

  /** Works out the evictions of one node's pods ("node/<name>") or one pod ("pod/<ns>/<name>"). */
  private sync(key: string): void {
    if (key.startsWith('node/')) {
      const name = key.slice(5);
      const node = this.nodes.lister.get('', name);
      const taints = node ? noExecuteTaints(node) : [];
      for (const pod of podsOnNode(this.pods, name)) this.processPodOnNode(pod, taints);
      return;
    }
    const podKey = key.slice(4);
    const { namespace, name } = splitMetaNamespaceKey(podKey);
    const pod = this.pods.lister.get(namespace, name);
    if (!pod?.spec?.nodeName) {
      this.cancel(podKey, undefined);
      return;
    }
    const node = this.nodes.lister.get('', pod.spec.nodeName);
    this.processPodOnNode(pod, node ? noExecuteTaints(node) : []);
  }

  private processPodOnNode(pod: Pod, taints: Taint[]): void {
    const key = metaNamespaceKey(pod);
    if (taints.length === 0) {
      this.cancel(key, pod);
      return;
    }
    const { all, used } = matchingTolerations(taints, pod.spec?.tolerations);
    if (!all) {
      this.log.info('not all taints are tolerated, evicting pod', { pod: key });
      this.schedule(key, 0);
      return;
    }
    const min = minTolerationMs(used);
    if (min < 0) {
      this.cancel(key, pod);
      return;
    }
    this.schedule(key, min);
  }

  /** Deletion `delayMs` after the controller first saw the pod in need of it. */
  private schedule(key: string, delayMs: number): void {
    const now = this.clock.now();
    const existing = this.scheduled.get(key);
    const createdAt = existing?.createdAt ?? now;
    const fireAt = createdAt + delayMs;
    if (existing) {
      if (existing.fireAt === fireAt) return;
      this.clock.clearTimeout(existing.timer);
    }
    const timer = this.clock.setTimeout(() => this.evictQueue.add(key), Math.max(0, fireAt - now));
    this.scheduled.set(key, { createdAt, fireAt, timer });
    if (!existing && delayMs > 0) this.log.info('pod scheduled for deletion', { pod: key, inMs: delayMs });
  }

  private cancel(key: string, pod: Pod | undefined): void {
    const s = this.scheduled.get(key);
    if (!s) return;
    this.clock.clearTimeout(s.timer);
    this.scheduled.delete(key);
    if (pod) this.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  /** Marks the pod with DisruptionTarget, then deletes it. */
  private async evict(key: string): Promise<void> {
    if (!this.scheduled.has(key)) return;
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pod = this.pods.lister.get(namespace, name);
    if (!pod) {
      this.scheduled.delete(key);
      return;
    }
    this.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    const ref = { ...podsRef, namespace };
    const condition = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'DeletionByTaintManager',
      message: 'Taint manager: deleting due to NoExecute taint',
      lastTransitionTime: timeNow(this.clock.now()),
    };
    try {
      if (!pod.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True')) {
        await this.client.patch(ref, name, { status: { conditions: [condition] } }, 'strategic', { subresource: 'status' });
      }
      await this.client.delete(ref, name, { preconditions: { uid: String(pod.metadata?.uid ?? '') } });
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
    }
    this.scheduled.delete(key);
  }
}

function noExecuteTaints(node: NodeObject): Taint[] {
  return (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}
