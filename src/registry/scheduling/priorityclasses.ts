// PriorityClasses (scheduling defaulting and validation): names starting "system-" are kept for the two
// built-in classes, user values stop at one billion, and value and preemptionPolicy never change. That at
// most one class is the global default is checked by admission, which sees the other classes.
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain, validateImmutableField } from '../../apimachinery/validation/names.js';
import {
  baseStrategy,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

/** The prefix reserved for the built-in classes. */
export const systemPriorityClassPrefix = 'system-';
/** The highest value a user-defined class may have. */
export const highestUserDefinablePriority = 1_000_000_000;
/** The priority of system-cluster-critical; system-node-critical is 1000 above it. */
export const systemCriticalPriority = 2 * highestUserDefinablePriority;

/** The built-in classes the API server creates, with their values. */
export const systemPriorityClasses: readonly {
  name: string;
  value: number;
  globalDefault: boolean;
  description: string;
}[] = [
  {
    name: 'system-node-critical',
    value: systemCriticalPriority + 1000,
    globalDefault: false,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    name: 'system-cluster-critical',
    value: systemCriticalPriority,
    globalDefault: false,
    description:
      'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

function knownSystemClassError(name: string, value: number, globalDefault: boolean): string | undefined {
  const known = systemPriorityClasses.find((c) => c.name === name);
  if (known === undefined) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (known.globalDefault !== globalDefault)
    return `globalDefault of ${name} PriorityClass must be ${known.globalDefault}`;
  return undefined;
}

function validatePreemptionPolicy(pc: PriorityClass): ErrorList {
  const policy = pc.preemptionPolicy;
  if (policy === undefined) return [];
  if (policy === '') return [field.required(newPath('preemptionPolicy'), '')];
  if (policy !== 'PreemptLowerPriority' && policy !== 'Never') {
    return [field.notSupported(newPath('preemptionPolicy'), policy, ['PreemptLowerPriority', 'Never'])];
  }
  return [];
}

function validatePriorityClass(obj: KObject): ErrorList {
  const pc = typed<PriorityClass>(obj);
  const errs = validateCoreObjectMeta(obj, false, nameIsDNSSubdomain);
  const name = pc.metadata?.name ?? '';
  if (name.startsWith(systemPriorityClassPrefix)) {
    const problem = knownSystemClassError(name, pc.value ?? 0, pc.globalDefault ?? false);
    if (problem !== undefined) {
      errs.push(
        field.forbidden(
          newPath('metadata', 'name'),
          `priority class names with '${systemPriorityClassPrefix}' prefix are reserved for system use only. error: ${problem}`,
        ),
      );
    }
  } else if ((pc.value ?? 0) > highestUserDefinablePriority) {
    errs.push(
      field.forbidden(
        newPath('value'),
        `maximum allowed value of a user defined priority is ${highestUserDefinablePriority}`,
      ),
    );
  }
  errs.push(...validatePreemptionPolicy(pc));
  return errs;
}

/** The strategy of scheduling.k8s.io/v1 priorityclasses. */
export const priorityClassStrategy: ResourceStrategy = {
  ...baseStrategy('scheduling.k8s.io', 'v1', 'priorityclasses'),
  defaults(obj) {
    typed<PriorityClass>(obj).preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate: validatePriorityClass,
  validateUpdate(obj, old) {
    const pc = typed<PriorityClass>(obj);
    const prev = typed<PriorityClass>(old);
    const errs = validateCoreObjectMetaUpdate(obj, old);
    if ((pc.value ?? 0) !== (prev.value ?? 0))
      errs.push(field.forbidden(newPath('value'), 'may not be changed in an update.'));
    errs.push(
      ...validateImmutableField(
        pc.preemptionPolicy ?? null,
        prev.preemptionPolicy ?? null,
        newPath('preemptionPolicy'),
      ),
    );
    return errs;
  },
};
