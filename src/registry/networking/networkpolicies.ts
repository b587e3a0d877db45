// NetworkPolicies (networking defaulting and validation): policyTypes default from the rules, ports with
// protocols (TCP by default) and ranges, and peers that are selectors or an IP block, not both.
import type {
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicySpec,
} from 'kubernetes-types/networking/v1.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
  validateLabelSelector,
} from '../../apimachinery/validation/names.js';
import { cidrContains, isValidCIDR, parseCIDRSloppy } from '../core/ip-validation.js';
import {
  baseStrategy,
  goTypedStrings,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

const protocols = ['TCP', 'UDP', 'SCTP'];
const policyTypes = ['Ingress', 'Egress'];

function validatePort(port: NetworkPolicyPort, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (port.protocol !== undefined && !protocols.includes(port.protocol))
    errs.push(field.notSupported(path.child('protocol'), port.protocol, protocols));
  const endPort = port.endPort;
  if (typeof port.port === 'number') {
    for (const msg of isValidPortNum(port.port)) errs.push(field.invalid(path.child('port'), port.port, msg));
    if (endPort !== undefined) {
      if (endPort < port.port)
        errs.push(field.invalid(path.child('endPort'), endPort, 'must be greater than or equal to `port`'));
      for (const msg of isValidPortNum(endPort))
        errs.push(field.invalid(path.child('endPort'), endPort, msg));
    }
  } else if (typeof port.port === 'string') {
    if (endPort !== undefined)
      errs.push(
        field.invalid(path.child('endPort'), endPort, 'may not be specified when `port` is non-numeric'),
      );
    for (const msg of isValidPortName(port.port))
      errs.push(field.invalid(path.child('port'), port.port, msg));
  } else if (endPort !== undefined) {
    errs.push(
      field.invalid(path.child('endPort'), endPort, 'may not be specified when `port` is not specified'),
    );
  }
  return errs;
}

function validatePeer(peer: NetworkPolicyPeer, path: Path, existingCIDRs: ReadonlySet<string>): ErrorList {
  const errs: ErrorList = [];
  let count = 0;
  if (peer.podSelector !== undefined) {
    count++;
    errs.push(...validateLabelSelector(peer.podSelector, {}, path.child('podSelector')));
  }
  if (peer.namespaceSelector !== undefined) {
    count++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, {}, path.child('namespaceSelector')));
  }
  const block = peer.ipBlock;
  if (block !== undefined) {
    count++;
    const p = path.child('ipBlock');
    if (!block.cidr) {
      errs.push(field.required(p.child('cidr'), ''));
    } else {
      // A CIDR the policy already held is kept even if it no longer passes.
      if (!existingCIDRs.has(block.cidr)) errs.push(...isValidCIDR(p.child('cidr'), block.cidr));
      const outer = parseCIDRSloppy(block.cidr);
      if (outer !== undefined) {
        (block.except ?? []).forEach((ex, i) => {
          const ep = p.child('except').index(i);
          if (!existingCIDRs.has(ex)) errs.push(...isValidCIDR(ep, ex));
          const inner = parseCIDRSloppy(ex);
          if (inner === undefined) return;
          const outerBits = outer.ip.family === 6 ? outer.prefix : outer.prefix + 96;
          const innerBits = inner.ip.family === 6 ? inner.prefix : inner.prefix + 96;
          if (!cidrContains(outer, inner.network) || outerBits >= innerBits)
            errs.push(field.invalid(ep, ex, 'must be a strict subset of `cidr`'));
        });
      }
    }
  }
  if (count === 0) errs.push(field.required(path, 'must specify a peer'));
  else if (count > 1 && block !== undefined)
    errs.push(field.forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

function validateSpec(np: NetworkPolicy, existingCIDRs: ReadonlySet<string>): ErrorList {
  const spec: Partial<NetworkPolicySpec> = np.spec ?? {};
  const path = newPath('spec');
  const errs = validateLabelSelector(spec.podSelector ?? {}, {}, path.child('podSelector'));
  (spec.ingress ?? []).forEach((rule, i) => {
    const p = path.child('ingress').index(i);
    (rule.ports ?? []).forEach((port, j) => errs.push(...validatePort(port, p.child('ports').index(j))));
    (rule.from ?? []).forEach((peer, j) =>
      errs.push(...validatePeer(peer, p.child('from').index(j), existingCIDRs)),
    );
  });
  (spec.egress ?? []).forEach((rule, i) => {
    const p = path.child('egress').index(i);
    (rule.ports ?? []).forEach((port, j) => errs.push(...validatePort(port, p.child('ports').index(j))));
    (rule.to ?? []).forEach((peer, j) =>
      errs.push(...validatePeer(peer, p.child('to').index(j), existingCIDRs)),
    );
  });
  const types = spec.policyTypes ?? [];
  if (types.length > policyTypes.length) {
    errs.push(
      field.invalid(
        path.child('policyTypes'),
        goTypedStrings('networking.PolicyType', types),
        'may not specify more than two policyTypes',
      ),
    );
    return errs;
  }
  types.forEach((t, i) => {
    if (!policyTypes.includes(t))
      errs.push(field.notSupported(path.child('policyTypes').index(i), t, policyTypes));
  });
  return errs;
}

function cidrsOf(np: NetworkPolicy): Set<string> {
  const out = new Set<string>();
  const peers = [
    ...(np.spec?.ingress ?? []).flatMap((r) => r.from ?? []),
    ...(np.spec?.egress ?? []).flatMap((r) => r.to ?? []),
  ];
  for (const peer of peers) {
    if (peer.ipBlock === undefined) continue;
    out.add(peer.ipBlock.cidr);
    for (const e of peer.ipBlock.except ?? []) out.add(e);
  }
  return out;
}

/** The strategy of networking.k8s.io/v1 networkpolicies. */
export const networkPolicyStrategy: ResourceStrategy = {
  ...baseStrategy('networking.k8s.io', 'v1', 'networkpolicies'),
  defaults(obj: KObject) {
    const np = typed<NetworkPolicy>(obj);
    const spec = (np.spec ??= { podSelector: {} });
    for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])])
      for (const port of rule.ports ?? []) port.protocol ??= 'TCP';
    if ((spec.policyTypes ?? []).length === 0) {
      // A policy that names no types is an ingress policy, and an egress one too if it has egress rules.
      spec.policyTypes = (spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
    }
  },
  validate: (obj) => [
    ...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain),
    ...validateSpec(typed<NetworkPolicy>(obj), new Set()),
  ],
  validateUpdate: (obj, old) => [
    ...validateCoreObjectMetaUpdate(obj, old),
    ...validateSpec(typed<NetworkPolicy>(obj), cidrsOf(typed<NetworkPolicy>(old))),
  ],
};
