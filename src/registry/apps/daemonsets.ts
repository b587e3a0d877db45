// The DaemonSet strategy (pkg/apis/apps/v1 SetDefaults_DaemonSet, ValidateDaemonSet and the apps/v1
// daemonset strategy): a rolling update of one pod at a time without surge, ten revisions kept, the template
// generation that apps/v1 carries in the deprecated.daemonset.template.generation annotation.
import type { DaemonSet, DaemonSetUpdateStrategy } from 'kubernetes-types/apps/v1.js';
import { goQuote } from '../../api/go-quote.js';
import { labelSelectorAsSelector, LabelSelectorError } from '../../api/labels.js';
import { findResource } from '../../api/resources.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain, validateLabelSelector, validateNonnegativeField } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/pod-spec.js';
import { semanticallyEqual } from '../core/spec-diff.js';
import { goIntOrString, goLabelSelector, goStringMap } from '../core/workload-go-syntax.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from '../core/workload-meta.js';
import {
  intOrPercentValue,
  isNotMoreThan100Percent,
  validateAlwaysRestartTemplate,
  validateImmutableSelector,
  validatePositiveIntOrPercent,
} from './workload-validation.js';

type DaemonSetSpec = NonNullable<DaemonSet['spec']>;

/** Where apps/v1 keeps the internal spec.templateGeneration. */
export const templateGenerationAnnotation = 'deprecated.daemonset.template.generation';

/** SetDefaults_DaemonSet and the template's pod defaults. */
export function defaultDaemonSet(obj: KObject): void {
  const spec = ((obj as DaemonSet).spec ??= {} as DaemonSetSpec);
  const strategy = (spec.updateStrategy ??= {});
  strategy.type ||= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxUnavailable ??= 1;
    ru.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  defaultPodTemplateSpec((spec.template ??= {}));
}

function goUpdateStrategy(s: DaemonSetUpdateStrategy): GoValue {
  const ru = s.rollingUpdate === undefined ? '(*apps.RollingUpdateDaemonSet)(nil)' : '(*apps.RollingUpdateDaemonSet)(0xc000010000)';
  return new GoValue(`apps.DaemonSetUpdateStrategy{Type:${goQuote(s.type ?? '')}, RollingUpdate:${ru}}`);
}

function validateUpdateStrategy(s: DaemonSetUpdateStrategy, path: Path): ErrorList {
  switch (s.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!ru) return [field.required(path.child('rollingUpdate'), '')];
      const p = path.child('rollingUpdate');
      const errs = [
        ...validatePositiveIntOrPercent(ru.maxUnavailable, p.child('maxUnavailable')),
        ...validatePositiveIntOrPercent(ru.maxSurge, p.child('maxSurge')),
        ...isNotMoreThan100Percent(ru.maxUnavailable, p.child('maxUnavailable')),
        ...isNotMoreThan100Percent(ru.maxSurge, p.child('maxSurge')),
      ];
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) {
        errs.push(field.invalid(p.child('maxSurge'), goIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      } else if (!hasUnavailable && !hasSurge) {
        errs.push(field.required(p.child('maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
      }
      return errs;
    }
    case undefined:
    default:
      return [field.notSupported(path, goUpdateStrategy(s), ['RollingUpdate', 'OnDelete'])];
  }
}

/** Upstream's ValidateDaemonSetSpec. A missing selector selects nothing, so it cannot match the template. */
export function validateDaemonSetSpec(spec: DaemonSetSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  const selPath = path.child('selector');
  errs.push(...validateLabelSelector(spec.selector, {}, selPath));
  let matches = true;
  try {
    matches = labelSelectorAsSelector(spec.selector).matches(spec.template?.metadata?.labels ?? {});
  } catch (err) {
    if (!(err instanceof LabelSelectorError)) throw err;
  }
  if (!matches) {
    errs.push(
      field.invalid(path.child('template', 'metadata', 'labels'), goStringMap(spec.template?.metadata?.labels), '`selector` does not match template `labels`'),
    );
  }
  if (spec.selector && Object.keys(spec.selector.matchLabels ?? {}).length + (spec.selector.matchExpressions ?? []).length === 0) {
    errs.push(field.invalid(selPath, goLabelSelector(spec.selector), 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(spec.template, path.child('template')));
  errs.push(...validateAlwaysRestartTemplate(spec.template, 'DaemonSet', path.child('template')));
  errs.push(...validateNonnegativeField(spec.minReadySeconds ?? 0, path.child('minReadySeconds')));
  errs.push(...validateUpdateStrategy(spec.updateStrategy ?? {}, path.child('updateStrategy')));
  if (spec.revisionHistoryLimit !== undefined && spec.revisionHistoryLimit !== null) {
    errs.push(...validateNonnegativeField(spec.revisionHistoryLimit, path.child('revisionHistoryLimit')));
  }
  return errs;
}

const specOf = (obj: KObject) => ((obj as DaemonSet).spec ?? {}) as DaemonSetSpec;

function templateGeneration(obj: KObject): number {
  const raw = obj.metadata?.annotations?.[templateGenerationAnnotation];
  const n = raw !== undefined && /^-?[0-9]+$/.test(raw) ? Number(raw) : 0;
  return Number.isSafeInteger(n) ? n : 0;
}

function setTemplateGeneration(obj: KObject, generation: number): void {
  const meta = (obj.metadata ??= {});
  meta.annotations = { ...meta.annotations, [templateGenerationAnnotation]: String(generation) };
}

const base = defaultStrategy(findResource('apps', 'v1', 'daemonsets')!);

/** The strategy of apps/v1 daemonsets. */
export const daemonSetStrategy: ResourceStrategy = {
  ...base,
  defaults: defaultDaemonSet,
  prepareForCreate(obj) {
    // Go writes these status counters even when zero.
    obj.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
    setTemplateGeneration(obj, Math.max(templateGeneration(obj), 1));
  },
  prepareForUpdate(obj, old) {
    // The template generation is the server's: kept, and counted up when the template changes.
    const changed = !semanticallyEqual(specOf(obj).template, specOf(old).template);
    setTemplateGeneration(obj, templateGeneration(old) + (changed ? 1 : 0));
  },
  validate: (obj) => [
    ...validateCoreObjectMeta(obj.metadata, true, nameIsDNSSubdomain, newPath('metadata')),
    ...validateDaemonSetSpec(specOf(obj), newPath('spec')),
  ],
  validateUpdate: (obj, old) => [
    ...validateCoreObjectMetaUpdate(obj, old, newPath('metadata')),
    ...validateDaemonSetSpec(specOf(obj), newPath('spec')),
    ...validateImmutableSelector(specOf(obj).selector, specOf(old).selector, newPath('spec', 'selector')),
  ],
};
