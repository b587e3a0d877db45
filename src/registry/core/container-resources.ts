// Validation of compute resource requirements (upstream's ValidateResourceRequirements and the resource name
// helpers of pkg/apis/core/helper): names are standard or fully qualified, quantities are not negative,
// requests do not exceed limits, and resources that cannot be overcommitted have equal requests and limits.
import type { ResourceRequirements } from 'kubernetes-types/core/v1.js';
import { Quantity, QuantityParseError } from '../../api/quantity.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, FieldError } from '../../apimachinery/validation/field-errors.js';
import { isNegativeErrorMsg, isQualifiedName } from '../../apimachinery/validation/names.js';

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);
const standardResources = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);
const integerResources = new Set([
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);

/** hugepages-<size>. */
export function isHugePageResourceName(name: string): boolean {
  return name.startsWith('hugepages-');
}

/** A resource Kubernetes itself defines: no domain, or a kubernetes.io domain. */
export function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** A resource a device plugin or operator defines (example.com/gpu). */
export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

/** Resources whose requests may be lower than their limits: native ones other than huge pages. */
export function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePageResourceName(name);
}

function isIntegerResourceName(name: string): boolean {
  return integerResources.has(name) || isExtendedResourceName(name);
}

function isStandardResourceName(name: string): boolean {
  return standardResources.has(name) || isHugePageResourceName(name) || name.startsWith('requests.hugepages-');
}

function validateResourceName(name: string, path: Path): ErrorList {
  const errs = isQualifiedName(name).map((m) => field.invalid(path, name, m));
  if (errs.length > 0) return errs;
  if (!name.includes('/') && !isStandardResourceName(name)) {
    return [field.invalid(path, name, 'must be a standard resource type or fully qualified')];
  }
  return [];
}

/** A resource name a container may request: standard, or an extended resource in a domain. */
export function validateContainerResourceName(name: string, path: Path): ErrorList {
  const errs = validateResourceName(name, path);
  if (!name.includes('/')) {
    if (!standardContainerResources.has(name) && !isHugePageResourceName(name)) {
      errs.push(field.invalid(path, name, 'must be a standard resource for containers'));
    }
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(field.invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** Parses a quantity from JSON, or the Invalid error upstream's decoder would have refused it with. */
export function parseQuantityField(value: unknown, path: Path): Quantity | FieldError {
  try {
    return Quantity.fromJSON(value);
  } catch (err) {
    if (err instanceof QuantityParseError) return field.invalid(path, typeof value === 'string' ? value : String(value), err.message);
    throw err;
  }
}

/** A quantity that must not be negative, and for integer resources must be whole. */
export function validateResourceQuantityValue(name: string, q: Quantity, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (q.sign() < 0) errs.push(field.invalid(path, q.toString(), isNegativeErrorMsg));
  if (isIntegerResourceName(name) && q.milliValue() % 1000n !== 0n) errs.push(field.invalid(path, q.toString(), 'must be an integer'));
  return errs;
}

function hugePageSize(name: string): Quantity | undefined {
  try {
    return Quantity.parse(name.slice('hugepages-'.length));
  } catch {
    return undefined;
  }
}

function validateHugePageValue(name: string, q: Quantity, path: Path): ErrorList {
  const size = hugePageSize(name);
  if (!size || size.sign() <= 0) return [];
  const v = q.value();
  if (v > 0n && v % size.value() === 0n) return [];
  return [field.invalid(path, q.toString(), `${q.toString()} is not positive integer multiple of ${name}`)];
}

/**
 * A container's (or the pod overhead's) resource requirements. `podClaimNames` are the names of the pod's
 * resourceClaims, which `claims` entries must refer to.
 */
export function validateResourceRequirements(
  requirements: ResourceRequirements | undefined,
  podClaimNames: ReadonlySet<string>,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  const limPath = path.child('limits');
  const reqPath = path.child('requests');
  const limits = new Map<string, Quantity>();
  let limCPUOrMemory = false;
  let reqCPUOrMemory = false;
  let hugePages = false;
  const limitEntries = Object.entries((requirements?.limits ?? {}) as Record<string, unknown>).sort(([a], [b]) => byteOrder(a, b));
  for (const [name, value] of limitEntries) {
    const p = limPath.key(name);
    errs.push(...validateContainerResourceName(name, p));
    const q = parseQuantityField(value, p);
    if (q instanceof FieldError) {
      errs.push(q);
      continue;
    }
    limits.set(name, q);
    errs.push(...validateResourceQuantityValue(name, q, p));
    if (isHugePageResourceName(name)) {
      hugePages = true;
      errs.push(...validateHugePageValue(name, q, p));
    }
    if (name === 'cpu' || name === 'memory') limCPUOrMemory = true;
  }
  const requestEntries = Object.entries((requirements?.requests ?? {}) as Record<string, unknown>).sort(([a], [b]) =>
    byteOrder(a, b),
  );
  for (const [name, value] of requestEntries) {
    const p = reqPath.key(name);
    errs.push(...validateContainerResourceName(name, p));
    const q = parseQuantityField(value, p);
    if (q instanceof FieldError) {
      errs.push(q);
      continue;
    }
    errs.push(...validateResourceQuantityValue(name, q, p));
    const limit = limits.get(name);
    if (limit) {
      if (q.cmp(limit) !== 0 && !isOvercommitAllowed(name)) {
        errs.push(field.invalid(reqPath, q.toString(), `must be equal to ${name} limit of ${limit.toString()}`));
      } else if (q.cmp(limit) > 0) {
        errs.push(field.invalid(reqPath, q.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`));
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(field.required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePageResourceName(name)) {
      hugePages = true;
      errs.push(...validateHugePageValue(name, q, p));
    }
    if (name === 'cpu' || name === 'memory') reqCPUOrMemory = true;
  }
  if (!limCPUOrMemory && !reqCPUOrMemory && hugePages) errs.push(field.forbidden(path, 'HugePages require cpu or memory'));
  const seen = new Set<string>();
  (requirements?.claims ?? []).forEach((claim, i) => {
    const p = path.child('claims').index(i);
    if (!claim.name) {
      errs.push(field.required(p, ''));
      return;
    }
    if (seen.has(claim.name)) errs.push(field.duplicate(p, claim.name));
    else seen.add(claim.name);
    if (!podClaimNames.has(claim.name)) {
      const names = [...podClaimNames].sort(byteOrder);
      const detail =
        'must be one of the names in pod.spec.resourceClaims' + (names.length === 0 ? ' which is empty' : `: ${names.join(', ')}`);
      errs.push(new FieldError('FieldValueNotFound', p, claim.name, detail));
    }
  });
  return errs;
}
