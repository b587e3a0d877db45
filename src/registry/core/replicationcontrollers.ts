// The ReplicationController strategy (upstream's pkg/registry/core/replicationcontroller and
// ValidateReplicationController): selector and labels defaulted from the template, one replica by default,
// and a template that matches the selector and restarts Always.
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import { LabelSelector } from '../../api/labels.js';
import { findResource } from '../../api/resources.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain, validateNonnegativeField } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './pod-spec.js';
import { goStringMap } from './workload-go-syntax.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from './workload-meta.js';

/** SetDefaults_ReplicationController: selector and object labels from the template's, replicas 1. */
export function defaultReplicationController(obj: KObject): void {
  const rc = obj as ReplicationController;
  const spec = (rc.spec ??= {});
  const labels = spec.template?.metadata?.labels;
  if (labels) {
    if (Object.keys(spec.selector ?? {}).length === 0) spec.selector = { ...labels };
    const meta = (rc.metadata ??= {});
    if (Object.keys(meta.labels ?? {}).length === 0) meta.labels = { ...labels };
  }
  spec.replicas ??= 1;
  if (spec.template) defaultPodTemplateSpec(spec.template);
}

function validateSpec(rc: ReplicationController): ErrorList {
  const path = newPath('spec');
  const spec = rc.spec ?? {};
  const errs: ErrorList = [];
  errs.push(...validateNonnegativeField(spec.minReadySeconds ?? 0, path.child('minReadySeconds')));
  const selector = LabelSelector.fromSet(spec.selector ?? {});
  if (selector.empty()) errs.push(field.required(path.child('selector'), ''));
  errs.push(...validateNonnegativeField(spec.replicas ?? 0, path.child('replicas')));
  const tPath = path.child('template');
  const template = spec.template;
  if (!template) {
    errs.push(field.required(tPath, ''));
    return errs;
  }
  if (!selector.empty() && !selector.matches(template.metadata?.labels ?? {})) {
    errs.push(field.invalid(tPath.child('metadata', 'labels'), goStringMap(template.metadata?.labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, tPath));
  const restartPolicy = template.spec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') errs.push(field.notSupported(tPath.child('spec', 'restartPolicy'), restartPolicy, ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined && template.spec.activeDeadlineSeconds !== null) {
    errs.push(field.forbidden(tPath.child('spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

const base = defaultStrategy(findResource('', 'v1', 'replicationcontrollers')!);

/** The strategy of core/v1 replicationcontrollers. */
export const replicationControllerStrategy: ResourceStrategy = {
  ...base,
  defaults: defaultReplicationController,
  prepareForCreate(obj) {
    // Go writes the status's replicas even when zero.
    obj.status = { replicas: 0 };
  },
  validate: (obj) => [
    ...validateCoreObjectMeta(obj.metadata, true, nameIsDNSSubdomain, newPath('metadata')),
    ...validateSpec(obj as ReplicationController),
  ],
  validateUpdate: (obj, old) => [...validateCoreObjectMetaUpdate(obj, old, newPath('metadata')), ...validateSpec(obj as ReplicationController)],
};
