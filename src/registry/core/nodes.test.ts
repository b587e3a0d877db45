import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { nodeStrategy } from './nodes.js';
import { StrategyHarness } from './testing/strategy-harness.js';

const h = new StrategyHarness(nodeStrategy);
after(() => h.close());

describe('nodes', () => {
  it('is cluster-scoped and keeps the status the kubelet registers with, in upstream form', async () => {
    const n = await h.create({
      metadata: { name: 'node-1' },
      spec: { podCIDR: '10.244.1.0/24' },
      status: { capacity: { cpu: '4', memory: '8192Mi', pods: '110' } },
    });
    assert.equal(n.metadata?.namespace, undefined);
    assert.deepEqual(n.spec, { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] });
    const status = n.status as Record<string, unknown>;
    assert.deepEqual(status.capacity, { cpu: '4', memory: '8Gi', pods: '110' });
    assert.deepEqual(status.allocatable, { cpu: '4', memory: '8Gi', pods: '110' });
    assert.deepEqual(status.daemonEndpoints, { kubeletEndpoint: { Port: 0 } });
    assert.equal((status.nodeInfo as Record<string, string>).kubeletVersion, '');
  });

  it('checks podCIDRs syntax and families', async () => {
    const { causes } = await h.invalid(
      h.create({ metadata: { name: 'cidr' }, spec: { podCIDRs: ['10.0.0.0/33'] } }),
    );
    assert.deepEqual(causes, [
      'spec.podCIDRs[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    const two = await h.invalid(
      h.create({ metadata: { name: 'cidr2' }, spec: { podCIDRs: ['10.0.0.0/24', '10.1.0.0/24'] } }),
    );
    assert.deepEqual(two.causes, [
      'spec.podCIDRs: Invalid value: []string{"10.0.0.0/24", "10.1.0.0/24"}: may specify no more than one CIDR for each IP family',
    ]);
    await h.create({ metadata: { name: 'dual' }, spec: { podCIDRs: ['10.0.0.0/24', 'fd00::/64'] } });
  });

  it('checks taint effects and duplicates, reported under metadata as upstream does', async () => {
    const { causes } = await h.invalid(
      h.create({
        metadata: { name: 'tainted' },
        spec: {
          taints: [
            { key: 'gpu', value: 'yes', effect: 'NoSchedule' },
            { key: 'gpu', value: 'no', effect: 'NoSchedule' },
            { key: 'x', effect: 'Sometimes' },
          ],
        },
      }),
    );
    assert.deepEqual(causes, [
      'metadata.taints[1]: Duplicate value: core.Taint{Key:"gpu", Value:"no", Effect:"NoSchedule", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair',
      'metadata.taints[2].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ]);
  });

  it('lets podCIDRs be set once and unschedulable change freely', async () => {
    const stored = await h.create({ metadata: { name: 'once' } });
    stored.spec = { podCIDRs: ['10.244.2.0/24'], unschedulable: true };
    const set = await h.update(stored);
    assert.deepEqual((set.spec as Record<string, unknown>).podCIDRs, ['10.244.2.0/24']);
    set.spec = { podCIDRs: ['10.244.3.0/24'] };
    const { causes } = await h.invalid(h.update(set));
    assert.deepEqual(causes, [
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ]);
  });
});
