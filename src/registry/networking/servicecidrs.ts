// ServiceCIDRs (networking.k8s.io/v1): the ranges service cluster IPs come from, one or two CIDRs (one per
// family). The API server keeps the default one, "kubernetes", from --service-cidr. CIDRs never change,
// except that a single-stack object may gain a CIDR of the other family.
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { fieldImmutableErrorMsg, nameIsDNSSubdomain } from '../../apimachinery/validation/names.js';
import { goQuote } from '../../api/go-quote.js';
import { ipFamilyOf } from '../../api/ip.js';
import { isValidCIDRStrict } from '../core/ip-validation.js';
import { baseStrategy, validateCoreObjectMeta, validateCoreObjectMetaUpdate } from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

/** A ServiceCIDR as the API server reads it. */
export interface ServiceCIDRObject extends KObject {
  spec?: { cidrs?: string[] | null };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[] };
}

/** The name of the ServiceCIDR the API server makes from its flags (upstream's DefaultServiceCIDRName). */
export const defaultServiceCIDRName = 'kubernetes';

const cidrsOf = (obj: KObject): string[] => (obj as ServiceCIDRObject).spec?.cidrs ?? [];

/** The family of a CIDR's text, or undefined when it does not parse. */
function familyOfCIDR(cidr: string): string | undefined {
  const slash = cidr.indexOf('/');
  return slash < 0 ? undefined : ipFamilyOf(cidr.slice(0, slash));
}

function goStrings(values: readonly string[]): string {
  return `[]string{${values.map(goQuote).join(', ')}}`;
}

function validateSpec(cidrs: readonly string[]): ErrorList {
  const path = newPath('spec', 'cidrs');
  if (cidrs.length === 0) return [field.required(path, 'at least one CIDR required')];
  if (cidrs.length > 2) {
    // Upstream reports the whole spec struct as the value.
    return [field.invalid(path, new GoValue(`networking.ServiceCIDRSpec{CIDRs:${goStrings(cidrs)}}`), 'may only hold up to 2 values')];
  }
  const errs: ErrorList = [];
  cidrs.forEach((c, i) => errs.push(...isValidCIDRStrict(path.index(i), c)));
  if (cidrs.length === 2) {
    const a = familyOfCIDR(cidrs[0]!);
    if (a !== undefined && a === familyOfCIDR(cidrs[1]!)) {
      errs.push(field.invalid(path, [...cidrs], 'may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64'));
    }
  }
  return errs;
}

function validate(obj: KObject): ErrorList {
  return [...validateCoreObjectMeta(obj, false, nameIsDNSSubdomain), ...validateSpec(cidrsOf(obj))];
}

/** Upstream's ValidateServiceCIDRUpdate: CIDRs are immutable, but one may be added to a single-stack object. */
function validateCIDRsUpdate(cidrs: readonly string[], old: readonly string[]): ErrorList {
  const path = newPath('spec', 'cidrs');
  if (cidrs.length === old.length) {
    const errs: ErrorList = [];
    old.forEach((c, i) => {
      if (cidrs[i] !== c) errs.push(field.invalid(path.index(i), cidrs[i], fieldImmutableErrorMsg));
    });
    return errs;
  }
  if (old.length === 1 && cidrs.length === 2) {
    const errs: ErrorList = [];
    if (cidrs[0] !== old[0]) errs.push(field.invalid(path.index(0), cidrs[0], fieldImmutableErrorMsg));
    return [...errs, ...validateSpec(cidrs)];
  }
  return [field.invalid(path, [...cidrs], fieldImmutableErrorMsg)];
}

/** The strategy of networking.k8s.io/v1 servicecidrs. Upstream's keeps a status given on create. */
const base: ResourceStrategy = { ...baseStrategy('networking.k8s.io', 'v1', 'servicecidrs') };
delete base.prepareForCreate;
export const serviceCIDRStrategy: ResourceStrategy = {
  ...base,
  validate,
  validateUpdate(obj, old) {
    return [...validateCoreObjectMetaUpdate(obj, old), ...validateCIDRsUpdate(cidrsOf(obj), cidrsOf(old))];
  },
};

/** True when the object says it is Ready (the condition the allocator and `kubectl get` look at). */
export function serviceCIDRReady(obj: KObject): boolean {
  return ((obj as ServiceCIDRObject).status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}
