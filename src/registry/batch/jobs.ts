// The Job strategy (pkg/apis/batch/v1 SetDefaults_Job, pkg/registry/batch/job and ValidateJob): defaults,
// the selector and pod labels generated from the job's uid, validation, and what may change afterwards.
import { randomInt } from 'node:crypto';
import type { Job, JobSpec } from 'kubernetes-types/batch/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { LabelSelectorError, labelSelectorAsSelector } from '../../api/labels.js';
import { findResource } from '../../api/resources.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { fieldImmutableErrorMsg, isDNS1123Label, isValidLabelValue, nameIsDNSSubdomain, validateLabelSelector } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { semanticallyEqual } from '../core/spec-diff.js';
import { goLabelSelector, goStringMap } from '../core/workload-go-syntax.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from '../core/workload-meta.js';
import { defaultJobTemplateSpec, validateJobSpecFields } from './job-spec.js';

/** The labels that tie a job's pods to it (the legacy ones are still written). */
export const jobNameLabel = 'batch.kubernetes.io/job-name';
export const controllerUidLabel = 'batch.kubernetes.io/controller-uid';
export const legacyJobNameLabel = 'job-name';
export const legacyControllerUidLabel = 'controller-uid';

/** SetDefaults_Job, the pod failure policy's defaults and the template's pod defaults. */
export function defaultJob(obj: KObject): void {
  const job = obj as Job;
  const spec = (job.spec ??= {} as JobSpec);
  if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null ? 2147483647 : 6;
  const templateLabels = spec.template?.metadata?.labels;
  if (templateLabels && Object.keys(job.metadata?.labels ?? {}).length === 0) (job.metadata ??= {}).labels = { ...templateLabels };
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.manualSelector ??= false;
  defaultJobTemplateSpec(spec);
}

/**
 * Upstream's generateSelector: the pods get job-name and controller-uid labels (both spellings) and the job
 * selects batch.kubernetes.io/controller-uid, unless the client set them; conflicts fail validation.
 */
export function generateSelector(job: Job): void {
  const spec = (job.spec ??= {} as JobSpec);
  const template = (spec.template ??= {} as PodTemplateSpec);
  const labels = ((template.metadata ??= {}).labels ??= {});
  const name = job.metadata?.name ?? '';
  const uid = job.metadata?.uid ?? '';
  for (const key of [legacyJobNameLabel, jobNameLabel]) if (!Object.hasOwn(labels, key)) labels[key] = name;
  for (const key of [legacyControllerUidLabel, controllerUidLabel]) if (!Object.hasOwn(labels, key)) labels[key] = uid;
  const matchLabels = ((spec.selector ??= {}).matchLabels ??= {});
  if (!Object.hasOwn(matchLabels, controllerUidLabel)) matchLabels[controllerUidLabel] = uid;
}

function validateHasLabel(labels: Readonly<Record<string, string>> | undefined, key: string, expected: string): ErrorList {
  const path = newPath('spec', 'template', 'metadata', 'labels').key(key);
  if (!labels || !Object.hasOwn(labels, key)) return [field.required(path, `must be '${expected}'`)];
  return labels[key] === expected ? [] : [field.invalid(path, goStringMap(labels), `must be '${expected}'`)];
}

/** Upstream's validateGeneratedSelector: a generated selector and the pod labels still name this job. */
function validateGeneratedSelector(job: Job, requirePrefixedLabels: boolean): ErrorList {
  const spec = job.spec;
  if (spec?.manualSelector === true || !spec?.selector) return [];
  const errs: ErrorList = [];
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  if (!uid) errs.push(field.required(newPath('metadata', 'uid'), ''));
  const labels = spec.template?.metadata?.labels;
  errs.push(...validateHasLabel(labels, legacyControllerUidLabel, uid));
  errs.push(...validateHasLabel(labels, legacyJobNameLabel, name));
  const expected: Record<string, string> = {};
  if (requirePrefixedLabels) {
    errs.push(...validateHasLabel(labels, controllerUidLabel, uid));
    errs.push(...validateHasLabel(labels, jobNameLabel, name));
    expected[controllerUidLabel] = uid;
    expected[jobNameLabel] = name;
  }
  expected[legacyControllerUidLabel] = uid;
  expected[legacyJobNameLabel] = name;
  try {
    if (!labelSelectorAsSelector(spec.selector).matches(expected)) {
      errs.push(field.invalid(newPath('spec', 'selector'), goLabelSelector(spec.selector), '`selector` not auto-generated'));
    }
  } catch (err) {
    if (!(err instanceof LabelSelectorError)) throw err;
  }
  return errs;
}

/** Upstream's ValidateJobSpec: the spec's fields, a required selector that matches the template's labels. */
export function validateJobSpec(spec: JobSpec, path: Path, allowInvalidLabelValueInSelector = false): ErrorList {
  const errs = validateJobSpecFields(spec, path);
  if (!spec.selector) errs.push(field.required(path.child('selector'), ''));
  else {
    errs.push(
      ...validateLabelSelector(spec.selector, { allowInvalidLabelValueInSelector }, path.child('selector')),
    );
  }
  try {
    const labels = spec.template?.metadata?.labels;
    if (!labelSelectorAsSelector(spec.selector).matches(labels ?? {})) {
      errs.push(field.invalid(path.child('template', 'metadata', 'labels'), goStringMap(labels), '`selector` does not match template `labels`'));
    }
  } catch (err) {
    if (!(err instanceof LabelSelectorError)) throw err;
  }
  return errs;
}

/** Upstream's ValidateJob: metadata, the generated selector, the spec and the pod names an indexed job makes. */
export function validateJob(obj: KObject, requirePrefixedLabels = true, allowInvalidLabelValueInSelector = false): ErrorList {
  const job = obj as Job;
  const spec = job.spec ?? ({} as JobSpec);
  const errs = validateCoreObjectMeta(job.metadata, true, nameIsDNSSubdomain, newPath('metadata'));
  errs.push(...validateGeneratedSelector(job, requirePrefixedLabels));
  errs.push(...validateJobSpec(spec, newPath('spec'), allowInvalidLabelValueInSelector));
  if (spec.completionMode === 'Indexed' && (spec.completions ?? 0) > 0) {
    const hostname = `${job.metadata?.name ?? ''}-${spec.completions! - 1}`;
    if (isDNS1123Label(hostname).length > 0) {
      errs.push(field.invalid(newPath('metadata', 'name'), job.metadata?.name ?? '', `will not able to create pod with invalid DNS label: ${hostname}`));
    }
  }
  return errs;
}

function immutable(next: unknown, prev: unknown, shown: unknown, path: Path): ErrorList {
  return semanticallyEqual(next, prev) ? [] : [field.invalid(path, shown, fieldImmutableErrorMsg)];
}

/** The template with the scheduling directives a suspended, never started job may still change taken from `from`. */
function withSchedulingDirectivesOf(template: PodTemplateSpec | undefined, from: PodTemplateSpec | undefined): PodTemplateSpec {
  const t = structuredClone<PodTemplateSpec>(template ?? {});
  const meta = (t.metadata ??= {});
  meta.labels = from?.metadata?.labels;
  meta.annotations = from?.metadata?.annotations;
  const spec = (t.spec ??= { containers: [] });
  spec.nodeSelector = from?.spec?.nodeSelector;
  spec.tolerations = from?.spec?.tolerations;
  spec.schedulingGates = from?.spec?.schedulingGates;
  const nodeAffinity = from?.spec?.affinity?.nodeAffinity;
  if (spec.affinity || nodeAffinity) spec.affinity = { ...spec.affinity, nodeAffinity };
  return t;
}

/** Upstream's ValidateJobSpecUpdate (without re-validating the spec): what may not change after creation. */
export function validateJobSpecUpdate(job: Job, old: Job): ErrorList {
  const spec = job.spec ?? ({} as JobSpec);
  const prev = old.spec ?? ({} as JobSpec);
  const path = newPath('spec');
  const errs: ErrorList = [];
  const indexed = spec.completionMode === 'Indexed';
  if (!indexed) {
    errs.push(...immutable(spec.completions, prev.completions, spec.completions ?? null, path.child('completions')));
  } else if (!semanticallyEqual(spec.completions, prev.completions) && spec.completions !== undefined && spec.completions !== null) {
    if (spec.completions !== spec.parallelism) {
      errs.push(field.invalid(path.child('completions'), spec.completions, 'can only be modified in tandem with spec.parallelism'));
    }
  }
  errs.push(...immutable(spec.selector, prev.selector, goLabelSelector(spec.selector), path.child('selector')));
  const suspended = prev.suspend === true && !(old.status)?.startTime;
  const template = suspended ? withSchedulingDirectivesOf(spec.template, prev.template) : spec.template;
  errs.push(...immutable(template, prev.template, new GoValue('core.PodTemplateSpec{...}'), path.child('template')));
  errs.push(...immutable(spec.completionMode, prev.completionMode, spec.completionMode ?? null, path.child('completionMode')));
  errs.push(...immutable(spec.podFailurePolicy, prev.podFailurePolicy, new GoValue('batch.PodFailurePolicy{...}'), path.child('podFailurePolicy')));
  errs.push(...immutable(spec.backoffLimitPerIndex, prev.backoffLimitPerIndex, spec.backoffLimitPerIndex ?? null, path.child('backoffLimitPerIndex')));
  const managedBy = (s: JobSpec) => (s as { managedBy?: string }).managedBy;
  errs.push(...immutable(managedBy(spec), managedBy(prev), managedBy(spec) ?? null, path.child('managedBy')));
  errs.push(...immutable(spec.successPolicy, prev.successPolicy, new GoValue('batch.SuccessPolicy{...}'), path.child('successPolicy')));
  return errs;
}

/** Upstream's SimpleNameGenerator: the prefix (cut to 248 bytes) and five letters without vowels. */
function generateNameFrom(prefix: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[randomInt(alphabet.length)];
  return prefix.slice(0, 248) + suffix;
}

/** Whether a stored selector predates the label value rule (it may then keep its values on update). */
function selectorHasInvalidLabelValue(selector: JobSpec['selector']): boolean {
  return (selector?.matchExpressions ?? []).some((e) => (e.values ?? []).some((v) => isValidLabelValue(v).length > 0));
}

const base = defaultStrategy(findResource('batch', 'v1', 'jobs')!);

/** The strategy of batch/v1 jobs. */
export const jobStrategy: ResourceStrategy = {
  ...base,
  defaults: defaultJob,
  prepareForCreate(obj) {
    const job = obj as Job;
    const meta = (obj.metadata ??= {});
    // Upstream names an object from generateName before PrepareForCreate, and the generated labels need the
    // name; the generic store names it only afterwards, so a Job takes its name here.
    if (!meta.name && meta.generateName) meta.name = generateNameFrom(meta.generateName);
    if (job.spec?.manualSelector !== true) generateSelector(job);
    // Upstream defaults a Job again each time it reads one back, so a job without labels of its own shows
    // its template's, generated ones included.
    const templateLabels = job.spec?.template?.metadata?.labels;
    if (templateLabels && Object.keys(job.metadata?.labels ?? {}).length === 0) (job.metadata ??= {}).labels = { ...templateLabels };
    obj.status = {};
  },
  validate: (obj) => validateJob(obj),
  validateUpdate(obj, old) {
    const oldLabels = (old as Job).spec?.template?.metadata?.labels ?? {};
    const requirePrefixed = Object.hasOwn(oldLabels, jobNameLabel) && Object.hasOwn(oldLabels, controllerUidLabel);
    return [
      ...validateJob(obj, requirePrefixed, selectorHasInvalidLabelValue((old as Job).spec?.selector)),
      ...validateCoreObjectMetaUpdate(obj, old, newPath('metadata')),
      ...validateJobSpecUpdate(obj as Job, old as Job),
    ];
  },
};
