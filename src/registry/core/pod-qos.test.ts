import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container } from 'kubernetes-types/core/v1.js';
import { computePodQOS } from './pod-qos.js';

const c = (resources: Container['resources']): Container => ({
  name: 'c',
  image: 'x',
  ...(resources ? { resources } : {}),
});

describe('pod QoS class', () => {
  it('is BestEffort without cpu or memory requests and limits', () => {
    assert.equal(computePodQOS({ containers: [c(undefined)] }), 'BestEffort');
    assert.equal(
      computePodQOS({
        containers: [c({ requests: { 'example.com/gpu': '1' }, limits: { 'example.com/gpu': '1' } })],
      }),
      'BestEffort',
    );
    assert.equal(computePodQOS({ containers: [c({ requests: { cpu: '0' } })] }), 'BestEffort');
  });

  it('is Guaranteed when every container limits cpu and memory and requests equal limits', () => {
    const g = { requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: '0.5', memory: '128Mi' } };
    assert.equal(computePodQOS({ containers: [c(g), c(g)] }), 'Guaranteed');
    assert.equal(computePodQOS({ containers: [c(g)], initContainers: [c(g)] }), 'Guaranteed');
  });

  it('is Burstable otherwise', () => {
    assert.equal(computePodQOS({ containers: [c({ requests: { cpu: '100m' } })] }), 'Burstable');
    assert.equal(
      computePodQOS({
        containers: [c({ requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '200m', memory: '1Gi' } })],
      }),
      'Burstable',
    );
    assert.equal(
      computePodQOS({ containers: [c({ limits: { cpu: '1' }, requests: { cpu: '1' } })] }),
      'Burstable',
      'no memory limit',
    );
    const g = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } };
    assert.equal(
      computePodQOS({ containers: [c(g), c(undefined)] }),
      'Burstable',
      'a container without limits',
    );
  });
});
