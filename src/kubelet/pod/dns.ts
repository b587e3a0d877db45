// A pod's DNS configuration as upstream's kubelet builds it (pkg/kubelet/network/dns): by dnsPolicy,
// ClusterFirst pods (not on the host network) use the cluster DNS with the search path
// <ns>.svc.<domain> svc.<domain> <domain> before the host's, and ndots:5; Default uses the host's
// resolv.conf; None only what the pod's dnsConfig says; then the pod's dnsConfig is merged in.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type * as cri from '../../cri/index.js';

/** The kubelet's DNS settings (--cluster-dns, --cluster-domain) and the host's resolv.conf. */
export interface DNSSettings {
  clusterDNS: string[];
  clusterDomain: string;
  host: cri.DNSConfig;
}

const maxSearches = 32;

/** The CRI DNSConfig of a pod. */
export function podDNSConfig(pod: Pod, s: DNSSettings): cri.DNSConfig {
  const spec = pod.spec ?? { containers: [] };
  let policy = spec.dnsPolicy ?? 'ClusterFirst';
  // ClusterFirst on the host network means the host's DNS; ClusterFirstWithHostNet is the way to ask otherwise.
  if (policy === 'ClusterFirst' && spec.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  // Without a cluster DNS the kubelet falls back to the host's (upstream also records MissingClusterDNS).
  if (policy === 'ClusterFirst' && s.clusterDNS.length === 0) policy = 'Default';
  let servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (policy === 'ClusterFirst') {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = s.clusterDomain;
    servers = [...s.clusterDNS];
    searches = [`${ns}.svc.${d}`, `svc.${d}`, d, ...(s.host.searches ?? [])];
    options = ['ndots:5'];
  } else if (policy === 'Default') {
    servers = [...(s.host.servers ?? [])];
    searches = [...(s.host.searches ?? [])];
    options = [...(s.host.options ?? [])];
  }
  const extra = spec.dnsConfig;
  if (extra) {
    servers = [...new Set([...servers, ...(extra.nameservers ?? [])])];
    searches = [...new Set([...searches, ...(extra.searches ?? [])])];
    const byName = new Map(options.map((o) => [o.split(':')[0]!, o]));
    for (const o of extra.options ?? []) byName.set(o.name ?? '', o.value !== undefined ? `${o.name}:${o.value}` : (o.name ?? ''));
    options = [...byName.values()];
  }
  return { servers, searches: searches.slice(0, maxSearches), options };
}
