// The cluster IP and node port allocation of Services in the API server (upstream's service REST storage
// with its allocation transactions). Both live in the store, so several API servers on one store agree:
// cluster IPs as IPAddress objects (cluster-ip-allocator.ts), node ports as one compare-and-swapped snapshot
// (node-port-allocator.ts). A create or update that fails gives back what it took; a delete frees what the
// service held; the repair (service-allocation-repair.ts) mends what a crash left behind.
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { IPFamily } from '../../api/ip.js';
import { canonicalIP } from '../../api/ip.js';
import { apiErrors, isStatusError } from '../../apimachinery/errors/status-error.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import type { Logger } from '../../base/log.js';
import type { Store } from '../../storage/store.js';
import type { AllocationHooks, AllocationTxn, RegistryStore } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import type { ServiceRef } from './cluster-ip-allocator.js';
import { ClusterIPAllocator } from './cluster-ip-allocator.js';
import { StoredPortAllocator } from './node-port-allocator.js';
import type { PortAllocator } from './service-allocator-bitmaps.js';
import { AllocationError } from './service-allocator-bitmaps.js';
import type { ServiceStrategy } from './services.js';

export { AllocationError, IPAllocator, PortAllocator, parsePortRange, parseServiceCIDRs } from './service-allocator-bitmaps.js';

type Spec = NonNullable<Service['spec']>;
const needsNodePort = (s: Spec): boolean => s.type === 'NodePort' || s.type === 'LoadBalancer';
const needsHealthCheck = (s: Spec): boolean => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
const isHeadless = (s: Spec): boolean => (s.clusterIPs ?? [])[0] === 'None' || s.clusterIP === 'None';
const shouldAllocateNodePorts = (s: Spec): boolean => s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);

/** The node ports a service holds (ports and health check). */
function nodePortsOf(spec: Spec): number[] {
  const out = new Set<number>();
  for (const p of spec.ports ?? []) if (p.nodePort) out.add(p.nodePort);
  if (spec.healthCheckNodePort) out.add(spec.healthCheckNodePort);
  return [...out];
}

/** Cluster IPs by family. */
function clusterIPsOf(spec: Spec): Map<string, string> {
  const out = new Map<string, string>();
  if (spec.type === 'ExternalName' || isHeadless(spec)) return out;
  (spec.clusterIPs ?? []).forEach((ip, i) => {
    const fam = (spec.ipFamilies ?? [])[i] ?? (ip.includes(':') ? 'IPv6' : 'IPv4');
    if (ip) out.set(fam, ip);
  });
  return out;
}

/** What an allocation step did, to undo or finish. */
interface Steps {
  ips: { family: string; ip: string }[];
  ports: number[];
  releaseIPs: { family: string; ip: string }[];
  releasePorts: number[];
}

const newSteps = (): Steps => ({ ips: [], ports: [], releaseIPs: [], releasePorts: [] });

/** The node ports and cluster IPs a stored service holds, for the repair. */
export function serviceHoldings(obj: KObject): { ips: Map<string, string>; ports: number[] } {
  const spec = (obj as Service).spec ?? {};
  return { ips: clusterIPsOf(spec), ports: nodePortsOf(spec) };
}

export interface ServiceAllocatorOptions {
  serviceCIDRs: readonly string[];
  nodePortRange: { base: number; size: number };
  strategy: ServiceStrategy;
  /** The IPAddress registry: cluster IPs are allocated by creating its objects. */
  ipAddresses: RegistryStore;
  /** The store that holds the node port snapshot. */
  store: Store;
  log?: Logger;
}

/**
 * The API server's allocators for Services: cluster IPs per family and node ports, with the create and
 * update transactions the service registry runs around its writes.
 */
export class ServiceAllocator implements AllocationHooks {
  readonly ipAllocators: Map<string, ClusterIPAllocator>;
  readonly nodePorts: StoredPortAllocator;
  /** Ranges of ServiceCIDR objects by CIDR, with the ServiceCIDRs that name them and whether they are Ready. */
  private readonly extra = new Map<string, { allocator: ClusterIPAllocator; owners: Map<string, boolean>; ready: boolean }>();
  /** Every IPAddress name seen, to fill the bitmap of a range that appears later. */
  private readonly known = new Set<string>();
  private readonly ipAddresses: RegistryStore;
  private readonly strategy: ServiceStrategy;
  private readonly log: Logger | undefined;

  constructor(options: ServiceAllocatorOptions) {
    this.log = options.log;
    this.ipAllocators = new Map(options.serviceCIDRs.map((c) => {
      const a = new ClusterIPAllocator(c, options.ipAddresses);
      return [a.family, a] as const;
    }));
    this.nodePorts = new StoredPortAllocator(options.store, options.nodePortRange);
    this.ipAddresses = options.ipAddresses;
    this.strategy = options.strategy;
  }

  /** The node port snapshot as this server last saw it. */
  get ports(): PortAllocator {
    return this.nodePorts.snapshot;
  }

  /** The families of the service CIDRs, the primary first. */
  get families(): IPFamily[] {
    return [...this.ipAllocators.keys()] as IPFamily[];
  }

  /** An allocator whose range holds an address (the flags' ranges first, then ServiceCIDRs'), if any. */
  allocatorFor(ip: string): ClusterIPAllocator | undefined {
    return this.allAllocators().find((a) => a.contains(ip));
  }

  private allAllocators(): ClusterIPAllocator[] {
    return [...this.ipAllocators.values(), ...[...this.extra.values()].map((e) => e.allocator)];
  }

  /**
   * The allocators a family allocates from: the flags' range first, then the ranges of other ServiceCIDRs
   * that are not marked Ready=False (upstream assumes Ready when no controller set the condition).
   */
  private allocatorsOf(family: string): ClusterIPAllocator[] {
    const out: ClusterIPAllocator[] = [];
    const primary = this.ipAllocators.get(family);
    if (primary) out.push(primary);
    for (const e of this.extra.values()) if (e.ready && e.allocator.family === family) out.push(e.allocator);
    return out;
  }

  /** Follows a change of an IPAddress object, keeping the candidate bitmaps in step with the store. */
  observeIPAddress(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject): void {
    const name = obj.metadata?.name ?? '';
    if (type === 'DELETED') this.known.delete(name);
    else this.known.add(name);
    for (const a of this.allAllocators()) if (a.contains(name)) a.observe(type, obj);
  }

  /**
   * Follows a change of a ServiceCIDR (upstream's MetaAllocator): its CIDRs become ranges to allocate from
   * while it exists, is not being deleted and is not marked Ready=False.
   */
  observeServiceCIDR(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject): void {
    const name = obj.metadata?.name ?? '';
    const spec = (obj.spec ?? {}) as { cidrs?: string[] };
    const conditions = ((obj.status ?? {}) as { conditions?: { type: string; status: string }[] }).conditions ?? [];
    const ready = type !== 'DELETED' && !obj.metadata?.deletionTimestamp && !conditions.some((c) => c.type === 'Ready' && c.status === 'False');
    const wanted = new Set(type === 'DELETED' ? [] : (spec.cidrs ?? []));
    for (const [cidr, e] of this.extra) {
      if (!wanted.has(cidr)) e.owners.delete(name);
      if (e.owners.size === 0) this.extra.delete(cidr);
      else e.ready = [...e.owners.values()].some(Boolean);
    }
    for (const cidr of wanted) {
      // The flags' ranges (the default ServiceCIDR's) are always allocated from.
      if ([...this.ipAllocators.values()].some((a) => a.rangeText === cidr)) continue;
      let e = this.extra.get(cidr);
      if (!e) {
        let allocator: ClusterIPAllocator;
        try {
          allocator = new ClusterIPAllocator(cidr, this.ipAddresses);
        } catch {
          continue; // too small to allocate from
        }
        for (const ip of this.known) if (allocator.contains(ip)) allocator.hint.mark(ip);
        e = { allocator, owners: new Map(), ready };
        this.extra.set(cidr, e);
      }
      e.owners.set(name, ready);
      e.ready = [...e.owners.values()].some(Boolean);
    }
  }

  private invalid(obj: KObject, path: ReturnType<typeof newPath>, value: unknown, message: string): Error {
    return apiErrors.invalid('', 'Service', obj.metadata?.name ?? '', [field.invalid(path, value, message)]);
  }

  /** Gives an address back, whichever range it came from (its IPAddress goes even if no range holds it now). */
  private async release(ip: string): Promise<void> {
    const holders = this.allAllocators().filter((a) => a.contains(ip));
    if (holders.length === 0) {
      await this.ipAddresses.delete('', canonicalIP(ip) ?? ip).catch((err: unknown) => {
        if (!isStatusError(err, 'NotFound')) throw err;
      });
      return;
    }
    await holders[0]!.release(ip);
    for (const other of holders.slice(1)) other.hint.release(ip);
  }

  /**
   * Gives back addresses and ports. It never fails the request it serves: what it cannot give back (the
   * store unreachable) is a leak the repair frees later.
   */
  private async give(ips: Steps['ips'], ports: number[]): Promise<void> {
    const results = await Promise.allSettled([
      ...ips.map(({ ip }) => this.release(ip)),
      this.nodePorts.release(ports),
    ]);
    for (const r of results) {
      if (r.status === 'rejected') this.log?.warn('could not release a service allocation; the repair will', { error: r.reason });
    }
  }

  private txn(steps: Steps, dryRun: boolean): AllocationTxn {
    return {
      commit: async () => {
        if (!dryRun) await this.give(steps.releaseIPs, steps.releasePorts);
      },
      revert: async () => {
        if (!dryRun) await this.give(steps.ips, steps.ports);
      },
    };
  }

  /** Runs an allocation step; when it fails, what the transaction took so far is given back first. */
  private async step<T>(steps: Steps, dryRun: boolean, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      await this.txn(steps, dryRun).revert();
      throw err;
    }
  }

  /** Fills spec.clusterIPs for the families that lack an address; requested ones are reserved. */
  private async allocClusterIPs(obj: KObject, spec: Spec, steps: Steps, dryRun: boolean, onlyFrom = 0): Promise<void> {
    if (spec.type === 'ExternalName' || isHeadless(spec)) return;
    const families = spec.ipFamilies ?? [];
    const ips = [...(spec.clusterIPs ?? [])];
    const svc: ServiceRef = { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
    for (let i = onlyFrom; i < families.length; i++) {
      const fam = families[i]!;
      const ranges = this.allocatorsOf(fam);
      if (ranges.length === 0) continue;
      const wanted = ips[i] ?? '';
      await this.step(steps, dryRun, async () => {
        try {
          if (wanted === '') {
            const ip = await this.allocateNextFrom(ranges, svc, dryRun);
            ips[i] = ip;
            if (!dryRun) steps.ips.push({ family: fam, ip });
          } else {
            // Any range that holds the address will do (upstream's getAllocator); none: a mismatched network.
            const range = ranges.find((r) => r.inPrefix(wanted));
            if (!range) throw new AllocationError('Mismatched', 'the provided network does not match the current range');
            await range.allocate(wanted, svc, dryRun);
            if (!dryRun) steps.ips.push({ family: fam, ip: wanted });
          }
        } catch (err) {
          if (err instanceof AllocationError && err.reason !== 'Full') {
            throw this.invalid(obj, newPath('spec', 'clusterIPs'), [...(spec.clusterIPs ?? [])], `failed to allocate IP ${wanted}: ${err.message}`);
          }
          if (err instanceof AllocationError) throw apiErrors.internal(new Error(`failed to allocate a serviceIP: ${err.message}`));
          throw err;
        }
      });
    }
    spec.clusterIPs = ips;
    spec.clusterIP = ips[0];
  }

  /** A free address from the first range that has one. */
  private async allocateNextFrom(ranges: ClusterIPAllocator[], svc: ServiceRef, dryRun: boolean): Promise<string> {
    for (const r of ranges) {
      try {
        return await r.allocateNext(svc, dryRun);
      } catch (err) {
        if (!(err instanceof AllocationError && err.reason === 'Full')) throw err;
      }
    }
    throw new AllocationError('Full', 'range is full');
  }

  private async allocPort(obj: KObject, port: number, path: ReturnType<typeof newPath>, steps: Steps, dryRun: boolean): Promise<void> {
    await this.step(steps, dryRun, async () => {
      try {
        if (dryRun) await this.nodePorts.check(port);
        else {
          await this.nodePorts.allocate(port);
          steps.ports.push(port);
        }
      } catch (err) {
        if (err instanceof AllocationError) throw this.invalid(obj, path, port, err.message);
        throw err;
      }
    });
  }

  private async nextPort(steps: Steps, dryRun: boolean): Promise<number> {
    return this.step(steps, dryRun, async () => {
      try {
        if (dryRun) return await this.nodePorts.peekNext();
        const p = await this.nodePorts.allocateNext();
        steps.ports.push(p);
        return p;
      } catch (err) {
        if (err instanceof AllocationError) throw apiErrors.internal(new Error(`failed to allocate a nodePort: ${err.message}`));
        throw err;
      }
    });
  }

  /** Node ports for the ports that need one; ports with the same port number share one (upstream's initNodePorts). */
  private async allocNodePorts(obj: KObject, spec: Spec, held: Set<number>, steps: Steps, dryRun: boolean): Promise<void> {
    if (!needsNodePort(spec)) return;
    const byPort = new Map<number, number>();
    const ports: ServicePort[] = spec.ports ?? [];
    for (const [i, p] of ports.entries()) {
      if (!p.nodePort && !shouldAllocateNodePorts(spec)) continue;
      const path = newPath('spec', 'ports').index(i).child('nodePort');
      if (p.nodePort) {
        if (!held.has(p.nodePort) && !steps.ports.includes(p.nodePort)) await this.allocPort(obj, p.nodePort, path, steps, dryRun);
        byPort.set(p.port, p.nodePort);
        continue;
      }
      const same = byPort.get(p.port) ?? ports.find((q) => q.port === p.port && q.nodePort)?.nodePort;
      p.nodePort = same ?? (await this.nextPort(steps, dryRun));
      byPort.set(p.port, p.nodePort);
    }
  }

  async beginCreate(obj: KObject, dryRun: boolean): Promise<AllocationTxn> {
    const errs = this.strategy.allocationErrors(obj, undefined);
    if (errs.length > 0) throw apiErrors.invalid('', 'Service', obj.metadata?.name ?? '', errs);
    const spec = ((obj as Service).spec ??= {});
    const steps = newSteps();
    await this.allocClusterIPs(obj, spec, steps, dryRun);
    await this.allocNodePorts(obj, spec, new Set(), steps, dryRun);
    if (needsHealthCheck(spec)) {
      if (spec.healthCheckNodePort) await this.allocPort(obj, spec.healthCheckNodePort, newPath('spec', 'healthCheckNodePort'), steps, dryRun);
      else spec.healthCheckNodePort = await this.nextPort(steps, dryRun);
    }
    return this.txn(steps, dryRun);
  }

  async beginUpdate(obj: KObject, old: KObject, dryRun: boolean): Promise<AllocationTxn> {
    const errs = this.strategy.allocationErrors(obj, old);
    if (errs.length > 0) throw apiErrors.invalid('', 'Service', obj.metadata?.name ?? '', errs);
    const spec = ((obj as Service).spec ??= {});
    const prev = (old as Service).spec ?? {};
    const steps = newSteps();
    const oldIPs = clusterIPsOf(prev);
    if (prev.type === 'ExternalName' && spec.type !== 'ExternalName') {
      await this.allocClusterIPs(obj, spec, steps, dryRun);
    } else if (spec.type === 'ExternalName' || (!isHeadless(prev) && isHeadless(spec))) {
      for (const [family, ip] of oldIPs) steps.releaseIPs.push({ family, ip });
    } else if (!isHeadless(prev)) {
      const oldFams = prev.ipFamilies ?? [];
      const fams = spec.ipFamilies ?? [];
      if (oldFams.length === 1 && fams.length === 2) await this.allocClusterIPs(obj, spec, steps, dryRun, 1);
      if (oldFams.length === 2 && fams.length === 1) {
        const fam = oldFams[1]!;
        const ip = oldIPs.get(fam);
        if (ip) steps.releaseIPs.push({ family: fam, ip });
      }
    }
    const held = new Set(nodePortsOf(prev));
    await this.allocNodePorts(obj, spec, held, steps, dryRun);
    if (needsHealthCheck(spec)) {
      if (!spec.healthCheckNodePort) spec.healthCheckNodePort = await this.nextPort(steps, dryRun);
      else if (!held.has(spec.healthCheckNodePort)) await this.allocPort(obj, spec.healthCheckNodePort, newPath('spec', 'healthCheckNodePort'), steps, dryRun);
    }
    const kept = new Set(nodePortsOf(spec));
    for (const p of held) if (!kept.has(p)) steps.releasePorts.push(p);
    return this.txn(steps, dryRun);
  }

  async afterDelete(obj: KObject): Promise<void> {
    const spec = (obj as Service).spec ?? {};
    await this.give([...clusterIPsOf(spec)].map(([family, ip]) => ({ family, ip })), nodePortsOf(spec));
  }
}
