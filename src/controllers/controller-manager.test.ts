import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectControllers } from './controller-manager.js';

describe('--controllers', () => {
  it('selects all, names, and exclusions as kube-controller-manager does', () => {
    assert.deepEqual(selectControllers('*'), ['daemonset', 'deployment', 'disruption', 'garbagecollector', 'namespace', 'nodeipam', 'nodelifecycle', 'replicaset', 'serviceaccount', 'taint-eviction-controller']);
    assert.deepEqual(selectControllers('*,-serviceaccount,-nodeipam'), ['daemonset', 'deployment', 'disruption', 'garbagecollector', 'namespace', 'nodelifecycle', 'replicaset', 'taint-eviction-controller']);
    assert.deepEqual(selectControllers('serviceaccount'), ['serviceaccount']);
    assert.deepEqual(selectControllers(''), []);
    assert.throws(() => selectControllers('*,bogus'), /"bogus" is not in the list of known controllers/);
  });
});
