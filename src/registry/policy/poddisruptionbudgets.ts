// PodDisruptionBudgets (the policy strategy and validation): minAvailable or maxUnavailable, not both, each
// a non-negative count or a percentage up to 100%, and a label selector.
import type { PodDisruptionBudget, PodDisruptionBudgetSpec } from 'kubernetes-types/policy/v1.js';
import type { IntOrString } from '../../api/intstr.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isValidPercent,
  validateLabelSelector,
  validateNonnegativeField,
} from '../../apimachinery/validation/names.js';
import {
  baseStrategy,
  goIntOrString,
  nameIsPathSegment,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

const unhealthyPodEvictionPolicies = ['AlwaysAllow', 'IfHealthyBudget'];

function validateIntOrPercent(v: IntOrString, path: Path): ErrorList {
  if (typeof v === 'string') {
    const errs = isValidPercent(v).map((msg) => field.invalid(path, goIntOrString(v), msg));
    if (errs.length === 0 && Number(v.slice(0, -1)) > 100)
      errs.push(field.invalid(path, goIntOrString(v), 'must not be greater than 100%'));
    return errs;
  }
  return validateNonnegativeField(v, path);
}

// Go prints a pointer field of a struct as an address; any address reads the same.
const goPointer = (type: string, v: unknown) =>
  v === undefined ? `(*${type})(nil)` : `(*${type})(0xc000010000)`;

function goSpec(spec: PodDisruptionBudgetSpec): GoValue {
  return new GoValue(
    `policy.PodDisruptionBudgetSpec{MinAvailable:${goPointer('intstr.IntOrString', spec.minAvailable)}, ` +
      `Selector:${goPointer('v1.LabelSelector', spec.selector)}, MaxUnavailable:${goPointer('intstr.IntOrString', spec.maxUnavailable)}, ` +
      `UnhealthyPodEvictionPolicy:${spec.unhealthyPodEvictionPolicy === undefined ? '(*policy.UnhealthyPodEvictionPolicyType)(nil)' : '(*policy.UnhealthyPodEvictionPolicyType)(0xc000010000)'}}`,
  );
}

function validateSpec(obj: KObject): ErrorList {
  const spec = typed<PodDisruptionBudget>(obj).spec ?? {};
  const path = newPath('spec');
  const errs: ErrorList = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(field.invalid(path, goSpec(spec), 'minAvailable and maxUnavailable cannot be both set'));
  }
  if (spec.minAvailable !== undefined)
    errs.push(...validateIntOrPercent(spec.minAvailable, path.child('minAvailable')));
  if (spec.maxUnavailable !== undefined)
    errs.push(...validateIntOrPercent(spec.maxUnavailable, path.child('maxUnavailable')));
  if (spec.selector !== undefined)
    errs.push(...validateLabelSelector(spec.selector, {}, path.child('selector')));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !unhealthyPodEvictionPolicies.includes(policy)) {
    errs.push(
      field.notSupported(path.child('unhealthyPodEvictionPolicy'), policy, unhealthyPodEvictionPolicies),
    );
  }
  return errs;
}

/** The strategy of policy/v1 poddisruptionbudgets. */
export const podDisruptionBudgetStrategy: ResourceStrategy = {
  ...baseStrategy('policy', 'v1', 'poddisruptionbudgets'),
  prepareForCreate(obj) {
    // The zero status, as Go writes it.
    obj.status = { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
  },
  // Upstream checks only that the name is a path segment (the generic store's rule).
  validate: (obj) => [...validateCoreObjectMeta(obj, true, nameIsPathSegment), ...validateSpec(obj)],
  validateUpdate: (obj, old) => [...validateCoreObjectMetaUpdate(obj, old), ...validateSpec(obj)],
};
