// A pod's resolv.conf by its dnsPolicy and dnsConfig, as the kubelet's DNS configurer builds it:
// ClusterFirst (the cluster DNS, search <ns>.svc.<domain> svc.<domain> <domain> and the host's search
// domains, ndots 5), ClusterFirstWithHostNet (the same for host-network pods), Default (the host's
// resolv.conf), None (dnsConfig alone); dnsConfig's nameservers, searches and options are merged in. A
// host-network pod with ClusterFirst gets the host's settings. Limits as upstream: 3 nameservers, 32
// search domains, 2048 characters of search line.

/** The parts of a resolv.conf. */
export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: { name: string; value?: string }[];
}

export interface PodDNSInput {
  namespace: string;
  dnsPolicy?: string;
  hostNetwork?: boolean;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name?: string; value?: string }[] };
}

const maxNameservers = 3;
const maxSearches = 32;
const maxSearchChars = 2048;

/** Parses a resolv.conf text. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest.filter((s) => s !== '');
    else if (key === 'options') for (const o of rest) out.options.push(parseOption(o));
  }
  return out;
}

function parseOption(o: string): { name: string; value?: string } {
  const i = o.indexOf(':');
  return i < 0 ? { name: o } : { name: o.slice(0, i), value: o.slice(i + 1) };
}

/** Merges options by name, later ones winning, keeping first-seen order. */
function mergeOptions(a: ResolvConf['options'], b: ResolvConf['options']): ResolvConf['options'] {
  const m = new Map<string, string | undefined>();
  for (const o of [...a, ...b]) m.set(o.name, o.value);
  return [...m].map(([name, value]) => (value === undefined ? { name } : { name, value }));
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** The resolv.conf a pod gets. */
export function podResolvConf(pod: PodDNSInput, cluster: { dnsIPs: string[]; domain: string }, host: ResolvConf): ResolvConf {
  let policy = pod.dnsPolicy ?? 'ClusterFirst';
  // A host-network pod with ClusterFirst resolves as the host does (ClusterFirstWithHostNet asks otherwise).
  if (policy === 'ClusterFirst' && pod.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  let conf: ResolvConf;
  if (policy === 'None') {
    conf = { nameservers: [], searches: [], options: [] };
  } else if (policy === 'Default' || cluster.dnsIPs.length === 0) {
    conf = { nameservers: [...host.nameservers], searches: [...host.searches], options: [...host.options] };
  } else {
    const d = cluster.domain;
    conf = {
      nameservers: [...cluster.dnsIPs],
      searches: [`${pod.namespace}.svc.${d}`, `svc.${d}`, d, ...host.searches],
      options: [{ name: 'ndots', value: '5' }],
    };
  }
  const extra = pod.dnsConfig;
  if (extra) {
    conf.nameservers = dedupe([...conf.nameservers, ...(extra.nameservers ?? [])]);
    conf.searches = dedupe([...conf.searches, ...(extra.searches ?? [])]);
    conf.options = mergeOptions(conf.options, (extra.options ?? []).filter((o) => o.name).map((o) => (o.value === undefined ? { name: o.name! } : { name: o.name!, value: o.value })));
  }
  conf.nameservers = conf.nameservers.slice(0, maxNameservers);
  const searches: string[] = [];
  let chars = 0;
  for (const s of dedupe(conf.searches)) {
    if (searches.length >= maxSearches || chars + s.length + (searches.length > 0 ? 1 : 0) > maxSearchChars) break;
    chars += s.length + (searches.length > 0 ? 1 : 0);
    searches.push(s);
  }
  conf.searches = searches;
  return conf;
}

/** The resolv.conf text of a configuration. */
export function formatResolvConf(c: ResolvConf): string {
  const lines: string[] = [];
  if (c.searches.length > 0) lines.push(`search ${c.searches.join(' ')}`);
  for (const n of c.nameservers) lines.push(`nameserver ${n}`);
  if (c.options.length > 0) lines.push(`options ${c.options.map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`)).join(' ')}`);
  return lines.join('\n') + '\n';
}
