// Validation of what a pod tells the scheduler: tolerations, node and pod (anti-)affinity, topology spread
// constraints and scheduling gates (upstream's ValidateTolerations, validateAffinity and friends).
import type {
  Affinity,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PodAffinityTerm,
  PodSchedulingGate,
  Toleration,
  TopologySpreadConstraint,
  WeightedPodAffinityTerm,
} from 'kubernetes-types/core/v1.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field } from '../../apimachinery/validation/field-errors.js';
import {
  isQualifiedName,
  isValidLabelValue,
  nameIsDNSSubdomain,
  validateLabelName,
  validateLabelSelector,
  validateNamespaceName,
} from '../../apimachinery/validation/names.js';

const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Tolerations: valid keys, Exists for an empty key, no value with Exists, a known effect, seconds only for NoExecute. */
export function validateTolerations(tolerations: readonly Toleration[] | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  (tolerations ?? []).forEach((t, i) => {
    const p = path.index(i);
    if (t.key) errs.push(...validateLabelName(t.key, p.child('key')));
    if (!t.key && t.operator !== 'Exists') {
      errs.push(
        field.invalid(p.child('operator'), t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'),
      );
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute') {
      errs.push(field.invalid(p.child('effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (t.operator ?? '') {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(t.value ?? '');
        if (msgs.length > 0) errs.push(field.invalid(p.child('operator'), t.value ?? '', msgs.join(';')));
        break;
      }
      case 'Exists':
        if (t.value) errs.push(field.invalid(p.child('operator'), t, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(field.notSupported(p.child('operator'), t.operator, ['Equal', 'Exists']));
    }
    if (t.effect && !taintEffects.includes(t.effect)) errs.push(field.notSupported(p.child('effect'), t.effect, taintEffects));
  });
  return errs;
}

function validateNodeSelectorRequirement(rq: NodeSelectorRequirement, path: Path): ErrorList {
  const errs: ErrorList = [];
  const values = rq.values ?? [];
  switch (rq.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(field.required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        errs.push(field.forbidden(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errs.push(field.required(path.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(field.invalid(path.child('operator'), rq.operator ?? '', 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(rq.key ?? '', path.child('key')));
  return errs;
}

function validateNodeFieldSelectorRequirement(rq: NodeSelectorRequirement, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (rq.operator === 'In' || rq.operator === 'NotIn') {
    if ((rq.values ?? []).length !== 1) {
      errs.push(field.required(path.child('values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    }
  } else {
    errs.push(field.invalid(path.child('operator'), rq.operator ?? '', 'not a valid selector operator'));
  }
  if (rq.key !== 'metadata.name') {
    errs.push(field.invalid(path.child('key'), rq.key ?? '', 'not a valid field selector key'));
  } else {
    (rq.values ?? []).forEach((v, i) => {
      for (const m of nameIsDNSSubdomain(v, false)) errs.push(field.invalid(path.child('values').index(i), v, m));
    });
  }
  return errs;
}

function validateNodeSelectorTerm(term: NodeSelectorTerm, path: Path): ErrorList {
  const errs: ErrorList = [];
  (term.matchExpressions ?? []).forEach((rq, j) => errs.push(...validateNodeSelectorRequirement(rq, path.child('matchExpressions').index(j))));
  (term.matchFields ?? []).forEach((rq, j) => errs.push(...validateNodeFieldSelectorRequirement(rq, path.child('matchFields').index(j))));
  return errs;
}

function validateNodeSelector(sel: NodeSelector, path: Path): ErrorList {
  const termsPath = path.child('nodeSelectorTerms');
  const terms = sel.nodeSelectorTerms ?? [];
  if (terms.length === 0) return [field.required(termsPath, 'must have at least one node selector term')];
  return terms.flatMap((t, i) => validateNodeSelectorTerm(t, termsPath.index(i)));
}

function validatePodAffinityTerm(term: PodAffinityTerm, allowInvalidLabelValue: boolean, path: Path): ErrorList {
  const errs: ErrorList = [];
  errs.push(
    ...validateLabelSelector(term.labelSelector, { allowInvalidLabelValueInSelector: allowInvalidLabelValue }, path.child('labelSelector')),
  );
  errs.push(
    ...validateLabelSelector(
      term.namespaceSelector,
      { allowInvalidLabelValueInSelector: allowInvalidLabelValue },
      path.child('namespaceSelector'),
    ),
  );
  for (const ns of term.namespaces ?? []) {
    for (const m of validateNamespaceName(ns, false)) errs.push(field.invalid(path.child('namespace'), ns, m));
  }
  const raw = term as { matchLabelKeys?: string[]; mismatchLabelKeys?: string[] };
  const matchKeys = raw.matchLabelKeys ?? [];
  const mismatchKeys = raw.mismatchLabelKeys ?? [];
  for (const [name, keys] of [
    ['matchLabelKeys', matchKeys],
    ['mismatchLabelKeys', mismatchKeys],
  ] as const) {
    if (!term.labelSelector) {
      if (keys.length > 0) errs.push(field.forbidden(path.child(name), 'must not be specified when labelSelector is not set'));
      continue;
    }
    keys.forEach((k, i) => errs.push(...validateLabelName(k, path.child(name).index(i))));
  }
  matchKeys.forEach((k, i) => {
    if (mismatchKeys.includes(k)) {
      errs.push(field.invalid(path.child('matchLabelKeys').index(i), k, 'exists in both matchLabelKeys and mismatchLabelKeys'));
    }
  });
  if (!term.topologyKey) errs.push(field.required(path.child('topologyKey'), 'can not be empty'));
  errs.push(...validateLabelName(term.topologyKey ?? '', path.child('topologyKey')));
  return errs;
}

function validateWeightedTerms(terms: readonly WeightedPodAffinityTerm[] | undefined, allowInvalid: boolean, path: Path): ErrorList {
  const errs: ErrorList = [];
  (terms ?? []).forEach((t, j) => {
    if ((t.weight ?? 0) <= 0 || t.weight > 100) errs.push(field.invalid(path.index(j).child('weight'), t.weight ?? 0, 'must be in the range 1-100'));
    errs.push(...validatePodAffinityTerm(t.podAffinityTerm ?? ({} as PodAffinityTerm), allowInvalid, path.index(j).child('podAffinityTerm')));
  });
  return errs;
}

/** Node affinity (selector terms), pod affinity and anti-affinity (terms and weights). */
export function validateAffinity(affinity: Affinity | undefined, allowInvalidLabelValue: boolean, path: Path): ErrorList {
  if (!affinity) return [];
  const errs: ErrorList = [];
  const na = affinity.nodeAffinity;
  if (na) {
    const p = path.child('nodeAffinity');
    if (na.requiredDuringSchedulingIgnoredDuringExecution) {
      errs.push(...validateNodeSelector(na.requiredDuringSchedulingIgnoredDuringExecution, p.child('requiredDuringSchedulingIgnoredDuringExecution')));
    }
    (na.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      const tp = p.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      if ((t.weight ?? 0) <= 0 || t.weight > 100) errs.push(field.invalid(tp.child('weight'), t.weight ?? 0, 'must be in the range 1-100'));
      errs.push(...validateNodeSelectorTerm(t.preference ?? {}, tp.child('preference')));
    });
  }
  for (const [name, pa] of [
    ['podAffinity', affinity.podAffinity],
    ['podAntiAffinity', affinity.podAntiAffinity],
  ] as const) {
    if (!pa) continue;
    const p = path.child(name);
    (pa.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) =>
      errs.push(...validatePodAffinityTerm(t, allowInvalidLabelValue, p.child('requiredDuringSchedulingIgnoredDuringExecution').index(i))),
    );
    errs.push(...validateWeightedTerms(pa.preferredDuringSchedulingIgnoredDuringExecution, allowInvalidLabelValue, p.child('preferredDuringSchedulingIgnoredDuringExecution')));
  }
  return errs;
}

const unsatisfiableActions = ['DoNotSchedule', 'ScheduleAnyway'];
const inclusionPolicies = ['Honor', 'Ignore'];

/** Topology spread constraints: positive maxSkew, a topology key, a known action, no duplicate key/action pairs. */
export function validateTopologySpreadConstraints(
  constraints: readonly TopologySpreadConstraint[] | undefined,
  allowInvalidLabelValue: boolean,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  const seen = new Set<string>();
  (constraints ?? []).forEach((c, i) => {
    const p = path.index(i);
    if ((c.maxSkew ?? 0) <= 0) errs.push(field.invalid(p.child('maxSkew'), c.maxSkew ?? 0, 'must be greater than zero'));
    if (!c.topologyKey) errs.push(field.required(p.child('topologyKey'), 'can not be empty'));
    else errs.push(...validateLabelName(c.topologyKey, p.child('topologyKey')));
    const action = c.whenUnsatisfiable ?? '';
    if (!unsatisfiableActions.includes(action)) errs.push(field.notSupported(p.child('whenUnsatisfiable'), action, unsatisfiableActions));
    const key = `${c.topologyKey ?? ''}/${action}`;
    if (seen.has(key)) errs.push(field.duplicate(p, `{${c.topologyKey ?? ''}, ${action}}`));
    seen.add(key);
    if (c.minDomains !== undefined && c.minDomains !== null) {
      if (c.minDomains <= 0) errs.push(field.invalid(p.child('minDomains'), c.minDomains, 'must be greater than 0'));
      else if (action !== 'DoNotSchedule') {
        errs.push(field.invalid(p.child('minDomains'), c.minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${action}`));
      }
    }
    for (const [name, value] of [
      ['nodeAffinityPolicy', c.nodeAffinityPolicy],
      ['nodeTaintsPolicy', c.nodeTaintsPolicy],
    ] as const) {
      if (value !== undefined && value !== null && !inclusionPolicies.includes(value)) {
        errs.push(field.notSupported(p.child(name), value, inclusionPolicies));
      }
    }
    (c.matchLabelKeys ?? []).forEach((k, j) => errs.push(...validateLabelName(k, p.child('matchLabelKeys').index(j))));
    errs.push(
      ...validateLabelSelector(c.labelSelector, { allowInvalidLabelValueInSelector: allowInvalidLabelValue }, p.child('labelSelector')),
    );
  });
  return errs;
}

/** Scheduling gates: qualified names without duplicates. */
export function validateSchedulingGates(gates: readonly PodSchedulingGate[] | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  const seen = new Set<string>();
  (gates ?? []).forEach((g, i) => {
    for (const m of isQualifiedName(g.name ?? '')) errs.push(field.invalid(path.index(i), g.name ?? '', m));
    if (seen.has(g.name)) errs.push(field.duplicate(path.index(i), g.name));
    seen.add(g.name);
  });
  return errs;
}
