// kube-controller-manager: runs the selected controllers against the API through the client library,
// under leader election so that only one manager acts when several servers share a cluster.
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import type { Clock, RESTClient } from '../client/index.js';
import { EventRecorder, LeaderElector, leaseLock, realClock } from '../client/index.js';
import type { Controller, ControllerConfig, ControllerContext } from './common/controller.js';
import { InformerFactory } from './common/informer-factory.js';
import { CronJobController } from './cronjob/cronjob-controller.js';
import { DaemonSetController } from './daemon/daemonset-controller.js';
import { DeploymentController } from './deployment/deployment-controller.js';
import { DisruptionController } from './disruption/disruption-controller.js';
import { EndpointsController } from './endpoint/endpoints-controller.js';
import { EndpointSliceController } from './endpointslice/endpointslice-controller.js';
import { EndpointSliceMirroringController } from './endpointslicemirroring/mirroring-controller.js';
import { GarbageCollector } from './garbagecollector/garbage-collector.js';
import { JobController } from './job/job-controller.js';
import { NamespaceController } from './namespace/namespace-controller.js';
import { NodeIpamController } from './nodeipam/node-ipam-controller.js';
import { NodeLifecycleController } from './nodelifecycle/node-lifecycle-controller.js';
import { PodGCController } from './podgc/podgc-controller.js';
import { ReplicaSetController } from './replicaset/replicaset-controller.js';
import { ServiceAccountController } from './serviceaccount/serviceaccount-controller.js';
import { TokensController } from './serviceaccount/tokens-controller.js';
import { RootCACertPublisher } from './rootcacertpublisher/root-ca-cert-publisher.js';
import { ServiceCIDRsController } from './servicecidrs/servicecidrs-controller.js';
import { StatefulSetController } from './statefulset/statefulset-controller.js';
import { TaintEvictionController } from './tainteviction/taint-eviction-controller.js';
import { TTLAfterFinishedController } from './ttlafterfinished/ttl-after-finished-controller.js';

/** Every controller this manager knows, by upstream's name in --controllers. */
const known: Record<string, (ctx: ControllerContext) => Controller> = {
  cronjob: (ctx) => new CronJobController(ctx),
  daemonset: (ctx) => new DaemonSetController(ctx),
  deployment: (ctx) => new DeploymentController(ctx),
  disruption: (ctx) => new DisruptionController(ctx),
  endpoint: (ctx) => new EndpointsController(ctx),
  endpointslice: (ctx) => new EndpointSliceController(ctx),
  endpointslicemirroring: (ctx) => new EndpointSliceMirroringController(ctx),
  garbagecollector: (ctx) => new GarbageCollector(ctx),
  job: (ctx) => new JobController(ctx),
  namespace: (ctx) => new NamespaceController(ctx),
  nodeipam: (ctx) => new NodeIpamController(ctx),
  nodelifecycle: (ctx) => new NodeLifecycleController(ctx),
  podgc: (ctx) =>
    new PodGCController(
      ctx,
      ctx.config?.terminatedPodGCThreshold !== undefined ? { terminatedPodThreshold: ctx.config.terminatedPodGCThreshold } : {},
    ),
  replicaset: (ctx) => new ReplicaSetController(ctx),
  'root-ca-cert-publisher': (ctx) => new RootCACertPublisher(ctx),
  'service-cidr-controller': (ctx) => new ServiceCIDRsController(ctx),
  serviceaccount: (ctx) => new ServiceAccountController(ctx),
  'serviceaccount-token': (ctx) => new TokensController(ctx),
  statefulset: (ctx) => new StatefulSetController(ctx),
  'taint-eviction-controller': (ctx) => new TaintEvictionController(ctx),
  'ttl-after-finished': (ctx) => new TTLAfterFinishedController(ctx),
};

/** The controllers `--controllers` selects: "*" for all, a name to add one, "-name" to leave one out. */
export function selectControllers(spec: string): string[] {
  const parts = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const all = Object.keys(known);
  for (const p of parts) {
    const name = p.startsWith('-') ? p.slice(1) : p;
    if (name !== '*' && !all.includes(name)) {
      throw new Error(`"${name}" is not in the list of known controllers (${all.join(', ')})`);
    }
  }
  const selected = new Set(parts.includes('*') ? all : []);
  for (const p of parts) {
    if (p.startsWith('-')) selected.delete(p.slice(1));
    else if (p !== '*') selected.add(p);
  }
  return all.filter((n) => selected.has(n));
}

export interface ControllerManagerOptions {
  client: RESTClient;
  /** --controllers; default "*". */
  controllers?: string;
  /** Leader election on the Lease kube-system/kube-controller-manager; default on. */
  leaderElect?: boolean;
  /** This manager's identity in the Lease; default hostname plus a random suffix, as upstream. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  log?: Logger;
  /** Settings of individual controllers (upstream's component config, from the server's flags). */
  config?: ControllerConfig;
}

/** The controller manager component. */
export class ControllerManager {
  private readonly options: ControllerManagerOptions;
  private readonly log: Logger;
  readonly names: string[];
  readonly identity: string;
  private leader = false;

  constructor(options: ControllerManagerOptions) {
    this.options = options;
    this.log = options.log ?? logger('controller-manager');
    this.names = selectControllers(options.controllers ?? '*');
    this.identity = options.identity ?? `${hostname()}_${Math.random().toString(16).slice(2, 10)}`;
  }

  /** True while this manager holds the lease (or runs without leader election). */
  get isLeader(): boolean {
    return this.leader;
  }

  /** Runs until the signal aborts: waits for the lease, then runs every selected controller. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.options.leaderElect === false) return this.runControllers(signal);
    const elector = new LeaderElector({
      lock: leaseLock(this.options.client, 'kube-system', 'kube-controller-manager'),
      identity: this.identity,
      ...(this.options.leaseDurationMs !== undefined ? { leaseDurationMs: this.options.leaseDurationMs } : {}),
      ...(this.options.renewDeadlineMs !== undefined ? { renewDeadlineMs: this.options.renewDeadlineMs } : {}),
      ...(this.options.retryPeriodMs !== undefined ? { retryPeriodMs: this.options.retryPeriodMs } : {}),
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      callbacks: {
        onStartedLeading: (leading) => {
          this.log.info('became leader', { identity: this.identity });
          void this.runControllers(leading);
        },
        onStoppedLeading: () => {
          if (this.leader) this.log.info('lost leadership', { identity: this.identity });
          this.leader = false;
        },
      },
      log: this.log,
    });
    await elector.run(signal);
  }

  private async runControllers(signal: AbortSignal): Promise<void> {
    this.leader = true;
    // Every controller and informer waits on this one signal: many listeners are expected, not a leak.
    setMaxListeners(0, signal);
    const client = this.options.client;
    const informers = new InformerFactory(client);
    const ctx: ControllerContext = {
      client,
      informers,
      recorder: (component) => new EventRecorder({ client, component }),
      log: this.log,
      clock: this.options.clock ?? realClock,
      ...(this.options.config ? { config: this.options.config } : {}),
    };
    const controllers = this.names.map((n) => known[n]!(ctx));
    const running = controllers.map((c) =>
      c.run(signal).catch((err: unknown) => this.log.error('controller failed', { controller: c.name, error: err instanceof Error ? err : String(err) })),
    );
    informers.start(signal);
    this.log.info('started controllers', { controllers: this.names });
    await Promise.all(running);
    this.leader = false;
  }
}
