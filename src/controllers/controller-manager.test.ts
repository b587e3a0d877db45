import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectControllers } from './controller-manager.js';

describe('--controllers', () => {
  it('selects all, names, and exclusions as kube-controller-manager does', () => {
    const all = ['cronjob', 'daemonset', 'deployment', 'disruption', 'endpoint', 'endpointslice', 'endpointslicemirroring', 'garbagecollector', 'job', 'namespace', 'nodeipam', 'nodelifecycle', 'podgc', 'replicaset', 'root-ca-cert-publisher', 'service-cidr-controller', 'serviceaccount', 'serviceaccount-token', 'statefulset', 'taint-eviction-controller', 'ttl-after-finished'];
    assert.deepEqual(selectControllers('*'), all);
    assert.deepEqual(selectControllers('*,-serviceaccount,-nodeipam'), all.filter((n) => n !== 'serviceaccount' && n !== 'nodeipam'));
    assert.deepEqual(selectControllers('serviceaccount'), ['serviceaccount']);
    assert.deepEqual(selectControllers(''), []);
    assert.throws(() => selectControllers('*,bogus'), /"bogus" is not in the list of known controllers/);
  });
});
