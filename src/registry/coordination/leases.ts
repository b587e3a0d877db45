// Leases (coordination validation): a positive duration, non-negative transitions, and a preferred holder
// only with a strategy. holderIdentity is free-form.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain } from '../../apimachinery/validation/names.js';
import {
  baseStrategy,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

const leaseStrategies = ['OldestEmulationVersion'];

function validateLeaseSpec(obj: KObject): ErrorList {
  // strategy and preferredHolder arrived in 1.31, after the types package we build on.
  const spec: NonNullable<Lease['spec']> & { strategy?: string; preferredHolder?: string } =
    typed<Lease>(obj).spec ?? {};
  const path = newPath('spec');
  const errs: ErrorList = [];
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0) {
    errs.push(
      field.invalid(path.child('leaseDurationSeconds'), spec.leaseDurationSeconds, 'must be greater than 0'),
    );
  }
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions < 0) {
    errs.push(
      field.invalid(
        path.child('leaseTransitions'),
        spec.leaseTransitions,
        'must be greater than or equal to 0',
      ),
    );
  }
  if (spec.strategy !== undefined && spec.strategy !== '' && !leaseStrategies.includes(spec.strategy)) {
    errs.push(field.notSupported(path.child('strategy'), spec.strategy, leaseStrategies));
  }
  if (spec.preferredHolder && !spec.strategy) {
    errs.push(
      field.forbidden(path.child('preferredHolder'), 'may only be specified if `strategy` is defined'),
    );
  }
  return errs;
}

/** The strategy of coordination.k8s.io/v1 leases. */
export const leaseStrategy: ResourceStrategy = {
  ...baseStrategy('coordination.k8s.io', 'v1', 'leases'),
  validate: (obj) => [...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain), ...validateLeaseSpec(obj)],
  validateUpdate: (obj, old) => [...validateCoreObjectMetaUpdate(obj, old), ...validateLeaseSpec(obj)],
};
