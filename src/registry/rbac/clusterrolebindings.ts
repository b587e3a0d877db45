// ClusterRoleBindings (rbac defaulting and validation): a roleRef to a ClusterRole that never changes, and
// subjects of known kinds, ServiceAccounts with their namespace.
import type { ClusterRoleBinding } from 'kubernetes-types/rbac/v1.js';
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

function validateClusterRoleBinding(obj: KObject): ErrorList {
  const crb = typed<ClusterRoleBinding>(obj);
  const errs = validateCoreObjectMeta(obj, false, nameIsPathSegment);
  errs.push(...validateRoleRef(crb.roleRef ?? {}, ['ClusterRole']));
  (crb.subjects ?? []).forEach((s, i) =>
    errs.push(...validateSubject(s, false, newPath('subjects').index(i))),
  );
  return errs;
}

/** The strategy of rbac.authorization.k8s.io/v1 clusterrolebindings. */
export const clusterRoleBindingStrategy: ResourceStrategy = {
  ...baseStrategy('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings'),
  defaults(obj) {
    const crb = typed<ClusterRoleBinding>(obj);
    if (crb.roleRef !== undefined && !crb.roleRef.apiGroup) crb.roleRef.apiGroup = rbacGroupName;
    setSubjectDefaults(crb.subjects);
  },
  validate: validateClusterRoleBinding,
  validateUpdate: (obj, old) => [
    ...validateClusterRoleBinding(obj),
    ...validateCoreObjectMetaUpdate(obj, old),
    ...validateRoleRefUnchanged(
      typed<ClusterRoleBinding>(obj).roleRef ?? {},
      typed<ClusterRoleBinding>(old).roleRef ?? {},
    ),
  ],
};
