// Cluster IPs held as IPAddress objects in the store (upstream's ipallocator with MultiCIDRServiceAllocator):
// creating the object named by the address IS the allocation, so several API servers on one store never hand
// out one address twice (the second create fails with AlreadyExists). A bitmap per service CIDR, fed by this
// server's own writes and by the IPAddress watch, is only a hint for picking free candidates quickly.
import type { IPFamily } from '../../api/ip.js';
import { canonicalIP, cidrContains, parseIP } from '../../api/ip.js';
import { isStatusError } from '../../apimachinery/errors/status-error.js';
import type { RegistryStore } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import type { IPAddressObject } from '../networking/ipaddresses.js';
import { ipAllocatorManager, ipFamilyLabel, managedByLabel } from '../networking/ipaddresses.js';
import { AllocationError, IPAllocator } from './service-allocator-bitmaps.js';

/** The Service an address is allocated to. */
export interface ServiceRef {
  namespace: string;
  name: string;
}

/** The IPAddress object of a service's cluster IP, as upstream's allocator writes it. */
export function serviceIPAddress(ip: string, family: IPFamily, svc: ServiceRef): IPAddressObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IPAddress',
    metadata: { name: ip, labels: { [ipFamilyLabel]: family, [managedByLabel]: ipAllocatorManager } },
    spec: { parentRef: { group: '', resource: 'services', namespace: svc.namespace, name: svc.name } },
  };
}

/** Cluster IPs of one service CIDR, allocated through IPAddress objects. */
export class ClusterIPAllocator {
  /** The bitmap of candidates: what this server believes is taken. */
  readonly hint: IPAllocator;
  private readonly ipAddresses: RegistryStore;

  constructor(cidr: string, ipAddresses: RegistryStore) {
    this.hint = new IPAllocator(cidr);
    this.ipAddresses = ipAddresses;
  }

  get family(): IPFamily {
    return this.hint.family;
  }

  /** The range as upstream's messages show it. */
  get rangeText(): string {
    return this.hint.rangeText;
  }

  /** The address at index i of the range (index 0 is the first usable address). */
  addressAt(i: number): string {
    return this.hint.addressAt(i);
  }

  /** True when the address lies in the range's usable part. */
  contains(ip: string): boolean {
    return this.hint.contains(ip);
  }

  /** True when the address lies in the CIDR at all (its network address included). */
  inPrefix(ip: string): boolean {
    const parsed = parseIP(ip);
    return parsed !== undefined && cidrContains(this.hint.cidr, parsed);
  }

  private notInRange(ip: string): AllocationError {
    return new AllocationError('NotInRange', `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.rangeText}`);
  }

  /** Reserves a requested address for a service; `dryRun` only checks that it is free. */
  async allocate(ip: string, svc: ServiceRef, dryRun = false): Promise<void> {
    if (!this.contains(ip)) throw this.notInRange(ip);
    // The object's name is the canonical form (a service may spell an IPv6 address otherwise).
    const name = canonicalIP(ip) ?? ip;
    if (dryRun) {
      const taken = await this.ipAddresses.get('', name).then(() => true, (err: unknown) => {
        if (isStatusError(err, 'NotFound')) return false;
        throw err;
      });
      if (taken) throw new AllocationError('Allocated', 'provided IP is already allocated');
      return;
    }
    try {
      await this.ipAddresses.create('', serviceIPAddress(name, this.family, svc));
    } catch (err) {
      if (isStatusError(err, 'AlreadyExists')) {
        this.hint.mark(name);
        throw new AllocationError('Allocated', 'provided IP is already allocated');
      }
      throw err;
    }
    this.hint.mark(name);
  }

  /**
   * Reserves a free address: candidates come from the bitmap (upper band first, random start), and one that
   * another server took meanwhile (AlreadyExists) is marked and skipped. `dryRun` only picks one.
   */
  async allocateNext(svc: ServiceRef, dryRun = false): Promise<string> {
    if (dryRun) return this.hint.allocateNext(false);
    for (let tries = 0; tries <= this.hint.size; tries++) {
      const ip = this.hint.allocateNext(true);
      try {
        await this.ipAddresses.create('', serviceIPAddress(ip, this.family, svc));
        return ip;
      } catch (err) {
        if (isStatusError(err, 'AlreadyExists')) continue;
        this.hint.release(ip);
        throw err;
      }
    }
    throw new AllocationError('Full', 'range is full');
  }

  /** Gives an address back: its IPAddress object goes (a missing one is fine, as upstream's Release). */
  async release(ip: string): Promise<void> {
    const name = canonicalIP(ip) ?? ip;
    this.hint.release(name);
    try {
      await this.ipAddresses.delete('', name);
    } catch (err) {
      if (!isStatusError(err, 'NotFound')) throw err;
    }
  }

  /** Follows a change of an IPAddress object (this server's or another's). */
  observe(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject): void {
    const name = obj.metadata?.name ?? '';
    if (type === 'DELETED') this.hint.release(name);
    else this.hint.mark(name);
  }

  /** True when the bitmap marks the address taken (this server's view). */
  has(ip: string): boolean {
    return this.hint.has(canonicalIP(ip) ?? ip);
  }
}
