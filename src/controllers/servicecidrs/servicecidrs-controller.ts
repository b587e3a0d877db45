// The ServiceCIDR controller (upstream's pkg/controller/servicecidrs, "service-cidr-controller"): every
// ServiceCIDR gets the protection finalizer and the Ready condition; one being deleted keeps its finalizer
// (and says Ready=False, Terminating) while an IPAddress of the service allocator lies in it and in no other
// ServiceCIDR, and loses it ten seconds after its deletion began, once the API servers' allocators stopped
// allocating from it.
import type { IPAddr } from '../../api/ip.js';
import { cidrContains, parseCIDR, parseIP } from '../../api/ip.js';
import type { Logger } from '../../base/log.js';
import type { KubeObject, RateLimitingQueue, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus } from '../../client/index.js';
import { ClockedRequeue } from '../common/clocked-requeue.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';

const serviceCIDRsRef = { group: 'networking.k8s.io', version: 'v1', resource: 'servicecidrs' };
const ipAddressesRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ipaddresses' };

/** Upstream's ServiceCIDRProtectionFinalizer. */
export const serviceCIDRFinalizer = 'networking.k8s.io/service-cidr-finalizer';
/** How long after a deletion began the finalizer stays, so that every allocator has stopped using the range. */
export const deletionGracePeriodMs = 10_000;

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** A ServiceCIDR as the controller reads it. */
export interface ServiceCIDR extends KubeObject {
  metadata?: KubeObject['metadata'] & { deletionTimestamp?: string; finalizers?: string[] };
  spec?: { cidrs?: string[] };
  status?: { conditions?: Condition[] };
}

const readyMessage = 'Kubernetes Service CIDR is ready';
const blockedMessage = 'There are still IPAddresses referencing the ServiceCIDR, please remove them or create a new ServiceCIDR';

function cidrsOf(sc: ServiceCIDR): NonNullable<ReturnType<typeof parseCIDR>>[] {
  return (sc.spec?.cidrs ?? []).map(parseCIDR).filter((c) => c !== undefined);
}

/** Keeps ServiceCIDRs' finalizer and Ready condition. */
export class ServiceCIDRsController implements Controller {
  readonly name = 'service-cidr-controller';
  private readonly ctx: ControllerContext;
  private readonly log: Logger;
  private readonly serviceCIDRs: SharedInformer<ServiceCIDR>;
  private readonly ipAddresses: SharedInformer;
  private readonly queue: RateLimitingQueue<string> = newQueue('servicecidrs');
  private readonly requeue: ClockedRequeue;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.log = ctx.log.with({ controller: this.name });
    this.requeue = new ClockedRequeue(ctx.clock, this.queue);
    this.serviceCIDRs = ctx.informers.informerFor<ServiceCIDR>(serviceCIDRsRef);
    this.ipAddresses = ctx.informers.informerFor(ipAddressesRef);
    const enqueue = (o: KubeObject): void => this.queue.add(o.metadata?.name ?? '');
    this.serviceCIDRs.addEventHandler({
      // A new range may unblock the deletion of ranges it contains.
      onAdd: (sc) => {
        enqueue(sc);
        for (const other of this.serviceCIDRs.lister.list()) if (other.metadata?.deletionTimestamp) enqueue(other);
      },
      onUpdate: (_old, sc) => enqueue(sc),
      onDelete: (sc) => {
        enqueue(sc instanceof DeletedFinalStateUnknown ? sc.obj : sc);
        for (const other of this.serviceCIDRs.lister.list()) if (other.metadata?.deletionTimestamp) enqueue(other);
      },
    });
    const byAddress = (o: KubeObject): void => {
      const ip = parseIP(o.metadata?.name ?? '');
      if (!ip || o.metadata?.labels?.['ipaddress.kubernetes.io/managed-by'] !== 'ipallocator.k8s.io') return;
      for (const sc of this.containing(ip)) enqueue(sc);
    };
    this.ipAddresses.addEventHandler({ onAdd: byAddress, onDelete: (o) => byAddress(o instanceof DeletedFinalStateUnknown ? o.obj : o) });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.serviceCIDRs.waitForSync(signal), this.ipAddresses.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, 5, (key) => this.sync(key), signal, this.log);
    this.requeue.clear();
  }

  /** The ServiceCIDRs one of whose ranges holds the address. */
  private containing(ip: IPAddr): ServiceCIDR[] {
    return this.serviceCIDRs.lister.list().filter((sc) => cidrsOf(sc).some((c) => cidrContains(c, ip)));
  }

  async sync(name: string): Promise<void> {
    const sc = this.serviceCIDRs.lister.get('', name);
    if (!sc) return;
    if (sc.metadata?.deletionTimestamp) {
      if (!this.canDelete(sc)) {
        const ready = (sc.status?.conditions ?? []).find((c) => c.type === 'Ready');
        if (ready?.status !== 'False' || ready.reason !== 'Terminating') {
          await this.setReady(name, { type: 'Ready', status: 'False', reason: 'Terminating', message: blockedMessage });
        }
        return;
      }
      const left = Date.parse(sc.metadata.deletionTimestamp) + deletionGracePeriodMs - this.ctx.clock.now();
      if (left > 0) {
        this.requeue.addAfter(name, left);
        return;
      }
      await this.changeFinalizers(name, (list) => list.filter((f) => f !== serviceCIDRFinalizer));
      return;
    }
    if (!(sc.metadata?.finalizers ?? []).includes(serviceCIDRFinalizer)) {
      await this.changeFinalizers(name, (list) => (list.includes(serviceCIDRFinalizer) ? list : [...list, serviceCIDRFinalizer]));
    }
    const ready = (sc.status?.conditions ?? []).find((c) => c.type === 'Ready');
    if (ready?.status !== 'True') await this.setReady(name, { type: 'Ready', status: 'True', reason: '', message: readyMessage });
  }

  /**
   * Upstream's canDeleteCIDR: a range inside another ServiceCIDR's can always go; otherwise it can go when
   * no address of the allocator lies in it alone.
   */
  private canDelete(sc: ServiceCIDR): boolean {
    const name = sc.metadata?.name;
    const others = this.serviceCIDRs.lister.list().filter((o) => o.metadata?.name !== name);
    const mine = cidrsOf(sc);
    const hasParent = mine.every((c) => others.some((o) => cidrsOf(o).some((p) => p.family === c.family && p.prefix <= c.prefix && cidrContains(p, { family: c.family, value: c.base }))));
    if (hasParent) return true;
    for (const ipObj of this.ipAddresses.lister.list()) {
      if (ipObj.metadata?.labels?.['ipaddress.kubernetes.io/managed-by'] !== 'ipallocator.k8s.io') continue;
      const ip = parseIP(ipObj.metadata.name ?? '');
      if (!ip || !mine.some((c) => cidrContains(c, ip))) continue;
      const holders = this.containing(ip);
      if (holders.length === 1 && holders[0]!.metadata?.name === name) {
        this.log.info('deleting ServiceCIDR blocked by IP address', { serviceCIDR: name, ipAddress: ipObj.metadata.name }, 2);
        return false;
      }
    }
    return true;
  }

  /** Sets the Ready condition through the status subresource, from a fresh read. */
  private async setReady(name: string, condition: Condition): Promise<void> {
    try {
      const cur = await this.ctx.client.get<ServiceCIDR>(serviceCIDRsRef, name);
      const others = (cur.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
      const status = { ...cur.status, conditions: [...others, { ...condition, lastTransitionTime: new Date(this.ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z') }] };
      await this.ctx.client.updateStatus(serviceCIDRsRef, { ...cur, status });
    } catch (err) {
      if (!isStatus(err, 'NotFound')) throw err;
    }
  }

  /** Rewrites metadata.finalizers from a fresh read (a conflict retries through the queue). */
  private async changeFinalizers(name: string, change: (list: string[]) => string[]): Promise<void> {
    try {
      const cur = await this.ctx.client.get<ServiceCIDR>(serviceCIDRsRef, name);
      const before = cur.metadata?.finalizers ?? [];
      const after = change([...before]);
      if (JSON.stringify(after) === JSON.stringify(before)) return;
      await this.ctx.client.update(serviceCIDRsRef, { ...cur, metadata: { ...cur.metadata, finalizers: after } });
    } catch (err) {
      if (!isStatus(err, 'NotFound')) throw err;
    }
  }
}
