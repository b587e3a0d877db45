// IPAddresses (networking.k8s.io/v1): one object per allocated address, named by the address in canonical
// form, pointing at the object that holds it. The service IP allocator creates one for every cluster IP;
// creating it is the allocation, so a name can be held only once.
import { newPath } from '../../apimachinery/validation/field-errors.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue } from '../../apimachinery/validation/field-errors.js';
import { fieldImmutableErrorMsg, isDNS1123Subdomain, isValidPathSegmentName } from '../../apimachinery/validation/names.js';
import { goQuote } from '../../api/go-quote.js';
import { isValidIPStrict } from '../core/ip-validation.js';
import { baseStrategy, validateCoreObjectMeta, validateCoreObjectMetaUpdate } from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

/** spec.parentRef of an IPAddress. */
export interface ParentReference {
  group?: string;
  resource?: string;
  namespace?: string;
  name?: string;
}

/** An IPAddress as the API server reads it. */
export interface IPAddressObject extends KObject {
  spec?: { parentRef?: ParentReference | null };
}

/** The label with the address family of an IPAddress. */
export const ipFamilyLabel = 'ipaddress.kubernetes.io/ip-family';
/** The label naming what manages an IPAddress. */
export const managedByLabel = 'ipaddress.kubernetes.io/managed-by';
/** The manager of the IPAddresses of service cluster IPs (upstream's ipallocator ControllerName). */
export const ipAllocatorManager = 'ipallocator.k8s.io';

/** The name check of IPAddresses: an address in canonical form; generated names are not supported. */
function ipAddressName(name: string): string[] {
  return isValidIPStrict(newPath('metadata', 'name'), name).map((e) => e.detail);
}

function validateParentReference(ref: ParentReference | null | undefined, path: Path): ErrorList {
  if (ref === undefined || ref === null) return [field.required(path.child('parentRef'), '')];
  const p = path.child('parentRef');
  const errs: ErrorList = [];
  // The core group (Services) is the empty string, so the group cannot be required.
  if (ref.group) for (const msg of isDNS1123Subdomain(ref.group)) errs.push(field.invalid(p.child('group'), ref.group, msg));
  for (const key of ['resource', 'name'] as const) {
    const v = ref[key] ?? '';
    if (v === '') errs.push(field.required(p.child(key), ''));
    else for (const msg of isValidPathSegmentName(v)) errs.push(field.invalid(p.child(key), v, msg));
  }
  if (ref.namespace) for (const msg of isValidPathSegmentName(ref.namespace)) errs.push(field.invalid(p.child('namespace'), ref.namespace, msg));
  return errs;
}

function validate(obj: KObject): ErrorList {
  return [
    ...validateCoreObjectMeta(obj, false, ipAddressName),
    ...validateParentReference((obj as IPAddressObject).spec?.parentRef, newPath('spec')),
  ];
}

/** A ParentReference as Go's %#v prints the struct upstream reports for an immutable-field error. */
function goParentRef(ref: ParentReference | null | undefined): unknown {
  if (ref === undefined || ref === null) return null;
  const q = (s: string | undefined): string => goQuote(s ?? '');
  return new GoValue(`networking.ParentReference{Group:${q(ref.group)}, Resource:${q(ref.resource)}, Namespace:${q(ref.namespace)}, Name:${q(ref.name)}}`);
}

/** The strategy of networking.k8s.io/v1 ipaddresses. */
export const ipAddressStrategy: ResourceStrategy = {
  ...baseStrategy('networking.k8s.io', 'v1', 'ipaddresses'),
  defaults(obj) {
    // Upstream's IPAddress name generator returns the prefix unchanged: generateName is the name.
    const meta = obj.metadata;
    if (meta && !meta.name && meta.generateName) meta.name = meta.generateName;
  },
  validate,
  validateUpdate(obj, old) {
    const ref = (obj as IPAddressObject).spec?.parentRef;
    const prev = (old as IPAddressObject).spec?.parentRef;
    const errs = [...validate(obj), ...validateCoreObjectMetaUpdate(obj, old)];
    if (JSON.stringify(ref ?? null) !== JSON.stringify(prev ?? null)) {
      errs.push(field.invalid(newPath('spec', 'parentRef'), goParentRef(ref), fieldImmutableErrorMsg).withOrigin('immutable'));
    }
    return errs;
  },
};
