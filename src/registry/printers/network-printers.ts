// Tables of the networking kinds: Services, Endpoints, EndpointSlices, Ingresses, IngressClasses,
// NetworkPolicies, ServiceCIDRs and IPAddresses.
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { ageColumn, column, nameColumn, printer } from './columns.js';
import { translateTimestampSince } from './human-duration.js';
import { formatLabels, formatLabelSelector } from './label-selector.js';
import type { Printer } from './table.js';

/** Load-balancer addresses: IPs, else hostnames, sorted and without repeats. */
function loadBalancerAddresses(ingress: readonly { ip?: string; hostname?: string }[] | undefined): string {
  const set = new Set<string>();
  for (const i of ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  return [...set].sort().join(',');
}

/** The EXTERNAL-IP of a Service; the API server prints the wide form, so nothing is truncated. */
function serviceExternalIP(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? '') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc.status?.loadBalancer?.ingress);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** Ports as `80/TCP`, or `80:30080/TCP` when a node port is allocated. */
function servicePorts(svc: Service): string {
  const text = (svc.spec?.ports ?? [])
    .map((p) =>
      p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? ''}` : `${p.port}/${p.protocol ?? ''}`,
    )
    .join(',');
  return text === '' ? '<none>' : text;
}

const servicePrinter = printer<Service>(
  [{ group: '', kind: 'Service' }],
  [
    nameColumn,
    column(
      'Type',
      'string',
      'How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.',
    ),
    column('Cluster-IP', 'string', 'The virtual IP address inside the cluster.'),
    column('External-IP', 'string', 'Addresses outside the cluster that reach the service.'),
    column('Port(s)', 'string', 'The ports the service exposes.'),
    ageColumn,
    column('Selector', 'string', 'The labels of the pods that back the service.', { wide: true }),
  ],
  (svc, now) => ({
    cells: [
      svc.metadata?.name ?? '',
      svc.spec?.type ?? '',
      svc.spec?.clusterIPs?.[0] ?? '<none>',
      serviceExternalIP(svc),
      servicePorts(svc),
      translateTimestampSince(svc.metadata?.creationTimestamp, now),
      formatLabels(svc.spec?.selector),
    ],
  }),
);

/** `host:port` with brackets around IPv6 hosts. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The first three endpoint addresses (with ports), then how many more. */
function formatEndpoints(endpoints: Endpoints): string {
  const subsets = endpoints.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const subset of subsets) {
    const addresses = subset.addresses ?? [];
    const ports = subset.ports ?? [];
    if (ports.length === 0) {
      // A headless service may have no ports: list the bare addresses.
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(a.ip, port.port));
      }
    }
  }
  const text = list.join(',');
  return more ? `${text} + ${count - max} more...` : text;
}

const endpointsPrinter = printer<Endpoints>(
  [{ group: '', kind: 'Endpoints' }],
  [nameColumn, column('Endpoints', 'string', 'The addresses and ports that back the service.'), ageColumn],
  (ep, now) => ({
    cells: [
      ep.metadata?.name ?? '',
      formatEndpoints(ep),
      translateTimestampSince(ep.metadata?.creationTimestamp, now),
    ],
  }),
);

/** Up to three items, then how many more; `<unset>` for none. */
function listWithMore(items: readonly string[]): string {
  const max = 3;
  const text = items.slice(0, max).join(',');
  if (items.length > max) return `${text} + ${items.length - max} more...`;
  return text === '' ? '<unset>' : text;
}

const endpointSlicePrinter = printer<EndpointSlice>(
  [{ group: 'discovery.k8s.io', kind: 'EndpointSlice' }],
  [
    nameColumn,
    column('AddressType', 'string', 'The address family of the endpoints: IPv4, IPv6 or FQDN.'),
    column('Ports', 'string', 'The ports of the endpoints.'),
    column('Endpoints', 'string', 'The endpoint addresses.'),
    ageColumn,
  ],
  (slice, now) => ({
    cells: [
      slice.metadata?.name ?? '',
      slice.addressType,
      listWithMore((slice.ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : (p.name ?? '*')))),
      listWithMore((slice.endpoints ?? []).flatMap((e) => e.addresses ?? [])),
      translateTimestampSince(slice.metadata?.creationTimestamp, now),
    ],
  }),
);

/** The first three hosts the rules name, `*` when none does. */
function formatHosts(ingress: Ingress): string {
  const rules = ingress.spec?.rules ?? [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    // Counting "more" from the rules, named or not, is upstream's arithmetic.
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const text = list.join(',');
  return more ? `${text} + ${rules.length - max} more...` : text;
}

const ingressPrinter = printer<Ingress>(
  [{ group: 'networking.k8s.io', kind: 'Ingress' }],
  [
    nameColumn,
    column('Class', 'string', 'The IngressClass that handles this ingress.'),
    column('Hosts', 'string', 'The host names the rules match.'),
    column('Address', 'string', 'The addresses the load balancer serves the ingress on.'),
    column('Ports', 'string', 'The ports the ingress listens on.'),
    ageColumn,
  ],
  (ing, now) => ({
    cells: [
      ing.metadata?.name ?? '',
      ing.spec?.ingressClassName ?? '<none>',
      formatHosts(ing),
      loadBalancerAddresses(ing.status?.loadBalancer?.ingress),
      (ing.spec?.tls ?? []).length > 0 ? '80, 443' : '80',
      translateTimestampSince(ing.metadata?.creationTimestamp, now),
    ],
  }),
);

const ingressClassPrinter = printer<IngressClass>(
  [{ group: 'networking.k8s.io', kind: 'IngressClass' }],
  [
    nameColumn,
    column('Controller', 'string', 'The controller that implements this class.'),
    column('Parameters', 'string', 'The object holding the controller settings for this class.'),
    ageColumn,
  ],
  (ic, now) => {
    const p = ic.spec?.parameters;
    const parameters = p
      ? `${p.kind}${p.apiGroup !== undefined ? `.${p.apiGroup}` : ''}/${p.name}`
      : '<none>';
    return {
      cells: [
        ic.metadata?.name ?? '',
        ic.spec?.controller ?? '',
        parameters,
        translateTimestampSince(ic.metadata?.creationTimestamp, now),
      ],
    };
  },
);

const networkPolicyPrinter = printer<NetworkPolicy>(
  [{ group: 'networking.k8s.io', kind: 'NetworkPolicy' }],
  [nameColumn, column('Pod-Selector', 'string', 'The pods the policy applies to.'), ageColumn],
  (np, now) => ({
    cells: [
      np.metadata?.name ?? '',
      // The selector is a value, never absent: an unset one selects every pod and prints as <none>.
      formatLabelSelector(np.spec?.podSelector ?? {}),
      translateTimestampSince(np.metadata?.creationTimestamp, now),
    ],
  }),
);

const serviceCIDRPrinter = printer<{ metadata?: { name?: string; creationTimestamp?: string }; spec?: { cidrs?: string[] } }>(
  [{ group: 'networking.k8s.io', kind: 'ServiceCIDR' }],
  [nameColumn, column('CIDRs', 'string', 'The ranges cluster IPs are allocated from.'), ageColumn],
  (sc, now) => ({
    cells: [sc.metadata?.name ?? '', (sc.spec?.cidrs ?? []).join(','), translateTimestampSince(sc.metadata?.creationTimestamp, now)],
  }),
);

type ParentRef = { group?: string; resource?: string; namespace?: string; name?: string };

/** An IPAddress's holder as `resource[.group][/namespace]/name`, lower-cased as upstream prints it. */
function parentRefText(ref: ParentRef | null | undefined): string {
  if (!ref) return '<none>';
  const gr = ref.group ? `${ref.resource ?? ''}.${ref.group}` : (ref.resource ?? '');
  return `${gr.toLowerCase()}${ref.namespace ? `/${ref.namespace}` : ''}/${ref.name ?? ''}`;
}

// Upstream defines two columns but fills a third cell (the age), which kubectl does not show.
const ipAddressPrinter = printer<{ metadata?: { name?: string; creationTimestamp?: string }; spec?: { parentRef?: ParentRef | null } }>(
  [{ group: 'networking.k8s.io', kind: 'IPAddress' }],
  [nameColumn, column('ParentRef', 'string', 'The object that holds the address.')],
  (ip, now) => ({
    cells: [ip.metadata?.name ?? '', parentRefText(ip.spec?.parentRef), translateTimestampSince(ip.metadata?.creationTimestamp, now)],
  }),
);

/** Printers of the networking kinds. */
export const networkPrinters: readonly Printer[] = [
  servicePrinter,
  endpointsPrinter,
  endpointSlicePrinter,
  ingressPrinter,
  ingressClassPrinter,
  networkPolicyPrinter,
  serviceCIDRPrinter,
  ipAddressPrinter,
];
