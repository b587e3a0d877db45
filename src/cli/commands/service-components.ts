// The service networking parts `k8ts server` runs besides the control plane: kube-proxy (nftables), the
// cluster DNS with its kube-dns Service, and the cloud controller's service controller with the local
// provider (ServiceLB). Their flags follow k3s's names.
import { setMaxListeners } from 'node:events';
import { hostname, networkInterfaces } from 'node:os';
import { ipFamilyOf, parseCIDR } from '../../api/ip.js';
import type { Logger } from '../../base/log.js';
import type { RESTClient } from '../../client/index.js';
import { parsePortRange, parseServiceCIDRs } from '../../registry/core/service-allocator.js';
import type { FlagSpec } from '../flags.js';

/** Flags of the service networking components. */
export const serviceFlags: FlagSpec = {
  'service-cidr': { type: 'string', help: 'service IP ranges: one CIDR, or an IPv4 and an IPv6 one (primary first)', default: '10.43.0.0/16,fd43::/112' },
  'service-node-port-range': { type: 'string', help: 'port range for NodePort services', default: '30000-32767' },
  'cluster-dns': { type: 'string', help: 'the cluster DNS service IP', default: '10.43.0.10' },
  'cluster-domain': { type: 'string', help: 'the cluster domain', default: 'cluster.local' },
  'dns-port': { type: 'string', help: 'port the cluster DNS listens on at the node address (0: any free one; pods reach it at the cluster DNS IP, port 53)', default: '0' },
  'disable-kube-proxy': { type: 'boolean', help: 'do not run kube-proxy (it programs the nftables tables ip/ip6 k8ts-proxy)' },
  'disable-cloud-controller': { type: 'boolean', help: 'do not run the cloud controller (LoadBalancer services get no addresses)' },
  disable: { type: 'string', help: 'components not to run, comma-separated: coredns (cluster DNS), servicelb', default: '' },
};

/** The allocator settings the API server takes from the flags. */
export function serviceAllocationOptions(values: Record<string, string | boolean | undefined>): {
  serviceCIDRs: string[];
  nodePortRange: { base: number; size: number };
} {
  return {
    serviceCIDRs: parseServiceCIDRs(String(values['service-cidr'] ?? '10.43.0.0/16,fd43::/112')),
    nodePortRange: parsePortRange(String(values['service-node-port-range'] ?? '30000-32767')),
  };
}

/** The host's first non-loopback address of a family. */
function hostAddress(family: 'IPv4' | 'IPv6'): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === family && !a.internal && !a.address.startsWith('fe80:')) return a.address;
  }
  return undefined;
}

/** Starts the components the flags leave on; resolves when they have stopped after the signal. */
export async function runServiceComponents(
  values: Record<string, string | boolean | undefined>,
  client: RESTClient,
  outer: AbortSignal,
  log: Logger,
): Promise<void> {
  // Every informer listens for the abort: more than Node's default of ten listeners is expected here.
  const ac = new AbortController();
  setMaxListeners(64, ac.signal);
  if (outer.aborted) ac.abort();
  else outer.addEventListener('abort', () => ac.abort(), { once: true });
  const signal = ac.signal;
  const disabled = new Set(String(values.disable ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
  const nodeName = (values['node-name'] as string | undefined) || hostname();
  const { serviceCIDRs } = serviceAllocationOptions(values);
  const families = serviceCIDRs.map((c) => parseCIDR(c)!.family);
  const clusterCIDRs = String(values['cluster-cidr'] ?? '').split(',').map((s) => s.trim()).filter((s) => parseCIDR(s) !== undefined);
  const running: Promise<void>[] = [];
  // The components' modules load when they start, after the API server is ready, not with the server.
  if (values['disable-kube-proxy'] !== true) {
    const { Proxier } = await import('../../proxy/proxier.js');
    const proxier = new Proxier({ client, nodeName, families: families, clusterCIDRs, log: log.with({ component: 'kube-proxy' }) });
    running.push(proxier.run(signal).catch((err: unknown) => log.error('kube-proxy failed', { error: String(err) })));
  }
  if (!disabled.has('coredns') && !disabled.has('dns')) {
    running.push(runClusterDNS(values, client, nodeName, signal, log).catch((err: unknown) => log.error('cluster DNS failed', { error: String(err) })));
  }
  if (values['disable-cloud-controller'] !== true && !disabled.has('servicelb')) {
    const [{ getCloudProvider }, { CloudServiceController }] = await Promise.all([
      import('../../cloud/provider.js'),
      import('../../cloud/service-controller.js'),
      import('../../cloud/local-provider.js'), // registers the "k8ts" provider
    ]);
    const controller = new CloudServiceController({ client, cloud: getCloudProvider('k8ts'), log: log.with({ component: 'cloud-controller' }) });
    running.push(controller.run(signal).catch((err: unknown) => log.error('cloud service controller failed', { error: String(err) })));
  }
  await Promise.all(running);
}

async function runClusterDNS(
  values: Record<string, string | boolean | undefined>,
  client: RESTClient,
  nodeName: string,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const clusterIP = String(values['cluster-dns'] ?? '10.43.0.10');
  const family = ipFamilyOf(clusterIP);
  if (!family) throw new Error(`invalid --cluster-dns ${clusterIP}`);
  const address = hostAddress(family);
  if (!address) {
    log.warn('no non-loopback address for the cluster DNS: not started');
    return;
  }
  const [{ ensureDNSService }, { KubernetesRecords }, { DNSServer, upstreamsFromResolvConf }] = await Promise.all([
    import('../../dns/dns-service.js'),
    import('../../dns/kubernetes.js'),
    import('../../dns/server.js'),
  ]);
  const records = new KubernetesRecords(client, String(values['cluster-domain'] ?? 'cluster.local'));
  await records.start(signal);
  const dns = new DNSServer({
    records,
    address,
    port: Number(values['dns-port'] ?? 0),
    // The host's resolvers, but never this server itself.
    upstreams: upstreamsFromResolvConf().filter((u) => u.host !== clusterIP && u.host !== address),
    log: log.with({ component: 'dns' }),
  });
  const port = await dns.start();
  try {
    await ensureDNSService({ client, clusterIP, address, port, nodeName });
  } catch (err) {
    log.error('could not make the kube-dns service', { error: err instanceof Error ? err.message : String(err) });
  }
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await dns.stop();
}
