// Defaulting and validation of a JobSpec, shared by Jobs and the job templates of CronJobs
// (pkg/apis/batch/v1 defaults and pkg/apis/batch/validation validateJobSpec): counts not negative, indexed
// completion limits, pod failure and success policies, pod replacement, and a template that restarts
// OnFailure or Never.
import type { JobSpec, PodFailurePolicy, PodFailurePolicyRule, SuccessPolicy } from 'kubernetes-types/batch/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { goQuote } from '../../api/go-quote.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, omitValue } from '../../apimachinery/validation/field-errors.js';
import { isDNS1123Subdomain, isQualifiedName, validateNonnegativeField } from '../../apimachinery/validation/names.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/pod-spec.js';

const maxParallelismForIndexedJob = 100_000;
const maxFailedIndexesForIndexedJob = 100_000;
const completionsSoftLimit = 100_000;
const parallelismLimitForHighCompletions = 10_000;
const maxFailedIndexesLimitForHighCompletions = 10_000;
const maxPodFailurePolicyRules = 20;
const maxOnExitCodesValues = 255;
const maxOnPodConditionsPatterns = 20;
const maxManagedByLength = 63;
const maxSucceededIndexesLength = 64 * 1024;
const maxSuccessPolicyRules = 20;

const podFailurePolicyActions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const onExitCodesOperators = ['In', 'NotIn'];
const conditionStatuses = ['False', 'True', 'Unknown'];

/** A []string as fmt's %q prints it: ["a" "b"]. */
const quotedList = (values: readonly string[]) => `[${values.map(goQuote).join(' ')}]`;

/** Defaults inside a pod failure policy: a condition pattern's status is True unless given. */
export function defaultPodFailurePolicy(policy: PodFailurePolicy | undefined): void {
  for (const rule of policy?.rules ?? []) for (const pattern of rule.onPodConditions ?? []) pattern.status ||= 'True';
}

/** The template's pod defaults and the pod failure policy's defaults (what a CronJob's job template gets). */
export function defaultJobTemplateSpec(spec: JobSpec): void {
  defaultPodFailurePolicy(spec.podFailurePolicy);
  defaultPodTemplateSpec((spec.template ??= {} as PodTemplateSpec));
}

const goInt32Slice = (values: readonly number[] | undefined) =>
  new GoValue(values === undefined ? '[]int32(nil)' : `[]int32{${values.join(', ')}}`);

function validateRule(spec: JobSpec, rule: PodFailurePolicyRule, path: Path, containerNames: ReadonlySet<string>): ErrorList {
  const errs: ErrorList = [];
  const actionPath = path.child('action');
  if (!rule.action) errs.push(field.required(actionPath, `valid values: ${quotedList(podFailurePolicyActions)}`));
  else if (rule.action === 'FailIndex') {
    if (spec.backoffLimitPerIndex === undefined || spec.backoffLimitPerIndex === null) {
      errs.push(field.invalid(actionPath, rule.action, 'requires the backoffLimitPerIndex to be set'));
    }
  } else if (!podFailurePolicyActions.includes(rule.action)) errs.push(field.notSupported(actionPath, rule.action, podFailurePolicyActions));
  const exit = rule.onExitCodes;
  if (exit) {
    const p = path.child('onExitCodes');
    if (!exit.operator) errs.push(field.required(p.child('operator'), `valid values: ${quotedList(onExitCodesOperators)}`));
    else if (!onExitCodesOperators.includes(exit.operator)) errs.push(field.notSupported(p.child('operator'), exit.operator, onExitCodesOperators));
    if (exit.containerName !== undefined && exit.containerName !== null && !containerNames.has(exit.containerName)) {
      errs.push(field.invalid(p.child('containerName'), exit.containerName, 'must be one of the container or initContainer names in the pod template'));
    }
    const values = exit.values ?? [];
    if (values.length === 0) errs.push(field.invalid(p.child('values'), goInt32Slice(exit.values), 'at least one value is required'));
    else if (values.length > maxOnExitCodesValues) errs.push(field.tooMany(p.child('values'), values.length, maxOnExitCodesValues));
    const seen = new Set<number>();
    let ordered = true;
    values.forEach((v, j) => {
      const vp = p.child('values').index(j);
      if (exit.operator === 'In' && v === 0) errs.push(field.invalid(vp, v, 'must not be 0 for the In operator'));
      if (seen.has(v)) errs.push(field.duplicate(vp, v));
      else seen.add(v);
      if (j > 0 && values[j - 1]! > v) ordered = false;
    });
    if (!ordered) errs.push(field.invalid(p.child('values'), goInt32Slice(values), 'must be ordered'));
  }
  const patterns = rule.onPodConditions ?? [];
  if (patterns.length > 0) {
    const p = path.child('onPodConditions');
    if (patterns.length > maxOnPodConditionsPatterns) errs.push(field.tooMany(p, patterns.length, maxOnPodConditionsPatterns));
    patterns.forEach((pattern, j) => {
      const pp = p.index(j);
      for (const m of isQualifiedName(pattern.type ?? '')) errs.push(field.invalid(pp.child('type'), pattern.type ?? '', m));
      if (!pattern.status) errs.push(field.required(pp.child('status'), `valid values: ${quotedList(conditionStatuses)}`));
      else if (!conditionStatuses.includes(pattern.status)) errs.push(field.notSupported(pp.child('status'), pattern.status, conditionStatuses));
    });
  }
  if (exit && patterns.length > 0) errs.push(field.invalid(path, omitValue, 'specifying both OnExitCodes and OnPodConditions is not supported'));
  if (!exit && patterns.length === 0) errs.push(field.invalid(path, omitValue, 'specifying one of OnExitCodes and OnPodConditions is required'));
  return errs;
}

function validatePodFailurePolicy(spec: JobSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  const rules = spec.podFailurePolicy?.rules ?? [];
  const rulesPath = path.child('rules');
  if (rules.length > maxPodFailurePolicyRules) errs.push(field.tooMany(rulesPath, rules.length, maxPodFailurePolicyRules));
  const tspec = spec.template?.spec;
  const names = new Set([...(tspec?.containers ?? []), ...(tspec?.initContainers ?? [])].map((c) => c.name));
  rules.forEach((rule, i) => errs.push(...validateRule(spec, rule, rulesPath.index(i), names)));
  return errs;
}

/** Go's strconv.Atoi on a small index; undefined when it is not an integer. */
function atoi(s: string): number | undefined {
  return /^[+-]?[0-9]+$/.test(s) ? Number(s) : undefined;
}

function parseIndexInterval(interval: string, completions: number): [number, number] {
  const limits = interval.split('-');
  if (limits.length > 2) {
    throw new Error(`the fragment ${goQuote(interval)} violates the requirement that an index interval can have at most two parts separated by '-'`);
  }
  const x = atoi(limits[0]!);
  if (x === undefined) throw new Error(`cannot convert string to integer for index: ${goQuote(limits[0]!)}`);
  if (x >= completions) throw new Error(`too large index: ${goQuote(limits[0]!)}`);
  if (limits.length === 1) return [x, x];
  const y = atoi(limits[1]!);
  if (y === undefined) throw new Error(`cannot convert string to integer for index: ${goQuote(limits[1]!)}`);
  if (y >= completions) throw new Error(`too large index: ${goQuote(limits[1]!)}`);
  if (x >= y) throw new Error(`non-increasing order, previous: ${x}, current: ${y}`);
  return [x, y];
}

/** The number of indexes an interval list ("1,3-5") holds, or an Error with upstream's wording. */
export function countIndexes(indexes: string, completions: number): number {
  if (indexes.length === 0) return 0;
  let last: number | undefined;
  let total = 0;
  for (const interval of indexes.split(',')) {
    const [x, y] = parseIndexInterval(interval, completions);
    if (last !== undefined && last >= x) throw new Error(`non-increasing order, previous: ${last}, current: ${x}`);
    total += y - x + 1;
    last = y;
  }
  return total;
}

function goSuccessPolicy(sp: SuccessPolicy): GoValue {
  const rules = (sp.rules ?? []).map((r) => {
    const idx = r.succeededIndexes === undefined ? '(*string)(nil)' : '(*string)(0xc000010000)';
    const cnt = r.succeededCount === undefined ? '(*int32)(nil)' : '(*int32)(0xc000010000)';
    return `batch.SuccessPolicyRule{SucceededIndexes:${idx}, SucceededCount:${cnt}}`;
  });
  return new GoValue(`batch.SuccessPolicy{Rules:[]batch.SuccessPolicyRule{${rules.join(', ')}}}`);
}

function validateSuccessPolicy(spec: JobSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  const rules = spec.successPolicy?.rules ?? [];
  const rulesPath = path.child('rules');
  if (rules.length === 0) errs.push(field.required(rulesPath, 'at least one rules must be specified when the successPolicy is specified'));
  if (rules.length > maxSuccessPolicyRules) errs.push(field.tooMany(rulesPath, rules.length, maxSuccessPolicyRules));
  const completions = spec.completions ?? 0;
  rules.forEach((rule, i) => {
    const p = rulesPath.index(i);
    if (rule.succeededCount === undefined && rule.succeededIndexes === undefined) {
      errs.push(field.required(p, 'at least one of succeededCount or succeededIndexes must be specified'));
    }
    let total = 0;
    if (rule.succeededIndexes !== undefined) {
      const ip = p.child('succeededIndexes');
      if (rule.succeededIndexes.length > maxSucceededIndexesLength) errs.push(field.tooLong(ip, rule.succeededIndexes, maxSucceededIndexesLength));
      try {
        total = countIndexes(rule.succeededIndexes, completions);
      } catch (err) {
        errs.push(field.invalid(ip, rule.succeededIndexes, `error parsing succeededIndexes: ${(err as Error).message}`));
      }
    }
    if (rule.succeededCount !== undefined) {
      const cp = p.child('succeededCount');
      errs.push(...validateNonnegativeField(rule.succeededCount, cp));
      if (rule.succeededCount > completions) {
        errs.push(field.invalid(cp, rule.succeededCount, `must be less than or equal to ${completions} (the number of specified completions)`));
      }
      if (rule.succeededIndexes !== undefined && rule.succeededCount > total) {
        errs.push(
          field.invalid(cp, rule.succeededCount, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`),
        );
      }
    }
  });
  return errs;
}

const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRegexp = new RegExp(`^${httpPathFmt}$`);

/** Upstream's IsDomainPrefixedPath ("acme.io/foo"). */
function validateDomainPrefixedPath(value: string, path: Path): ErrorList {
  if (value.length === 0) return [field.required(path, '')];
  const slash = value.indexOf('/');
  const host = slash === -1 ? value : value.slice(0, slash);
  const rest = slash === -1 ? '' : value.slice(slash + 1);
  if (slash === -1 || host.length === 0 || rest.length === 0) {
    return [field.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  const errs = isDNS1123Subdomain(host).map((m) => field.invalid(path, host, m));
  if (!httpPathRegexp.test(rest)) errs.push(field.invalid(path, rest, `Invalid path (regex used for validation is '${httpPathFmt}')`));
  return errs;
}

/** Upstream's validateJobSpec: everything of a JobSpec but its selector. */
export function validateJobSpecFields(spec: JobSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  const nonneg = (value: number | undefined | null, name: string) => {
    if (value !== undefined && value !== null) errs.push(...validateNonnegativeField(value, path.child(name)));
  };
  nonneg(spec.parallelism, 'parallelism');
  nonneg(spec.completions, 'completions');
  nonneg(spec.activeDeadlineSeconds, 'activeDeadlineSeconds');
  nonneg(spec.backoffLimit, 'backoffLimit');
  nonneg(spec.ttlSecondsAfterFinished, 'ttlSecondsAfterFinished');
  nonneg(spec.backoffLimitPerIndex, 'backoffLimitPerIndex');
  const hasBLPI = spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null;
  if (spec.maxFailedIndexes !== undefined && spec.maxFailedIndexes !== null) {
    nonneg(spec.maxFailedIndexes, 'maxFailedIndexes');
    if (!hasBLPI) errs.push(field.required(path.child('backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  const managedBy = (spec as { managedBy?: string }).managedBy;
  if (managedBy !== undefined && managedBy !== null) {
    errs.push(...validateDomainPrefixedPath(managedBy, path.child('managedBy')));
    if (managedBy.length > maxManagedByLength) errs.push(field.tooLong(path.child('managedBy'), managedBy, maxManagedByLength));
  }
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(field.notSupported(path.child('completionMode'), mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (spec.completions === undefined || spec.completions === null) {
        errs.push(field.required(path.child('completions'), 'when completion mode is Indexed'));
      }
      if ((spec.parallelism ?? 0) > maxParallelismForIndexedJob) {
        errs.push(
          field.invalid(path.child('parallelism'), spec.parallelism, `must be less than or equal to ${maxParallelismForIndexedJob} when completion mode is Indexed`),
        );
      }
      const mfi = spec.maxFailedIndexes;
      if (spec.completions !== undefined && mfi !== undefined && mfi !== null && mfi > spec.completions) {
        errs.push(field.invalid(path.child('maxFailedIndexes'), mfi, 'must be less than or equal to completions'));
      }
      if (mfi !== undefined && mfi !== null && mfi > maxFailedIndexesForIndexedJob) {
        errs.push(field.invalid(path.child('maxFailedIndexes'), mfi, `must be less than or equal to ${maxFailedIndexesForIndexedJob}`));
      }
      if ((spec.completions ?? 0) > completionsSoftLimit && hasBLPI) {
        const suffix = `when completions are above ${completionsSoftLimit} and used with backoff limit per index`;
        if (mfi === undefined || mfi === null) {
          errs.push(field.required(path.child('maxFailedIndexes'), `must be specified when completions is above ${completionsSoftLimit}`));
        }
        if ((spec.parallelism ?? 0) > parallelismLimitForHighCompletions) {
          errs.push(field.invalid(path.child('parallelism'), spec.parallelism, `must be less than or equal to ${parallelismLimitForHighCompletions} ${suffix}`));
        }
        if (mfi !== undefined && mfi !== null && mfi > maxFailedIndexesLimitForHighCompletions) {
          errs.push(field.invalid(path.child('maxFailedIndexes'), mfi, `must be less than or equal to ${maxFailedIndexesLimitForHighCompletions} ${suffix}`));
        }
      }
    }
  }
  if (mode === undefined || mode === null || mode === 'NonIndexed') {
    if (hasBLPI) errs.push(field.invalid(path.child('backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (spec.maxFailedIndexes !== undefined && spec.maxFailedIndexes !== null) {
      errs.push(field.invalid(path.child('maxFailedIndexes'), spec.maxFailedIndexes, 'requires indexed completion mode'));
    }
  }
  if (spec.podFailurePolicy) errs.push(...validatePodFailurePolicy(spec, path.child('podFailurePolicy')));
  if (spec.successPolicy) {
    if ((mode ?? 'NonIndexed') !== 'Indexed') {
      errs.push(field.invalid(path.child('successPolicy'), goSuccessPolicy(spec.successPolicy), 'requires indexed completion mode'));
    } else {
      errs.push(...validateSuccessPolicy(spec, path.child('successPolicy')));
    }
  }
  const replacement = spec.podReplacementPolicy;
  if (replacement !== undefined && replacement !== null) {
    const p = path.child('podReplacementPolicy');
    if (spec.podFailurePolicy) {
      if (replacement !== 'Failed') errs.push(field.notSupported(p, replacement, ['Failed']));
    } else if (replacement !== 'Failed' && replacement !== 'TerminatingOrFailed') {
      errs.push(field.notSupported(p, replacement, ['Failed', 'TerminatingOrFailed']));
    }
  }
  const tPath = path.child('template');
  errs.push(...validatePodTemplateSpec(spec.template, tPath));
  const restartPolicy = spec.template?.spec?.restartPolicy ?? '';
  const rpPath = tPath.child('spec', 'restartPolicy');
  if (restartPolicy === 'Always' || restartPolicy === '') {
    errs.push(field.required(rpPath, 'valid values: "OnFailure", "Never"'));
  } else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(field.notSupported(rpPath, restartPolicy, ['OnFailure', 'Never']));
  } else if (spec.podFailurePolicy && restartPolicy !== 'Never') {
    errs.push(field.invalid(rpPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}
