// RoleBindings and ClusterRoleBindings (rbac defaulting and validation), one strategy shape for both: a
// roleRef that never changes (to a Role or ClusterRole for a RoleBinding, to a ClusterRole for a
// ClusterRoleBinding), and subjects of known kinds (a ClusterRoleBinding's ServiceAccounts name their namespace).
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

/** RoleBinding and ClusterRoleBinding have the same fields (roleRef, subjects). */
type Binding = Pick<RoleBinding, 'roleRef' | 'subjects'>;

function bindingStrategy(resource: string, namespaced: boolean, roleKinds: string[]): ResourceStrategy {
  const validate = (obj: KObject): ErrorList => {
    const b = typed<Binding>(obj);
    const errs = validateCoreObjectMeta(obj, namespaced, nameIsPathSegment);
    errs.push(...validateRoleRef(b.roleRef ?? {}, roleKinds));
    (b.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, namespaced, newPath('subjects').index(i))));
    return errs;
  };
  return {
    ...baseStrategy('rbac.authorization.k8s.io', 'v1', resource),
    defaults(obj) {
      const b = typed<Binding>(obj);
      if (b.roleRef !== undefined && !b.roleRef.apiGroup) b.roleRef.apiGroup = rbacGroupName;
      setSubjectDefaults(b.subjects);
    },
    validate,
    validateUpdate: (obj, old) => [
      ...validate(obj),
      ...validateCoreObjectMetaUpdate(obj, old),
      ...validateRoleRefUnchanged(typed<Binding>(obj).roleRef ?? {}, typed<Binding>(old).roleRef ?? {}),
    ],
  };
}

/** The strategy of rbac.authorization.k8s.io/v1 rolebindings. */
export const roleBindingStrategy = bindingStrategy('rolebindings', true, ['Role', 'ClusterRole']);

/** The strategy of rbac.authorization.k8s.io/v1 clusterrolebindings. */
export const clusterRoleBindingStrategy = bindingStrategy('clusterrolebindings', false, ['ClusterRole']);
