// Tables of configuration and policy kinds: ConfigMaps, Secrets, ServiceAccounts, ResourceQuotas,
// PodDisruptionBudgets, HorizontalPodAutoscalers (v1 and v2) and Scale.
import type { HorizontalPodAutoscaler as HPAv1, Scale } from 'kubernetes-types/autoscaling/v1.js';
import type {
  HorizontalPodAutoscaler as HPAv2,
  MetricSpec,
  MetricStatus,
} from 'kubernetes-types/autoscaling/v2.js';
import type { ConfigMap, ResourceQuota, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ageColumn, column, int, nameColumn, printer } from './columns.js';
import { translateTimestampSince } from './human-duration.js';
import type { Printer } from './table.js';

const configMapPrinter = printer<ConfigMap>(
  [{ group: '', kind: 'ConfigMap' }],
  [nameColumn, column('Data', 'string', 'The number of keys, text and binary.'), ageColumn],
  (cm, now) => ({
    cells: [
      cm.metadata?.name ?? '',
      Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
      translateTimestampSince(cm.metadata?.creationTimestamp, now),
    ],
  }),
);

const secretPrinter = printer<Secret>(
  [{ group: '', kind: 'Secret' }],
  [
    nameColumn,
    column('Type', 'string', 'What the secret holds, such as Opaque or kubernetes.io/tls.'),
    column('Data', 'string', 'The number of keys.'),
    ageColumn,
  ],
  (s, now) => ({
    cells: [
      s.metadata?.name ?? '',
      s.type ?? '',
      Object.keys(s.data ?? {}).length,
      translateTimestampSince(s.metadata?.creationTimestamp, now),
    ],
  }),
);

const serviceAccountPrinter = printer<ServiceAccount>(
  [{ group: '', kind: 'ServiceAccount' }],
  [nameColumn, column('Secrets', 'string', 'The number of secrets listed on the account.'), ageColumn],
  (sa, now) => ({
    cells: [
      sa.metadata?.name ?? '',
      int(sa.secrets?.length),
      translateTimestampSince(sa.metadata?.creationTimestamp, now),
    ],
  }),
);

const resourceQuotaPrinter = printer<ResourceQuota>(
  [{ group: '', kind: 'ResourceQuota' }],
  [
    nameColumn,
    column('Request', 'string', 'Used and hard limits of the quota, except limits.* resources.'),
    column('Limit', 'string', 'Used and hard limits of the limits.* resources.'),
    ageColumn,
  ],
  (rq, now) => {
    const hard = rq.status?.hard ?? {};
    const used = rq.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const name of Object.keys(hard).sort()) {
      const text = `${name}: ${used[name] ?? '0'}/${hard[name] ?? '0'}`;
      const parts = name.split('.');
      (parts.length > 1 && parts[0] === 'limits' ? limits : requests).push(text);
    }
    return {
      cells: [
        rq.metadata?.name ?? '',
        requests.join(', '),
        limits.join(', '),
        translateTimestampSince(rq.metadata?.creationTimestamp, now),
      ],
    };
  },
);

const podDisruptionBudgetPrinter = printer<PodDisruptionBudget>(
  [{ group: 'policy', kind: 'PodDisruptionBudget' }],
  [
    nameColumn,
    column('Min Available', 'string', 'Pods that must stay available, as a number or percentage.'),
    column('Max Unavailable', 'string', 'Pods that may be unavailable, as a number or percentage.'),
    column('Allowed Disruptions', 'integer', 'Pods that may be evicted right now.'),
    ageColumn,
  ],
  (pdb, now) => ({
    cells: [
      pdb.metadata?.name ?? '',
      pdb.spec?.minAvailable !== undefined ? String(pdb.spec.minAvailable) : 'N/A',
      pdb.spec?.maxUnavailable !== undefined ? String(pdb.spec.maxUnavailable) : 'N/A',
      int(pdb.status?.disruptionsAllowed),
      translateTimestampSince(pdb.metadata?.creationTimestamp, now),
    ],
  }),
);

// An absent quantity that upstream dereferences prints as Go prints a nil *Quantity.
const nilQuantity = '<nil>';

/** The TARGETS cell: up to two metrics as `current/target`, then how many more. */
function formatMetrics(specs: readonly MetricSpec[], statuses: readonly MetricStatus[]): string {
  if (specs.length === 0) return '<none>';
  const list = specs.map((spec, i) => {
    const st = statuses[i];
    switch (spec.type) {
      case 'External': {
        const target = spec.external?.target;
        if (target?.averageValue !== undefined) {
          const current = st?.external?.current.averageValue ?? '<unknown>';
          return `${current}/${target.averageValue} (avg)`;
        }
        const current = st?.external ? (st.external.current.value ?? nilQuantity) : '<unknown>';
        return `${current}/${target?.value ?? nilQuantity}`;
      }
      case 'Pods': {
        const current = st?.pods ? (st.pods.current.averageValue ?? nilQuantity) : '<unknown>';
        return `${current}/${spec.pods?.target.averageValue ?? nilQuantity}`;
      }
      case 'Object': {
        const target = spec.object?.target;
        if (target?.averageValue !== undefined) {
          const current = st?.object?.current.averageValue ?? '<unknown>';
          return `${current}/${target.averageValue} (avg)`;
        }
        const current = st?.object ? (st.object.current.value ?? nilQuantity) : '<unknown>';
        return `${current}/${target?.value ?? nilQuantity}`;
      }
      case 'Resource': {
        const source = spec.resource;
        if (source?.target.averageValue !== undefined) {
          const current = st?.resource ? (st.resource.current.averageValue ?? nilQuantity) : '<unknown>';
          return `${source.name}: ${current}/${source.target.averageValue}`;
        }
        const utilization = st?.resource?.current.averageUtilization;
        const current = utilization !== undefined ? `${utilization}%` : '<unknown>';
        const target = source?.target.averageUtilization;
        return `${source?.name ?? ''}: ${current}/${target !== undefined ? `${target}%` : '<auto>'}`;
      }
      case 'ContainerResource': {
        const source = spec.containerResource;
        if (source?.target.averageValue !== undefined) {
          const current = st?.containerResource
            ? (st.containerResource.current.averageValue ?? nilQuantity)
            : '<unknown>';
          return `${source.name}: ${current}/${source.target.averageValue}`;
        }
        const utilization = st?.containerResource?.current.averageUtilization;
        const current = utilization !== undefined ? `${utilization}%` : '<unknown>';
        const target = source?.target.averageUtilization;
        return `${source?.name ?? ''}: ${current}/${target !== undefined ? `${target}%` : '<auto>'}`;
      }
      default:
        return '<unknown type>';
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

/** The v2 view of an autoscaling/v1 HPA: its CPU target as a Resource metric. */
function hpaV2Of(hpa: HPAv1): HPAv2 {
  const v2: HPAv2 = {
    spec: {
      scaleTargetRef: hpa.spec?.scaleTargetRef ?? { kind: '', name: '' },
      maxReplicas: hpa.spec?.maxReplicas ?? 0,
    },
    status: { desiredReplicas: hpa.status?.desiredReplicas ?? 0 },
  };
  if (hpa.metadata) v2.metadata = hpa.metadata;
  if (hpa.spec?.minReplicas !== undefined) v2.spec!.minReplicas = hpa.spec.minReplicas;
  if (hpa.status?.currentReplicas !== undefined) v2.status!.currentReplicas = hpa.status.currentReplicas;
  const target = hpa.spec?.targetCPUUtilizationPercentage;
  if (target !== undefined) {
    v2.spec!.metrics = [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } },
      },
    ];
  }
  const current = hpa.status?.currentCPUUtilizationPercentage;
  if (current !== undefined) {
    v2.status!.currentMetrics = [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } },
    ];
  }
  return v2;
}

// Defaulting gives an HPA without metrics an 80% CPU utilisation target.
const defaultMetrics: MetricSpec[] = [
  { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
];

const hpaColumns = [
  nameColumn,
  column('Reference', 'string', 'The object being scaled, as Kind/name.'),
  column('Targets', 'string', 'Current and target values of the metrics.'),
  column('MinPods', 'string', 'The fewest replicas the autoscaler sets.'),
  column('MaxPods', 'string', 'The most replicas the autoscaler sets.'),
  column('Replicas', 'string', 'The replicas the target has now.'),
  ageColumn,
];

function printHPA(hpa: HPAv2, now: number) {
  const spec = hpa.spec;
  const metrics = spec?.metrics && spec.metrics.length > 0 ? spec.metrics : defaultMetrics;
  return {
    cells: [
      hpa.metadata?.name ?? '',
      `${spec?.scaleTargetRef?.kind ?? ''}/${spec?.scaleTargetRef?.name ?? ''}`,
      formatMetrics(metrics, hpa.status?.currentMetrics ?? []),
      // Defaulting sets minReplicas to one.
      String(spec?.minReplicas ?? 1),
      int(spec?.maxReplicas),
      int(hpa.status?.currentReplicas),
      translateTimestampSince(hpa.metadata?.creationTimestamp, now),
    ],
  };
}

const hpaPrinter = printer<HPAv1 | HPAv2>(
  [{ group: 'autoscaling', kind: 'HorizontalPodAutoscaler' }],
  hpaColumns,
  (hpa, now) => printHPA(hpa.apiVersion === 'autoscaling/v1' ? hpaV2Of(hpa) : (hpa as HPAv2), now),
);

const scalePrinter = printer<Scale>(
  [{ group: 'autoscaling', kind: 'Scale' }],
  [
    // The one Name column upstream leaves without the name format.
    column('Name', 'string', 'The name of the scaled object.'),
    column('Desired', 'integer', 'The replicas asked for.'),
    column('Available', 'integer', 'The replicas that exist.'),
    ageColumn,
  ],
  (s, now) => ({
    cells: [
      s.metadata?.name ?? '',
      int(s.spec?.replicas),
      int(s.status?.replicas),
      translateTimestampSince(s.metadata?.creationTimestamp, now),
    ],
  }),
);

/** Printers of configuration and policy kinds. */
export const configPrinters: readonly Printer[] = [
  configMapPrinter,
  secretPrinter,
  serviceAccountPrinter,
  resourceQuotaPrinter,
  podDisruptionBudgetPrinter,
  hpaPrinter,
  scalePrinter,
];
