// The strategies of the rbac.authorization.k8s.io group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { clusterRoleBindingStrategy, roleBindingStrategy } from './bindings.js';
import { clusterRoleStrategy } from './clusterroles.js';
import { roleStrategy } from './roles.js';

/** Every rbac.authorization.k8s.io strategy. */
export const strategies: ResourceStrategy[] = [
  roleStrategy,
  clusterRoleStrategy,
  roleBindingStrategy,
  clusterRoleBindingStrategy,
];
