// Roles (rbac validation): namespaced policy rules.
import type { Role } from 'kubernetes-types/rbac/v1.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { newPath } from '../../apimachinery/validation/field-errors.js';
import {
  baseStrategy,
  nameIsPathSegment,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { validatePolicyRule } from './rbac-validation.js';

function validateRole(obj: KObject): ErrorList {
  const errs = validateCoreObjectMeta(obj, true, nameIsPathSegment);
  (typed<Role>(obj).rules ?? []).forEach((rule, i) =>
    errs.push(...validatePolicyRule(rule, true, newPath('rules').index(i))),
  );
  return errs;
}

/** The strategy of rbac.authorization.k8s.io/v1 roles. */
export const roleStrategy: ResourceStrategy = {
  ...baseStrategy('rbac.authorization.k8s.io', 'v1', 'roles'),
  validate: validateRole,
  validateUpdate: (obj, old) => [...validateRole(obj), ...validateCoreObjectMetaUpdate(obj, old)],
};
