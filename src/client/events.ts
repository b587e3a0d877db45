// An event recorder writing core/v1 Events, the form kubectl describe shows. Repeats of the same event
// (same object, type, reason and message from the same source) within ten minutes do not create new
// Events: they bump count and lastTimestamp of the first by a patch, as upstream's event correlator does.
// Writes go out in order in the background; recording never blocks or throws into controller code.
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import type { KubeObject, ResourceRef, RESTClient } from './rest-client.js';
import { isStatus } from './rest-client.js';

/** The two event types. */
export type EventType = 'Normal' | 'Warning';

/** core/v1 ObjectReference as an event's involvedObject. */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** Options of an EventRecorder. */
export interface EventRecorderOptions {
  client: RESTClient;
  /** source.component, e.g. "deployment-controller" or "kubelet". */
  component: string;
  /** source.host (the kubelet's node name); empty for controllers. */
  host?: string;
  clock?: Clock;
  log?: Logger;
}

/** Repeats older than this start a new Event (upstream: 10 minutes). */
export const aggregationWindowMs = 10 * 60 * 1000;
/** How many distinct events are remembered for aggregation (upstream's LRU size). */
const maxCacheEntries = 4096;

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  lastSeen: number;
}

const eventsRef = (namespace: string): ResourceRef => ({
  group: '',
  version: 'v1',
  resource: 'events',
  namespace,
});

/** Seconds-precision RFC 3339, as metav1.Time serialises. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Records Events about objects. */
export class EventRecorder {
  readonly #client: RESTClient;
  readonly #component: string;
  readonly #host: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #seen = new Map<string, Seen>();
  #chain: Promise<void> = Promise.resolve();
  #seq = 0;

  constructor(options: EventRecorderOptions) {
    this.#client = options.client;
    this.#component = options.component;
    this.#host = options.host ?? '';
    this.#clock = options.clock ?? realClock;
    this.#log = options.log ?? logger('events', { component: options.component });
  }

  /** Records an event about `obj` (an API object or a reference to one). */
  event(obj: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void {
    const ref = toReference(obj);
    const now = this.#clock.now();
    const key = JSON.stringify([
      this.#component,
      this.#host,
      ref.apiVersion,
      ref.kind,
      ref.namespace,
      ref.name,
      ref.uid,
      type,
      reason,
      message,
    ]);
    const prev = this.#seen.get(key);
    if (prev && now - prev.lastSeen <= aggregationWindowMs) {
      prev.count++;
      prev.lastSeen = now;
      this.#seen.delete(key);
      this.#seen.set(key, prev);
      const count = prev.count;
      this.#enqueue(() => this.#bump(prev, count, now, { ref, type, reason, message }));
      return;
    }
    const namespace = ref.namespace || 'default';
    // Object name plus a nanosecond-style timestamp in hex, as upstream names Events.
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000);
    const entry: Seen = {
      name: `${ref.name ?? ''}.${nanos.toString(16)}`,
      namespace,
      count: 1,
      firstTimestamp: rfc3339(now),
      lastSeen: now,
    };
    this.#seen.delete(key);
    this.#seen.set(key, entry);
    if (this.#seen.size > maxCacheEntries) this.#seen.delete(this.#seen.keys().next().value!);
    this.#enqueue(() => this.#create(entry, 1, now, { ref, type, reason, message }));
  }

  /** Resolves when every event recorded so far has been written (or failed and been logged). */
  flush(): Promise<void> {
    return this.#chain;
  }

  #enqueue(write: () => Promise<void>): void {
    this.#chain = this.#chain
      .then(write)
      .catch((err: unknown) => this.#log.warn('failed to write event', { error: err as Error }));
  }

  async #create(
    entry: Seen,
    count: number,
    now: number,
    e: { ref: ObjectReference; type: EventType; reason: string; message: string },
  ): Promise<void> {
    await this.#client.create(eventsRef(entry.namespace), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: entry.name, namespace: entry.namespace },
      involvedObject: e.ref,
      reason: e.reason,
      message: e.message,
      type: e.type,
      source: { component: this.#component, ...(this.#host ? { host: this.#host } : {}) },
      firstTimestamp: entry.firstTimestamp,
      lastTimestamp: rfc3339(now),
      count,
      reportingComponent: this.#component,
      reportingInstance: this.#host,
    });
  }

  async #bump(
    entry: Seen,
    count: number,
    now: number,
    e: { ref: ObjectReference; type: EventType; reason: string; message: string },
  ): Promise<void> {
    try {
      await this.#client.patch(
        eventsRef(entry.namespace),
        entry.name,
        { count, lastTimestamp: rfc3339(now), message: e.message },
        'strategic',
      );
    } catch (err) {
      // The first Event expired or was deleted: start it afresh, keeping the count.
      if (!isStatus(err, 404)) throw err;
      await this.#create(entry, count, now, e);
    }
  }
}

function toReference(obj: KubeObject | ObjectReference): ObjectReference {
  if (!('metadata' in obj) || obj.metadata === undefined) return obj;
  const o = obj;
  const ref: ObjectReference = {};
  if (o.apiVersion) ref.apiVersion = o.apiVersion;
  if (o.kind) ref.kind = o.kind;
  if (o.metadata?.namespace) ref.namespace = o.metadata.namespace;
  if (o.metadata?.name) ref.name = o.metadata.name;
  if (o.metadata?.uid) ref.uid = o.metadata.uid;
  if (o.metadata?.resourceVersion) ref.resourceVersion = o.metadata.resourceVersion;
  return ref;
}
