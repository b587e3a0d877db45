// The Deployment strategy (pkg/apis/apps/v1 SetDefaults_Deployment, ValidateDeployment and the apps/v1
// deployment strategy): one replica, a 25%/25% rolling update, ten old ReplicaSets, a 600 s progress
// deadline; a selector that matches the template and never changes.
import type { Deployment, DeploymentStrategy } from 'kubernetes-types/apps/v1.js';
import { goQuote } from '../../api/go-quote.js';
import { findResource } from '../../api/resources.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain, validateNonnegativeField } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { defaultPodTemplateSpec } from '../core/pod-spec.js';
import { goIntOrString } from '../core/workload-go-syntax.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from '../core/workload-meta.js';
import {
  intOrPercentValue,
  isNotMoreThan100Percent,
  validateImmutableSelector,
  validatePositiveIntOrPercent,
  validateReplicaTemplate,
  validateWorkloadSelector,
} from './workload-validation.js';

/** SetDefaults_Deployment and the template's pod defaults. */
export function defaultDeployment(obj: KObject): void {
  const d = obj as Deployment;
  const spec = (d.spec ??= {} as NonNullable<Deployment['spec']>);
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ||= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxUnavailable ??= '25%';
    ru.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultPodTemplateSpec((spec.template ??= {}));
}

function goStrategy(s: DeploymentStrategy): GoValue {
  const ru = s.rollingUpdate === undefined ? '(*apps.RollingUpdateDeployment)(nil)' : '(*apps.RollingUpdateDeployment)(0xc000010000)';
  return new GoValue(`apps.DeploymentStrategy{Type:${goQuote(s.type ?? '')}, RollingUpdate:${ru}}`);
}

function validateStrategy(s: DeploymentStrategy, path: Path): ErrorList {
  const errs: ErrorList = [];
  switch (s.type) {
    case 'Recreate':
      if (s.rollingUpdate !== undefined && s.rollingUpdate !== null) {
        errs.push(field.forbidden(path.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
      }
      break;
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!ru) {
        errs.push(field.required(path.child('rollingUpdate'), 'this should be defaulted and never be nil'));
        break;
      }
      const p = path.child('rollingUpdate');
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, p.child('maxUnavailable')));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, p.child('maxSurge')));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(field.invalid(p.child('maxUnavailable'), goIntOrString(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, p.child('maxUnavailable')));
      break;
    }
    case undefined:
    default:
      errs.push(field.notSupported(path, goStrategy(s), ['Recreate', 'RollingUpdate']));
  }
  return errs;
}

/** Upstream's ValidateDeploymentSpec. */
export function validateDeploymentSpec(spec: NonNullable<Deployment['spec']>, path: Path): ErrorList {
  const errs: ErrorList = [];
  errs.push(...validateNonnegativeField(spec.replicas ?? 0, path.child('replicas')));
  const selector = validateWorkloadSelector(spec.selector, 'deployment', 'invalid label selector', path.child('selector'), errs);
  if (selector) errs.push(...validateReplicaTemplate(spec.template, selector, 'ReplicaSet', path.child('template')));
  errs.push(...validateStrategy(spec.strategy ?? {}, path.child('strategy')));
  errs.push(...validateNonnegativeField(spec.minReadySeconds ?? 0, path.child('minReadySeconds')));
  if (spec.revisionHistoryLimit !== undefined && spec.revisionHistoryLimit !== null) {
    errs.push(...validateNonnegativeField(spec.revisionHistoryLimit, path.child('revisionHistoryLimit')));
  }
  const pds = spec.progressDeadlineSeconds;
  if (pds !== undefined && pds !== null) {
    errs.push(...validateNonnegativeField(pds, path.child('progressDeadlineSeconds')));
    if (pds <= (spec.minReadySeconds ?? 0)) {
      errs.push(field.invalid(path.child('progressDeadlineSeconds'), pds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

const specOf = (obj: KObject) => ((obj as Deployment).spec ?? {}) as NonNullable<Deployment['spec']>;

const base = defaultStrategy(findResource('apps', 'v1', 'deployments')!);

/** The strategy of apps/v1 deployments. */
export const deploymentStrategy: ResourceStrategy = {
  ...base,
  defaults: defaultDeployment,
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate: (obj) => [
    ...validateCoreObjectMeta(obj.metadata, true, nameIsDNSSubdomain, newPath('metadata')),
    ...validateDeploymentSpec(specOf(obj), newPath('spec')),
  ],
  validateUpdate: (obj, old) => [
    ...validateCoreObjectMetaUpdate(obj, old, newPath('metadata')),
    ...validateDeploymentSpec(specOf(obj), newPath('spec')),
    ...validateImmutableSelector(specOf(obj).selector, specOf(old).selector, newPath('spec', 'selector')),
  ],
};
