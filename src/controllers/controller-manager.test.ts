import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectControllers } from './controller-manager.js';

describe('--controllers', () => {
  it('selects all, names, and exclusions as kube-controller-manager does', () => {
    assert.deepEqual(selectControllers('*'), ['deployment', 'endpoint', 'endpointslice', 'endpointslicemirroring', 'garbagecollector', 'namespace', 'replicaset', 'serviceaccount']);
    assert.deepEqual(selectControllers('*,-serviceaccount'), ['deployment', 'endpoint', 'endpointslice', 'endpointslicemirroring', 'garbagecollector', 'namespace', 'replicaset']);
    assert.deepEqual(selectControllers('serviceaccount'), ['serviceaccount']);
    assert.deepEqual(selectControllers(''), []);
    assert.throws(() => selectControllers('*,bogus'), /"bogus" is not in the list of known controllers/);
  });
});
