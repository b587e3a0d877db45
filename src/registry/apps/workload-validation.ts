// What the apps/v1 workload validations share (pkg/apis/apps/validation): the required, non-empty selector
// that must select the template's labels, the template checks of ReplicaSet-like controllers, int-or-percent
// fields, the immutable selector, and the zero status Go writes for a new object.
import type { LabelSelector as LabelSelectorJSON } from 'kubernetes-types/meta/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from '../../api/labels.js';
import { LabelSelectorError, labelSelectorAsSelector } from '../../api/labels.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field } from '../../apimachinery/validation/field-errors.js';
import { fieldImmutableErrorMsg, isValidPercent, validateLabelSelector, validateNonnegativeField } from '../../apimachinery/validation/names.js';
import type { PodValidationOptions } from '../core/pod-spec.js';
import { validatePodTemplateSpec } from '../core/pod-spec.js';
import { goIntOrString, goLabelSelector, goStringMap } from '../core/workload-go-syntax.js';

/** An int-or-percent field as JSON holds it. */
export type IntOrPercent = number | string;

/**
 * A required selector, checked strictly, that is not empty; `kindWord` completes upstream's "empty selector
 * is invalid for <kind>". Returns the parsed selector, or undefined when it cannot be parsed.
 */
export function validateWorkloadSelector(
  selector: LabelSelectorJSON | undefined,
  kindWord: string,
  invalidDetail: string,
  path: Path,
  errs: ErrorList,
): LabelSelector | undefined {
  if (selector === undefined || selector === null) {
    errs.push(field.required(path, ''));
  } else {
    errs.push(...validateLabelSelector(selector, {}, path));
    if (Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length === 0) {
      errs.push(field.invalid(path, goLabelSelector(selector), `empty selector is invalid for ${kindWord}`));
    }
  }
  try {
    return labelSelectorAsSelector(selector);
  } catch (err) {
    if (!(err instanceof LabelSelectorError)) throw err;
    errs.push(field.invalid(path, goLabelSelector(selector), invalidDetail));
    return undefined;
  }
}

/** The template's labels must satisfy the selector (an empty or nil selector is not checked here). */
export function validateSelectorMatchesTemplate(selector: LabelSelector, template: PodTemplateSpec | undefined, path: Path): ErrorList {
  const labels = template?.metadata?.labels;
  if (selector.empty() || selector.matches(labels ?? {})) return [];
  return [field.invalid(path.child('metadata', 'labels'), goStringMap(labels), '`selector` does not match template `labels`')];
}

/**
 * Upstream's ValidatePodTemplateSpecForReplicaSet (also used by Deployments, and with other words by
 * DaemonSets): labels match the selector, the pod template is valid, restarts are Always, no deadline.
 */
export function validateReplicaTemplate(
  template: PodTemplateSpec | undefined,
  selector: LabelSelector,
  kind: string,
  path: Path,
  opts: PodValidationOptions = {},
): ErrorList {
  const errs = validateSelectorMatchesTemplate(selector, template, path);
  errs.push(...validatePodTemplateSpec(template, path, opts));
  errs.push(...validateAlwaysRestartTemplate(template, kind, path));
  return errs;
}

/** restartPolicy Always and no activeDeadlineSeconds, as every long-running controller requires. */
export function validateAlwaysRestartTemplate(template: PodTemplateSpec | undefined, kind: string, path: Path): ErrorList {
  const errs: ErrorList = [];
  const restartPolicy = template?.spec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') errs.push(field.notSupported(path.child('spec', 'restartPolicy'), restartPolicy, ['Always']));
  const ads = template?.spec?.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    errs.push(field.forbidden(path.child('spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

/** A non-negative integer or a valid percentage ("25%"). */
export function validatePositiveIntOrPercent(v: IntOrPercent | undefined, path: Path): ErrorList {
  if (typeof v === 'string') return isValidPercent(v).map((m) => field.invalid(path, goIntOrString(v), m));
  return validateNonnegativeField(v ?? 0, path);
}

/** The number of a percentage, or undefined for anything else. */
function percentValue(v: IntOrPercent | undefined): number | undefined {
  if (typeof v !== 'string' || isValidPercent(v).length > 0) return undefined;
  return Number(v.slice(0, -1));
}

/** The value upstream compares with zero: the percentage's number, else the integer (a bad string is 0). */
export function intOrPercentValue(v: IntOrPercent | undefined): number {
  const p = percentValue(v);
  if (p !== undefined) return p;
  if (typeof v === 'number') return v;
  return v !== undefined && /^[+-]?[0-9]+$/.test(v) ? Number(v) : 0;
}

/** A percentage may not exceed 100%. */
export function isNotMoreThan100Percent(v: IntOrPercent | undefined, path: Path): ErrorList {
  const p = percentValue(v);
  return p === undefined || p <= 100 ? [] : [field.invalid(path, goIntOrString(v), 'must not be greater than 100%')];
}

/** The selector may not change after creation (apps/v1 and every later group version). */
export function validateImmutableSelector(next: LabelSelectorJSON | undefined, prev: LabelSelectorJSON | undefined, path: Path): ErrorList {
  return selectorsEqual(next, prev) ? [] : [field.invalid(path, goLabelSelector(next), fieldImmutableErrorMsg)];
}

/** Semantic equality of selectors; label values are compared exactly (an empty value is still a value). */
function selectorsEqual(a: LabelSelectorJSON | undefined, b: LabelSelectorJSON | undefined): boolean {
  if ((a === undefined || a === null) !== (b === undefined || b === null)) return false;
  const labels = (s: LabelSelectorJSON | undefined) => JSON.stringify(Object.entries(s?.matchLabels ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  const exprs = (s: LabelSelectorJSON | undefined) =>
    JSON.stringify((s?.matchExpressions ?? []).map((e) => [e.key, e.operator, e.values ?? []]));
  return labels(a) === labels(b) && exprs(a) === exprs(b);
}
