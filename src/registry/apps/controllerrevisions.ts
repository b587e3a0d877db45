// The ControllerRevision strategy (ValidateControllerRevision and its update rule): a snapshot of a
// workload's template, whose data is required and never changes.
import { isDeepStrictEqual } from 'node:util';
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import { findResource } from '../../api/resources.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { fieldImmutableErrorMsg, nameIsDNSSubdomain, validateNonnegativeField } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from '../core/workload-meta.js';

function validateRevision(obj: KObject): ErrorList {
  const rev = obj as unknown as ControllerRevision;
  const errs: ErrorList = [];
  if (rev.data === undefined || rev.data === null) errs.push(field.required(newPath('data'), 'data is mandatory'));
  errs.push(...validateNonnegativeField(rev.revision ?? 0, newPath('revision')));
  return errs;
}

const base = defaultStrategy(findResource('apps', 'v1', 'controllerrevisions')!);

/** The strategy of apps/v1 controllerrevisions. */
export const controllerRevisionStrategy: ResourceStrategy = {
  ...base,
  validate: (obj) => [...validateCoreObjectMeta(obj.metadata, true, nameIsDNSSubdomain, newPath('metadata')), ...validateRevision(obj)],
  validateUpdate(obj, old) {
    const errs = [
      ...validateCoreObjectMetaUpdate(obj, old, newPath('metadata')),
      ...validateCoreObjectMeta(obj.metadata, true, nameIsDNSSubdomain, newPath('metadata')),
      ...validateRevision(obj),
    ];
    const data = (obj as unknown as ControllerRevision).data;
    // The data is raw bytes upstream, compared as they are.
    if (!isDeepStrictEqual(data, (old as unknown as ControllerRevision).data)) errs.push(field.invalid(newPath('data'), data, fieldImmutableErrorMsg));
    return errs;
  },
};
