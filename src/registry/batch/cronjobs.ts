// The CronJob strategy (pkg/apis/batch/v1 SetDefaults_CronJob, ValidateCronJobCreate and
// ValidateCronJobUpdate): concurrency Allow, not suspended, three successful and one failed job kept; a
// schedule robfig/cron accepts, a real time zone, and a job template whose selector is left to the server.
import type { CronJob, CronJobSpec, JobSpec } from 'kubernetes-types/batch/v1.js';
import { findResource } from '../../api/resources.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain, validateNonnegativeField } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { goLabelSelector } from '../core/workload-go-syntax.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from '../core/workload-meta.js';
import { cronScheduleError, loadLocationError } from './cron-schedule.js';
import { defaultJobTemplateSpec, validateJobSpecFields } from './job-spec.js';

/** The longest CronJob name: job names get an 11-character suffix and must stay DNS labels. */
export const maxCronJobNameLength = 52;

/** SetDefaults_CronJob and the job template's defaults (the JobSpec itself is not defaulted, as upstream). */
export function defaultCronJob(obj: KObject): void {
  const spec = ((obj as CronJob).spec ??= {} as CronJobSpec);
  spec.concurrencyPolicy ||= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  const jobTemplate = (spec.jobTemplate ??= {});
  defaultJobTemplateSpec((jobTemplate.spec ??= {} as JobSpec));
}

const timeZonePart = /^[A-Za-z.\-_0-9+]{1,14}$/;

function validateTimeZone(tz: string | undefined, path: Path): ErrorList {
  if (tz === undefined || tz === null) return [];
  if (tz.length === 0) return [field.invalid(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !timeZonePart.test(part)) {
      return [field.invalid(path, tz, `unknown time zone ${tz}`)];
    }
  }
  const errs: ErrorList = [];
  if (tz.toLowerCase() === 'local') {
    errs.push(field.invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  }
  const bad = loadLocationError(tz);
  if (bad !== undefined) errs.push(field.invalid(path, tz, bad));
  return errs;
}

/** Upstream's validateCronJobSpec; `old` is the stored spec on update. */
export function validateCronJobSpec(spec: CronJobSpec, old: CronJobSpec | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  const schedulePath = path.child('schedule');
  if (!spec.schedule) errs.push(field.required(schedulePath, ''));
  else {
    const bad = cronScheduleError(spec.schedule);
    if (bad !== undefined) errs.push(field.invalid(schedulePath, spec.schedule, bad));
    const allowTZ = (old?.schedule ?? '').includes('TZ');
    if (allowTZ && spec.schedule.includes('TZ') && spec.timeZone !== undefined && spec.timeZone !== null) {
      errs.push(field.invalid(schedulePath, spec.schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    } else if (!allowTZ && spec.schedule.includes('TZ')) {
      errs.push(field.invalid(schedulePath, spec.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    }
  }
  if (spec.startingDeadlineSeconds !== undefined && spec.startingDeadlineSeconds !== null) {
    errs.push(...validateNonnegativeField(spec.startingDeadlineSeconds, path.child('startingDeadlineSeconds')));
  }
  if (old === undefined || old.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone, path.child('timeZone')));
  const policy = spec.concurrencyPolicy ?? '';
  if (policy === '') errs.push(field.required(path.child('concurrencyPolicy'), ''));
  else if (!['Allow', 'Forbid', 'Replace'].includes(policy)) {
    errs.push(field.notSupported(path.child('concurrencyPolicy'), policy, ['Allow', 'Forbid', 'Replace']));
  }
  const jtPath = path.child('jobTemplate');
  const jobSpec = spec.jobTemplate?.spec ?? ({} as JobSpec);
  errs.push(...validateJobSpecFields(jobSpec, jtPath.child('spec')));
  if (jobSpec.selector) errs.push(field.invalid(jtPath.child('spec', 'selector'), goLabelSelector(jobSpec.selector), '`selector` will be auto-generated'));
  if (jobSpec.manualSelector === true) errs.push(field.notSupported(jtPath.child('spec', 'manualSelector'), true, ['nil', 'false']));
  for (const key of ['successfulJobsHistoryLimit', 'failedJobsHistoryLimit'] as const) {
    const v = spec[key];
    if (v !== undefined && v !== null) errs.push(...validateNonnegativeField(v, path.child(key)));
  }
  return errs;
}

const specOf = (obj: KObject) => ((obj as CronJob).spec ?? {}) as CronJobSpec;

const base = defaultStrategy(findResource('batch', 'v1', 'cronjobs')!);

/** The strategy of batch/v1 cronjobs. */
export const cronJobStrategy: ResourceStrategy = {
  ...base,
  defaults: defaultCronJob,
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate(obj) {
    const errs = validateCoreObjectMeta(obj.metadata, true, nameIsDNSSubdomain, newPath('metadata'));
    errs.push(...validateCronJobSpec(specOf(obj), undefined, newPath('spec')));
    const name = obj.metadata?.name ?? '';
    if (name.length > maxCronJobNameLength) {
      errs.push(field.invalid(newPath('metadata', 'name'), name, `must be no more than ${maxCronJobNameLength} characters`));
    }
    return errs;
  },
  // The name length limit is not checked on update, so that older, longer-named CronJobs can still change.
  validateUpdate: (obj, old) => [
    ...validateCoreObjectMetaUpdate(obj, old, newPath('metadata')),
    ...validateCronJobSpec(specOf(obj), specOf(old), newPath('spec')),
  ],
};
