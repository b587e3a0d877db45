// RoleBindings (rbac defaulting and validation): a roleRef to a Role or ClusterRole that never changes, and
// subjects of known kinds.
import type { RoleBinding } from 'kubernetes-types/rbac/v1.js';
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
import {
  rbacGroupName,
  setSubjectDefaults,
  validateRoleRef,
  validateRoleRefUnchanged,
  validateSubject,
} from './rbac-validation.js';

function validateRoleBinding(obj: KObject): ErrorList {
  const rb = typed<RoleBinding>(obj);
  const errs = validateCoreObjectMeta(obj, true, nameIsPathSegment);
  errs.push(...validateRoleRef(rb.roleRef ?? {}, ['Role', 'ClusterRole']));
  (rb.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, true, newPath('subjects').index(i))));
  return errs;
}

/** The strategy of rbac.authorization.k8s.io/v1 rolebindings. */
export const roleBindingStrategy: ResourceStrategy = {
  ...baseStrategy('rbac.authorization.k8s.io', 'v1', 'rolebindings'),
  defaults(obj) {
    const rb = typed<RoleBinding>(obj);
    if (rb.roleRef !== undefined && !rb.roleRef.apiGroup) rb.roleRef.apiGroup = rbacGroupName;
    setSubjectDefaults(rb.subjects);
  },
  validate: validateRoleBinding,
  validateUpdate: (obj, old) => [
    ...validateRoleBinding(obj),
    ...validateCoreObjectMetaUpdate(obj, old),
    ...validateRoleRefUnchanged(typed<RoleBinding>(obj).roleRef ?? {}, typed<RoleBinding>(old).roleRef ?? {}),
  ],
};
