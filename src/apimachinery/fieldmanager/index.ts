// Field ownership (metadata.managedFields) for writes that are not server-side apply.
export {
  compareObjects,
  comparePathElements,
  FieldSet,
  fieldPath,
  fieldSetOf,
  keyElement,
  parsePathElement,
  serializePathElement,
} from './field-set.js';
export type { Comparison, FieldPath, KeyField, PathElement } from './field-set.js';
export { managerFromUserAgent, updateManagedFields, withManagedFields } from './managed-fields.js';
export type { UpdateManagedFieldsOptions } from './managed-fields.js';
