// ResourceQuotas (pkg/registry/core/resourcequota's strategy and core validation): quota resource names and
// quantities, scopes that fit the resources they limit, and scopes that never change.
import type { ResourceQuota, ResourceQuotaSpec } from 'kubernetes-types/core/v1.js';
import { goQuote } from '../../api/go-quote.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import {
  baseStrategy,
  byteOrder,
  goTypedStrings,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from './kube-validation.js';
import {
  canonicalizeResourceList,
  isStandardQuotaResourceName,
  parseQuantityField,
  validateResourceQuantityValue,
  validateResourceQuotaResourceName,
} from './resource-lists.js';

const standardScopes = [
  'Terminating',
  'NotTerminating',
  'BestEffort',
  'NotBestEffort',
  'PriorityClass',
  'CrossNamespacePodAffinity',
];
const podComputeResources = new Set([
  'cpu',
  'memory',
  'limits.cpu',
  'limits.memory',
  'requests.cpu',
  'requests.memory',
]);
const conflictingScopes: [string, string][] = [
  ['BestEffort', 'NotBestEffort'],
  ['Terminating', 'NotTerminating'],
];

function scopeFitsResource(scope: string, resource: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
    case 'CrossNamespacePodAffinity':
      return resource === 'pods' || podComputeResources.has(resource);
    case 'BestEffort':
      return resource === 'pods';
    default:
      return true;
  }
}

function validateResourceList(list: Record<string, unknown> | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  for (const k of Object.keys(list ?? {}).sort(byteOrder)) {
    const p = path.key(k);
    errs.push(...validateResourceQuotaResourceName(k, p));
    const { quantity, errs: parseErrs } = parseQuantityField(list![k], p);
    errs.push(...parseErrs);
    if (quantity !== undefined) errs.push(...validateResourceQuantityValue(k, quantity, p));
  }
  return errs;
}

function goScopeSelector(spec: ResourceQuotaSpec): GoValue {
  const exprs = (spec.scopeSelector?.matchExpressions ?? [])
    .map(
      (e) =>
        `core.ScopedResourceSelectorRequirement{ScopeName:${goQuote(e.scopeName)}, Operator:${goQuote(e.operator)}, ` +
        `Values:${e.values === undefined ? '[]string(nil)' : `[]string{${e.values.map(goQuote).join(', ')}}`}}`,
    )
    .join(', ');
  return new GoValue(
    `&core.ScopeSelector{MatchExpressions:[]core.ScopedResourceSelectorRequirement{${exprs}}}`,
  );
}

function validateSpec(spec: ResourceQuotaSpec): ErrorList {
  const path = newPath('spec');
  const errs = validateResourceList(spec.hard, path.child('hard'));
  const hard = Object.keys(spec.hard ?? {}).sort(byteOrder);
  const scopes = spec.scopes ?? [];
  if (scopes.length > 0) {
    const p = path.child('scopes');
    const shown = goTypedStrings('core.ResourceQuotaScope', scopes);
    for (const scope of scopes) {
      if (!standardScopes.includes(scope)) errs.push(field.invalid(p, shown, 'unsupported scope'));
      for (const r of hard) {
        if (isStandardQuotaResourceName(r) && !scopeFitsResource(scope, r))
          errs.push(field.invalid(p, shown, 'unsupported scope applied to resource'));
      }
    }
    for (const [a, b] of conflictingScopes)
      if (scopes.includes(a) && scopes.includes(b)) errs.push(field.invalid(p, shown, 'conflicting scopes'));
  }
  const exprs = spec.scopeSelector?.matchExpressions;
  if (spec.scopeSelector !== undefined) {
    const p = path.child('scopeSelector', 'matchExpressions');
    const names: string[] = [];
    for (const req of exprs ?? []) {
      if (!standardScopes.includes(req.scopeName))
        errs.push(field.invalid(p.child('scopeName'), req.scopeName, 'unsupported scope'));
      for (const r of hard) {
        if (isStandardQuotaResourceName(r) && !scopeFitsResource(req.scopeName, r)) {
          errs.push(field.invalid(p, goScopeSelector(spec), 'unsupported scope applied to resource'));
        }
      }
      if (
        [
          'BestEffort',
          'NotBestEffort',
          'Terminating',
          'NotTerminating',
          'CrossNamespacePodAffinity',
        ].includes(req.scopeName) &&
        req.operator !== 'Exists'
      ) {
        errs.push(
          field.invalid(
            p.child('operator'),
            req.operator,
            "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
          ),
        );
      }
      const values = req.values ?? [];
      switch (req.operator) {
        case 'In':
        case 'NotIn':
          if (values.length === 0) {
            errs.push(
              field.required(
                p.child('values'),
                "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
              ),
            );
          }
          break;
        case 'Exists':
        case 'DoesNotExist':
          if (values.length !== 0) {
            errs.push(
              field.invalid(
                p.child('values'),
                [...values],
                "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
              ),
            );
          }
          break;
        default:
          errs.push(field.invalid(p.child('operator'), req.operator, 'not a valid selector operator'));
      }
      names.push(req.scopeName);
    }
    const shown =
      spec.scopes === undefined
        ? new GoValue('[]core.ResourceQuotaScope(nil)')
        : goTypedStrings('core.ResourceQuotaScope', spec.scopes);
    for (const [a, b] of conflictingScopes)
      if (names.includes(a) && names.includes(b)) errs.push(field.invalid(p, shown, 'conflicting scopes'));
  }
  return errs;
}

function validateQuota(obj: KObject): ErrorList {
  const rq = typed<ResourceQuota>(obj);
  return [
    ...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain),
    ...validateSpec(rq.spec ?? {}),
    ...validateResourceList(rq.status?.hard, newPath('status', 'hard')),
    ...validateResourceList(rq.status?.used, newPath('status', 'used')),
  ];
}

/** The strategy of core/v1 resourcequotas. */
export const resourceQuotaStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'resourcequotas'),
  defaults(obj) {
    const rq = typed<ResourceQuota>(obj);
    canonicalizeResourceList(rq.spec?.hard);
    canonicalizeResourceList(rq.status?.hard);
    canonicalizeResourceList(rq.status?.used);
  },
  prepareForCreate(obj) {
    // Go writes the zero status of a new quota as an empty object.
    obj.status = {};
  },
  validate: validateQuota,
  validateUpdate(obj, old) {
    const spec = typed<ResourceQuota>(obj).spec ?? {};
    const oldScopes = new Set(typed<ResourceQuota>(old).spec?.scopes ?? []);
    const scopes = new Set(spec.scopes ?? []);
    const errs = [...validateCoreObjectMetaUpdate(obj, old), ...validateSpec(spec)];
    errs.push(...validateResourceList(typed<ResourceQuota>(obj).status?.hard, newPath('status', 'hard')));
    errs.push(...validateResourceList(typed<ResourceQuota>(obj).status?.used, newPath('status', 'used')));
    if (oldScopes.size !== scopes.size || [...scopes].some((s) => !oldScopes.has(s))) {
      const shown =
        spec.scopes === undefined
          ? new GoValue('[]core.ResourceQuotaScope(nil)')
          : goTypedStrings('core.ResourceQuotaScope', spec.scopes);
      errs.push(field.invalid(newPath('spec', 'scopes'), shown, 'field is immutable'));
    }
    return errs;
  },
};
