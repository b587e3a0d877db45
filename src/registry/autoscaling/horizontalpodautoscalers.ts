// HorizontalPodAutoscalers (autoscaling defaulting, conversion, strategy and validation). v1 and v2 store
// the same objects upstream (in the v2 form); v1's targetCPUUtilizationPercentage is v2's CPU utilization
// metric. Validation runs on the v2 form, so v1 messages name v2 paths, as upstream's do.
import type { HorizontalPodAutoscaler as HPAv1 } from 'kubernetes-types/autoscaling/v1.js';
import type {
  HorizontalPodAutoscaler as HPAv2,
  HPAScalingRules,
  MetricSpec,
  MetricTarget,
} from 'kubernetes-types/autoscaling/v2.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isDNS1123Label,
  isValidPathSegmentName,
  nameIsDNSSubdomain,
  validateNonnegativeField,
} from '../../apimachinery/validation/names.js';
import {
  baseStrategy,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from '../core/kube-validation.js';
import { parseQuantityField, validateContainerResourceName } from '../core/resource-lists.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

/** The CPU utilization an HPA without metrics targets. */
export const defaultCPUUtilization = 80;
const maxPeriodSeconds = 1800;
const maxStabilizationWindowSeconds = 3600;
const metricSourceTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const sourceField: Record<string, string> = {
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
  External: 'external',
  ContainerResource: 'containerResource',
};

type Spec = NonNullable<HPAv2['spec']>;

/** The scaling rules a behavior gets for what it leaves out (GenerateHPAScaleUpRules and ...ScaleDownRules). */
function withDefaultRules(rules: HPAScalingRules | undefined, up: boolean): HPAScalingRules {
  const defaults: HPAScalingRules = up
    ? {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ],
      }
    : {
        stabilizationWindowSeconds: 300,
        selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
      };
  if (rules === undefined) return defaults;
  return {
    ...rules,
    stabilizationWindowSeconds: rules.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    selectPolicy: rules.selectPolicy ?? defaults.selectPolicy,
    policies: rules.policies ?? defaults.policies,
  };
}

/** upstream's v2 SetDefaults_HorizontalPodAutoscaler. */
export function setHPAv2Defaults(hpa: HPAv2): void {
  const spec = (hpa.spec ??= {} as Spec);
  spec.minReplicas ??= 1;
  if ((spec.metrics ?? []).length === 0) {
    spec.metrics = [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } },
      },
    ];
  }
  if (spec.behavior !== undefined) {
    spec.behavior.scaleUp = withDefaultRules(spec.behavior.scaleUp, true);
    spec.behavior.scaleDown = withDefaultRules(spec.behavior.scaleDown, false);
  }
}

/** An autoscaling/v1 HPA in the v2 form (its CPU target becomes a Resource metric). */
export function hpaV1ToV2(obj: KObject): KObject {
  const v1 = typed<HPAv1>(obj);
  const out: Record<string, unknown> = { ...structuredClone(obj), apiVersion: 'autoscaling/v2' };
  const spec = v1.spec;
  if (spec !== undefined) {
    const { targetCPUUtilizationPercentage, ...rest } = structuredClone(spec);
    const v2spec: Record<string, unknown> = { ...rest };
    if (targetCPUUtilizationPercentage !== undefined) {
      v2spec.metrics = [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: targetCPUUtilizationPercentage },
          },
        },
      ];
    }
    out.spec = v2spec;
  }
  const status = v1.status;
  if (status !== undefined) {
    const { currentCPUUtilizationPercentage, ...rest } = structuredClone(status);
    const v2status: Record<string, unknown> = { ...rest, currentMetrics: null };
    if (currentCPUUtilizationPercentage !== undefined) {
      v2status.currentMetrics = [
        {
          type: 'Resource',
          resource: { name: 'cpu', current: { averageUtilization: currentCPUUtilizationPercentage } },
        },
      ];
    }
    out.status = v2status;
  }
  return out;
}

/** A v2 HPA as autoscaling/v1 serves it: the CPU utilization metric becomes targetCPUUtilizationPercentage. */
export function hpaV2ToV1(obj: KObject): KObject {
  const v2 = typed<HPAv2>(obj);
  const out: Record<string, unknown> = { ...structuredClone(obj), apiVersion: 'autoscaling/v1' };
  if (v2.spec !== undefined) {
    const { metrics, behavior: _behavior, ...rest } = structuredClone(v2.spec);
    const v1spec: Record<string, unknown> = { ...rest };
    const cpu = (metrics ?? []).find(
      (m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target.type === 'Utilization',
    );
    if (cpu?.resource?.target.averageUtilization !== undefined)
      v1spec.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;
    out.spec = v1spec;
  }
  if (v2.status !== undefined) {
    const { currentMetrics, conditions: _conditions, ...rest } = structuredClone(v2.status);
    const v1status: Record<string, unknown> = { currentReplicas: 0, ...rest };
    const cpu = (currentMetrics ?? []).find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
    if (cpu?.resource?.current.averageUtilization !== undefined)
      v1status.currentCPUUtilizationPercentage = cpu.resource.current.averageUtilization;
    out.status = v1status;
  }
  return out;
}

function validateCrossVersionObjectReference(
  ref: { kind?: string; name?: string } | undefined,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  if (!ref?.kind) errs.push(field.required(path.child('kind'), ''));
  else
    for (const msg of isValidPathSegmentName(ref.kind))
      errs.push(field.invalid(path.child('kind'), ref.kind, msg));
  if (!ref?.name) errs.push(field.required(path.child('name'), ''));
  else
    for (const msg of isValidPathSegmentName(ref.name))
      errs.push(field.invalid(path.child('name'), ref.name, msg));
  return errs;
}

function validateMetricTarget(t: MetricTarget | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  const type = t?.type ?? '';
  if (type === '') errs.push(field.required(path.child('type'), 'must specify a metric target type'));
  if (type !== 'Utilization' && type !== 'Value' && type !== 'AverageValue') {
    errs.push(field.invalid(path.child('type'), type, 'must be either Utilization, Value, or AverageValue'));
  }
  for (const key of ['value', 'averageValue'] as const) {
    const v = t?.[key];
    if (v === undefined) continue;
    const { quantity, errs: parseErrs } = parseQuantityField(v, path.child(key));
    errs.push(...parseErrs);
    if (quantity !== undefined && quantity.sign() !== 1)
      errs.push(field.invalid(path.child(key), quantity.toString(), 'must be positive'));
  }
  if (t?.averageUtilization !== undefined && t.averageUtilization < 1) {
    errs.push(
      field.invalid(path.child('averageUtilization'), t.averageUtilization, 'must be greater than 0'),
    );
  }
  return errs;
}

function validateMetricIdentifier(id: { name?: string } | undefined, path: Path): ErrorList {
  if (!id?.name) return [field.required(path.child('name'), 'must specify a metric name')];
  return isValidPathSegmentName(id.name).map((msg) => field.invalid(path.child('name'), id.name, msg));
}

function validateSource(type: string, spec: MetricSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  switch (type) {
    case 'object': {
      const src = spec.object!;
      errs.push(...validateCrossVersionObjectReference(src.describedObject, path.child('describedObject')));
      errs.push(
        ...validateMetricIdentifier(src.metric, path.child('metric')),
        ...validateMetricTarget(src.target, path.child('target')),
      );
      if (src.target?.value === undefined && src.target?.averageValue === undefined) {
        errs.push(
          field.required(
            path.child('target', 'averageValue'),
            'must set either a target value or averageValue',
          ),
        );
      }
      break;
    }
    case 'pods': {
      const src = spec.pods!;
      errs.push(
        ...validateMetricIdentifier(src.metric, path.child('metric')),
        ...validateMetricTarget(src.target, path.child('target')),
      );
      if (src.target?.averageValue === undefined)
        errs.push(
          field.required(path.child('target', 'averageValue'), 'must specify a positive target averageValue'),
        );
      break;
    }
    case 'external': {
      const src = spec.external!;
      errs.push(
        ...validateMetricIdentifier(src.metric, path.child('metric')),
        ...validateMetricTarget(src.target, path.child('target')),
      );
      if (src.target?.value === undefined && src.target?.averageValue === undefined) {
        errs.push(
          field.required(
            path.child('target', 'averageValue'),
            'must set either a target value for metric or a per-pod target',
          ),
        );
      }
      if (src.target?.value !== undefined && src.target.averageValue !== undefined) {
        errs.push(
          field.forbidden(
            path.child('target', 'value'),
            'may not set both a target value for metric and a per-pod target',
          ),
        );
      }
      break;
    }
    case 'resource':
    case 'containerResource': {
      const src = (type === 'resource' ? spec.resource : spec.containerResource) as {
        name?: string;
        container?: string;
        target?: MetricTarget;
      };
      if (!src.name) errs.push(field.required(path.child('name'), 'must specify a resource name'));
      else errs.push(...validateContainerResourceName(src.name, path.child('name')));
      if (type === 'containerResource') {
        if (!src.container) errs.push(field.required(path.child('container'), 'must specify a container'));
        else
          for (const msg of isDNS1123Label(src.container))
            errs.push(field.invalid(path.child('container'), src.container, msg));
      }
      errs.push(...validateMetricTarget(src.target, path.child('target')));
      if (src.target?.averageUtilization === undefined && src.target?.averageValue === undefined) {
        errs.push(
          field.required(
            path.child('target', 'averageUtilization'),
            'must set either a target raw value or a target utilization',
          ),
        );
      }
      if (src.target?.averageUtilization !== undefined && src.target.averageValue !== undefined) {
        errs.push(
          field.forbidden(
            path.child('target', 'averageValue'),
            'may not set both a target raw value and a target utilization',
          ),
        );
      }
      break;
    }
    default:
      break;
  }
  return errs;
}

function validateMetricSpec(spec: MetricSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  const type = spec.type ?? '';
  if (type === '') errs.push(field.required(path.child('type'), 'must specify a metric source type'));
  if (!metricSourceTypes.includes(type))
    errs.push(field.notSupported(path.child('type'), type, metricSourceTypes));
  const present: string[] = [];
  for (const name of ['object', 'external', 'pods', 'resource', 'containerResource']) {
    if ((spec as unknown as Record<string, unknown>)[name] === undefined) continue;
    present.push(name);
    if (present.length === 1) errs.push(...validateSource(name, spec, path.child(name)));
  }
  const expected = sourceField[type];
  if (expected === undefined) errs.push(field.notSupported(path.child('type'), type, metricSourceTypes));
  else if ((spec as unknown as Record<string, unknown>)[expected] === undefined) {
    errs.push(field.required(path.child(expected), 'must populate information for the given metric source'));
  }
  if (present.length !== 1) {
    for (const name of present)
      if (name !== expected)
        errs.push(field.forbidden(path.child(name), 'must populate the given metric source only'));
  }
  return errs;
}

function validateScalingRules(rules: HPAScalingRules | undefined, path: Path): ErrorList {
  if (rules === undefined) return [];
  const errs: ErrorList = [];
  const window = rules.stabilizationWindowSeconds;
  if (window !== undefined && window < 0)
    errs.push(
      field.invalid(
        path.child('stabilizationWindowSeconds'),
        window,
        'must be greater than or equal to zero',
      ),
    );
  if (window !== undefined && window > maxStabilizationWindowSeconds) {
    errs.push(
      field.invalid(
        path.child('stabilizationWindowSeconds'),
        window,
        `must be less than or equal to ${maxStabilizationWindowSeconds}`,
      ),
    );
  }
  if (rules.selectPolicy !== undefined && !['Disabled', 'Max', 'Min'].includes(rules.selectPolicy)) {
    errs.push(field.notSupported(path.child('selectPolicy'), rules.selectPolicy, ['Disabled', 'Max', 'Min']));
  }
  const policies = rules.policies ?? [];
  if (policies.length === 0)
    errs.push(field.required(path.child('policies'), 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = path.child('policies').index(i);
    if (p.type !== 'Pods' && p.type !== 'Percent')
      errs.push(field.notSupported(pp.child('type'), p.type ?? '', ['Percent', 'Pods']));
    if ((p.value ?? 0) <= 0)
      errs.push(field.invalid(pp.child('value'), p.value ?? 0, 'must be greater than zero'));
    if ((p.periodSeconds ?? 0) <= 0)
      errs.push(field.invalid(pp.child('periodSeconds'), p.periodSeconds ?? 0, 'must be greater than zero'));
    if ((p.periodSeconds ?? 0) > maxPeriodSeconds) {
      errs.push(
        field.invalid(
          pp.child('periodSeconds'),
          p.periodSeconds ?? 0,
          `must be less than or equal to ${maxPeriodSeconds}`,
        ),
      );
    }
  });
  return errs;
}

/** upstream's validateHorizontalPodAutoscalerSpec, on the v2 form. */
function validateSpec(spec: Partial<Spec>): ErrorList {
  const path = newPath('spec');
  const errs: ErrorList = [];
  const min = spec.minReplicas;
  const max = spec.maxReplicas ?? 0;
  if (min !== undefined && min < 1)
    errs.push(field.invalid(path.child('minReplicas'), min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(field.invalid(path.child('maxReplicas'), max, 'must be greater than 0'));
  if (min !== undefined && max < min)
    errs.push(
      field.invalid(path.child('maxReplicas'), max, 'must be greater than or equal to `minReplicas`'),
    );
  const refErrs = validateCrossVersionObjectReference(spec.scaleTargetRef, path.child('scaleTargetRef'));
  if (refErrs.length > 0) return [...errs, ...refErrs];
  const metricErrs: ErrorList = [];
  (spec.metrics ?? []).forEach((m, i) =>
    metricErrs.push(...validateMetricSpec(m, path.child('metrics').index(i))),
  );
  if (metricErrs.length > 0) return [...errs, ...metricErrs];
  if (spec.behavior !== undefined) {
    errs.push(...validateScalingRules(spec.behavior.scaleUp, path.child('behavior', 'scaleUp')));
    errs.push(...validateScalingRules(spec.behavior.scaleDown, path.child('behavior', 'scaleDown')));
  }
  return errs;
}

function validateStatus(obj: KObject): ErrorList {
  const status = (obj.status ?? {}) as { currentReplicas?: number; desiredReplicas?: number };
  return [
    ...validateNonnegativeField(status.currentReplicas ?? 0, newPath('status', 'currentReplicas')),
    ...validateNonnegativeField(status.desiredReplicas ?? 0, newPath('status', 'desiredReplicas')),
  ];
}

function validateV2(obj: KObject): ErrorList {
  return [
    ...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain),
    ...validateSpec(typed<HPAv2>(obj).spec ?? {}),
  ];
}

function validateV2Update(obj: KObject, old: KObject): ErrorList {
  return [
    ...validateCoreObjectMetaUpdate(obj, old),
    ...validateSpec(typed<HPAv2>(obj).spec ?? {}),
    ...validateStatus(obj),
  ];
}

// What v1 validation sees: the v2 form with v2's defaults, so that a v1 object without a CPU target is
// checked with the metric it will get.
function asDefaultedV2(obj: KObject): KObject {
  const v2 = hpaV1ToV2(obj);
  setHPAv2Defaults(typed<HPAv2>(v2));
  return v2;
}

/** The strategy of autoscaling/v2 horizontalpodautoscalers. */
export const hpaV2Strategy: ResourceStrategy = {
  ...baseStrategy('autoscaling', 'v2', 'horizontalpodautoscalers'),
  defaults: (obj) => setHPAv2Defaults(typed<HPAv2>(obj)),
  prepareForCreate(obj) {
    obj.status = { currentMetrics: null, desiredReplicas: 0 };
  },
  validate: validateV2,
  validateUpdate: validateV2Update,
};

/** The strategy of autoscaling/v1 horizontalpodautoscalers. */
export const hpaV1Strategy: ResourceStrategy = {
  ...baseStrategy('autoscaling', 'v1', 'horizontalpodautoscalers'),
  defaults(obj) {
    const spec = typed<HPAv1>(obj).spec;
    if (spec !== undefined) spec.minReplicas ??= 1;
  },
  prepareForCreate(obj) {
    obj.status = { currentReplicas: 0, desiredReplicas: 0 };
  },
  toStorage: hpaV1ToV2,
  fromStorage: hpaV2ToV1,
  validate: (obj) => validateV2(asDefaultedV2(obj)),
  validateUpdate: (obj, old) => validateV2Update(asDefaultedV2(obj), asDefaultedV2(old)),
};
