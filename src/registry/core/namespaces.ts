// Namespaces (upstream's pkg/registry/core/namespace and the Namespace rules of core validation): the
// kubernetes.io/metadata.name label, the "kubernetes" finalizer every new namespace gets, the Active and
// Terminating phases, and what deleting a namespace does before the namespace controller empties it.
import type { Namespace } from 'kubernetes-types/core/v1.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { validateNamespaceName } from '../../apimachinery/validation/names.js';
import { formatTime } from '../generic/registry-store.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import {
  baseStrategy,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
  validateSpecFinalizerName,
} from './kube-validation.js';

/** The label every namespace carries with its own name; the API server sets it and keeps it. */
export const labelMetadataName = 'kubernetes.io/metadata.name';

/** The finalizer the namespace controller removes once everything in the namespace is gone. */
export const finalizerKubernetes = 'kubernetes';

// Defaulting sets the label when the name is known; a generated name is known only at validation, so the
// label is set again there (upstream's Canonicalize, a hook our store does not have).
function setNameLabel(obj: KObject): void {
  const meta = (obj.metadata ??= {});
  if (!meta.name) return;
  meta.labels = { ...meta.labels, [labelMetadataName]: meta.name };
}

function validateNamespace(ns: Namespace): ErrorList {
  const errs: ErrorList = [];
  for (const f of ns.spec?.finalizers ?? [])
    errs.push(...validateSpecFinalizerName(f, newPath('spec', 'finalizers')));
  return errs;
}

function validatePhase(ns: Namespace): ErrorList {
  const phase = ns.status?.phase ?? '';
  if (!ns.metadata?.deletionTimestamp) {
    return phase === 'Active'
      ? []
      : [
          field.invalid(
            newPath('status', 'Phase'),
            phase,
            "may only be 'Active' if `deletionTimestamp` is empty",
          ),
        ];
  }
  return phase === 'Terminating'
    ? []
    : [
        field.invalid(
          newPath('status', 'Phase'),
          phase,
          "may only be 'Terminating' if `deletionTimestamp` is not empty",
        ),
      ];
}

/** The strategy of core/v1 namespaces. */
export const namespaceStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'namespaces'),
  defaults(obj) {
    setNameLabel(obj);
    const ns = typed<Namespace>(obj);
    if (ns.status !== undefined && !ns.status.phase) ns.status.phase = 'Active';
  },
  prepareForCreate(obj) {
    const ns = typed<Namespace>(obj);
    ns.status = { phase: 'Active' };
    const finalizers = ns.spec?.finalizers ?? [];
    if (!finalizers.includes(finalizerKubernetes))
      ns.spec = { ...ns.spec, finalizers: [...finalizers, finalizerKubernetes] };
  },
  terminate(obj, now, propagationPolicy) {
    if (namespaceMayBeRemoved(obj)) return undefined;
    return markNamespaceTerminating(obj, now, propagationPolicy) ?? obj;
  },
  prepareForUpdate(obj, old) {
    // spec.finalizers change only through the finalize subresource, status only through status.
    const ns = typed<Namespace>(obj);
    const prev = typed<Namespace>(old);
    if (prev.spec === undefined) delete ns.spec;
    else ns.spec = structuredClone(prev.spec);
    if (prev.status === undefined) delete ns.status;
    else ns.status = structuredClone(prev.status);
  },
  validate(obj) {
    setNameLabel(obj);
    return [
      ...validateCoreObjectMeta(obj, false, validateNamespaceName),
      ...validateNamespace(typed<Namespace>(obj)),
    ];
  },
  validateUpdate(obj, old) {
    setNameLabel(obj);
    return [...validateCoreObjectMetaUpdate(obj, old), ...validatePhase(typed<Namespace>(obj))];
  },
};

/**
 * The strategy of the namespaces/finalize subresource: only spec.finalizers may change (status is kept),
 * each a valid finalizer name.
 */
export const namespaceFinalizeStrategy: ResourceStrategy = {
  ...namespaceStrategy,
  prepareForUpdate(obj, old) {
    const ns = typed<Namespace>(obj);
    const prev = typed<Namespace>(old);
    if (prev.status === undefined) delete ns.status;
    else ns.status = structuredClone(prev.status);
  },
  validateUpdate(obj, old) {
    const errs = validateCoreObjectMetaUpdate(obj, old);
    (typed<Namespace>(obj).spec?.finalizers ?? []).forEach((f, i) =>
      errs.push(...validateSpecFinalizerName(f, newPath('spec', 'finalizers').index(i))),
    );
    return errs;
  },
};

/**
 * The first DELETE of a namespace does not remove it: it sets deletionTimestamp and phase Terminating
 * (and the orphan or foregroundDeletion finalizer the propagation policy asks for), and the namespace
 * controller takes over. Returns the namespace to write, or undefined when it is already terminating.
 */
export function markNamespaceTerminating(
  obj: KObject,
  now: Date,
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground',
): KObject | undefined {
  const ns = structuredClone(typed<Namespace>(obj));
  if (ns.metadata?.deletionTimestamp) return undefined;
  ns.metadata = { ...ns.metadata, deletionTimestamp: formatTime(now) };
  ns.status = { ...ns.status, phase: 'Terminating' };
  if (propagationPolicy !== undefined) {
    const finalizers = new Set(ns.metadata.finalizers ?? []);
    finalizers.delete('orphan');
    finalizers.delete('foregroundDeletion');
    if (propagationPolicy === 'Orphan') finalizers.add('orphan');
    if (propagationPolicy === 'Foreground') finalizers.add('foregroundDeletion');
    ns.metadata.finalizers = [...finalizers];
    if (ns.metadata.finalizers.length === 0) delete ns.metadata.finalizers;
  }
  return ns as unknown as KObject;
}

/** A terminating namespace may go from storage once spec.finalizers is empty (later DELETEs check this). */
export function namespaceMayBeRemoved(obj: KObject): boolean {
  const ns = typed<Namespace>(obj);
  return !!ns.metadata?.deletionTimestamp && (ns.spec?.finalizers ?? []).length === 0;
}
