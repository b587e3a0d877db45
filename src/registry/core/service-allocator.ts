// The cluster IP and node port allocators the API server owns (upstream's ipallocator, portallocator and the
// service REST storage's allocation transactions). State is in memory: the API server rebuilds it from the
// stored services when it starts (the repair) and the service registry keeps it in step on every write.
// JavaScript runs one allocation at a time, so concurrent creates never get the same address or port.
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { CIDR, IPFamily } from '../../api/ip.js';
import { cidrContains, cidrSize, formatCIDR, formatIP, parseCIDR, parseIP } from '../../api/ip.js';
import { apiErrors } from '../../apimachinery/errors/status-error.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import type { AllocationHooks, AllocationTxn } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import type { ServiceStrategy } from './services.js';

/** Upstream's allocator errors, as their messages read. */
export class AllocationError extends Error {
  readonly reason: 'Allocated' | 'NotInRange' | 'Full';
  constructor(reason: 'Allocated' | 'NotInRange' | 'Full', message: string) {
    super(message);
    this.reason = reason;
  }
}

/** At most this many addresses of a large (IPv6) range are used, as upstream's bitmap allocator limits them. */
const maxRangeSize = 65536;

/**
 * A bitmap over a range of small integers with upstream's two bands: requests for a specific value may take
 * any free one; dynamic allocation prefers the upper band so that the lower one stays free for static
 * requests (kubernetes' service IP, the DNS service IP), and falls back to the lower band when full.
 */
class RangeBitmap {
  private readonly used: Uint8Array;
  private count = 0;
  readonly size: number;
  private readonly offset: number;

  constructor(size: number) {
    this.size = size;
    this.used = new Uint8Array(size);
    this.offset = Math.min(Math.max(16, Math.floor(size / 16)), 256, size);
  }

  has(i: number): boolean {
    return this.used[i] === 1;
  }

  take(i: number): boolean {
    if (this.used[i] === 1) return false;
    this.used[i] = 1;
    this.count++;
    return true;
  }

  free(i: number): void {
    if (this.used[i] === 1) {
      this.used[i] = 0;
      this.count--;
    }
  }

  get available(): number {
    return this.size - this.count;
  }

  /** A free index, random within the upper band first; undefined when the range is full. */
  next(): number | undefined {
    if (this.count >= this.size) return undefined;
    const scan = (lo: number, hi: number): number | undefined => {
      if (hi <= lo) return undefined;
      const start = lo + Math.floor(Math.random() * (hi - lo));
      for (let k = 0; k < hi - lo; k++) {
        const i = lo + ((start - lo + k) % (hi - lo));
        if (this.used[i] !== 1) return i;
      }
      return undefined;
    };
    return scan(this.offset, this.size) ?? scan(0, this.offset);
  }
}

/** Cluster IPs of one service CIDR. */
export class IPAllocator {
  readonly cidr: CIDR;
  readonly family: IPFamily;
  private readonly bitmap: RangeBitmap;
  /** The first usable address: IPv4 skips the network address, IPv6 the subnet-router anycast address. */
  private readonly first: bigint;

  constructor(cidrText: string) {
    const cidr = parseCIDR(cidrText);
    if (!cidr) throw new Error(`invalid service CIDR ${cidrText}`);
    this.cidr = cidr;
    this.family = cidr.family;
    const total = cidrSize(cidr);
    // IPv4 loses the network and broadcast addresses, IPv6 the subnet-router address.
    const usable = cidr.family === 'IPv4' ? total - 2n : total - 1n;
    if (usable < 1n) throw new Error(`service CIDR ${cidrText} is too small`);
    this.first = cidr.base + 1n;
    this.bitmap = new RangeBitmap(Number(usable > BigInt(maxRangeSize) ? BigInt(maxRangeSize) : usable));
  }

  /** The range as text, as upstream's messages show it. */
  get rangeText(): string {
    return formatCIDR(this.cidr);
  }

  /** The address at index i of the range (index 0 is the first usable address). */
  addressAt(i: number): string {
    return formatIP({ family: this.family, value: this.first + BigInt(i) });
  }

  private indexOf(ip: string): number | undefined {
    const parsed = parseIP(ip);
    if (!parsed || !cidrContains(this.cidr, parsed)) return undefined;
    const i = parsed.value - this.first;
    return i < 0n || i >= BigInt(this.bitmap.size) ? undefined : Number(i);
  }

  /** Reserves a requested address. */
  allocate(ip: string): void {
    const i = this.indexOf(ip);
    if (i === undefined) {
      throw new AllocationError('NotInRange', `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.rangeText}`);
    }
    if (!this.bitmap.take(i)) throw new AllocationError('Allocated', 'provided IP is already allocated');
  }

  /** True when the address is free and in range (a dry run of allocate). */
  check(ip: string): void {
    const i = this.indexOf(ip);
    if (i === undefined) {
      throw new AllocationError('NotInRange', `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.rangeText}`);
    }
    if (this.bitmap.has(i)) throw new AllocationError('Allocated', 'provided IP is already allocated');
  }

  /** Reserves any free address; `reserve` false only picks one (dry run). */
  allocateNext(reserve = true): string {
    const i = this.bitmap.next();
    if (i === undefined) throw new AllocationError('Full', `range is full`);
    if (reserve) this.bitmap.take(i);
    return this.addressAt(i);
  }

  release(ip: string): void {
    const i = this.indexOf(ip);
    if (i !== undefined) this.bitmap.free(i);
  }

  has(ip: string): boolean {
    const i = this.indexOf(ip);
    return i !== undefined && this.bitmap.has(i);
  }

  /** Free addresses left. */
  get free(): number {
    return this.bitmap.available;
  }
}

/** Node ports of the --service-node-port-range. */
export class PortAllocator {
  readonly base: number;
  readonly size: number;
  private readonly bitmap: RangeBitmap;

  constructor(range: { base: number; size: number }) {
    this.base = range.base;
    this.size = range.size;
    this.bitmap = new RangeBitmap(range.size);
  }

  get rangeText(): string {
    return `${this.base}-${this.base + this.size - 1}`;
  }

  private index(port: number): number {
    const i = port - this.base;
    if (i < 0 || i >= this.size) {
      throw new AllocationError('NotInRange', `provided port is not in the valid range. The range of valid ports is ${this.rangeText}`);
    }
    return i;
  }

  allocate(port: number): void {
    if (!this.bitmap.take(this.index(port))) throw new AllocationError('Allocated', 'provided port is already allocated');
  }

  check(port: number): void {
    if (this.bitmap.has(this.index(port))) throw new AllocationError('Allocated', 'provided port is already allocated');
  }

  allocateNext(reserve = true): number {
    const i = this.bitmap.next();
    if (i === undefined) throw new AllocationError('Full', 'range is full');
    if (reserve) this.bitmap.take(i);
    return this.base + i;
  }

  release(port: number): void {
    const i = port - this.base;
    if (i >= 0 && i < this.size) this.bitmap.free(i);
  }

  has(port: number): boolean {
    const i = port - this.base;
    return i >= 0 && i < this.size && this.bitmap.has(i);
  }
}

/** Parses --service-node-port-range ("30000-32767", or a single port). */
export function parsePortRange(text: string): { base: number; size: number } {
  const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(text);
  const lo = Number(m?.[1]);
  const hi = m?.[2] === undefined ? lo : Number(m[2]);
  if (!m || !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || hi < lo) {
    throw new Error(`invalid port range ${JSON.stringify(text)}: want a range such as 30000-32767`);
  }
  return { base: lo, size: hi - lo + 1 };
}

/** Parses --service-cidr: one CIDR or two of different families, the primary first. */
export function parseServiceCIDRs(text: string): string[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const cidrs = parts.map((p) => {
    const c = parseCIDR(p);
    if (!c) throw new Error(`invalid service CIDR ${JSON.stringify(p)}`);
    return c;
  });
  if (cidrs.length === 0 || cidrs.length > 2 || (cidrs.length === 2 && cidrs[0]!.family === cidrs[1]!.family)) {
    throw new Error(`invalid service CIDRs ${JSON.stringify(text)}: want one CIDR, or one IPv4 and one IPv6`);
  }
  return cidrs.map(formatCIDR);
}

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

/**
 * The API server's allocators for Services: cluster IPs per family and node ports, with the create and
 * update transactions the service registry runs around its writes.
 */
export class ServiceAllocator implements AllocationHooks {
  readonly ipAllocators: Map<string, IPAllocator>;
  private portAllocator: PortAllocator;
  private readonly strategy: ServiceStrategy;

  constructor(options: { serviceCIDRs: readonly string[]; nodePortRange: { base: number; size: number }; strategy: ServiceStrategy }) {
    this.ipAllocators = new Map(options.serviceCIDRs.map((c) => {
      const a = new IPAllocator(c);
      return [a.family, a] as const;
    }));
    this.portAllocator = new PortAllocator(options.nodePortRange);
    this.strategy = options.strategy;
  }

  /** The node port allocator. */
  get ports(): PortAllocator {
    return this.portAllocator;
  }

  /** The families of the service CIDRs, the primary first. */
  get families(): IPFamily[] {
    return [...this.ipAllocators.keys()] as IPFamily[];
  }

  /** Forgets everything and marks what the stored services hold (upstream's repair controllers). */
  repair(services: readonly KObject[]): { conflicts: string[] } {
    for (const [fam, a] of this.ipAllocators) this.ipAllocators.set(fam, new IPAllocator(a.rangeText));
    const ports = new PortAllocator({ base: this.ports.base, size: this.ports.size });
    this.portAllocator = ports;
    const conflicts: string[] = [];
    for (const obj of services) {
      const spec = (obj as Service).spec ?? {};
      const who = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
      for (const [fam, ip] of clusterIPsOf(spec)) {
        try {
          this.ipAllocators.get(fam)?.allocate(ip);
        } catch (err) {
          conflicts.push(`${who}: cluster IP ${ip}: ${(err as Error).message}`);
        }
      }
      for (const p of nodePortsOf(spec)) {
        try {
          ports.allocate(p);
        } catch (err) {
          conflicts.push(`${who}: node port ${p}: ${(err as Error).message}`);
        }
      }
    }
    return { conflicts };
  }

  private invalid(obj: KObject, path: ReturnType<typeof newPath>, value: unknown, message: string): Error {
    return apiErrors.invalid('', 'Service', obj.metadata?.name ?? '', [field.invalid(path, value, message)]);
  }

  private txn(steps: Steps, dryRun: boolean): AllocationTxn {
    return {
      commit: () => {
        if (dryRun) return;
        for (const { family, ip } of steps.releaseIPs) this.ipAllocators.get(family)?.release(ip);
        for (const p of steps.releasePorts) this.ports.release(p);
      },
      revert: () => {
        if (dryRun) return;
        for (const { family, ip } of steps.ips) this.ipAllocators.get(family)?.release(ip);
        for (const p of steps.ports) this.ports.release(p);
      },
    };
  }

  /** Fills spec.clusterIPs for the families that lack an address; requested ones are reserved. */
  private allocClusterIPs(obj: KObject, spec: Spec, steps: Steps, dryRun: boolean, onlyFrom = 0): void {
    if (spec.type === 'ExternalName' || isHeadless(spec)) return;
    const families = spec.ipFamilies ?? [];
    const ips = [...(spec.clusterIPs ?? [])];
    for (let i = onlyFrom; i < families.length; i++) {
      const fam = families[i]!;
      const alloc = this.ipAllocators.get(fam);
      if (!alloc) continue;
      const wanted = ips[i] ?? '';
      try {
        if (wanted === '') {
          const ip = alloc.allocateNext(!dryRun);
          ips[i] = ip;
          if (!dryRun) steps.ips.push({ family: fam, ip });
        } else if (dryRun) {
          alloc.check(wanted);
        } else {
          alloc.allocate(wanted);
          steps.ips.push({ family: fam, ip: wanted });
        }
      } catch (err) {
        this.txn(steps, dryRun).revert();
        if (err instanceof AllocationError && err.reason !== 'Full') {
          throw this.invalid(obj, newPath('spec', 'clusterIPs'), [...(spec.clusterIPs ?? [])], `failed to allocate IP ${wanted}: ${err.message}`);
        }
        throw apiErrors.internal(new Error(`failed to allocate a serviceIP: ${(err as Error).message}`));
      }
    }
    spec.clusterIPs = ips;
    spec.clusterIP = ips[0];
  }

  private allocPort(obj: KObject, port: number, path: ReturnType<typeof newPath>, steps: Steps, dryRun: boolean): void {
    try {
      if (dryRun) this.ports.check(port);
      else {
        this.ports.allocate(port);
        steps.ports.push(port);
      }
    } catch (err) {
      this.txn(steps, dryRun).revert();
      if (err instanceof AllocationError) throw this.invalid(obj, path, port, err.message);
      throw err;
    }
  }

  private nextPort(steps: Steps, dryRun: boolean): number {
    try {
      const p = this.ports.allocateNext(!dryRun);
      if (!dryRun) steps.ports.push(p);
      return p;
    } catch (err) {
      this.txn(steps, dryRun).revert();
      throw apiErrors.internal(new Error(`failed to allocate a nodePort: ${(err as Error).message}`));
    }
  }

  /** Node ports for the ports that need one; ports with the same port number share one (upstream's initNodePorts). */
  private allocNodePorts(obj: KObject, spec: Spec, held: Set<number>, steps: Steps, dryRun: boolean): void {
    if (!needsNodePort(spec)) return;
    const byPort = new Map<number, number>();
    const ports: ServicePort[] = spec.ports ?? [];
    ports.forEach((p, i) => {
      if (!p.nodePort && !shouldAllocateNodePorts(spec)) return;
      const path = newPath('spec', 'ports').index(i).child('nodePort');
      if (p.nodePort) {
        if (!held.has(p.nodePort) && !steps.ports.includes(p.nodePort)) this.allocPort(obj, p.nodePort, path, steps, dryRun);
        byPort.set(p.port, p.nodePort);
        return;
      }
      const same = byPort.get(p.port) ?? ports.find((q) => q.port === p.port && q.nodePort)?.nodePort;
      p.nodePort = same ?? this.nextPort(steps, dryRun);
      byPort.set(p.port, p.nodePort);
    });
  }

  beginCreate(obj: KObject, dryRun: boolean): AllocationTxn {
    const errs = this.strategy.allocationErrors(obj, undefined);
    if (errs.length > 0) throw apiErrors.invalid('', 'Service', obj.metadata?.name ?? '', errs);
    const spec = ((obj as Service).spec ??= {});
    const steps: Steps = { ips: [], ports: [], releaseIPs: [], releasePorts: [] };
    this.allocClusterIPs(obj, spec, steps, dryRun);
    this.allocNodePorts(obj, spec, new Set(), steps, dryRun);
    if (needsHealthCheck(spec)) {
      if (spec.healthCheckNodePort) this.allocPort(obj, spec.healthCheckNodePort, newPath('spec', 'healthCheckNodePort'), steps, dryRun);
      else spec.healthCheckNodePort = this.nextPort(steps, dryRun);
    }
    return this.txn(steps, dryRun);
  }

  beginUpdate(obj: KObject, old: KObject, dryRun: boolean): AllocationTxn {
    const errs = this.strategy.allocationErrors(obj, old);
    if (errs.length > 0) throw apiErrors.invalid('', 'Service', obj.metadata?.name ?? '', errs);
    const spec = ((obj as Service).spec ??= {});
    const prev = (old as Service).spec ?? {};
    const steps: Steps = { ips: [], ports: [], releaseIPs: [], releasePorts: [] };
    const oldIPs = clusterIPsOf(prev);
    if (prev.type === 'ExternalName' && spec.type !== 'ExternalName') {
      this.allocClusterIPs(obj, spec, steps, dryRun);
    } else if (spec.type === 'ExternalName' || (!isHeadless(prev) && isHeadless(spec))) {
      for (const [family, ip] of oldIPs) steps.releaseIPs.push({ family, ip });
    } else if (!isHeadless(prev)) {
      const oldFams = prev.ipFamilies ?? [];
      const fams = spec.ipFamilies ?? [];
      if (oldFams.length === 1 && fams.length === 2) this.allocClusterIPs(obj, spec, steps, dryRun, 1);
      if (oldFams.length === 2 && fams.length === 1) {
        const fam = oldFams[1]!;
        const ip = oldIPs.get(fam);
        if (ip) steps.releaseIPs.push({ family: fam, ip });
      }
    }
    const held = new Set(nodePortsOf(prev));
    this.allocNodePorts(obj, spec, held, steps, dryRun);
    if (needsHealthCheck(spec)) {
      if (!spec.healthCheckNodePort) spec.healthCheckNodePort = this.nextPort(steps, dryRun);
      else if (!held.has(spec.healthCheckNodePort)) this.allocPort(obj, spec.healthCheckNodePort, newPath('spec', 'healthCheckNodePort'), steps, dryRun);
    }
    const kept = new Set(nodePortsOf(spec));
    for (const p of held) if (!kept.has(p)) steps.releasePorts.push(p);
    return this.txn(steps, dryRun);
  }

  afterDelete(obj: KObject): void {
    const spec = (obj as Service).spec ?? {};
    for (const [family, ip] of clusterIPsOf(spec)) this.ipAllocators.get(family)?.release(ip);
    for (const p of nodePortsOf(spec)) this.ports.release(p);
  }
}
