// IngressClasses (networking defaulting and validation): a domain-prefixed controller that never changes,
// and parameters scoped to the cluster (the default) or a namespace.
import type { IngressClass } from 'kubernetes-types/networking/v1.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isDNS1123Subdomain,
  isValidPathSegmentName,
  nameIsDNSSubdomain,
  regexError,
  validateImmutableField,
  validateNamespaceName,
} from '../../apimachinery/validation/names.js';
import {
  baseStrategy,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

const maxLenController = 250;
const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRegexp = new RegExp(`^${httpPathFmt}$`);
const supportedScopes = ['Cluster', 'Namespace'];

/** A path with a domain in front, like "example.com/ingress-controller" (apimachinery's IsDomainPrefixedPath). */
export function isDomainPrefixedPath(path: Path, value: string): ErrorList {
  if (value.length === 0) return [field.required(path, '')];
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1)
    return [field.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const host = value.slice(0, slash);
  const rest = value.slice(slash + 1);
  const errs = isDNS1123Subdomain(host).map((msg) => field.invalid(path, host, msg));
  if (!httpPathRegexp.test(rest))
    errs.push(field.invalid(path, rest, regexError('Invalid path', httpPathFmt)));
  return errs;
}

function validateSpec(ic: IngressClass): ErrorList {
  const spec = ic.spec ?? {};
  const path = newPath('spec');
  const errs: ErrorList = [];
  const controller = spec.controller ?? '';
  if (controller.length === 0) {
    errs.push(field.required(path.child('controller'), ''));
  } else {
    if (controller.length > maxLenController)
      errs.push(field.tooLong(path.child('controller'), '', maxLenController));
    errs.push(...isDomainPrefixedPath(path.child('controller'), controller));
  }
  const params = spec.parameters;
  if (params !== undefined) {
    const p = path.child('parameters');
    if (params.apiGroup !== undefined)
      for (const msg of isDNS1123Subdomain(params.apiGroup))
        errs.push(field.invalid(p.child('apiGroup'), params.apiGroup, msg));
    if (!params.kind) errs.push(field.required(p.child('kind'), ''));
    else
      for (const msg of isValidPathSegmentName(params.kind))
        errs.push(field.invalid(p.child('kind'), params.kind, msg));
    if (!params.name) errs.push(field.required(p.child('name'), ''));
    else
      for (const msg of isValidPathSegmentName(params.name))
        errs.push(field.invalid(p.child('name'), params.name, msg));
    if (params.scope === undefined) {
      errs.push(field.required(p.child('scope'), ''));
    } else if (!supportedScopes.includes(params.scope)) {
      errs.push(field.notSupported(p.child('scope'), params.scope, supportedScopes));
    } else {
      if (params.scope === 'Namespace') {
        if (params.namespace === undefined)
          errs.push(field.required(p.child('namespace'), "`parameters.scope` is set to 'Namespace'"));
        else
          for (const msg of validateNamespaceName(params.namespace, false))
            errs.push(field.invalid(p.child('namespace'), params.namespace, msg));
      }
      if (params.scope === 'Cluster' && params.namespace !== undefined) {
        errs.push(field.forbidden(p.child('namespace'), "`parameters.scope` is set to 'Cluster'"));
      }
    }
  }
  return errs;
}

function validate(obj: KObject): ErrorList {
  return [
    ...validateCoreObjectMeta(obj, false, nameIsDNSSubdomain),
    ...validateSpec(typed<IngressClass>(obj)),
  ];
}

/** The strategy of networking.k8s.io/v1 ingressclasses. */
export const ingressClassStrategy: ResourceStrategy = {
  ...baseStrategy('networking.k8s.io', 'v1', 'ingressclasses'),
  defaults(obj) {
    const params = typed<IngressClass>(obj).spec?.parameters;
    if (params !== undefined && params.scope === undefined) params.scope = 'Cluster';
  },
  validate,
  validateUpdate(obj, old) {
    const controller = typed<IngressClass>(obj).spec?.controller ?? '';
    const prev = typed<IngressClass>(old).spec?.controller ?? '';
    return [
      ...validateCoreObjectMetaUpdate(obj, old),
      ...validateImmutableField(controller, prev, newPath('spec', 'controller')),
      ...validate(obj),
    ];
  },
};
