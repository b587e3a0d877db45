// The PodTemplate strategy (upstream's pkg/registry/core/podtemplate): the template's pod spec defaulting
// and validation, and a generation that counts changes to the template.
import type { PodTemplate } from 'kubernetes-types/core/v1.js';
import { findResource } from '../../api/resources.js';
import { newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './pod-spec.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from './workload-meta.js';

const base = defaultStrategy(findResource('', 'v1', 'podtemplates')!);

function validateTemplate(obj: KObject) {
  return validatePodTemplateSpec((obj as PodTemplate).template, newPath('template'));
}

/** The strategy of core/v1 podtemplates. */
export const podTemplateStrategy: ResourceStrategy = {
  ...base,
  // Upstream's PrepareForUpdate bumps the generation whenever the template changes.
  tracksGeneration: true,
  defaults(obj) {
    defaultPodTemplateSpec(((obj as PodTemplate).template ??= {}));
  },
  validate: (obj) => [...validateCoreObjectMeta(obj.metadata, true, nameIsDNSSubdomain, newPath('metadata')), ...validateTemplate(obj)],
  validateUpdate: (obj, old) => [...validateCoreObjectMetaUpdate(obj, old, newPath('metadata')), ...validateTemplate(obj)],
};
