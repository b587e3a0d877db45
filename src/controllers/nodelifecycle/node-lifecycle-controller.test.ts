import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeZoneState, zoneOf } from './node-lifecycle-controller.js';

const ready = (status: string) => ({ type: 'Ready', status });

describe('zone states', () => {
  it('is fully disrupted when no node is ready, partially when enough are not', () => {
    assert.equal(computeZoneState([ready('Unknown'), undefined], 0.55).state, 'FullDisruption');
    assert.equal(computeZoneState([ready('True'), ready('False'), ready('Unknown')], 0.55).state, 'Normal', 'two or fewer never count');
    assert.equal(computeZoneState([ready('True'), ready('False'), ready('Unknown'), ready('False')], 0.55).state, 'PartialDisruption');
    assert.equal(computeZoneState([ready('True'), ready('True'), ready('False'), ready('Unknown'), ready('False'), ready('True'), ready('True')], 0.55).state, 'Normal');
    assert.equal(computeZoneState([], 0.55).state, 'Normal');
  });

  it('keys zones by region and zone labels', () => {
    assert.equal(zoneOf({ metadata: { labels: {} } }), '');
    assert.equal(zoneOf({ metadata: { labels: { 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'z' } } }), 'r:\x00:z');
  });
});
