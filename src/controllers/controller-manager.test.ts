import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectControllers } from './controller-manager.js';

describe('--controllers', () => {
  it('selects all, names, and exclusions as kube-controller-manager does', () => {
    const all = ['cronjob', 'deployment', 'garbagecollector', 'job', 'namespace', 'podgc', 'replicaset', 'serviceaccount', 'statefulset', 'ttl-after-finished'];
    assert.deepEqual(selectControllers('*'), all);
    assert.deepEqual(selectControllers('*,-serviceaccount'), all.filter((n) => n !== 'serviceaccount'));
    assert.deepEqual(selectControllers('serviceaccount'), ['serviceaccount']);
    assert.deepEqual(selectControllers(''), []);
    assert.throws(() => selectControllers('*,bogus'), /"bogus" is not in the list of known controllers/);
  });
});
