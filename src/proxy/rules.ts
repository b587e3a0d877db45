// The proxy's rules as data: from Services and EndpointSlices to the desired content of one nftables table
// per family (chains with their rules, verdict maps with their elements, affinity sets), and the nft
// commands that move the kernel from one content to another (a full sync that rewrites everything and
// removes strays, or an incremental one that touches only what changed). Upstream's nftables proxier is
// the model: the same chain layout, mark bit and map names, our own naming of chains.
import { createHash } from 'node:crypto';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { IPFamily } from '../api/ip.js';
import { canonicalIP, ipFamilyOf } from '../api/ip.js';

/** The mark bit that asks postrouting to masquerade (upstream's 0x4000). */
export const masqueradeMark = '0x4000';
/** The table's name in each family (`table ip k8ts-proxy`, `table ip6 k8ts-proxy`). */
export const defaultTableName = 'k8ts-proxy';

/** Hooked chains: name → declaration. */
const baseChains: [string, string][] = [
  ['nat-prerouting', '{ type nat hook prerouting priority dstnat; }'],
  ['nat-output', '{ type nat hook output priority -100; }'],
  ['nat-postrouting', '{ type nat hook postrouting priority srcnat; }'],
  ['filter-input', '{ type filter hook input priority -110; }'],
  ['filter-forward', '{ type filter hook forward priority -110; }'],
  ['filter-output', '{ type filter hook output priority -110; }'],
];
const baseChainNames = new Set(baseChains.map(([n]) => n));

/** The verdict maps and their key types per family. */
function mapTypes(family: IPFamily): [string, string][] {
  const addr = family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr';
  return [
    ['service-ips', `{ type ${addr} . inet_proto . inet_service : verdict; }`],
    ['service-nodeports', '{ type inet_proto . inet_service : verdict; }'],
    ['no-endpoint-services', `{ type ${addr} . inet_proto . inet_service : verdict; }`],
    ['no-endpoint-nodeports', '{ type inet_proto . inet_service : verdict; }'],
  ];
}

/** The desired (or applied) content of one family's table. */
export interface TableState {
  /** Chain name → its rules, in order. Base chains included. */
  chains: Map<string, string[]>;
  /** Map name → element key → verdict. */
  maps: Map<string, Map<string, string>>;
  /** Affinity set name → its declaration. */
  sets: Map<string, string>;
}

/** An endpoint of one service port in one family. */
export interface EndpointInfo {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this proxy's node. */
  local: boolean;
}

/** One port of one service, in one family: what the rules are made from. */
export interface ServicePortInfo {
  namespace: string;
  name: string;
  portName: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
  clusterIP?: string;
  nodePort?: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** ClientIP session affinity timeout in seconds, when set. */
  affinitySeconds?: number;
  internalLocal: boolean;
  externalLocal: boolean;
  endpoints: EndpointInfo[];
}

export interface ProxyConfig {
  family: IPFamily;
  nodeName: string;
  /** Pod CIDRs of this family: traffic from elsewhere to a cluster IP is masqueraded. */
  clusterCIDRs: string[];
}

const protocols: Record<string, 'tcp' | 'udp' | 'sctp'> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** Service ports of a family from the informers' objects. */
export function servicePorts(
  services: readonly Service[],
  slicesByService: ReadonlyMap<string, readonly EndpointSlice[]>,
  config: ProxyConfig,
): ServicePortInfo[] {
  const out: ServicePortInfo[] = [];
  const inFamily = (ip: string | undefined): ip is string => !!ip && ipFamilyOf(ip) === config.family;
  for (const svc of services) {
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName') continue;
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const clusterIP = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).find(inFamily);
    const externalIPs = (spec.externalIPs ?? []).filter(inFamily).map((ip) => canonicalIP(ip)!);
    const lbIPs =
      spec.type === 'LoadBalancer'
        ? (svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ipMode !== 'Proxy').map((i) => i.ip).filter(inFamily).map((ip) => canonicalIP(ip)!)
        : [];
    // Headless services get no rules; a service with no address of this family neither.
    if (!clusterIP && externalIPs.length === 0 && lbIPs.length === 0) continue;
    const slices = (slicesByService.get(`${namespace}/${name}`) ?? []).filter((s) => s.addressType === config.family);
    for (const sp of spec.ports ?? []) {
      const protocol = protocols[sp.protocol ?? 'TCP'];
      if (!protocol) continue;
      const portName = sp.name ?? '';
      const endpoints = new Map<string, EndpointInfo>();
      for (const slice of slices) {
        const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'))?.port;
        if (port === undefined || port === null) continue;
        for (const e of slice.endpoints ?? []) {
          const ip = e.addresses[0];
          if (!inFamily(ip)) continue;
          const c = e.conditions ?? {};
          const info: EndpointInfo = {
            ip: canonicalIP(ip)!,
            port,
            // Unset conditions mean ready and serving (the API's documented defaults).
            ready: c.ready !== false,
            serving: c.serving ?? c.ready !== false,
            terminating: c.terminating === true,
            local: e.nodeName === config.nodeName,
          };
          endpoints.set(`${info.ip}:${port}`, info);
        }
      }
      out.push({
        namespace,
        name,
        portName,
        protocol,
        port: sp.port,
        ...(clusterIP ? { clusterIP: canonicalIP(clusterIP)! } : {}),
        ...(sp.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer') ? { nodePort: sp.nodePort } : {}),
        externalIPs,
        loadBalancerIPs: lbIPs,
        ...(spec.sessionAffinity === 'ClientIP' ? { affinitySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 } : {}),
        internalLocal: spec.internalTrafficPolicy === 'Local',
        externalLocal: spec.externalTrafficPolicy === 'Local',
        endpoints: [...endpoints.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port)),
      });
    }
  }
  return out;
}

/** Endpoints traffic may go to: the ready ones, or the serving terminating ones when none is ready (upstream's fallback). */
export function usableEndpoints(eps: readonly EndpointInfo[]): EndpointInfo[] {
  const ready = eps.filter((e) => e.ready);
  return ready.length > 0 ? ready : eps.filter((e) => e.serving && e.terminating);
}

const hashes = new Map<string, string>();

/** A short stable hash of a chain's identity (memoized: names are asked for many times a sync). */
function hash(text: string): string {
  let h = hashes.get(text);
  if (h === undefined) {
    if (hashes.size > 200_000) hashes.clear();
    h = createHash('sha256').update(text).digest('base64url').replace(/[-_]/g, 'x').slice(0, 8).toUpperCase();
    hashes.set(text, h);
  }
  return h;
}

/** A chain name: a prefix, a hash that keeps it unique, and a readable tail (nft identifiers have no ':'). */
function chainName(prefix: string, id: string, readable: string): string {
  return `${prefix}-${hash(id)}-${readable.replace(/:/g, '.').slice(0, 180)}`;
}

const addrWord = (family: IPFamily): string => (family === 'IPv4' ? 'ip' : 'ip6');
const hostPort = (family: IPFamily, ip: string, port: number): string => (family === 'IPv4' ? `${ip}:${port}` : `[${ip}]:${port}`);

/** An empty table content. */
export function emptyState(): TableState {
  return { chains: new Map(), maps: new Map(), sets: new Map() };
}

/** The chains and maps every table has, whatever the services. */
export function baseState(config: ProxyConfig): TableState {
  const A = addrWord(config.family);
  const loopback = config.family === 'IPv4' ? '127.0.0.0/8' : '::1';
  const chains = new Map<string, string[]>();
  const maps = new Map<string, Map<string, string>>(mapTypes(config.family).map(([n]) => [n, new Map()]));
  chains.set('nat-prerouting', ['jump services']);
  chains.set('nat-output', ['jump services']);
  chains.set('nat-postrouting', ['jump masquerading']);
  chains.set('masquerading', [`meta mark & ${masqueradeMark} == 0 return`, `meta mark set meta mark ^ ${masqueradeMark}`, 'masquerade fully-random']);
  chains.set('mark-for-masquerade', [`meta mark set meta mark | ${masqueradeMark}`]);
  chains.set('services', [
    `${A} daddr . meta l4proto . th dport vmap @service-ips`,
    `fib daddr type local ${A} daddr != ${loopback} meta l4proto . th dport vmap @service-nodeports`,
  ]);
  for (const hook of ['filter-input', 'filter-forward', 'filter-output']) chains.set(hook, ['ct state new jump endpoints-check']);
  chains.set('endpoints-check', [
    `${A} daddr . meta l4proto . th dport vmap @no-endpoint-services`,
    `fib daddr type local ${A} daddr != ${loopback} meta l4proto . th dport vmap @no-endpoint-nodeports`,
  ]);
  chains.set('reject-chain', ['reject']);
  return { chains, maps, sets: new Map() };
}

/** Adds `part` into `into` (chains, map elements and sets); returns `into`. */
export function mergeState(into: TableState, part: TableState): TableState {
  for (const [k, v] of part.chains) into.chains.set(k, v);
  for (const [k, v] of part.sets) into.sets.set(k, v);
  for (const [name, elements] of part.maps) {
    let m = into.maps.get(name);
    if (!m) into.maps.set(name, (m = new Map<string, string>()));
    for (const [k, v] of elements) m.set(k, v);
  }
  return into;
}

/** The desired content of a family's table for these service ports. */
export function desiredState(ports: readonly ServicePortInfo[], config: ProxyConfig): TableState {
  return mergeState(baseState(config), serviceState(ports, config));
}

/** The chains, map elements and sets of some service ports (one service's, for incremental syncs). */
export function serviceState(ports: readonly ServicePortInfo[], config: ProxyConfig): TableState {
  const A = addrWord(config.family);
  const chains = new Map<string, string[]>();
  const maps = new Map<string, Map<string, string>>(mapTypes(config.family).map(([n]) => [n, new Map()]));
  const sets = new Map<string, string>();
  const cidrs = config.clusterCIDRs.length > 0 ? `{ ${config.clusterCIDRs.join(', ')} }` : undefined;
  const serviceIPs = maps.get('service-ips')!;
  const nodePorts = maps.get('service-nodeports')!;
  const noEndpointIPs = maps.get('no-endpoint-services')!;
  const noEndpointPorts = maps.get('no-endpoint-nodeports')!;

  for (const sp of ports) {
    const id = `${sp.namespace}/${sp.name}/${sp.protocol}/${sp.portName}`;
    const readable = `${sp.namespace}/${sp.name}/${sp.protocol}/${sp.portName || `p${sp.port}`}`;
    const cluster = usableEndpoints(sp.endpoints);
    const local = usableEndpoints(sp.endpoints.filter((e) => e.local));
    const svcChain = chainName('service', id, readable);
    const localChain = chainName('local', id, readable);
    const extChain = chainName('external', id, readable);
    const epChain = (e: EndpointInfo): string => chainName('endpoint', `${id}/${e.ip}/${e.port}`, `${readable}__${e.ip}/${e.port}`);
    const affSet = (e: EndpointInfo): string => `affinity-${hash(`${id}/${e.ip}/${e.port}/${sp.affinitySeconds ?? 0}`)}`;
    const used = new Set<EndpointInfo>();
    /** A chain that spreads over endpoints at random, sticky per client when affinity is on. */
    const spread = (name: string, eps: EndpointInfo[], masqueradeRule?: string): void => {
      const rules: string[] = [];
      if (masqueradeRule) rules.push(masqueradeRule);
      if (sp.affinitySeconds !== undefined) for (const e of eps) rules.push(`${A} saddr @${affSet(e)} goto ${epChain(e)}`);
      rules.push(`numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${epChain(e)}`).join(', ')} }`);
      chains.set(name, rules);
      for (const e of eps) used.add(e);
    };
    const key = (ip: string): string => `${ip} . ${sp.protocol} . ${sp.port}`;
    if (cluster.length > 0) {
      const masq = sp.clusterIP && cidrs ? `${A} daddr ${sp.clusterIP} ${A} saddr != ${cidrs} jump mark-for-masquerade` : undefined;
      spread(svcChain, cluster, masq);
    }
    if (local.length > 0 && (sp.internalLocal || sp.externalLocal)) spread(localChain, local);
    if (sp.clusterIP) {
      const internal = sp.internalLocal ? local : cluster;
      if (internal.length > 0) serviceIPs.set(key(sp.clusterIP), `goto ${sp.internalLocal ? localChain : svcChain}`);
      else noEndpointIPs.set(key(sp.clusterIP), sp.internalLocal && cluster.length > 0 ? 'drop' : 'goto reject-chain');
    }
    const externalTargets = [...sp.externalIPs, ...sp.loadBalancerIPs];
    if (externalTargets.length > 0 || sp.nodePort !== undefined) {
      const reachable = sp.externalLocal ? local.length > 0 : cluster.length > 0;
      if (reachable) {
        const rules: string[] = [];
        if (sp.externalLocal) {
          // Pods and the node itself may use any endpoint; outside clients only local ones, source kept.
          if (cluster.length > 0 && cidrs) rules.push(`${A} saddr ${cidrs} goto ${svcChain}`);
          if (cluster.length > 0) rules.push(`fib saddr type local jump mark-for-masquerade`, `fib saddr type local goto ${svcChain}`);
          rules.push(`goto ${localChain}`);
        } else {
          rules.push('jump mark-for-masquerade', `goto ${svcChain}`);
        }
        chains.set(extChain, rules);
        for (const ip of externalTargets) serviceIPs.set(key(ip), `goto ${extChain}`);
        if (sp.nodePort !== undefined) nodePorts.set(`${sp.protocol} . ${sp.nodePort}`, `goto ${extChain}`);
      } else {
        const verdict = sp.externalLocal && cluster.length > 0 ? 'drop' : 'goto reject-chain';
        for (const ip of externalTargets) noEndpointIPs.set(key(ip), verdict);
        if (sp.nodePort !== undefined) noEndpointPorts.set(`${sp.protocol} . ${sp.nodePort}`, verdict);
      }
    }
    for (const e of used) {
      const rules = [`${A} saddr ${e.ip} jump mark-for-masquerade`];
      if (sp.affinitySeconds !== undefined) {
        const set = affSet(e);
        sets.set(set, `{ type ${config.family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr'}; flags dynamic,timeout; timeout ${sp.affinitySeconds}s; }`);
        rules.push(`update @${set} { ${A} saddr }`);
      }
      rules.push(`meta l4proto ${sp.protocol} dnat to ${hostPort(config.family, e.ip, e.port)}`);
      chains.set(epChain(e), rules);
    }
  }
  return { chains, maps, sets };
}

const sameRules = (a: readonly string[] | undefined, b: readonly string[]): boolean =>
  a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);

function elementLines(prefix: string, map: string, entries: [string, string][], op: 'add' | 'delete'): string[] {
  const out: string[] = [];
  // Batches keep single lines short.
  for (let i = 0; i < entries.length; i += 500) {
    const part = entries.slice(i, i + 500);
    const body = op === 'add' ? part.map(([k, v]) => `${k} : ${v}`) : part.map(([k]) => k);
    out.push(`${op} element ${prefix} ${map} { ${body.join(', ')} }`);
  }
  return out;
}

/**
 * The nft script that makes the table hold `next` whatever it holds now: the table is flushed (rules go,
 * affinity sets keep their members), every chain, map and set declared and filled, and chains and sets
 * that exist but are not wanted (`existing`, from listing the kernel's table) deleted.
 */
export function fullSyncScript(
  family: IPFamily,
  table: string,
  next: TableState,
  existing: { chains: Iterable<string>; sets: Iterable<string>; maps: Iterable<string> },
): string {
  const prefix = `${addrWord(family)} ${table}`;
  const lines = [`add table ${prefix}`, `flush table ${prefix}`];
  for (const [name, decl] of baseChains) lines.push(`add chain ${prefix} ${name} ${decl}`);
  for (const name of next.chains.keys()) if (!baseChainNames.has(name)) lines.push(`add chain ${prefix} ${name}`);
  for (const [name, decl] of next.sets) lines.push(`add set ${prefix} ${name} ${decl}`);
  for (const [name, decl] of mapTypes(family)) {
    lines.push(`add map ${prefix} ${name} ${decl}`, `flush map ${prefix} ${name}`);
    lines.push(...elementLines(prefix, name, [...(next.maps.get(name) ?? new Map<string, string>())], 'add'));
  }
  for (const [name, rules] of next.chains) for (const r of rules) lines.push(`add rule ${prefix} ${name} ${r}`);
  const wantedMaps = new Set(mapTypes(family).map(([n]) => n));
  for (const name of existing.maps) if (!wantedMaps.has(name)) lines.push(`delete map ${prefix} ${name}`);
  for (const name of existing.chains) if (!next.chains.has(name) && !baseChainNames.has(name)) lines.push(`delete chain ${prefix} ${name}`);
  for (const name of existing.sets) if (!next.sets.has(name)) lines.push(`delete set ${prefix} ${name}`);
  return lines.join('\n') + '\n';
}

/** The nft script that moves the table from `prev` (as applied) to `next`, touching only what changed; '' when nothing did. */
export function incrementalScript(family: IPFamily, table: string, prev: TableState, next: TableState): string {
  const prefix = `${addrWord(family)} ${table}`;
  const lines: string[] = [];
  for (const name of next.chains.keys()) if (!prev.chains.has(name)) lines.push(`add chain ${prefix} ${name}`);
  for (const [name, decl] of next.sets) if (prev.sets.get(name) !== decl) lines.push(`add set ${prefix} ${name} ${decl}`);
  for (const [name, rules] of next.chains) {
    const old = prev.chains.get(name);
    if (sameRules(old, rules)) continue;
    if (old !== undefined) lines.push(`flush chain ${prefix} ${name}`);
    for (const r of rules) lines.push(`add rule ${prefix} ${name} ${r}`);
  }
  // Maps of either side: a deleted service's part has none, and its elements must still go.
  for (const map of new Set([...prev.maps.keys(), ...next.maps.keys()])) {
    const elements = next.maps.get(map) ?? new Map<string, string>();
    const before = prev.maps.get(map) ?? new Map<string, string>();
    const removed = [...before].filter(([k, v]) => elements.get(k) !== v);
    const added = [...elements].filter(([k, v]) => before.get(k) !== v);
    lines.push(...elementLines(prefix, map, removed, 'delete'), ...elementLines(prefix, map, added, 'add'));
  }
  const gone = [...prev.chains.keys()].filter((n) => !next.chains.has(n));
  for (const name of gone) lines.push(`flush chain ${prefix} ${name}`);
  for (const name of gone) lines.push(`delete chain ${prefix} ${name}`);
  for (const name of prev.sets.keys()) if (!next.sets.has(name)) lines.push(`delete set ${prefix} ${name}`);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
