// The metadata checks of the core API group's validation (pkg/apis/core/validation ValidateObjectMeta and
// ValidateObjectMetaUpdate): the generic ones plus the rule that a finalizer name without a '/' must be one of
// Kubernetes' own. Workload kinds in other groups use them too, as upstream does.
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field } from '../../apimachinery/validation/field-errors.js';
import type { ObjectMeta, ValidateNameFunc } from '../../apimachinery/validation/names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../apimachinery/validation/names.js';
import type { KObject } from '../generic/strategy.js';

const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

function validateKubeFinalizerNames(finalizers: readonly string[] | null | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  (finalizers ?? []).forEach((f, i) => {
    if (!f.includes('/') && !standardFinalizers.has(f)) {
      errs.push(field.invalid(path.index(i), f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  return errs;
}

/** ValidateObjectMeta of the core group: create-time metadata checks for a namespaced or cluster-scoped kind. */
export function validateCoreObjectMeta(
  meta: object | undefined,
  requiresNamespace: boolean,
  nameFn: ValidateNameFunc,
  path: Path,
): ErrorList {
  const m = (meta ?? {}) as ObjectMeta;
  return [
    ...validateObjectMeta(m, requiresNamespace, nameFn, path),
    ...validateKubeFinalizerNames(m.finalizers, path.child('finalizers')),
  ];
}

/**
 * ValidateObjectMetaUpdate of the core group. The generic store fills in the resourceVersion of an
 * unconditional update only after validation (upstream does it before), so the old version stands in for a
 * missing one here.
 */
export function validateCoreObjectMetaUpdate(obj: KObject, old: KObject, path: Path): ErrorList {
  const newMeta = { ...(obj.metadata ?? {}) } as ObjectMeta;
  const oldMeta = (old.metadata ?? {}) as ObjectMeta;
  if (!newMeta.resourceVersion) newMeta.resourceVersion = oldMeta.resourceVersion ?? null;
  return [
    ...validateObjectMetaUpdate(newMeta, oldMeta, path),
    ...validateKubeFinalizerNames(newMeta.finalizers, path.child('finalizers')),
  ];
}
