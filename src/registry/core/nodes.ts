// Nodes (core defaulting and conversion, pkg/registry/core/node's strategy and core validation): cluster
// scoped, status written by the kubelet on create, podCIDRs set once, taints unique by key and effect.
import type { Node, NodeStatus, Taint } from 'kubernetes-types/core/v1.js';
import { goQuote } from '../../api/go-quote.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isValidLabelValue,
  nameIsDNSSubdomain,
  validateLabelName,
} from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { isDualStack, isValidCIDR, parseCIDRSloppy } from './ip-validation.js';
import {
  baseStrategy,
  semanticEqual,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from './kube-validation.js';
import {
  canonicalizeResourceList,
  parseQuantityField,
  validateResourceQuantityValue,
} from './resource-lists.js';

/** Taint effects, in the order upstream lists them. */
export const taintEffects: readonly string[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

const nodeSystemInfoFields = [
  'machineID',
  'systemUUID',
  'bootID',
  'kernelVersion',
  'osImage',
  'containerRuntimeVersion',
  'kubeletVersion',
  'kubeProxyVersion',
  'operatingSystem',
  'architecture',
] as const;

function setDefaults(obj: KObject): void {
  const node = typed<Node>(obj);
  const spec = node.spec;
  // v1 has podCIDR and podCIDRs; the first of the plural is the singular.
  if (spec !== undefined) {
    if ((spec.podCIDRs ?? []).length === 0 && spec.podCIDR) spec.podCIDRs = [spec.podCIDR];
    if ((spec.podCIDRs ?? []).length > 0) spec.podCIDR = spec.podCIDRs![0];
  }
  // Go serializes the zero daemonEndpoints and nodeInfo structs of every node's status.
  const status = ((obj.status as NodeStatus | undefined) ?? {}) as NodeStatus & Record<string, unknown>;
  obj.status = status;
  status.daemonEndpoints = {
    ...status.daemonEndpoints,
    kubeletEndpoint: { Port: status.daemonEndpoints?.kubeletEndpoint?.Port ?? 0 },
  };
  const info = { ...status.nodeInfo } as Record<string, unknown>;
  for (const f of nodeSystemInfoFields) info[f] ??= '';
  status.nodeInfo = info as unknown as NodeStatus['nodeInfo'];
  canonicalizeResourceList(status.capacity);
  canonicalizeResourceList(status.allocatable);
  if (status.allocatable === undefined && status.capacity !== undefined)
    status.allocatable = { ...status.capacity };
}

function goTaint(t: Taint): GoValue {
  const time = t.timeAdded === undefined ? '(*v1.Time)(nil)' : '(*v1.Time)(0xc000010000)';
  return new GoValue(
    `core.Taint{Key:${goQuote(t.key ?? '')}, Value:${goQuote(t.value ?? '')}, Effect:${goQuote(t.effect ?? '')}, TimeAdded:${time}}`,
  );
}

/** A node's taints: label-syntax keys and values, a known effect, unique by key and effect. */
export function validateNodeTaints(
  taints: readonly Taint[],
  path = newPath('metadata', 'taints'),
): ErrorList {
  const errs: ErrorList = [];
  const seen = new Set<string>();
  taints.forEach((t, i) => {
    const p = path.index(i);
    errs.push(...validateLabelName(t.key ?? '', p.child('key')));
    const valueErrs = isValidLabelValue(t.value ?? '');
    if (valueErrs.length > 0) errs.push(field.invalid(p.child('value'), t.value ?? '', valueErrs.join(';')));
    const effect = t.effect ?? '';
    if (effect === '') errs.push(field.required(p.child('effect'), ''));
    else if (!taintEffects.includes(effect))
      errs.push(field.notSupported(p.child('effect'), effect, taintEffects));
    const key = `${effect}\u0000${t.key ?? ''}`;
    if (seen.has(key)) {
      const dup = field.duplicate(p, goTaint(t));
      errs.push(Object.assign(dup, { detail: 'taints must be unique by key and effect pair' }));
      return;
    }
    seen.add(key);
  });
  return errs;
}

function validateNodeResources(node: Node): ErrorList {
  const errs: ErrorList = [];
  for (const part of ['capacity', 'allocatable'] as const) {
    for (const [k, v] of Object.entries(node.status?.[part] ?? {})) {
      const p = newPath('status', part, k);
      const { quantity, errs: parseErrs } = parseQuantityField(v, p);
      errs.push(...parseErrs);
      if (quantity !== undefined) errs.push(...validateResourceQuantityValue(k, quantity, p));
    }
  }
  return errs;
}

function validateNode(obj: KObject): ErrorList {
  const node = typed<Node>(obj);
  const errs = validateCoreObjectMeta(obj, false, nameIsDNSSubdomain);
  // Upstream reports spec.taints under metadata, and so do we.
  if ((node.spec?.taints ?? []).length > 0) errs.push(...validateNodeTaints(node.spec?.taints ?? []));
  errs.push(...validateNodeResources(node));
  const cidrs = node.spec?.podCIDRs ?? [];
  if (cidrs.length > 0) {
    const path = newPath('spec', 'podCIDRs');
    cidrs.forEach((c, i) => errs.push(...isValidCIDR(path.index(i), c)));
    if (cidrs.length > 1) {
      const families = cidrs.map((c) => parseCIDRSloppy(c)?.ip.family);
      if (families.every((f) => f !== undefined) && (!isDualStack(families) || cidrs.length > 2)) {
        errs.push(field.invalid(path, [...cidrs], 'may specify no more than one CIDR for each IP family'));
      }
      const seen = new Set<string>();
      cidrs.forEach((c, i) => {
        if (seen.has(c)) errs.push(field.duplicate(path.index(i), c));
        seen.add(c);
      });
    }
  }
  return errs;
}

function validateNodeUpdate(obj: KObject, old: KObject): ErrorList {
  const node = typed<Node>(obj);
  const prev = typed<Node>(old);
  const errs = validateCoreObjectMetaUpdate(obj, old);
  errs.push(...validateNodeResources(node));
  const addresses = new Set<string>();
  (node.status?.addresses ?? []).forEach((a, i) => {
    const key = `${a.type}\u0000${a.address}`;
    if (addresses.has(key)) {
      errs.push(
        field.duplicate(
          newPath('status', 'addresses').index(i),
          new GoValue(`core.NodeAddress{Type:${goQuote(a.type)}, Address:${goQuote(a.address)}}`),
        ),
      );
    }
    addresses.add(key);
  });
  const oldCIDRs = prev.spec?.podCIDRs ?? [];
  const cidrs = node.spec?.podCIDRs ?? [];
  const cidrMessage = 'node updates may not change podCIDR except from "" to valid';
  if (oldCIDRs.length > 0) {
    if (oldCIDRs.length !== cidrs.length)
      errs.push(field.forbidden(newPath('spec', 'podCIDRs'), cidrMessage));
    else
      oldCIDRs.forEach(
        (c, i) => c !== cidrs[i] && errs.push(field.forbidden(newPath('spec', 'podCIDRs'), cidrMessage)),
      );
  }
  if (prev.spec?.providerID && prev.spec.providerID !== node.spec?.providerID) {
    errs.push(
      field.forbidden(
        newPath('spec', 'providerID'),
        'node updates may not change providerID except from "" to valid',
      ),
    );
  }
  if ((node.spec?.taints ?? []).length > 0) errs.push(...validateNodeTaints(node.spec?.taints ?? []));
  if (!semanticEqual(node.spec?.externalID, prev.spec?.externalID))
    errs.push(field.forbidden(newPath('spec', 'externalID'), 'may not be updated'));
  return errs;
}

/** The strategy of core/v1 nodes. */
export const nodeStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'nodes'),
  defaults: setDefaults,
  // The kubelet registers its node with a status, which create keeps.
  prepareForCreate() {},
  validate: validateNode,
  validateUpdate: validateNodeUpdate,
};
