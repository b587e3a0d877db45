// ClusterRoles (rbac validation): policy rules that may name non-resource URLs, and an aggregation rule
// with at least one label selector.
import type { ClusterRole } from 'kubernetes-types/rbac/v1.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { validateLabelSelector } from '../../apimachinery/validation/names.js';
import {
  baseStrategy,
  nameIsPathSegment,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { validatePolicyRule } from './rbac-validation.js';

function validateClusterRole(obj: KObject): ErrorList {
  const role = typed<ClusterRole>(obj);
  const errs = validateCoreObjectMeta(obj, false, nameIsPathSegment);
  (role.rules ?? []).forEach((rule, i) =>
    errs.push(...validatePolicyRule(rule, false, newPath('rules').index(i))),
  );
  if (role.aggregationRule !== undefined) {
    const p = newPath('aggregationRule', 'clusterRoleSelectors');
    const selectors = role.aggregationRule.clusterRoleSelectors ?? [];
    if (selectors.length === 0)
      errs.push(field.required(p, 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((s, i) => errs.push(...validateLabelSelector(s, {}, p.index(i))));
  }
  return errs;
}

/** The strategy of rbac.authorization.k8s.io/v1 clusterroles. */
export const clusterRoleStrategy: ResourceStrategy = {
  ...baseStrategy('rbac.authorization.k8s.io', 'v1', 'clusterroles'),
  validate: validateClusterRole,
  validateUpdate: (obj, old) => [...validateClusterRole(obj), ...validateCoreObjectMetaUpdate(obj, old)],
};
