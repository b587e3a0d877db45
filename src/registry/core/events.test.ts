import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { coreToEventsV1, eventsV1Strategy, eventsV1ToCore } from '../events/events.js';
import { eventStrategy, eventTTLSeconds } from './events.js';
import { StrategyHarness } from './testing/strategy-harness.js';

const core = new StrategyHarness(eventStrategy);
const v1 = new StrategyHarness(eventsV1Strategy);
after(() => {
  core.close();
  v1.close();
});

describe('events', () => {
  it('live for an hour in storage', () => {
    assert.equal(eventTTLSeconds, 3600);
    assert.equal(eventStrategy.ttlSeconds, 3600);
  });

  it('store a legacy core/v1 event with the zero fields Go writes', async () => {
    const ev = await core.create({
      metadata: { name: 'pod-a.1' },
      involvedObject: { kind: 'Pod', name: 'pod-a', namespace: 'default' },
      reason: 'Scheduled',
      message: 'placed',
      type: 'Normal',
    });
    assert.equal(ev.eventTime, null);
    assert.equal(ev.reportingComponent, '');
    assert.deepEqual(ev.source, {});
  });

  it('require the involved object to be in the event namespace', async () => {
    const { causes } = await core.invalid(
      core.create({
        metadata: { name: 'x' },
        involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' },
      }),
    );
    assert.deepEqual(causes, [
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ]);
  });

  it('hold new-style events to reportingController, reportingInstance, action, reason and lengths', async () => {
    const { causes } = await core.invalid(
      core.create({
        metadata: { name: 'y' },
        eventTime: '2026-01-02T03:04:05.000000Z',
        involvedObject: { namespace: 'default' },
        message: 'm'.repeat(1025),
      }),
    );
    // Upstream also runs the qualified-name check on the empty controller, and so reports it three times.
    assert.deepEqual(causes, [
      'reportingController: Required value',
      'reportingController: Invalid value: "": name part must be non-empty',
      "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      'reportingInstance: Required value',
      'action: Required value',
      'reason: Required value',
      'message: Invalid value: "": can have at most 1024 characters',
    ]);
  });

  it('hold events.k8s.io/v1 writes to the strict rules, naming core fields', async () => {
    const { causes } = await v1.invalid(
      v1.create({
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: 'z' },
        regarding: { kind: 'Pod', name: 'p', namespace: 'default' },
        reportingController: 'example.com/ctl',
        reportingInstance: 'ctl-1',
        action: 'Bind',
        reason: 'Bound',
        type: 'Info',
        deprecatedCount: 3,
      }),
    );
    assert.deepEqual(causes, [
      'eventTime: Required value',
      'type: Invalid value: "": has invalid value: Info',
      'count: Invalid value: "": needs to be unset',
    ]);
  });

  it('map between the events.k8s.io and core forms', () => {
    const v1Event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'e', namespace: 'default' },
      eventTime: '2026-01-02T03:04:05.000000Z',
      regarding: { kind: 'Pod', name: 'p' },
      note: 'hello',
      reportingController: 'ctl',
      reportingInstance: 'i',
      action: 'A',
      reason: 'R',
      type: 'Normal',
    };
    const coreForm = eventsV1ToCore(v1Event);
    assert.equal(coreForm.apiVersion, 'v1');
    assert.deepEqual(coreForm.involvedObject, { kind: 'Pod', name: 'p' });
    assert.equal(coreForm.message, 'hello');
    assert.equal(coreForm.reportingComponent, 'ctl');
    assert.deepEqual(coreToEventsV1(coreForm), v1Event);
  });
});
