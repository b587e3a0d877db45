import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { hpaV1Strategy, hpaV1ToV2, hpaV2Strategy, hpaV2ToV1 } from './horizontalpodautoscalers.js';

const v1 = new StrategyHarness(hpaV1Strategy);
const v2 = new StrategyHarness(hpaV2Strategy);
after(() => {
  v1.close();
  v2.close();
});

const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

describe('horizontalpodautoscalers', () => {
  it('v2 defaults minReplicas, the CPU metric and behavior rules', async () => {
    const hpa = await v2.create({
      metadata: { name: 'web' },
      spec: {
        scaleTargetRef: target,
        maxReplicas: 5,
        behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
      },
    });
    const spec = hpa.spec as Record<string, unknown>;
    assert.equal(spec.minReplicas, 1);
    assert.deepEqual(spec.metrics, [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
      },
    ]);
    assert.deepEqual(spec.behavior, {
      scaleDown: {
        stabilizationWindowSeconds: 60,
        selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
      },
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ],
      },
    });
    assert.deepEqual(hpa.status, { currentMetrics: null, desiredReplicas: 0 });
  });

  it('v1 defaults minReplicas and validates in v2 terms', async () => {
    const ok = await v1.create({
      metadata: { name: 'web' },
      spec: { scaleTargetRef: target, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
    });
    assert.equal((ok.spec as Record<string, unknown>).minReplicas, 1);
    assert.deepEqual(ok.status, { currentReplicas: 0, desiredReplicas: 0 });
    const { causes } = await v1.invalid(
      v1.create({
        metadata: { name: 'bad' },
        spec: { scaleTargetRef: target, maxReplicas: 3, targetCPUUtilizationPercentage: 0 },
      }),
    );
    assert.deepEqual(causes, [
      'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    ]);
  });

  it('require a scale target and replicas that make sense', async () => {
    const { causes } = await v2.invalid(
      v2.create({ metadata: { name: 'x' }, spec: { minReplicas: 4, maxReplicas: 2 } }),
    );
    assert.deepEqual(causes, [
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
      'spec.scaleTargetRef.kind: Required value',
      'spec.scaleTargetRef.name: Required value',
    ]);
    const zero = await v2.invalid(
      v2.create({
        metadata: { name: 'y' },
        spec: { scaleTargetRef: target, minReplicas: 0, maxReplicas: 0 },
      }),
    );
    assert.deepEqual(zero.causes, [
      'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
      'spec.maxReplicas: Invalid value: 0: must be greater than 0',
    ]);
  });

  it('check each metric has the source its type names', async () => {
    const { causes } = await v2.invalid(
      v2.create({
        metadata: { name: 'm' },
        spec: {
          scaleTargetRef: target,
          maxReplicas: 2,
          metrics: [
            {
              type: 'Pods',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
            },
          ],
        },
      }),
    );
    assert.deepEqual(causes, [
      'spec.metrics[0].pods: Required value: must populate information for the given metric source',
    ]);
  });

  it('convert between v1 and v2 through the CPU metric', () => {
    const asV2 = hpaV1ToV2({
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'w' },
      spec: { scaleTargetRef: target, maxReplicas: 4, targetCPUUtilizationPercentage: 70 },
    });
    assert.deepEqual((asV2.spec as Record<string, unknown>).metrics, [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ]);
    const back = hpaV2ToV1(asV2);
    assert.deepEqual(back.spec, {
      scaleTargetRef: target,
      maxReplicas: 4,
      targetCPUUtilizationPercentage: 70,
    });
  });
});
