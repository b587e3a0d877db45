// Services (core defaulting, pkg/registry/core/service's strategy and the parts of its REST storage that run
// before allocation, and core validation). Allocation of cluster IPs and node ports comes later: clusterIP
// and clusterIPs are kept as given (the plural filled from the singular), validated for syntax, and the IP
// family fields get the defaults upstream's allocator gives them on a single-stack cluster.
import type { Service, ServicePort, ServiceSpec } from 'kubernetes-types/core/v1.js';
import { goQuote } from '../../api/go-quote.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { isValidPortNum, nameIsDNS1035Label, validateLabels } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import {
  isDualStack,
  isIPv6String,
  isValidCIDR,
  isValidIP,
  parseIPSloppy,
  validateNonSpecialIP,
} from './ip-validation.js';
import {
  baseStrategy,
  goTypedStrings,
  supportedPortProtocols,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validatePortNumOrName,
  validateQualifiedName,
} from './kube-validation.js';

/** How the cluster allocates what Services ask for. */
export interface ServiceStrategyOptions {
  /** The node port range (upstream's --service-node-port-range), inclusive. */
  nodePortRange?: { base: number; size: number };
  /** The family of the service CIDR (IPv4 unless the cluster is IPv6-only); ignored when ipFamilies is given. */
  primaryIPFamily?: 'IPv4' | 'IPv6';
  /** The families of the service CIDRs, the primary first (two on a dual-stack cluster). */
  ipFamilies?: readonly ('IPv4' | 'IPv6')[];
}

/** Seconds a ClientIP session sticks by default, and at most. */
export const defaultClientIPServiceAffinitySeconds = 10800;
export const maxClientIPServiceAffinitySeconds = 86400;

const supportedServiceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const supportedSessionAffinity = ['ClientIP', 'None'];
const supportedIPFamilies = ['IPv4', 'IPv6'];
const supportedIPFamilyPolicies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const supportedTrafficPolicies = ['Cluster', 'Local'];
const topologyModeAnnotation = 'service.kubernetes.io/topology-mode';
const topologyHintsAnnotation = 'service.kubernetes.io/topology-aware-hints';
const lbSourceRangesAnnotation = 'service.beta.kubernetes.io/load-balancer-source-ranges';

type Spec = ServiceSpec;

const externallyAccessible = (s: Spec) =>
  s.type === 'LoadBalancer' ||
  s.type === 'NodePort' ||
  (s.type === 'ClusterIP' && (s.externalIPs ?? []).length > 0);
const needsHealthCheck = (s: Spec) => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
const needsClusterIP = (s: Spec) => s.type !== 'ExternalName';
const needsNodePort = (s: Spec) => s.type === 'NodePort' || s.type === 'LoadBalancer';
const isHeadless = (s: Spec) => s.clusterIPs?.length === 1 && s.clusterIPs[0] === 'None';
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** upstream's SetDefaults_Service. */
function setDefaults(svc: Service): void {
  const spec = (svc.spec ??= {});
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (
    spec.sessionAffinity === 'ClientIP' &&
    spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined
  ) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: defaultClientIPServiceAffinitySeconds } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const port of spec.ports ?? []) {
    if (!port.protocol) port.protocol = 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '')
      port.targetPort = port.port;
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy === undefined && spec.type !== 'ExternalName')
    spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined)
    spec.allocateLoadBalancerNodePorts = true;
  if (spec.type === 'LoadBalancer') {
    for (const ing of svc.status?.loadBalancer?.ingress ?? [])
      if (ing.ip && ing.ipMode === undefined) ing.ipMode = 'VIP';
  }
}

/** Keeps clusterIP and clusterIPs in step (upstream's normalizeClusterIPs); `old` is absent on create. */
function normalizeClusterIPs(spec: Spec, old: Spec | undefined): void {
  if (old === undefined) {
    if (spec.clusterIP && (spec.clusterIPs ?? []).length === 0) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  // A client that knows only the singular field sent the same clusterIP and no clusterIPs.
  if (
    (old.clusterIPs ?? []).length > 0 &&
    (spec.clusterIPs ?? []).length === 0 &&
    (old.clusterIP ?? '') === (spec.clusterIP ?? '')
  ) {
    spec.clusterIPs = old.clusterIPs;
  }
  if ((old.clusterIP ?? '') !== (spec.clusterIP ?? '')) {
    if (old.clusterIP && !spec.clusterIP && same(old.clusterIPs, spec.clusterIPs)) delete spec.clusterIPs;
    if (spec.clusterIP && same(old.clusterIPs, spec.clusterIPs)) spec.clusterIPs = [spec.clusterIP];
  }
}

/** Allocated values a client left out of an update are carried over (upstream's patchAllocatedValues). */
function patchAllocatedValues(spec: Spec, old: Spec): void {
  if (needsClusterIP(old) && needsClusterIP(spec)) {
    if (!spec.clusterIP && old.clusterIP) spec.clusterIP = old.clusterIP;
    if ((spec.clusterIPs ?? []).length === 0 && (old.clusterIPs ?? []).length > 0)
      spec.clusterIPs = old.clusterIPs;
  }
  if (needsNodePort(old) && needsNodePort(spec)) {
    const newPorts = new Set((spec.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n !== 0));
    const byName = new Map((old.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
    const used = new Set((old.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => newPorts.has(n)));
    for (const p of spec.ports ?? []) {
      const prev = byName.get(p.name ?? '') ?? 0;
      if (!p.nodePort && prev !== 0 && !used.has(prev)) p.nodePort = prev;
    }
  }
  if (
    needsHealthCheck(old) &&
    needsHealthCheck(spec) &&
    !spec.healthCheckNodePort &&
    old.healthCheckNodePort
  ) {
    spec.healthCheckNodePort = old.healthCheckNodePort;
  }
}

/** Fields that belonged to the old type and were not touched go when the type changes (dropTypeDependentFields). */
function dropTypeDependentFields(spec: Spec, old: Spec): void {
  if (needsClusterIP(old) && !needsClusterIP(spec)) {
    if (same(old.clusterIPs, spec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (same(old.ipFamilies, spec.ipFamilies)) delete spec.ipFamilies;
    if (same(old.ipFamilyPolicy, spec.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
  }
  const nodePorts = (s: Spec) => (s.ports ?? []).map((p) => p.nodePort ?? 0);
  if (needsNodePort(old) && !needsNodePort(spec) && same(nodePorts(old), nodePorts(spec))) {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (
    needsHealthCheck(old) &&
    !needsHealthCheck(spec) &&
    (old.healthCheckNodePort ?? 0) === (spec.healthCheckNodePort ?? 0)
  ) {
    delete spec.healthCheckNodePort;
  }
  if (old.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (
      spec.allocateLoadBalancerNodePorts !== undefined &&
      old.allocateLoadBalancerNodePorts !== undefined &&
      spec.allocateLoadBalancerNodePorts === old.allocateLoadBalancerNodePorts
    ) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (same(old.loadBalancerClass, spec.loadBalancerClass)) delete spec.loadBalancerClass;
  }
  if (
    externallyAccessible(old) &&
    !externallyAccessible(spec) &&
    (old.externalTrafficPolicy ?? '') === (spec.externalTrafficPolicy ?? '')
  ) {
    delete spec.externalTrafficPolicy;
  }
}

/**
 * The IP family fields upstream's allocator fills before it allocates (initIPFamilyFields): the policy
 * (SingleStack unless two IPs or families were asked for, the old policy on update, RequireDualStack for a
 * selectorless headless service), families inferred from clusterIPs, the cluster's primary family, and the
 * second family for a dual-stack policy on a dual-stack cluster. `configured` lists the cluster's families,
 * the primary first. Errors are those upstream reports before any allocation.
 */
export function initIPFamilyFields(spec: Spec, old: Spec | undefined, configured: readonly string[]): ErrorList {
  if (spec.type === 'ExternalName') return [];
  const policyPath = newPath('spec', 'ipFamilyPolicy');
  // A PreferDualStack service is not moved between single and dual stack by a cluster change.
  if (
    old !== undefined &&
    old.ipFamilyPolicy === 'PreferDualStack' &&
    spec.ipFamilyPolicy === 'PreferDualStack' &&
    same(old.clusterIPs, spec.clusterIPs) &&
    same(old.ipFamilies, spec.ipFamilies)
  ) {
    return [];
  }
  const headlessNoSelector = spec.clusterIP === 'None' && Object.keys(spec.selector ?? {}).length === 0;
  if (spec.ipFamilyPolicy === undefined) {
    if (old?.ipFamilyPolicy !== undefined) spec.ipFamilyPolicy = old.ipFamilyPolicy;
    else if (headlessNoSelector) spec.ipFamilyPolicy = 'RequireDualStack';
    else spec.ipFamilyPolicy = 'SingleStack';
  }
  const loose = validateClusterIPsRelatedFields(spec);
  if (loose.length > 0) return loose;
  const errs: ErrorList = [];
  if (old !== undefined) {
    if (spec.ipFamilyPolicy === 'SingleStack') {
      if (same(old.clusterIPs, spec.clusterIPs) && (spec.clusterIPs ?? []).length > 1)
        spec.clusterIPs = spec.clusterIPs!.slice(0, 1);
      if (same(old.ipFamilies, spec.ipFamilies) && (spec.ipFamilies ?? []).length > 1)
        spec.ipFamilies = spec.ipFamilies!.slice(0, 1);
    } else {
      if ((spec.clusterIPs ?? []).length < (old.clusterIPs ?? []).length)
        errs.push(field.invalid(policyPath, spec.ipFamilyPolicy, "must be 'SingleStack' to release the secondary cluster IP"));
      if ((spec.ipFamilies ?? []).length < (old.ipFamilies ?? []).length)
        errs.push(field.invalid(policyPath, spec.ipFamilyPolicy, "must be 'SingleStack' to release the secondary IP family"));
    }
  }
  if (spec.ipFamilyPolicy === 'SingleStack') {
    if ((spec.clusterIPs ?? []).length === 2) {
      errs.push(field.invalid(policyPath, spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
    }
    if ((spec.ipFamilies ?? []).length === 2) {
      errs.push(field.invalid(policyPath, spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
    }
  }
  const families = [...(spec.ipFamilies ?? [])];
  for (const [i, ip] of (spec.clusterIPs ?? []).entries()) {
    if (ip === 'None') break;
    const fam = isIPv6String(ip) ? 'IPv6' : 'IPv4';
    if (i < families.length) continue;
    if (!configured.includes(fam)) {
      errs.push(field.invalid(newPath('spec', 'clusterIPs').index(i), [...(spec.clusterIPs ?? [])], `${fam} is not configured on this cluster`));
    } else {
      families.push(fam);
    }
  }
  if (errs.length > 0) return errs;
  spec.ipFamilies = families;
  const other = (f: string): string => (f === 'IPv4' ? 'IPv6' : 'IPv4');
  if (headlessNoSelector) {
    if (families.length === 0) families.push(configured[0] ?? 'IPv4');
    if (families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(other(families[0]!));
    return [];
  }
  if (spec.ipFamilyPolicy === 'RequireDualStack' && configured.length < 2) {
    errs.push(field.invalid(policyPath, spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
  }
  families.forEach((f, i) => {
    if (!configured.includes(f) && supportedIPFamilies.includes(f))
      errs.push(field.invalid(newPath('spec', 'ipFamilies').index(i), f, 'not configured on this cluster'));
  });
  if (errs.length > 0) return errs;
  if (families.length === 0) families.push(configured[0] ?? 'IPv4');
  if (spec.ipFamilyPolicy !== 'SingleStack' && families.length === 1 && configured.length === 2) families.push(other(families[0]!));
  return [];
}

function goServicePortKey(p: ServicePort): GoValue {
  return new GoValue(
    `core.ServicePort{Name:"", Protocol:${goQuote(p.protocol ?? '')}, AppProtocol:(*string)(nil), Port:${p.port ?? 0}, ` +
      'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  );
}

function validateServicePort(p: ServicePort, requireName: boolean, names: Set<string>, i: number): ErrorList {
  const path = newPath('spec', 'ports').index(i);
  const errs: ErrorList = [];
  const name = p.name ?? '';
  if (requireName && name.length === 0) {
    errs.push(field.required(path.child('name'), ''));
  } else if (name.length > 0) {
    errs.push(...validateDNS1123Label(name, path.child('name')));
    if (names.has(name)) errs.push(field.duplicate(path.child('name'), name));
    else names.add(name);
  }
  for (const msg of isValidPortNum(p.port ?? 0))
    errs.push(field.invalid(path.child('port'), p.port ?? 0, msg));
  if (!p.protocol) errs.push(field.required(path.child('protocol'), ''));
  else if (!supportedPortProtocols.includes(p.protocol))
    errs.push(field.notSupported(path.child('protocol'), p.protocol, supportedPortProtocols));
  errs.push(...validatePortNumOrName(p.targetPort, path.child('targetPort')));
  if (p.appProtocol !== undefined)
    errs.push(...validateQualifiedName(p.appProtocol, path.child('appProtocol')));
  return errs;
}

/** ValidateServiceClusterIPsRelatedFields: clusterIP, clusterIPs, ipFamilies and ipFamilyPolicy together. */
function validateClusterIPsRelatedFields(spec: Spec): ErrorList {
  if (spec.type === 'ExternalName') return [];
  const errs: ErrorList = [];
  const ipsPath = newPath('spec', 'clusterIPs');
  const familiesPath = newPath('spec', 'ipFamilies');
  const ips = spec.clusterIPs ?? [];
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(field.required(ipsPath, ''));
    else if (ips[0] !== spec.clusterIP)
      errs.push(field.invalid(ipsPath, [...ips], 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errs.push(field.invalid(ipsPath, [...ips], 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((fam, i) => {
    if (!supportedIPFamilies.includes(fam))
      errs.push(field.notSupported(familiesPath.index(i), fam, supportedIPFamilies));
    if (seen.has(fam)) errs.push(field.duplicate(familiesPath.index(i), fam));
    seen.add(fam);
  });
  if (spec.ipFamilyPolicy !== undefined && !supportedIPFamilyPolicies.includes(spec.ipFamilyPolicy)) {
    errs.push(
      field.notSupported(newPath('spec', 'ipFamilyPolicy'), spec.ipFamilyPolicy, supportedIPFamilyPolicies),
    );
  }
  let invalidIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        invalidIPs = true;
        errs.push(field.invalid(ipsPath, [...ips], "'None' must be the first and only value"));
      }
      return;
    }
    const ipErrs = isValidIP(ipsPath.index(i), ip);
    if (ipErrs.length > 0) invalidIPs = true;
    errs.push(...ipErrs);
  });
  if (ips.length > 2) errs.push(field.invalid(ipsPath, [...ips], 'may only hold up to 2 values'));
  if (invalidIPs) return errs;
  if (ips.length > 1 && !isDualStack(ips.map((ip) => parseIPSloppy(ip)?.family))) {
    errs.push(field.invalid(ipsPath, [...ips], 'may specify no more than one IP for each IP family'));
  }
  const families = spec.ipFamilies ?? [];
  if (!isHeadless(spec) && ips.length > 0 && families.length > 0) {
    ips.forEach((ip, i) => {
      if (i > families.length - 1) return;
      if (families[i] === 'IPv4' && isIPv6String(ip)) {
        errs.push(
          field.invalid(ipsPath.index(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``),
        );
      }
      if (families[i] === 'IPv6' && !isIPv6String(ip)) {
        errs.push(
          field.invalid(ipsPath.index(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``),
        );
      }
    });
  }
  return errs;
}

function validateClientIPAffinityConfig(spec: Spec): ErrorList {
  const path = newPath('spec', 'sessionAffinityConfig');
  const detail = 'when session affinity type is ClientIP';
  const config = spec.sessionAffinityConfig;
  if (config === undefined) return [field.required(path, detail)];
  if (config.clientIP === undefined) return [field.required(path.child('clientIP'), detail)];
  const timeout = config.clientIP.timeoutSeconds;
  if (timeout === undefined) return [field.required(path.child('clientIP', 'timeoutSeconds'), detail)];
  if (timeout <= 0 || timeout > maxClientIPServiceAffinitySeconds) {
    return [
      field.invalid(
        path.child('clientIP', 'timeoutSeconds'),
        timeout,
        `must be greater than 0 and less than ${maxClientIPServiceAffinitySeconds}`,
      ),
    ];
  }
  return [];
}

/** upstream's ValidateService, without the metadata. */
function validateServiceSpec(svc: Service): ErrorList {
  const errs: ErrorList = [];
  const spec = svc.spec ?? {};
  const specPath = newPath('spec');
  const annotations = svc.metadata?.annotations ?? {};
  const mode = annotations[topologyModeAnnotation];
  const hints = annotations[topologyHintsAnnotation];
  if (mode !== undefined && hints !== undefined && mode !== hints) {
    errs.push(
      field.invalid(
        newPath('metadata', 'annotations').key(topologyModeAnnotation),
        mode,
        `must match annotations[${topologyHintsAnnotation}] when both are specified`,
      ),
    );
  }
  const ports = spec.ports ?? [];
  if (ports.length === 0 && !isHeadless(spec) && spec.type !== 'ExternalName')
    errs.push(field.required(specPath.child('ports'), ''));
  switch (spec.type ?? '') {
    case 'LoadBalancer':
    case 'NodePort':
      if (isHeadless(spec)) {
        errs.push(
          field.invalid(
            specPath.child('clusterIPs').index(0),
            'None',
            `may not be set to 'None' for ${spec.type} services`,
          ),
        );
      }
      break;
    case 'ExternalName': {
      const forbidden = 'may not be set for ExternalName services';
      if ((spec.clusterIPs ?? []).length > 0)
        errs.push(field.forbidden(specPath.child('clusterIPs'), forbidden));
      if ((spec.ipFamilies ?? []).length > 0)
        errs.push(field.forbidden(specPath.child('ipFamilies'), forbidden));
      if (spec.ipFamilyPolicy !== undefined)
        errs.push(field.forbidden(specPath.child('ipFamilyPolicy'), forbidden));
      // A CNAME may end in a dot to mark it fully qualified.
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname.length > 0) errs.push(...validateDNS1123Subdomain(cname, specPath.child('externalName')));
      else errs.push(field.required(specPath.child('externalName'), ''));
      break;
    }
    default:
      break;
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, i)));
  if (spec.selector !== undefined) errs.push(...validateLabels(spec.selector, specPath.child('selector')));
  if (!spec.sessionAffinity) errs.push(field.required(specPath.child('sessionAffinity'), ''));
  else if (!supportedSessionAffinity.includes(spec.sessionAffinity)) {
    errs.push(
      field.notSupported(specPath.child('sessionAffinity'), spec.sessionAffinity, supportedSessionAffinity),
    );
  }
  if (spec.sessionAffinity === 'ClientIP') errs.push(...validateClientIPAffinityConfig(spec));
  else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig !== undefined) {
    errs.push(
      field.forbidden(
        specPath.child('sessionAffinityConfig'),
        'must not be set when session affinity is None',
      ),
    );
  }
  errs.push(...validateClusterIPsRelatedFields(spec));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const p = specPath.child('externalIPs').index(i);
    const ipErrs = isValidIP(p, ip);
    errs.push(...(ipErrs.length > 0 ? ipErrs : validateNonSpecialIP(ip, p)));
  });
  if (!spec.type) errs.push(field.required(specPath.child('type'), ''));
  else if (!supportedServiceTypes.includes(spec.type))
    errs.push(field.notSupported(specPath.child('type'), spec.type, supportedServiceTypes));
  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort)
        errs.push(
          field.forbidden(
            specPath.child('ports').index(i).child('nodePort'),
            "may not be used when `type` is 'ClusterIP'",
          ),
        );
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol ?? ''}/${p.nodePort}`;
    if (nodePorts.has(key))
      errs.push(field.duplicate(specPath.child('ports').index(i).child('nodePort'), p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol ?? ''}/${p.port ?? 0}`;
    if (portKeys.has(key)) errs.push(field.duplicate(specPath.child('ports').index(i), goServicePortKey(p)));
    portKeys.add(key);
  });
  const ranges = spec.loadBalancerSourceRanges ?? [];
  if (ranges.length > 0) {
    const p = specPath.child('LoadBalancerSourceRanges');
    if (spec.type !== 'LoadBalancer')
      errs.push(field.forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...isValidCIDR(p.index(i), r.trim())));
  } else if (annotations[lbSourceRangesAnnotation] !== undefined) {
    const p = newPath('metadata', 'annotations').key(lbSourceRangesAnnotation);
    if (spec.type !== 'LoadBalancer')
      errs.push(field.forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const val = annotations[lbSourceRangesAnnotation].trim();
    if (val !== '') for (const r of val.split(',')) errs.push(...isValidCIDR(p, r.trim()));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.type !== 'LoadBalancer') {
    errs.push(
      field.forbidden(
        specPath.child('allocateLoadBalancerNodePorts'),
        "may only be used when `type` is 'LoadBalancer'",
      ),
    );
  }
  // Upstream names this path without "spec.".
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) {
    errs.push(field.required(newPath('allocateLoadBalancerNodePorts'), ''));
  }
  if (spec.type === 'LoadBalancer') {
    if (spec.loadBalancerClass !== undefined)
      errs.push(...validateQualifiedName(spec.loadBalancerClass, specPath.child('loadBalancerClass')));
  } else if (spec.loadBalancerClass !== undefined) {
    errs.push(
      field.forbidden(specPath.child('loadBalancerClass'), "may only be used when `type` is 'LoadBalancer'"),
    );
  }
  errs.push(...validateExternalTrafficPolicy(spec));
  if (spec.internalTrafficPolicy === undefined) {
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP') {
      errs.push(field.required(specPath.child('internalTrafficPolicy'), ''));
    }
  } else if (!supportedTrafficPolicies.includes(spec.internalTrafficPolicy)) {
    errs.push(
      field.notSupported(
        specPath.child('internalTrafficPolicy'),
        spec.internalTrafficPolicy,
        supportedTrafficPolicies,
      ),
    );
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== 'PreferClose') {
    errs.push(
      field.notSupported(specPath.child('trafficDistribution'), spec.trafficDistribution, ['PreferClose']),
    );
  }
  return errs;
}

function validateExternalTrafficPolicy(spec: Spec): ErrorList {
  const errs: ErrorList = [];
  const path = newPath('spec');
  const policy = spec.externalTrafficPolicy ?? '';
  if (!externallyAccessible(spec)) {
    if (policy !== '')
      errs.push(
        field.invalid(
          path.child('externalTrafficPolicy'),
          policy,
          'may only be set for externally-accessible services',
        ),
      );
  } else if (policy === '') {
    errs.push(field.required(path.child('externalTrafficPolicy'), ''));
  } else if (!supportedTrafficPolicies.includes(policy)) {
    errs.push(field.notSupported(path.child('externalTrafficPolicy'), policy, supportedTrafficPolicies));
  }
  const hc = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheck(spec)) {
    if (hc !== 0) {
      errs.push(
        field.invalid(
          path.child('healthCheckNodePort'),
          hc,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
    }
  } else if (hc === 0) {
    errs.push(field.required(path.child('healthCheckNodePort'), ''));
  } else {
    for (const msg of isValidPortNum(hc))
      errs.push(field.invalid(path.child('healthCheckNodePort'), hc, msg));
  }
  return errs;
}

function validateUpgradeDowngradeClusterIPs(old: Spec, spec: Spec): ErrorList {
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadless(old) && isHeadless(spec)) return [];
  const errs: ErrorList = [];
  const path = newPath('spec', 'clusterIPs');
  const oldIPs = old.clusterIPs ?? [];
  const ips = spec.clusterIPs ?? [];
  const shown = ips.length === 0 ? null : [...ips];
  if (oldIPs.length === ips.length) {
    oldIPs.forEach((ip, i) => {
      if (ip !== ips[i]) errs.push(field.invalid(path.index(i), shown, 'may not change once set'));
    });
  } else if (oldIPs.length > ips.length) {
    if (ips.length === 0)
      errs.push(field.invalid(path.index(0), shown, 'primary clusterIP can not be unset'));
    if (oldIPs.length > 0 && ips.length > 0 && ips[0] !== oldIPs[0])
      errs.push(field.invalid(path.index(0), shown, 'may not change once set'));
    if (ips.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(
        field.invalid(
          newPath('spec', 'ipFamilyPolicy'),
          spec.ipFamilyPolicy ?? null,
          "must be set to 'SingleStack' when releasing the secondary clusterIP",
        ),
      );
    }
  } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
    errs.push(field.invalid(path.index(0), shown, 'may not change once set'));
  }
  return errs;
}

function validateUpgradeDowngradeIPFamilies(old: Spec, spec: Spec): ErrorList {
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadless(old) !== isHeadless(spec) || isHeadless(spec)) return [];
  const errs: ErrorList = [];
  const path = newPath('spec', 'ipFamilies');
  const oldFams = old.ipFamilies ?? [];
  const fams = spec.ipFamilies ?? [];
  const shownFams = goTypedStrings('core.IPFamily', fams);
  const shownIPs = spec.clusterIPs === undefined ? null : [...spec.clusterIPs];
  if (oldFams.length === fams.length) {
    oldFams.forEach((f, i) => {
      if (f !== fams[i]) errs.push(field.invalid(path.index(0), shownFams, 'may not change once set'));
    });
  } else if (oldFams.length > fams.length) {
    if ((spec.clusterIPs ?? []).length === 0)
      errs.push(field.invalid(path.index(0), shownFams, 'primary ipFamily can not be unset'));
    if (fams.length > 0 && fams[0] !== oldFams[0])
      errs.push(field.invalid(path.index(0), shownIPs, 'may not change once set'));
    if (fams.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(
        field.invalid(
          newPath('spec', 'ipFamilyPolicy'),
          spec.ipFamilyPolicy ?? null,
          "must be set to 'SingleStack' when releasing the secondary ipFamily",
        ),
      );
    }
  } else if (oldFams.length > 0 && fams.length > 0 && fams[0] !== oldFams[0]) {
    errs.push(field.invalid(path.index(0), shownIPs, 'may not change once set'));
  }
  return errs;
}

/** The services strategy, with the checks upstream makes before it allocates (for the API server's allocator). */
export interface ServiceStrategy extends ResourceStrategy {
  /** Errors that stop allocation: clusterIP and family fields that do not fit, families or node ports the cluster lacks. */
  allocationErrors(obj: KObject, old: KObject | undefined): ErrorList;
}

/** The strategy of core/v1 services, for a cluster with the given node port range and IP families. */
export function createServiceStrategy(options: ServiceStrategyOptions = {}): ServiceStrategy {
  const range = options.nodePortRange ?? { base: 30000, size: 2768 };
  const configured = options.ipFamilies ?? [options.primaryIPFamily ?? 'IPv4'];
  const rangeText = `${range.base}-${range.base + range.size - 1}`;
  // Errors of initIPFamilyFields, found while preparing and reported by validation, as upstream's allocator
  // reports them before it validates.
  const familyErrors = new WeakMap<object, ErrorList>();

  // Upstream allocates before it validates, and allocation fails alone: on clusterIP and family fields that
  // do not fit together, a family the cluster lacks, or a requested node port outside the range.
  const validateAllocation = (obj: KObject, old: Spec | undefined): ErrorList => {
    const spec = typed<Service>(obj).spec ?? {};
    const fam = familyErrors.get(obj);
    if (fam !== undefined && fam.length > 0) return fam;
    const related = validateClusterIPsRelatedFields(spec);
    if (related.length > 0) return related;
    const errs: ErrorList = [];
    const oldPorts = new Set((old?.ports ?? []).map((p) => p.nodePort ?? 0));
    (spec.ports ?? []).forEach((p, i) => {
      const np = p.nodePort ?? 0;
      if (np === 0 || oldPorts.has(np) || !needsNodePort(spec)) return;
      if (np < range.base || np >= range.base + range.size) {
        errs.push(
          field.invalid(
            newPath('spec', 'ports').index(i).child('nodePort'),
            np,
            `provided port is not in the valid range. The range of valid ports is ${rangeText}`,
          ),
        );
      }
    });
    return errs;
  };

  return {
    ...baseStrategy('', 'v1', 'services'),
    allocationErrors(obj, old) {
      return validateAllocation(obj, old === undefined ? undefined : (typed<Service>(old).spec ?? {}));
    },
    defaults(obj) {
      setDefaults(typed<Service>(obj));
    },
    prepareForCreate(obj) {
      // A status the client sent is dropped; the empty loadBalancer is how upstream serializes a zero status.
      obj.status = { loadBalancer: {} };
      const spec = (typed<Service>(obj).spec ??= {});
      normalizeClusterIPs(spec, undefined);
      familyErrors.set(obj, initIPFamilyFields(spec, undefined, configured));
    },
    prepareForUpdate(obj, old) {
      const spec = (typed<Service>(obj).spec ??= {});
      const prev = typed<Service>(old).spec ?? {};
      patchAllocatedValues(spec, prev);
      normalizeClusterIPs(spec, prev);
      dropTypeDependentFields(spec, prev);
      familyErrors.set(obj, initIPFamilyFields(spec, prev, configured));
    },
    validate(obj) {
      const svc = typed<Service>(obj);
      const alloc = validateAllocation(obj, undefined);
      if (alloc.length > 0) return alloc;
      return [...validateCoreObjectMeta(obj, true, nameIsDNS1035Label), ...validateServiceSpec(svc)];
    },
    validateUpdate(obj, old) {
      const spec = typed<Service>(obj).spec ?? {};
      const prev = typed<Service>(old).spec ?? {};
      const alloc = validateAllocation(obj, prev);
      if (alloc.length > 0) return alloc;
      const errs = validateCoreObjectMetaUpdate(obj, old);
      errs.push(...validateUpgradeDowngradeClusterIPs(prev, spec));
      errs.push(...validateUpgradeDowngradeIPFamilies(prev, spec));
      if (
        prev.type === 'LoadBalancer' &&
        spec.type === 'LoadBalancer' &&
        !same(prev.loadBalancerClass, spec.loadBalancerClass)
      ) {
        errs.push(
          field.invalid(
            newPath('spec', 'loadBalancerClass'),
            spec.loadBalancerClass ?? null,
            'may not change once set',
          ),
        );
      }
      if (
        needsHealthCheck(prev) &&
        needsHealthCheck(spec) &&
        (spec.healthCheckNodePort ?? 0) !== (prev.healthCheckNodePort ?? 0)
      ) {
        errs.push(field.forbidden(newPath('spec', 'healthCheckNodePort'), 'field is immutable'));
      }
      errs.push(
        ...validateCoreObjectMeta(obj, true, nameIsDNS1035Label),
        ...validateServiceSpec(typed<Service>(obj)),
      );
      errs.push(...validateLoadBalancerStatus(typed<Service>(obj)));
      return errs;
    },
  };
}

/** status.loadBalancer.ingress entries (checked on every update, as the status writers change them). */
function validateLoadBalancerStatus(svc: Service): ErrorList {
  const errs: ErrorList = [];
  (svc.status?.loadBalancer?.ingress ?? []).forEach((ing, i) => {
    const p = newPath('status', 'loadBalancer', 'ingress').index(i);
    if (ing.ip) errs.push(...isValidIP(p.child('ip'), ing.ip));
    if (ing.ipMode !== undefined && !ing.ip)
      errs.push(field.required(p.child('ip'), 'must be specified when `ipMode` is set'));
    if (ing.hostname) {
      errs.push(...validateDNS1123Subdomain(ing.hostname, p.child('hostname')));
      if (parseIPSloppy(ing.hostname) !== undefined)
        errs.push(field.invalid(p.child('hostname'), ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

/** The strategy of core/v1 services with upstream's default node port range (30000-32767) on IPv4. */
export const serviceStrategy: ServiceStrategy = createServiceStrategy();
