// The ReplicaSet strategy (pkg/apis/apps/v1 SetDefaults_ReplicaSet, ValidateReplicaSet and the apps/v1
// replicaset strategy): one replica by default, a selector that matches the template and never changes.
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { findResource } from '../../api/resources.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain, validateNonnegativeField } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { defaultPodTemplateSpec } from '../core/pod-spec.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from '../core/workload-meta.js';
import { validateImmutableSelector, validateReplicaTemplate, validateWorkloadSelector } from './workload-validation.js';

type ReplicaSetSpec = NonNullable<ReplicaSet['spec']>;

/** SetDefaults_ReplicaSet and the template's pod defaults. */
export function defaultReplicaSet(obj: KObject): void {
  const spec = ((obj as ReplicaSet).spec ??= {} as ReplicaSetSpec);
  spec.replicas ??= 1;
  defaultPodTemplateSpec((spec.template ??= {}));
}

/** Upstream's ValidateReplicaSetSpec (its empty-selector message says "deployment", as upstream's does). */
export function validateReplicaSetSpec(spec: ReplicaSetSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  errs.push(...validateNonnegativeField(spec.replicas ?? 0, path.child('replicas')));
  errs.push(...validateNonnegativeField(spec.minReadySeconds ?? 0, path.child('minReadySeconds')));
  const selector = validateWorkloadSelector(spec.selector, 'deployment', 'invalid label selector', path.child('selector'), errs);
  if (selector) errs.push(...validateReplicaTemplate(spec.template, selector, 'ReplicaSet', path.child('template')));
  return errs;
}

const specOf = (obj: KObject) => ((obj as ReplicaSet).spec ?? {}) as ReplicaSetSpec;

const base = defaultStrategy(findResource('apps', 'v1', 'replicasets')!);

/** The strategy of apps/v1 replicasets. */
export const replicaSetStrategy: ResourceStrategy = {
  ...base,
  defaults: defaultReplicaSet,
  prepareForCreate(obj) {
    // Go writes the status's replicas even when zero.
    obj.status = { replicas: 0 };
  },
  validate: (obj) => [
    ...validateCoreObjectMeta(obj.metadata, true, nameIsDNSSubdomain, newPath('metadata')),
    ...validateReplicaSetSpec(specOf(obj), newPath('spec')),
  ],
  validateUpdate: (obj, old) => [
    ...validateCoreObjectMetaUpdate(obj, old, newPath('metadata')),
    ...validateReplicaSetSpec(specOf(obj), newPath('spec')),
    ...validateImmutableSelector(specOf(obj).selector, specOf(old).selector, newPath('spec', 'selector')),
  ],
};
