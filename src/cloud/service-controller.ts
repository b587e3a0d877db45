// The cloud-controller-manager's service controller (upstream's k8s.io/cloud-provider service controller):
// for every Service of type LoadBalancer without a loadBalancerClass it adds the cleanup finalizer, has the
// provider ensure a balancer over the ready nodes and writes status.loadBalancer; when the service stops
// wanting one or is deleted it removes the balancer, clears the status and drops the finalizer. A change in
// the set of usable nodes updates every balancer. Events carry upstream's reasons.
import { onAbort } from '../base/abort.js';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import type { KubeObject, RESTClient } from '../client/index.js';
import { DeletedFinalStateUnknown, EventRecorder, isStatus, metaNamespaceKey, RateLimitingQueue, SharedInformer, splitMetaNamespaceKey } from '../client/index.js';
import type { CloudProvider, LoadBalancer } from './provider.js';

/** The finalizer that keeps a service until its balancer is gone. */
export const loadBalancerCleanupFinalizer = 'service.kubernetes.io/load-balancer-cleanup';
const excludeLabel = 'node.kubernetes.io/exclude-from-external-load-balancers';

type ServiceObject = Service & KubeObject;
type NodeObject = Node & KubeObject;

const servicesRef = { group: '', version: 'v1', resource: 'services' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };

const wantsLoadBalancer = (s: Service): boolean => s.spec?.type === 'LoadBalancer' && !s.spec.loadBalancerClass;
const hasFinalizer = (s: Service): boolean => (s.metadata?.finalizers ?? []).includes(loadBalancerCleanupFinalizer);

/** A node a balancer may send traffic to: ready and not excluded. */
function usable(n: NodeObject): boolean {
  return (
    n.metadata?.labels?.[excludeLabel] === undefined &&
    !n.metadata?.deletionTimestamp &&
    (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** Nodes a balancer may send traffic to, by name. */
function usableNodes(nodes: readonly NodeObject[]): NodeObject[] {
  return nodes.filter(usable).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** What a balancer sees of a node: its addresses when usable, nothing otherwise. */
function balancerView(n: NodeObject): string | undefined {
  return usable(n) ? JSON.stringify(n.status?.addresses ?? []) : undefined;
}

export interface ServiceControllerOptions {
  client: RESTClient;
  cloud: CloudProvider;
  clusterName?: string;
  log?: Logger;
}

/** The service controller. */
export class CloudServiceController {
  readonly name = 'service';
  private readonly client: RESTClient;
  private readonly lb: LoadBalancer | undefined;
  private readonly clusterName: string;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  readonly services: SharedInformer<ServiceObject>;
  readonly nodes: SharedInformer<NodeObject>;
  private readonly queue = new RateLimitingQueue<string>({ name: 'service' });

  constructor(options: ServiceControllerOptions) {
    this.client = options.client;
    this.lb = options.cloud.loadBalancer();
    this.clusterName = options.clusterName ?? 'kubernetes';
    this.log = options.log ?? logger('service-controller');
    this.recorder = new EventRecorder({ client: options.client, component: 'service-controller' });
    this.services = SharedInformer.forResource<ServiceObject>(options.client, servicesRef);
    this.nodes = SharedInformer.forResource<NodeObject>(options.client, nodesRef);
    const enqueue = (s: ServiceObject): void => {
      if (wantsLoadBalancer(s) || hasFinalizer(s)) this.queue.add(metaNamespaceKey(s));
    };
    this.services.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_o, n) => enqueue(n),
      onDelete: (o) => enqueue(o instanceof DeletedFinalStateUnknown ? o.obj : o),
    });
    // Every balancer follows the usable nodes and their addresses. Each node event is judged on that node
    // alone (upstream's shouldSyncUpdatedNode), never by listing every node: a large cluster's node
    // updates would otherwise cost a pass over all nodes each.
    const nodesChanged = (): void => {
      for (const s of this.services.lister.list()) if (wantsLoadBalancer(s)) this.queue.add(metaNamespaceKey(s));
    };
    this.nodes.addEventHandler({
      onAdd: (n) => {
        if (usable(n)) nodesChanged();
      },
      onUpdate: (o, n) => {
        if (balancerView(o) !== balancerView(n)) nodesChanged();
      },
      onDelete: (o) => {
        if (usable(o instanceof DeletedFinalStateUnknown ? o.obj : o)) nodesChanged();
      },
    });
  }

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (!this.lb) {
      this.log.info('the cloud provider has no load balancers: service controller not started');
      return;
    }
    void this.services.run(signal);
    void this.nodes.run(signal);
    await Promise.all([this.services.waitForSync(signal), this.nodes.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    onAbort(signal, () => this.queue.shutDown());
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await this.queue.get();
        if (key === undefined) return;
        try {
          await this.sync(key);
          this.queue.forget(key);
        } catch (err) {
          this.log.info('sync failed, will retry', { key, error: err instanceof Error ? err.message : String(err) }, 2);
          if (this.queue.numRequeues(key) < 15) this.queue.addRateLimited(key);
          else this.queue.forget(key);
        } finally {
          this.queue.done(key);
        }
      }
    };
    await Promise.all([worker(), worker()]);
  }

  private ref(namespace: string): { group: string; version: string; resource: string; namespace: string } {
    return { ...servicesRef, namespace };
  }

  /** Level-triggered: the balancer and status the service should have. */
  async sync(key: string): Promise<void> {
    const lb = this.lb!;
    const { namespace, name } = splitMetaNamespaceKey(key);
    const svc = this.services.lister.get(namespace, name);
    if (!svc) return;
    if (!wantsLoadBalancer(svc) || svc.metadata?.deletionTimestamp) {
      if (!hasFinalizer(svc)) return;
      this.recorder.event(svc, 'Normal', 'DeletingLoadBalancer', 'Deleting load balancer');
      try {
        await lb.ensureLoadBalancerDeleted(this.clusterName, svc);
      } catch (err) {
        this.recorder.event(svc, 'Warning', 'SyncLoadBalancerFailed', `Error deleting load balancer: ${String(err)}`);
        throw err;
      }
      this.recorder.event(svc, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
      if ((svc.status?.loadBalancer?.ingress ?? []).length > 0) {
        await this.client.patch(this.ref(namespace), name, { status: { loadBalancer: { ingress: null } } }, 'merge', { subresource: 'status' });
      }
      await this.setFinalizer(svc, false);
      return;
    }
    if (!hasFinalizer(svc)) await this.setFinalizer(svc, true);
    const nodes = usableNodes(this.nodes.lister.list());
    const had = (await lb.getLoadBalancer(this.clusterName, svc)).exists;
    this.recorder.event(svc, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    let status;
    try {
      status = await lb.ensureLoadBalancer(this.clusterName, svc, nodes);
    } catch (err) {
      this.recorder.event(svc, 'Warning', 'SyncLoadBalancerFailed', `Error syncing load balancer: ${String(err)}`);
      throw err;
    }
    this.recorder.event(svc, 'Normal', had ? 'UpdatedLoadBalancer' : 'EnsuredLoadBalancer', had ? 'Updated load balancer with new hosts' : 'Ensured load balancer');
    if (JSON.stringify(svc.status?.loadBalancer?.ingress ?? []) !== JSON.stringify(status.ingress ?? [])) {
      await this.client.patch(this.ref(namespace), name, { status: { loadBalancer: { ingress: status.ingress ?? null } } }, 'merge', { subresource: 'status' });
    }
  }

  private async setFinalizer(svc: ServiceObject, present: boolean): Promise<void> {
    const others = (svc.metadata?.finalizers ?? []).filter((f) => f !== loadBalancerCleanupFinalizer);
    const finalizers = present ? [...others, loadBalancerCleanupFinalizer] : others;
    try {
      await this.client.patch(
        this.ref(svc.metadata?.namespace ?? ''),
        svc.metadata?.name ?? '',
        { metadata: { finalizers: finalizers.length > 0 ? finalizers : null, resourceVersion: svc.metadata?.resourceVersion } },
        'merge',
      );
    } catch (err) {
      if (isStatus(err, 'NotFound')) return;
      throw err;
    }
  }
}
