// The rules RBAC objects share (rbac validation): policy rules with verbs and either resources or
// non-resource URLs, subjects of the three kinds, and role references within the RBAC group. Names are
// only checked to be path segments, as upstream does for RBAC.
import type { PolicyRule, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import { goQuote } from '../../api/go-quote.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { isValidPathSegmentName, validateServiceAccountName } from '../../apimachinery/validation/names.js';

/** The RBAC API group, which every roleRef and User or Group subject names. */
export const rbacGroupName = 'rbac.authorization.k8s.io';

/** A policy rule; namespaced rules may not name non-resource URLs. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: Path): ErrorList {
  const errs: ErrorList = [];
  if ((rule.verbs ?? []).length === 0)
    errs.push(field.required(path.child('verbs'), 'verbs must contain at least one value'));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0) {
    if (namespaced)
      errs.push(
        field.invalid(
          path.child('nonResourceURLs'),
          [...urls],
          'namespaced rules cannot apply to non-resource URLs',
        ),
      );
    if (
      (rule.apiGroups ?? []).length > 0 ||
      (rule.resources ?? []).length > 0 ||
      (rule.resourceNames ?? []).length > 0
    ) {
      errs.push(
        field.invalid(
          path.child('nonResourceURLs'),
          [...urls],
          'rules cannot apply to both regular resources and non-resource URLs',
        ),
      );
    }
    return errs;
  }
  if ((rule.apiGroups ?? []).length === 0)
    errs.push(field.required(path.child('apiGroups'), 'resource rules must supply at least one api group'));
  if ((rule.resources ?? []).length === 0)
    errs.push(field.required(path.child('resources'), 'resource rules must supply at least one resource'));
  return errs;
}

/** A binding's subject; cluster-wide bindings must say which namespace a ServiceAccount is in. */
export function validateSubject(s: Subject, namespaced: boolean, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (!s.name) errs.push(field.required(path.child('name'), ''));
  const group = s.apiGroup ?? '';
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name)
        for (const msg of validateServiceAccountName(s.name, false))
          errs.push(field.invalid(path.child('name'), s.name, msg));
      if (group.length > 0) errs.push(field.notSupported(path.child('apiGroup'), group, ['']));
      if (!namespaced && !s.namespace) errs.push(field.required(path.child('namespace'), ''));
      break;
    case 'User':
    case 'Group':
      if (group !== rbacGroupName)
        errs.push(field.notSupported(path.child('apiGroup'), group, [rbacGroupName]));
      break;
    default:
      errs.push(field.notSupported(path.child('kind'), s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** A binding's roleRef: the RBAC group, an allowed kind and a name. */
export function validateRoleRef(ref: Partial<RoleRef>, kinds: readonly string[]): ErrorList {
  const errs: ErrorList = [];
  if ((ref.apiGroup ?? '') !== rbacGroupName)
    errs.push(field.notSupported(newPath('roleRef', 'apiGroup'), ref.apiGroup ?? '', [rbacGroupName]));
  if (!kinds.includes(ref.kind ?? ''))
    errs.push(field.notSupported(newPath('roleRef', 'kind'), ref.kind ?? '', kinds));
  if (!ref.name) errs.push(field.required(newPath('roleRef', 'name'), ''));
  else
    for (const msg of isValidPathSegmentName(ref.name))
      errs.push(field.invalid(newPath('roleRef', 'name'), ref.name, msg));
  return errs;
}

/** The roleRef may not change after creation. */
export function validateRoleRefUnchanged(ref: Partial<RoleRef>, old: Partial<RoleRef>): ErrorList {
  if (
    (ref.apiGroup ?? '') === (old.apiGroup ?? '') &&
    (ref.kind ?? '') === (old.kind ?? '') &&
    (ref.name ?? '') === (old.name ?? '')
  )
    return [];
  const shown = new GoValue(
    `rbac.RoleRef{APIGroup:${goQuote(ref.apiGroup ?? '')}, Kind:${goQuote(ref.kind ?? '')}, Name:${goQuote(ref.name ?? '')}}`,
  );
  return [field.invalid(newPath('roleRef'), shown, 'cannot change roleRef')];
}

/** upstream's SetDefaults_Subject: User and Group subjects are in the RBAC group. */
export function setSubjectDefaults(subjects: Subject[] | undefined): void {
  for (const s of subjects ?? []) {
    if (s.apiGroup) continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = rbacGroupName;
    else if (s.kind === 'ServiceAccount') s.apiGroup = '';
  }
}
