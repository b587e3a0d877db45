// events.k8s.io/v1 Events. Upstream stores them as core/v1 Events (the two APIs list the same objects), so
// this file carries the field mapping both ways; validation converts to the core form and applies the
// strict rules of an events.k8s.io write, whose messages name the core fields.
import {
  eventTTLSeconds,
  setEventSerializationDefaults,
  validateEventCreate,
  validateEventUpdate,
} from '../core/events.js';
import { baseStrategy } from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

export { eventTTLSeconds };

// Fields with the same name in both forms.
const shared = ['metadata', 'eventTime', 'action', 'reason', 'related', 'type', 'reportingInstance'] as const;
// events.k8s.io/v1 name -> core/v1 name.
const renamed: readonly [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['reportingController', 'reportingComponent'],
  ['series', 'series'],
];

/** An events.k8s.io/v1 Event in the core/v1 form it is stored in. */
export function eventsV1ToCore(obj: KObject): KObject {
  const out: Record<string, unknown> = { apiVersion: 'v1', kind: 'Event' };
  for (const k of shared) if (obj[k] !== undefined) out[k] = structuredClone(obj[k]);
  for (const [from, to] of renamed) if (obj[from] !== undefined) out[to] = structuredClone(obj[from]);
  setEventSerializationDefaults(out);
  return out;
}

/** A stored core/v1 Event as events.k8s.io/v1 serves it. */
export function coreToEventsV1(obj: KObject): KObject {
  const out: Record<string, unknown> = { apiVersion: 'events.k8s.io/v1', kind: 'Event' };
  for (const k of shared) if (obj[k] !== undefined && obj[k] !== '') out[k] = structuredClone(obj[k]);
  for (const [to, from] of renamed) {
    const v = obj[from];
    // Go omits the empty deprecated fields of the events.k8s.io form.
    if (v === undefined || v === null || v === '' || v === 0) continue;
    if (typeof v === 'object' && Object.keys(v).length === 0) continue;
    out[to] = structuredClone(v);
  }
  if (out.eventTime === undefined) out.eventTime = null;
  return out;
}

/** The strategy of events.k8s.io/v1 events: objects it sees are in the events.k8s.io form. */
export const eventsV1Strategy: ResourceStrategy = {
  ...baseStrategy('events.k8s.io', 'v1', 'events'),
  toStorage: eventsV1ToCore,
  fromStorage: coreToEventsV1,
  validate: (obj) => validateEventCreate(eventsV1ToCore(obj), 'events.k8s.io/v1'),
  validateUpdate: (obj, old) =>
    validateEventUpdate(eventsV1ToCore(obj), eventsV1ToCore(old), 'events.k8s.io/v1'),
};
