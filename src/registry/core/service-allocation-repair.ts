// The repair of service allocations (upstream's RepairIPAddress and the node port repair controller), run by
// the API server at start and then periodically. It mends what a crash between an allocation and the
// service's write leaves behind, and what was stored before allocations lived in the store:
// - a service's cluster IP without its IPAddress gets one; an IPAddress with a wrong reference or labels is
//   made again; two services claiming one address are reported;
// - an IPAddress of the allocator whose service is gone (and older than a minute, so that a create in flight
//   keeps its address) or no longer has that address is deleted;
// - the node port snapshot is rebuilt from the services; a port no service holds is freed only after it
//   stayed so over three repairs in a row (a create may be in flight).
import type { Logger } from '../../base/log.js';
import { canonicalIP, ipFamilyOf } from '../../api/ip.js';
import { isStatusError } from '../../apimachinery/errors/status-error.js';
import type { RegistryStore } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import type { IPAddressObject } from '../networking/ipaddresses.js';
import { ipAllocatorManager, ipFamilyLabel, managedByLabel } from '../networking/ipaddresses.js';
import { serviceIPAddress } from './cluster-ip-allocator.js';
import { IPAllocator, PortAllocator } from './service-allocator-bitmaps.js';
import type { ServiceAllocator } from './service-allocator.js';
import { serviceHoldings } from './service-allocator.js';

/** How long an IPAddress without its service is left alone (upstream: the API server's request timeout). */
export const orphanGraceSeconds = 60;
/** Repairs a port must stay unheld for before it is freed (upstream's numRepairsBeforeLeakCleanup). */
export const repairsBeforeLeakCleanup = 3;

/** An event the repair reports on an object (upstream's recorder: reason, action, message). */
export interface RepairEvent {
  object: KObject;
  kind: 'Service' | 'IPAddress';
  reason: string;
  action: string;
  message: string;
}

export interface ServiceAllocationRepairOptions {
  allocator: ServiceAllocator;
  services: RegistryStore;
  ipAddresses: RegistryStore;
  /** ServiceCIDR objects: addresses in their ranges are in range too. */
  serviceCIDRs?: RegistryStore;
  now?: () => Date;
  log?: Logger;
  /** Where Warning events go (the API server writes them as events.k8s.io Events). */
  record?: (e: RepairEvent) => Promise<void> | void;
}

/** What one repair did. */
export interface RepairResult {
  ipAddressesCreated: number;
  ipAddressesDeleted: number;
  portsFreed: number;
  problems: string[];
}

async function listAll(reg: RegistryStore): Promise<KObject[]> {
  const items: KObject[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await reg.list('', { limit: 1000, ...(after !== undefined ? { after } : {}) });
    items.push(...page.items);
    if (!page.more || page.lastKey === undefined) return items;
    after = page.lastKey;
  }
}

const keyOf = (ns: string | undefined, name: string | undefined): string => `${ns ?? ''}/${name ?? ''}`;

/** The repair loop of service allocations. */
export class ServiceAllocationRepair {
  private readonly o: ServiceAllocationRepairOptions;
  private readonly now: () => Date;
  /** Ports seen unheld, with how many repairs in a row saw them so. */
  private leaks = new Map<number, number>();

  constructor(options: ServiceAllocationRepairOptions) {
    this.o = options;
    this.now = options.now ?? (() => new Date());
  }

  private async event(result: RepairResult, e: RepairEvent): Promise<void> {
    result.problems.push(`${e.reason}: ${e.message}`);
    this.o.log?.warn(e.message, { reason: e.reason });
    try {
      await this.o.record?.(e);
    } catch {
      // An event that cannot be written is not worth failing the repair for.
    }
  }

  /** Checks every service against the IPAddresses and the node port snapshot, and mends what is wrong. */
  async runOnce(): Promise<RepairResult> {
    const result: RepairResult = { ipAddressesCreated: 0, ipAddressesDeleted: 0, portsFreed: 0, problems: [] };
    const services = await listAll(this.o.services);
    const ipObjects = (await listAll(this.o.ipAddresses)) as IPAddressObject[];
    const extraRanges = this.o.serviceCIDRs ? await this.serviceCIDRRanges() : [];
    const byKey = new Map(services.map((s) => [keyOf(s.metadata?.namespace, s.metadata?.name), s]));
    const ipByName = new Map(ipObjects.map((o) => [o.metadata?.name ?? '', o]));
    await this.repairServiceIPs(services, byKey, ipByName, extraRanges, result);
    await this.repairIPAddresses(ipObjects, byKey, result);
    await this.repairNodePorts(services, result);
    return result;
  }

  /** The ranges of stored ServiceCIDRs (besides the flags' ranges), as their parsed allocators' checks. */
  private async serviceCIDRRanges(): Promise<((ip: string) => boolean)[]> {
    const out: ((ip: string) => boolean)[] = [];
    for (const obj of await listAll(this.o.serviceCIDRs!)) {
      for (const cidr of ((obj.spec ?? {}) as { cidrs?: string[] }).cidrs ?? []) {
        try {
          const a = new IPAllocator(cidr);
          out.push((ip) => a.contains(ip));
        } catch {
          // A CIDR too small to allocate from holds nothing.
        }
      }
    }
    return out;
  }

  private async recreate(name: string, svc: KObject): Promise<void> {
    try {
      await this.o.ipAddresses.delete('', name);
    } catch (err) {
      if (!isStatusError(err, 'NotFound')) throw err;
    }
    await this.createFor(name, svc);
  }

  private async createFor(name: string, svc: KObject): Promise<void> {
    const family = ipFamilyOf(name) ?? 'IPv4';
    try {
      await this.o.ipAddresses.create('', serviceIPAddress(name, family, { namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' }));
    } catch (err) {
      if (!isStatusError(err, 'AlreadyExists')) throw err;
    }
  }

  /** Upstream's syncService: every cluster IP has its IPAddress, pointing back at the service. */
  private async repairServiceIPs(
    services: KObject[],
    byKey: Map<string, KObject>,
    ipByName: Map<string, IPAddressObject>,
    extraRanges: ((ip: string) => boolean)[],
    result: RepairResult,
  ): Promise<void> {
    for (const svc of services) {
      const ns = svc.metadata?.namespace ?? '';
      const svcName = svc.metadata?.name ?? '';
      for (const [family, raw] of serviceHoldings(svc).ips) {
        const ip = canonicalIP(raw);
        if (ip === undefined) {
          await this.event(result, { object: svc, kind: 'Service', reason: 'ClusterIPNotValid', action: 'ClusterIPValidation', message: `Cluster IP ${raw} is not a valid IP; please recreate Service` });
          continue;
        }
        if (!this.o.allocator.allocatorFor(ip) && !extraRanges.some((inRange) => inRange(ip))) {
          await this.event(result, { object: svc, kind: 'Service', reason: 'ClusterIPOutOfRange', action: 'ClusterIPAllocation', message: `Cluster IP [${family}]: ${ip} is not within any configured Service CIDR; please recreate service` });
          continue;
        }
        const obj = ipByName.get(ip);
        if (!obj) {
          await this.event(result, { object: svc, kind: 'Service', reason: 'ClusterIPNotAllocated', action: 'ClusterIPAllocation', message: `Cluster IP [${family}]: ${ip} is not allocated; repairing` });
          await this.createFor(ip, svc);
          result.ipAddressesCreated++;
          continue;
        }
        const ref = obj.spec?.parentRef ?? {};
        if ((ref.group ?? '') !== '' || ref.resource !== 'services') {
          await this.event(result, { object: svc, kind: 'Service', reason: 'ClusterIPNotAllocated', action: 'ClusterIPAllocation', message: `the ClusterIP [${family}]: ${ip} for Service ${ns}/${svcName} has a wrong reference; repairing` });
          await this.recreate(ip, svc);
          result.ipAddressesCreated++;
          continue;
        }
        if ((ref.namespace ?? '') !== ns || ref.name !== svcName) {
          const other = byKey.get(keyOf(ref.namespace, ref.name));
          if (!other) {
            await this.event(result, { object: svc, kind: 'Service', reason: 'ClusterIPNotAllocated', action: 'ClusterIPAllocation', message: `the ClusterIP [${family}]: ${ip} for Service ${ns}/${svcName} has a wrong reference; repairing` });
            await this.recreate(ip, svc);
            result.ipAddressesCreated++;
            continue;
          }
          if ([...serviceHoldings(other).ips.values()].some((v) => canonicalIP(v) === ip)) {
            await this.event(result, { object: svc, kind: 'Service', reason: 'ClusterIPAlreadyAllocated', action: 'ClusterIPAllocation', message: `Cluster IP [${family}]:${ip} was assigned to multiple services; please recreate service` });
          }
        }
        const labels = obj.metadata?.labels ?? {};
        if (labels[ipFamilyLabel] !== family || labels[managedByLabel] !== ipAllocatorManager) {
          await this.recreate(ip, svc);
          result.ipAddressesCreated++;
        }
      }
    }
  }

  /** Upstream's syncIPAddress: the allocator's IPAddresses whose service is gone or holds another address go. */
  private async repairIPAddresses(ipObjects: IPAddressObject[], byKey: Map<string, KObject>, result: RepairResult): Promise<void> {
    const now = this.now().getTime();
    for (const obj of ipObjects) {
      if (obj.metadata?.labels?.[managedByLabel] !== ipAllocatorManager) continue;
      const name = obj.metadata.name ?? '';
      const ref = obj.spec?.parentRef ?? {};
      let reason: string | undefined;
      let message = '';
      if ((ref.group ?? '') !== '' || ref.resource !== 'services') {
        reason = 'IPAddressNotAllocated';
        message = `IPAddress ${name} appears to have been modified, not referencing a Service: cleaning up`;
      } else {
        const svc = byKey.get(keyOf(ref.namespace, ref.name));
        if (!svc) {
          const age = (now - Date.parse(obj.metadata.creationTimestamp ?? '')) / 1000;
          if (!(age > orphanGraceSeconds)) continue;
          reason = 'IPAddressNotAllocated';
          message = `IPAddress: ${name} for Service ${ref.namespace ?? ''}/${ref.name ?? ''} appears to have leaked: cleaning up`;
        } else if (![...serviceHoldings(svc).ips.values()].some((v) => canonicalIP(v) === name)) {
          reason = 'IPAddressWrongReference';
          message = `IPAddress: ${name} for Service ${ref.namespace ?? ''}/${ref.name ?? ''} has a wrong reference; cleaning up`;
        }
      }
      if (reason === undefined) continue;
      await this.event(result, { object: obj, kind: 'IPAddress', reason, action: 'IPAddressAllocation', message });
      try {
        await this.o.ipAddresses.delete('', name);
        result.ipAddressesDeleted++;
      } catch (err) {
        if (!isStatusError(err, 'NotFound')) throw err;
      }
      this.o.allocator.observeIPAddress('DELETED', obj);
    }
  }

  /** Upstream's node port repair: the snapshot rebuilt from the services, leaks freed after a few rounds. */
  private async repairNodePorts(services: KObject[], result: RepairResult): Promise<void> {
    const nodePorts = this.o.allocator.nodePorts;
    const problems: RepairEvent[] = [];
    let freed = 0;
    let leaks = new Map<number, number>();
    // The build may run again when another server wrote the snapshot meanwhile: it keeps its findings apart.
    await nodePorts.replace((stored) => {
      problems.length = 0;
      freed = 0;
      leaks = new Map();
      const rebuilt = new PortAllocator(nodePorts.range);
      for (const svc of services) {
        for (const port of serviceHoldings(svc).ports) {
          if (port < rebuilt.base || port >= rebuilt.base + rebuilt.size) {
            problems.push({ object: svc, kind: 'Service', reason: 'PortOutOfRange', action: 'PortAllocation', message: `Port ${port} is not within the port range ${rebuilt.rangeText}; please recreate service` });
            continue;
          }
          if (rebuilt.has(port)) {
            problems.push({ object: svc, kind: 'Service', reason: 'PortAlreadyAllocated', action: 'PortAllocation', message: `Port ${port} was assigned to multiple services; please recreate service` });
            continue;
          }
          rebuilt.allocate(port);
          if (!stored.has(port)) {
            problems.push({ object: svc, kind: 'Service', reason: 'PortNotAllocated', action: 'PortAllocation', message: `Port ${port} is not allocated; repairing` });
          }
        }
      }
      // Ports the snapshot holds that no service does: a create may be in flight, so wait a few rounds.
      for (const port of stored.used()) {
        if (rebuilt.has(port)) continue;
        const count = (this.leaks.get(port) ?? 0) + 1;
        if (count < repairsBeforeLeakCleanup) {
          leaks.set(port, count);
          rebuilt.allocate(port);
        } else {
          freed++;
        }
      }
      return rebuilt;
    });
    this.leaks = leaks;
    result.portsFreed += freed;
    for (const p of problems) await this.event(result, p);
  }
}
