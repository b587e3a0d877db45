// The built-in "k8ts" provider, like k3s's ServiceLB: a LoadBalancer Service's ingress is the InternalIP
// of every ready, schedulable node (of the service's IP families), and the proxy on each node answers on
// those addresses at the service port. Instances are the nodes themselves, with provider IDs k8ts://NAME.
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { ipFamilyOf } from '../api/ip.js';
import type { CloudProvider, InstanceMetadata, InstancesV2, LoadBalancer, LoadBalancerStatus, Zones } from './provider.js';
import { registerCloudProvider } from './provider.js';

export const localProviderName = 'k8ts';
const zoneLabel = 'topology.kubernetes.io/zone';
const regionLabel = 'topology.kubernetes.io/region';

/** The nodes' addresses a service's balancer answers on, primary family first. */
export function loadBalancerAddresses(service: Service, nodes: readonly Node[]): string[] {
  const families = service.spec?.ipFamilies?.length ? service.spec.ipFamilies : ['IPv4'];
  const out: string[] = [];
  for (const fam of families) {
    for (const n of nodes) {
      for (const a of n.status?.addresses ?? []) {
        if (a.type === 'InternalIP' && ipFamilyOf(a.address) === fam && !out.includes(a.address)) out.push(a.address);
      }
    }
  }
  return out;
}

class LocalLoadBalancer implements LoadBalancer {
  private readonly balancers = new Map<string, LoadBalancerStatus>();

  getLoadBalancerName(_cluster: string, service: Service): string {
    // Upstream's default name: "a" and the UID without dashes, cut to 32 characters.
    return `a${(service.metadata?.uid ?? '').replace(/-/g, '')}`.slice(0, 32);
  }

  getLoadBalancer(cluster: string, service: Service): Promise<{ status: LoadBalancerStatus; exists: boolean }> {
    const status = this.balancers.get(this.getLoadBalancerName(cluster, service));
    return Promise.resolve({ status: status ?? {}, exists: status !== undefined });
  }

  ensureLoadBalancer(cluster: string, service: Service, nodes: Node[]): Promise<LoadBalancerStatus> {
    const ingress = loadBalancerAddresses(service, nodes).map((ip) => ({ ip, ipMode: 'VIP' as const }));
    const status: LoadBalancerStatus = ingress.length > 0 ? { ingress } : {};
    this.balancers.set(this.getLoadBalancerName(cluster, service), status);
    return Promise.resolve(status);
  }

  async updateLoadBalancer(cluster: string, service: Service, nodes: Node[]): Promise<void> {
    await this.ensureLoadBalancer(cluster, service, nodes);
  }

  ensureLoadBalancerDeleted(cluster: string, service: Service): Promise<void> {
    this.balancers.delete(this.getLoadBalancerName(cluster, service));
    return Promise.resolve();
  }
}

class LocalInstances implements InstancesV2 {
  instanceExists(): Promise<boolean> {
    return Promise.resolve(true);
  }

  instanceShutdown(): Promise<boolean> {
    return Promise.resolve(false);
  }

  instanceMetadata(node: Node): Promise<InstanceMetadata> {
    const labels = node.metadata?.labels ?? {};
    return Promise.resolve({
      providerID: `${localProviderName}://${node.metadata?.name ?? ''}`,
      instanceType: localProviderName,
      nodeAddresses: (node.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
      zone: labels[zoneLabel] ?? '',
      region: labels[regionLabel] ?? '',
    });
  }
}

class LocalZones implements Zones {
  getZoneByNodeName(): Promise<{ failureDomain: string; region: string }> {
    return Promise.resolve({ failureDomain: '', region: '' });
  }

  getZoneByProviderID(): Promise<{ failureDomain: string; region: string }> {
    return Promise.resolve({ failureDomain: '', region: '' });
  }
}

/** The local provider. */
export class LocalCloudProvider implements CloudProvider {
  private readonly lb = new LocalLoadBalancer();
  private readonly instances = new LocalInstances();
  private readonly zoneInfo = new LocalZones();

  providerName(): string {
    return localProviderName;
  }

  loadBalancer(): LoadBalancer {
    return this.lb;
  }

  instancesV2(): InstancesV2 {
    return this.instances;
  }

  zones(): Zones {
    return this.zoneInfo;
  }

  hasClusterID(): boolean {
    return true;
  }
}

registerCloudProvider(localProviderName, () => new LocalCloudProvider());
