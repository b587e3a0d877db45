// Resource names and quantities in the resource lists of the non-workload kinds (node capacity, volume
// capacity and claims, quota hard limits, limit ranges), after upstream's core helper predicates and the
// quantity checks of pkg/apis/core/validation.
import { Quantity, QuantityParseError } from '../../api/quantity.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field } from '../../apimachinery/validation/field-errors.js';
import { isNegativeErrorMsg, isQualifiedName } from '../../apimachinery/validation/names.js';

const requestsPrefix = 'requests.';

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);

const objectCountQuotaResources = [
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
];

const standardQuotaResources = new Set([
  ...objectCountQuotaResources,
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
]);

const standardResources = new Set([...standardQuotaResources, 'storage']);

const integerResources = new Set(objectCountQuotaResources);

/** A resource in the default namespace: no '/', or a kubernetes.io/ prefix. */
export function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** hugepages-<size>. */
export function isHugePageResourceName(name: string): boolean {
  return name.startsWith('hugepages-');
}

function isQuotaHugePageResourceName(name: string): boolean {
  return name.startsWith('hugepages-') || name.startsWith('requests.hugepages-');
}

/** A vendor resource such as example.com/gpu. */
export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith(requestsPrefix)) return false;
  return isQualifiedName(requestsPrefix + name).length === 0;
}

/** Resources counted in whole units. */
export function isIntegerResourceName(name: string): boolean {
  return integerResources.has(name) || isExtendedResourceName(name);
}

/** Resources whose request may be below the limit. */
export function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePageResourceName(name);
}

/** Resource names a ResourceQuota may limit without a domain. */
export function isStandardQuotaResourceName(name: string): boolean {
  return standardQuotaResources.has(name) || isQuotaHugePageResourceName(name);
}

/** A resource name: qualified, and standard when it has no domain. */
export function validateResourceName(name: string, path: Path): ErrorList {
  const errs = isQualifiedName(name).map((msg) => field.invalid(path, name, msg));
  if (errs.length > 0) return errs;
  if (!name.includes('/') && !(standardResources.has(name) || isQuotaHugePageResourceName(name))) {
    return [field.invalid(path, name, 'must be a standard resource type or fully qualified')];
  }
  return [];
}

/** A resource name a container (or a Pod/Container limit range) may use. */
export function validateContainerResourceName(name: string, path: Path): ErrorList {
  const errs = validateResourceName(name, path);
  if (!name.includes('/')) {
    if (!standardContainerResources.has(name) && !isHugePageResourceName(name)) {
      return [...errs, field.invalid(path, name, 'must be a standard resource for containers')];
    }
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    return [...errs, field.invalid(path, name, "doesn't follow extended resource name standard")];
  }
  return errs;
}

/** A resource name a ResourceQuota may hold. */
export function validateResourceQuotaResourceName(name: string, path: Path): ErrorList {
  const errs = validateResourceName(name, path);
  if (!name.includes('/') && !isStandardQuotaResourceName(name)) {
    return [...errs, field.invalid(path, name, 'must be a standard resource for quota')];
  }
  return errs;
}

/**
 * Parses a quantity field; a malformed one yields an error (upstream rejects it while decoding the request,
 * with the same message, before validation runs).
 */
export function parseQuantityField(value: unknown, path: Path): { quantity?: Quantity; errs: ErrorList } {
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string') return { errs: [field.invalid(path, value, 'must be a quantity')] };
  try {
    return { quantity: Quantity.parse(value), errs: [] };
  } catch (err) {
    const msg = err instanceof QuantityParseError ? err.message : String(err);
    return { errs: [field.invalid(path, value, msg)] };
  }
}

/** A quantity that may not be negative. */
export function validateNonnegativeQuantity(q: Quantity, path: Path): ErrorList {
  return q.sign() < 0 ? [field.invalid(path, q.toString(), isNegativeErrorMsg)] : [];
}

/** A quantity that must be above zero. */
export function validatePositiveQuantityValue(q: Quantity, path: Path): ErrorList {
  return q.sign() <= 0 ? [field.invalid(path, q.toString(), 'must be greater than zero')] : [];
}

/** A quantity valid for its resource: not negative, and whole for integer resources. */
export function validateResourceQuantityValue(resource: string, q: Quantity, path: Path): ErrorList {
  const errs = validateNonnegativeQuantity(q, path);
  if (isIntegerResourceName(resource) && q.milliValue() % 1000n !== 0n) {
    errs.push(field.invalid(path, q.toString(), 'must be an integer'));
  }
  return errs;
}

/** A quantity whose integer value may not be negative (upstream's validateBasicResource). */
export function validateBasicResource(q: Quantity, path: Path): ErrorList {
  const v = q.value();
  return v < 0n ? [field.invalid(path, Number(v), 'must be a valid resource quantity')] : [];
}

/**
 * Rewrites each quantity of a resource list in canonical form ("1024Mi" -> "1Gi", "0.5" -> "500m"), as
 * upstream stores them; values that do not parse are left for validation to report.
 */
export function canonicalizeResourceList(list: Record<string, unknown> | undefined): void {
  if (list === undefined || list === null) return;
  for (const [k, v] of Object.entries(list)) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    try {
      list[k] = Quantity.parse(String(v)).toString();
    } catch {
      // reported by validation
    }
  }
}
