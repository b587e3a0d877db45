// Events (core validation's events.go and the event strategy). core/v1 and events.k8s.io/v1 store the same
// objects in the core/v1 form; events.k8s.io requests are held to the strict rules, core/v1 requests only to
// the legacy ones. Events expire: upstream writes them with an etcd lease of one hour.
import type { Event } from 'kubernetes-types/core/v1.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isDNS1123Subdomain,
  isQualifiedName,
  nameIsDNSSubdomain,
  validateImmutableField,
} from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import {
  baseStrategy,
  nameIsPathSegment,
  semanticEqual,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from './kube-validation.js';

/** How long an Event lives in storage (upstream's --event-ttl default); the default strategy sets it. */
export { eventTTLSeconds } from '../strategies/index.js';

const reportingInstanceLengthLimit = 128;
const actionLengthLimit = 128;
const reasonLengthLimit = 128;
const noteLengthLimit = 1024;

/** Which API a write came through: the legacy rules apply to core/v1, the strict ones to events.k8s.io/v1. */
export type EventRequestVersion = 'core/v1' | 'events.k8s.io/v1';

const isSet = (t: string | undefined | null) =>
  t !== undefined && t !== null && t !== '' && !t.startsWith('0001-01-01T00:00:00');

/** legacyValidateEvent: rules every Event meets, whatever API wrote it. */
function legacyValidateEvent(ev: Event): ErrorList {
  const errs: ErrorList = [];
  const namespace = ev.metadata?.namespace ?? '';
  const involvedNs = ev.involvedObject?.namespace ?? '';
  const nsPath = newPath('involvedObject', 'namespace');
  if (!isSet(ev.eventTime)) {
    // An event without eventTime is an old-style one: its namespace and its object's must agree.
    if (involvedNs === '') {
      if (namespace !== '' && namespace !== 'default')
        errs.push(field.invalid(nsPath, involvedNs, 'does not match event.namespace'));
    } else if (namespace !== involvedNs) {
      errs.push(field.invalid(nsPath, involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (involvedNs === '' && namespace !== 'default' && namespace !== 'kube-system') {
      errs.push(field.invalid(nsPath, involvedNs, 'does not match event.namespace'));
    }
    const controller = ev.reportingComponent ?? '';
    if (controller === '') errs.push(field.required(newPath('reportingController'), ''));
    for (const msg of isQualifiedName(controller))
      errs.push(field.invalid(newPath('reportingController'), controller, msg));
    const instance = ev.reportingInstance ?? '';
    if (instance === '') errs.push(field.required(newPath('reportingInstance'), ''));
    if (instance.length > reportingInstanceLengthLimit) {
      errs.push(
        field.invalid(
          newPath('reportingInstance'),
          '',
          `can have at most ${reportingInstanceLengthLimit} characters`,
        ),
      );
    }
    const action = ev.action ?? '';
    if (action === '') errs.push(field.required(newPath('action'), ''));
    if (action.length > actionLengthLimit)
      errs.push(field.invalid(newPath('action'), '', `can have at most ${actionLengthLimit} characters`));
    const reason = ev.reason ?? '';
    if (reason === '') errs.push(field.required(newPath('reason'), ''));
    if (reason.length > reasonLengthLimit)
      errs.push(field.invalid(newPath('reason'), '', `can have at most ${reasonLengthLimit} characters`));
    if ((ev.message ?? '').length > noteLengthLimit) {
      errs.push(field.invalid(newPath('message'), '', `can have at most ${noteLengthLimit} characters`));
    }
  }
  for (const msg of isDNS1123Subdomain(namespace))
    errs.push(field.invalid(newPath('namespace'), namespace, msg));
  return errs;
}

function validateSeries(ev: Event): ErrorList {
  const errs: ErrorList = [];
  if (ev.series !== undefined) {
    if ((ev.series.count ?? 0) < 2)
      errs.push(field.invalid(newPath('series.count'), '', 'should be at least 2'));
    if (!isSet(ev.series.lastObservedTime)) errs.push(field.required(newPath('series.lastObservedTime'), ''));
  }
  return errs;
}

/** upstream's ValidateEventCreate, for an Event in the core/v1 form. */
export function validateEventCreate(obj: KObject, version: EventRequestVersion): ErrorList {
  const ev = typed<Event>(obj);
  const errs = legacyValidateEvent(ev);
  // The generic store checks every name is a path segment; for core/v1 events that is all there is.
  if (version === 'core/v1') return [...validateCoreObjectMeta(obj, true, nameIsPathSegment), ...errs];
  errs.push(...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain));
  errs.push(...validateSeries(ev));
  if (!isSet(ev.eventTime)) errs.push(field.required(newPath('eventTime'), ''));
  if (ev.type !== 'Normal' && ev.type !== 'Warning')
    errs.push(field.invalid(newPath('type'), '', `has invalid value: ${ev.type ?? ''}`));
  if (isSet(ev.firstTimestamp)) errs.push(field.invalid(newPath('firstTimestamp'), '', 'needs to be unset'));
  if (isSet(ev.lastTimestamp)) errs.push(field.invalid(newPath('lastTimestamp'), '', 'needs to be unset'));
  if ((ev.count ?? 0) !== 0) errs.push(field.invalid(newPath('count'), '', 'needs to be unset'));
  if (ev.source?.component || ev.source?.host)
    errs.push(field.invalid(newPath('source'), '', 'needs to be unset'));
  return errs;
}

/** upstream's ValidateEventUpdate, for Events in the core/v1 form. */
export function validateEventUpdate(obj: KObject, old: KObject, version: EventRequestVersion): ErrorList {
  const ev = typed<Event>(obj);
  const prev = typed<Event>(old);
  const errs = legacyValidateEvent(ev);
  if (version === 'core/v1') return [...validateCoreObjectMetaUpdate(obj, old), ...errs];
  errs.push(...validateCoreObjectMetaUpdate(obj, old));
  if (!semanticEqual(ev.series, prev.series)) errs.push(...validateSeries(ev));
  const immutable: [keyof Event, string][] = [
    ['involvedObject', 'involvedObject'],
    ['reason', 'reason'],
    ['message', 'message'],
    ['source', 'source'],
    ['firstTimestamp', 'firstTimestamp'],
    ['lastTimestamp', 'lastTimestamp'],
    ['count', 'count'],
    ['reason', 'reason'],
    ['type', 'type'],
    ['eventTime', 'eventTime'],
    ['action', 'action'],
    ['related', 'related'],
    ['reportingComponent', 'reportingController'],
    ['reportingInstance', 'reportingInstance'],
  ];
  for (const [key, name] of immutable) {
    if (!semanticEqual(ev[key], prev[key]))
      errs.push(...validateImmutableField(ev[key] ?? '', prev[key] ?? '', newPath(name)));
  }
  return errs;
}

/** The zero values Go writes for a core/v1 Event's fields that have no omitempty (or a null form). */
export function setEventSerializationDefaults(obj: KObject): void {
  for (const k of ['eventTime', 'firstTimestamp', 'lastTimestamp'] as const) obj[k] ??= null;
  for (const k of ['reportingComponent', 'reportingInstance'] as const) obj[k] ??= '';
  obj.involvedObject ??= {};
  obj.source ??= {};
}

/** The strategy of core/v1 events (store them with a lease of eventTTLSeconds). */
export const eventStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'events'),
  defaults: setEventSerializationDefaults,
  validate: (obj) => validateEventCreate(obj, 'core/v1'),
  validateUpdate: (obj, old) => validateEventUpdate(obj, old, 'core/v1'),
};
