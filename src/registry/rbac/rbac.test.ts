import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { clusterRoleBindingStrategy, roleBindingStrategy } from './bindings.js';
import { clusterRoleStrategy } from './clusterroles.js';
import { roleStrategy } from './roles.js';

const roles = new StrategyHarness(roleStrategy);
const clusterRoles = new StrategyHarness(clusterRoleStrategy);
const bindings = new StrategyHarness(roleBindingStrategy);
const clusterBindings = new StrategyHarness(clusterRoleBindingStrategy);
after(() => {
  for (const h of [roles, clusterRoles, bindings, clusterBindings]) h.close();
});

describe('rbac', () => {
  it('requires verbs, and resources or non-resource URLs (the latter cluster-wide only)', async () => {
    const { causes } = await roles.invalid(
      roles.create({
        metadata: { name: 'r' },
        rules: [{ verbs: [] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }],
      }),
    );
    assert.deepEqual(causes, [
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
      'rules[0].resources: Required value: resource rules must supply at least one resource',
      'rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
    ]);
    await clusterRoles.create({
      metadata: { name: 'system:health' },
      rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }],
    });
  });

  it('defaults the roleRef group and User subjects into the RBAC group', async () => {
    const rb = await bindings.create({
      metadata: { name: 'b' },
      roleRef: { kind: 'Role', name: 'r' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'ServiceAccount', name: 'default' },
      ],
    });
    assert.deepEqual(rb.roleRef, { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' });
    assert.deepEqual(rb.subjects, [
      { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' },
      { kind: 'ServiceAccount', name: 'default', apiGroup: '' },
    ]);
  });

  it('refuses a changed roleRef', async () => {
    const stored = await bindings.create({
      metadata: { name: 'fixed' },
      roleRef: { kind: 'ClusterRole', name: 'view' },
    });
    stored.roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' };
    const { message } = await bindings.invalid(bindings.update(stored));
    assert.equal(
      message,
      'RoleBinding.rbac.authorization.k8s.io "fixed" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
    );
  });

  it('checks subject kinds and ServiceAccount namespaces of cluster bindings', async () => {
    const { causes } = await clusterBindings.invalid(
      clusterBindings.create({
        metadata: { name: 'c' },
        roleRef: { kind: 'Role', name: 'r' },
        subjects: [
          { kind: 'ServiceAccount', name: 'sa' },
          { kind: 'Robot', name: 'x' },
        ],
      }),
    );
    assert.deepEqual(causes, [
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      'subjects[0].namespace: Required value',
      'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ]);
  });
});
