import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { limitRangeStrategy } from './limitranges.js';
import { resourceQuotaStrategy } from './resourcequotas.js';
import { StrategyHarness } from './testing/strategy-harness.js';

const quotas = new StrategyHarness(resourceQuotaStrategy);
const limits = new StrategyHarness(limitRangeStrategy);
after(() => {
  quotas.close();
  limits.close();
});

describe('resourcequotas', () => {
  it('stores canonical quantities and an empty status', async () => {
    const rq = await quotas.create({
      metadata: { name: 'q' },
      spec: { hard: { 'requests.cpu': '1000m', pods: '10' } },
    });
    assert.deepEqual(rq.spec, { hard: { 'requests.cpu': '1', pods: '10' } });
    assert.deepEqual(rq.status, {});
  });

  it('refuses unknown resources, fractional counts and scopes that do not fit', async () => {
    // services fits neither scope (one error each); pods fits both.
    const { causes } = await quotas.invalid(
      quotas.create({
        metadata: { name: 'bad' },
        spec: { hard: { widgets: '1', pods: '1.5', services: '1' }, scopes: ['BestEffort', 'NotBestEffort'] },
      }),
    );
    assert.deepEqual(causes, [
      'spec.hard[pods]: Invalid value: "1500m": must be an integer',
      'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified',
      'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
      'spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort", "NotBestEffort"}: unsupported scope applied to resource',
      'spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort", "NotBestEffort"}: unsupported scope applied to resource',
      'spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort", "NotBestEffort"}: conflicting scopes',
    ]);
  });

  it('keeps scopes fixed', async () => {
    const stored = await quotas.create({
      metadata: { name: 'scoped' },
      spec: { hard: { pods: '5' }, scopes: ['BestEffort'] },
    });
    (stored.spec as Record<string, unknown>).scopes = ['NotBestEffort'];
    const { causes } = await quotas.invalid(quotas.update(stored));
    assert.deepEqual(causes, [
      'spec.scopes: Invalid value: []core.ResourceQuotaScope{"NotBestEffort"}: field is immutable',
    ]);
  });
});

describe('limitranges', () => {
  it('defaults container limits from max and requests from the default or min', async () => {
    const lr = await limits.create({
      metadata: { name: 'lr' },
      spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }] },
    });
    assert.deepEqual(lr.spec, {
      limits: [
        {
          type: 'Container',
          max: { cpu: '2' },
          min: { memory: '64Mi' },
          default: { cpu: '2' },
          defaultRequest: { cpu: '2', memory: '64Mi' },
        },
      ],
    });
  });

  it('refuses min above max and defaults on Pod limits', async () => {
    const { causes } = await limits.invalid(
      limits.create({
        metadata: { name: 'bad' },
        spec: { limits: [{ type: 'Pod', min: { cpu: '2' }, max: { cpu: '1' }, default: { cpu: '1' } }] },
      }),
    );
    assert.deepEqual(causes, [
      "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'",
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
    ]);
  });
});
