// The cloud-provider seam, shaped as upstream's k8s.io/cloud-provider interfaces: a provider hands out
// optional LoadBalancer, InstancesV2 and Zones implementations; the cloud-controller-manager's controllers
// use only these. A provider registers itself by name; `k8ts server --cloud-provider NAME` picks one.
import type { Node, Service } from 'kubernetes-types/core/v1.js';

/** status.loadBalancer of a Service. */
export interface LoadBalancerStatus {
  ingress?: { ip?: string; hostname?: string; ipMode?: 'VIP' | 'Proxy'; ports?: { port: number; protocol: string }[] }[];
}

/** Load balancers for Services of type LoadBalancer (upstream's cloudprovider.LoadBalancer). */
export interface LoadBalancer {
  /** The balancer's status, and whether it exists. */
  getLoadBalancer(clusterName: string, service: Service): Promise<{ status: LoadBalancerStatus; exists: boolean }>;
  /** The provider's name for the balancer of a service. */
  getLoadBalancerName(clusterName: string, service: Service): string;
  /** Makes (or corrects) the balancer over these nodes; returns its status. */
  ensureLoadBalancer(clusterName: string, service: Service, nodes: Node[]): Promise<LoadBalancerStatus>;
  /** Points an existing balancer at a new set of nodes. */
  updateLoadBalancer(clusterName: string, service: Service, nodes: Node[]): Promise<void>;
  /** Removes the balancer; succeeds when there is none. */
  ensureLoadBalancerDeleted(clusterName: string, service: Service): Promise<void>;
}

/** What a provider knows about a node's machine (upstream's cloudprovider.InstanceMetadata). */
export interface InstanceMetadata {
  providerID: string;
  instanceType: string;
  nodeAddresses: { type: string; address: string }[];
  zone: string;
  region: string;
}

/** Machines behind nodes (upstream's cloudprovider.InstancesV2). */
export interface InstancesV2 {
  instanceExists(node: Node): Promise<boolean>;
  instanceShutdown(node: Node): Promise<boolean>;
  instanceMetadata(node: Node): Promise<InstanceMetadata>;
}

/** Failure domains (upstream's cloudprovider.Zones). */
export interface Zones {
  getZoneByNodeName(nodeName: string): Promise<{ failureDomain: string; region: string }>;
  getZoneByProviderID(providerID: string): Promise<{ failureDomain: string; region: string }>;
}

/** A cloud provider (upstream's cloudprovider.Interface); each part is optional. */
export interface CloudProvider {
  providerName(): string;
  loadBalancer(): LoadBalancer | undefined;
  instancesV2(): InstancesV2 | undefined;
  zones(): Zones | undefined;
  hasClusterID(): boolean;
}

const registry = new Map<string, () => CloudProvider>();

/** Makes a provider available under a name. */
export function registerCloudProvider(name: string, factory: () => CloudProvider): void {
  registry.set(name, factory);
}

/** The provider registered under a name. */
export function getCloudProvider(name: string): CloudProvider {
  const f = registry.get(name);
  if (!f) throw new Error(`unknown cloud provider "${name}" (known: ${[...registry.keys()].join(', ')})`);
  return f();
}
