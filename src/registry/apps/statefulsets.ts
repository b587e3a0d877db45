// The StatefulSet strategy (pkg/apis/apps/v1 SetDefaults_StatefulSet, ValidateStatefulSet and
// ValidateStatefulSetUpdate): OrderedReady pods, a rolling update from partition 0, claims retained, ten
// revisions; after creation only replicas, ordinals, template, update strategy, retention policy and
// minReadySeconds may change. Upstream does not validate the pod spec of the template, and neither do we.
import type { StatefulSet, StatefulSetUpdateStrategy } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { goQuote } from '../../api/go-quote.js';
import { findResource } from '../../api/resources.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSLabel, validateAnnotations, validateLabels, validateNonnegativeField } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { defaultPersistentVolumeClaimSpec, defaultResourceList } from '../core/pod-defaults.js';
import { defaultPodTemplateSpec, validatePodSpecificAnnotations } from '../core/pod-spec.js';
import { semanticallyEqual } from '../core/spec-diff.js';
import { goIntOrString } from '../core/workload-go-syntax.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from '../core/workload-meta.js';
import {
  intOrPercentValue,
  isNotMoreThan100Percent,
  validateAlwaysRestartTemplate,
  validatePositiveIntOrPercent,
  validateSelectorMatchesTemplate,
  validateWorkloadSelector,
} from './workload-validation.js';

type StatefulSetSpec = NonNullable<StatefulSet['spec']>;

/** Upstream's message for a change to a StatefulSet's fixed fields. */
export const statefulSetUpdateForbiddenMessage =
  "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', " +
  "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

function defaultClaimTemplate(claim: PersistentVolumeClaim): void {
  // Claim templates are whole PersistentVolumeClaims, so they get a claim's defaults, status included.
  const status = ((claim as KObject).status ??= {}) as { phase?: string; capacity?: Record<string, string> };
  status.phase ||= 'Pending';
  defaultResourceList(status.capacity);
  defaultPersistentVolumeClaimSpec((claim.spec ??= {}));
}

/** SetDefaults_StatefulSet, the template's pod defaults and the claim templates' defaults. */
export function defaultStatefulSet(obj: KObject): void {
  const spec = ((obj as StatefulSet).spec ??= {} as StatefulSetSpec);
  spec.podManagementPolicy ||= 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) {
    strategy.type = 'RollingUpdate';
    strategy.rollingUpdate ??= {};
  }
  if (strategy.type === 'RollingUpdate' && strategy.rollingUpdate) strategy.rollingUpdate.partition ??= 0;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  retention.whenDeleted ||= 'Retain';
  retention.whenScaled ||= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  // Go writes serviceName even when empty.
  spec.serviceName ??= '';
  defaultPodTemplateSpec((spec.template ??= {}));
  for (const claim of spec.volumeClaimTemplates ?? []) defaultClaimTemplate(claim);
}

function goStrategy(s: StatefulSetUpdateStrategy): GoValue {
  const ru = s.rollingUpdate === undefined ? '(*apps.RollingUpdateStatefulSetStrategy)(nil)' : '(*apps.RollingUpdateStatefulSetStrategy)(0xc000010000)';
  return new GoValue(`apps.StatefulSetUpdateStrategy{Type:${goQuote(s.type ?? '')}, RollingUpdate:${ru}}`);
}

function goRollingUpdate(ru: NonNullable<StatefulSetUpdateStrategy['rollingUpdate']>): GoValue {
  const mu = ru.maxUnavailable === undefined ? '(*intstr.IntOrString)(nil)' : '(*intstr.IntOrString)(0xc000010000)';
  return new GoValue(`apps.RollingUpdateStatefulSetStrategy{Partition:${ru.partition ?? 0}, MaxUnavailable:${mu}}`);
}

function validateUpdateStrategy(s: StatefulSetUpdateStrategy, path: Path): ErrorList {
  const errs: ErrorList = [];
  switch (s.type) {
    case undefined:
    case '':
      errs.push(field.required(path, ''));
      break;
    case 'OnDelete':
      if (s.rollingUpdate) errs.push(field.invalid(path.child('rollingUpdate'), goRollingUpdate(s.rollingUpdate), "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!ru) break;
      const p = path.child('rollingUpdate');
      errs.push(...validateNonnegativeField(ru.partition ?? 0, p.child('partition')));
      if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
        const mp = p.child('maxUnavailable');
        errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, mp));
        if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(field.invalid(mp, goIntOrString(ru.maxUnavailable), 'cannot be 0'));
        errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, mp));
      }
      break;
    }
    default:
      errs.push(field.invalid(path, goStrategy(s), "must be 'RollingUpdate' or 'OnDelete'"));
  }
  return errs;
}

/** Upstream's ValidateStatefulSetSpec. */
export function validateStatefulSetSpec(spec: StatefulSetSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  const policy = spec.podManagementPolicy ?? '';
  if (policy === '') errs.push(field.required(path.child('podManagementPolicy'), ''));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') {
    errs.push(field.invalid(path.child('podManagementPolicy'), policy, "must be 'OrderedReady' or 'Parallel'"));
  }
  errs.push(...validateUpdateStrategy(spec.updateStrategy ?? {}, path.child('updateStrategy')));
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (retention) {
    const rp = path.child('persistentVolumeClaimRetentionPolicy');
    for (const key of ['whenDeleted', 'whenScaled'] as const) {
      const v = retention[key] ?? '';
      if (v !== 'Retain' && v !== 'Delete') errs.push(field.notSupported(rp.child(key), v, ['Retain', 'Delete']));
    }
  }
  errs.push(...validateNonnegativeField(spec.replicas ?? 0, path.child('replicas')));
  errs.push(...validateNonnegativeField(spec.minReadySeconds ?? 0, path.child('minReadySeconds')));
  if (spec.ordinals) errs.push(...validateNonnegativeField(spec.ordinals.start ?? 0, path.child('ordinals.start')));
  const selector = validateWorkloadSelector(spec.selector, 'statefulset', '', path.child('selector'), errs);
  const tPath = path.child('template');
  if (selector) {
    const template = spec.template;
    errs.push(...validateSelectorMatchesTemplate(selector, template, tPath));
    errs.push(...validateLabels(template?.metadata?.labels, tPath.child('labels')));
    errs.push(...validateAnnotations(template?.metadata?.annotations, tPath.child('annotations')));
    errs.push(...validatePodSpecificAnnotations(template?.metadata?.annotations, template?.spec ?? { containers: [] }, tPath.child('annotations')));
  }
  errs.push(...validateAlwaysRestartTemplate(spec.template, 'StatefulSet', tPath));
  return errs;
}

const specOf = (obj: KObject) => ((obj as StatefulSet).spec ?? {}) as StatefulSetSpec;

const mutableFields = ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy'] as const;

/** Upstream's ValidateStatefulSetUpdate (the spec part): only the mutable fields may differ. */
export function validateStatefulSetSpecUpdate(spec: StatefulSetSpec, old: StatefulSetSpec): ErrorList {
  const clone: Record<string, unknown> = { ...spec };
  const prev = old as unknown as Record<string, unknown>;
  for (const f of mutableFields) {
    if (prev[f] === undefined) delete clone[f];
    else clone[f] = prev[f];
  }
  return semanticallyEqual(clone, old) ? [] : [field.forbidden(newPath('spec'), statefulSetUpdateForbiddenMessage)];
}

const base = defaultStrategy(findResource('apps', 'v1', 'statefulsets')!);

/** The strategy of apps/v1 statefulsets. */
export const statefulSetStrategy: ResourceStrategy = {
  ...base,
  defaults: defaultStatefulSet,
  prepareForCreate(obj) {
    // Go writes replicas and availableReplicas even when zero.
    obj.status = { replicas: 0, availableReplicas: 0 };
  },
  validate: (obj) => [
    ...validateCoreObjectMeta(obj.metadata, true, nameIsDNSLabel, newPath('metadata')),
    ...validateStatefulSetSpec(specOf(obj), newPath('spec')),
  ],
  validateUpdate: (obj, old) => [
    ...validateCoreObjectMetaUpdate(obj, old, newPath('metadata')),
    ...validateStatefulSetSpec(specOf(obj), newPath('spec')),
    ...validateStatefulSetSpecUpdate(specOf(obj), specOf(old)),
  ],
};
