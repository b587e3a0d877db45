// The kube-system/kube-dns Service in front of the cluster DNS: the cluster DNS IP (default 10.43.0.10),
// ports 53/UDP "dns" and 53/TCP "dns-tcp" as CoreDNS's manifest names them, and, since the server runs
// in the k8ts process rather than in a pod, an EndpointSlice this code keeps that points at the address
// and port it listens on; the proxy's rules then carry pods' queries to it.
import { ipFamilyOf } from '../api/ip.js';
import type { KubeObject, RESTClient } from '../client/index.js';
import { isStatus } from '../client/index.js';

export interface DNSServiceOptions {
  client: RESTClient;
  clusterIP: string;
  /** Where the DNS server listens. */
  address: string;
  port: number;
  /** The node the server runs on. */
  nodeName: string;
}

const namespace = 'kube-system';
const name = 'kube-dns';
const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' };

/** Creates or corrects the kube-dns Service and its EndpointSlice. */
export async function ensureDNSService(o: DNSServiceOptions): Promise<void> {
  const svcRef = { group: '', version: 'v1', resource: 'services', namespace };
  const sliceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace };
  const ports = [
    { name: 'dns', port: 53, protocol: 'UDP', targetPort: o.port },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: o.port },
  ];
  let svc: KubeObject;
  try {
    svc = await o.client.get(svcRef, name);
    const spec = svc.spec as { ports?: unknown };
    if (JSON.stringify(spec.ports) !== JSON.stringify(ports)) {
      svc = await o.client.patch(svcRef, name, { spec: { ports } }, 'merge');
    }
  } catch (err) {
    if (!isStatus(err, 'NotFound')) throw err;
    svc = await o.client.create(svcRef, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels },
      spec: { clusterIP: o.clusterIP, ports },
    });
  }
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace,
      labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'k8ts-dns' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata?.uid ?? '', controller: true }],
    },
    addressType: ipFamilyOf(o.address) ?? 'IPv4',
    endpoints: [{ addresses: [o.address], conditions: { ready: true }, nodeName: o.nodeName }],
    ports: ports.map((p) => ({ name: p.name, port: o.port, protocol: p.protocol })),
  };
  try {
    const cur = await o.client.get(sliceRef, name);
    await o.client.update(sliceRef, { ...slice, metadata: { ...slice.metadata, resourceVersion: cur.metadata?.resourceVersion } });
  } catch (err) {
    if (!isStatus(err, 'NotFound')) throw err;
    await o.client.create(sliceRef, slice);
  }
}
