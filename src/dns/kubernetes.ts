// Cluster DNS records from informer caches, as CoreDNS's kubernetes plugin answers them (with "pods
// insecure", k3s's setting): <svc>.<ns>.svc.<zone> (cluster IPs, or a headless service's ready endpoint
// addresses; ExternalName as a CNAME), <endpoint>.<svc>.<ns>.svc.<zone> by hostname or dashed address,
// SRV for _<port>._<proto>.<svc>.<ns>.svc.<zone>, <a-b-c-d>.<ns>.pod.<zone>, and PTR for service and
// endpoint addresses. Names in the zone that do not exist are NXDOMAIN; existing names without records of
// the asked type are NODATA; both carry the zone's SOA.
//
// Like CoreDNS, it watches Services, EndpointSlices and Namespaces, never Pods: "pods insecure" answers a
// pod name from the name itself once its namespace exists (only "pods verified" keeps a pod cache), and
// reverse lookups cover services and endpoints alone. A pod watch would cost the API server every pod
// event of the cluster for nothing.
import type { Namespace, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { canonicalIP, formatIP, ipFamilyOf, parseIP, parseReverseName } from '../api/ip.js';
import type { KubeObject, RESTClient } from '../client/index.js';
import { DeletedFinalStateUnknown, SharedInformer } from '../client/index.js';
import type { ResourceRecord } from './wire.js';
import { canonicalName, classIN, RCode, RRType } from './wire.js';

/** The TTL of every answer (CoreDNS's kubernetes plugin default). */
export const recordTTL = 5;

/** What the records say about a question: undefined when the name is not the cluster's (forward it). */
export interface Answer {
  rcode: number;
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

type ServiceObject = Service & KubeObject;
type SliceObject = EndpointSlice & KubeObject;
type NamespaceObject = Namespace & KubeObject;

interface EndpointRecord {
  ip: string;
  /** The first label of the endpoint's own name: its hostname or its dashed address. */
  label: string;
  ports: { name: string; port: number; protocol: string }[];
}

/** The dashed form of an address CoreDNS uses in names (10-42-0-5, fd42--5). */
export const dashed = (ip: string): string => ip.replace(/[.:]/g, '-');

/** The records of one cluster zone, from Services, EndpointSlices and Namespaces. */
export class KubernetesRecords {
  readonly zone: string;
  readonly services: SharedInformer<ServiceObject>;
  readonly slices: SharedInformer<SliceObject>;
  readonly namespaces: SharedInformer<NamespaceObject>;
  /** Slices by "namespace/service". */
  private readonly slicesByService = new Map<string, Map<string, SliceObject>>();
  private reverse: Map<string, string[]> | undefined;

  constructor(client: RESTClient, zone = 'cluster.local') {
    this.zone = canonicalName(zone);
    this.services = SharedInformer.forResource<ServiceObject>(client, { group: '', version: 'v1', resource: 'services' });
    this.slices = SharedInformer.forResource<SliceObject>(client, { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' });
    this.namespaces = SharedInformer.forResource<NamespaceObject>(client, { group: '', version: 'v1', resource: 'namespaces' });
    const invalidate = (): void => {
      this.reverse = undefined;
    };
    const indexSlice = (s: SliceObject, remove: boolean): void => {
      const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
      if (!svc) return;
      const key = `${s.metadata?.namespace ?? ''}/${svc}`;
      let m = this.slicesByService.get(key);
      if (!m) this.slicesByService.set(key, (m = new Map<string, SliceObject>()));
      if (remove) m.delete(s.metadata?.name ?? '');
      else m.set(s.metadata?.name ?? '', s);
      if (m.size === 0) this.slicesByService.delete(key);
      invalidate();
    };
    this.slices.addEventHandler({
      onAdd: (s) => indexSlice(s, false),
      onUpdate: (_o, s) => indexSlice(s, false),
      onDelete: (s) => indexSlice(s instanceof DeletedFinalStateUnknown ? s.obj : s, true),
    });
    this.services.addEventHandler({ onAdd: invalidate, onUpdate: invalidate, onDelete: invalidate });
  }

  /** Starts the informers; resolves when they have listed once. */
  async start(signal: AbortSignal): Promise<void> {
    void this.services.run(signal);
    void this.slices.run(signal);
    void this.namespaces.run(signal);
    await Promise.all([this.services.waitForSync(signal), this.slices.waitForSync(signal), this.namespaces.waitForSync(signal)]);
  }

  /** True when the name is in the zone or a reverse zone this server answers for. */
  isOurs(qname: string): boolean {
    const n = canonicalName(qname);
    return n === this.zone || n.endsWith(`.${this.zone}`);
  }

  private soa(): ResourceRecord {
    return {
      name: `${this.zone}.`,
      type: RRType.SOA,
      class: classIN,
      ttl: recordTTL,
      data: { mname: `ns.dns.${this.zone}.`, rname: `hostmaster.${this.zone}.`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: recordTTL },
    };
  }

  private nx(): Answer {
    return { rcode: RCode.NXDOMAIN, answers: [], authorities: [this.soa()], additionals: [] };
  }

  private answer(answers: ResourceRecord[], additionals: ResourceRecord[] = []): Answer {
    if (answers.length === 0) return { rcode: RCode.NOERROR, answers: [], authorities: [this.soa()], additionals: [] };
    return { rcode: RCode.NOERROR, answers, authorities: [], additionals };
  }

  private addressRecord(name: string, ip: string): ResourceRecord {
    return { name, type: ipFamilyOf(ip) === 'IPv6' ? RRType.AAAA : RRType.A, class: classIN, ttl: recordTTL, data: { address: ip } };
  }

  private endpointsOf(namespace: string, name: string): EndpointRecord[] {
    const out = new Map<string, EndpointRecord>();
    for (const slice of this.slicesByService.get(`${namespace}/${name}`)?.values() ?? []) {
      for (const e of slice.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        for (const addr of e.addresses) {
          const ip = canonicalIP(addr);
          if (!ip) continue;
          const label = e.hostname ?? dashed(ip);
          const rec = out.get(`${label}/${ip}`) ?? { ip, label, ports: [] };
          for (const p of slice.ports ?? []) rec.ports.push({ name: p.name ?? '', port: p.port ?? 0, protocol: p.protocol ?? 'TCP' });
          out.set(`${label}/${ip}`, rec);
        }
      }
    }
    return [...out.values()];
  }

  private clusterIPs(svc: Service): string[] {
    const ips = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
    return ips.filter((ip) => ip !== 'None' && ip !== '').map((ip) => canonicalIP(ip) ?? ip);
  }

  private isHeadless(svc: Service): boolean {
    return this.clusterIPs(svc).length === 0;
  }

  /** Answers a question in the zone; undefined for names outside it with no record (to be forwarded). */
  resolve(qname: string, qtype: number): Answer | undefined {
    const name = canonicalName(qname);
    if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) return this.resolvePTR(qname, qtype);
    if (!this.isOurs(name)) return undefined;
    if (name === this.zone) {
      if (qtype === RRType.SOA) return this.answer([this.soa()]);
      if (qtype === RRType.NS) return this.answer([{ name: qname, type: RRType.NS, class: classIN, ttl: recordTTL, data: { target: `ns.dns.${this.zone}.` } }]);
      return this.answer([]);
    }
    const labels = name.slice(0, -(this.zone.length + 1)).split('.');
    const kind = labels[labels.length - 1];
    const rest = labels.slice(0, -1);
    if (kind === 'svc') return this.resolveService(qname, qtype, rest);
    if (kind === 'pod') return this.resolvePod(qname, qtype, rest);
    return this.nx();
  }

  /** CoreDNS's namespaceExposed: the namespace is in its namespace cache. */
  private namespaceExists(ns: string): boolean {
    return this.namespaces.lister.get('', ns) !== undefined;
  }

  private resolveService(qname: string, qtype: number, labels: string[]): Answer {
    if (labels.length === 0) return this.answer([]);
    if (labels.length === 1) return this.namespaceExists(labels[0]!) ? this.answer([]) : this.nx();
    const [ns, svcName] = [labels[labels.length - 1]!, labels[labels.length - 2]!];
    const svc = this.services.lister.get(ns, svcName);
    if (!svc) return this.nx();
    if (labels.length === 2) {
      if (svc.spec?.type === 'ExternalName') {
        const target = svc.spec.externalName ?? '';
        return this.answer([{ name: qname, type: RRType.CNAME, class: classIN, ttl: recordTTL, data: { target: target.endsWith('.') ? target : `${target}.` } }]);
      }
      if (qtype === RRType.SRV) return this.srv(qname, svc, ns, svcName, undefined, undefined);
      const ips = this.isHeadless(svc) ? this.endpointsOf(ns, svcName).map((e) => e.ip) : this.clusterIPs(svc);
      return this.answer(this.filterAddresses(qname, [...new Set(ips)], qtype));
    }
    if (labels.length === 3) {
      // <endpoint>.<svc>.<ns>.svc: an endpoint by hostname or dashed address.
      const label = labels[0]!;
      const eps = this.endpointsOf(ns, svcName).filter((e) => e.label === label);
      if (eps.length === 0) return this.nx();
      return this.answer(this.filterAddresses(qname, eps.map((e) => e.ip), qtype));
    }
    if (labels.length === 4 && labels[0]!.startsWith('_') && labels[1]!.startsWith('_')) {
      const port = labels[0]!.slice(1);
      const proto = labels[1]!.slice(1);
      const has = (svc.spec?.ports ?? []).some((p) => (p.name ?? '') === port && (p.protocol ?? 'TCP').toLowerCase() === proto);
      if (!has) return this.nx();
      return qtype === RRType.SRV ? this.srv(qname, svc, ns, svcName, port, proto) : this.answer([]);
    }
    return this.nx();
  }

  private filterAddresses(name: string, ips: string[], qtype: number): ResourceRecord[] {
    const want = qtype === RRType.A ? 'IPv4' : qtype === RRType.AAAA ? 'IPv6' : qtype === RRType.ANY ? 'any' : undefined;
    if (want === undefined) return [];
    return ips.filter((ip) => want === 'any' || ipFamilyOf(ip) === want).map((ip) => this.addressRecord(name, ip));
  }

  /** SRV records of a service's ports (all, or the named one), with the targets' addresses as additionals. */
  private srv(qname: string, svc: Service, ns: string, svcName: string, port: string | undefined, proto: string | undefined): Answer {
    const svcFQDN = `${svcName}.${ns}.svc.${this.zone}.`;
    const records: { port: number; target: string; ips: string[] }[] = [];
    const matches = (name: string, protocol: string): boolean =>
      (port === undefined || name === port) && (proto === undefined || protocol.toLowerCase() === proto);
    if (this.isHeadless(svc)) {
      for (const e of this.endpointsOf(ns, svcName)) {
        for (const p of e.ports) if (matches(p.name, p.protocol)) records.push({ port: p.port, target: `${e.label}.${svcFQDN}`, ips: [e.ip] });
      }
    } else {
      for (const p of svc.spec?.ports ?? []) {
        if (matches(p.name ?? '', p.protocol ?? 'TCP')) records.push({ port: p.port, target: svcFQDN, ips: this.clusterIPs(svc) });
      }
    }
    const weight = records.length > 0 ? Math.floor(100 / records.length) : 0;
    const answers: ResourceRecord[] = records.map((r) => ({
      name: qname,
      type: RRType.SRV,
      class: classIN,
      ttl: recordTTL,
      data: { priority: 0, weight, port: r.port, target: r.target },
    }));
    const seen = new Set<string>();
    const additionals: ResourceRecord[] = [];
    for (const r of records) {
      for (const ip of r.ips) {
        if (seen.has(`${r.target}/${ip}`)) continue;
        seen.add(`${r.target}/${ip}`);
        additionals.push(this.addressRecord(r.target, ip));
      }
    }
    return this.answer(answers, additionals);
  }

  private resolvePod(qname: string, qtype: number, labels: string[]): Answer {
    if (labels.length === 0) return this.answer([]);
    if (labels.length === 1) return this.namespaceExists(labels[0]!) ? this.answer([]) : this.nx();
    if (labels.length !== 2 || !this.namespaceExists(labels[1]!)) return this.nx();
    // "pods insecure": the address is the name, checked only for syntax (in a namespace that exists).
    const text = labels[0]!;
    const v4 = text.replace(/-/g, '.');
    const ip = parseIP(v4) ?? parseIP(text.replace(/-/g, ':'));
    if (!ip) return this.nx();
    return this.answer(this.filterAddresses(qname, [formatIP(ip)], qtype));
  }

  /** Address → names, rebuilt after any change (PTR answers). */
  private reverseIndex(): Map<string, string[]> {
    if (this.reverse) return this.reverse;
    const idx = new Map<string, string[]>();
    const add = (ip: string, name: string): void => {
      const list = idx.get(ip) ?? [];
      if (!list.includes(name)) list.push(name);
      idx.set(ip, list);
    };
    for (const svc of this.services.lister.list()) {
      const ns = svc.metadata?.namespace ?? '';
      const name = svc.metadata?.name ?? '';
      const fqdn = `${name}.${ns}.svc.${this.zone}.`;
      for (const ip of this.clusterIPs(svc)) add(ip, fqdn);
      for (const e of this.endpointsOf(ns, name)) add(e.ip, `${e.label}.${fqdn}`);
    }
    this.reverse = idx;
    return idx;
  }

  private resolvePTR(qname: string, qtype: number): Answer | undefined {
    const ip = parseReverseName(qname);
    if (!ip) return undefined;
    const names = this.reverseIndex().get(formatIP(ip));
    if (!names) return undefined;
    if (qtype !== RRType.PTR) return this.answer([]);
    return this.answer(names.map((target) => ({ name: qname, type: RRType.PTR, class: classIN, ttl: recordTTL, data: { target } })));
  }
}
