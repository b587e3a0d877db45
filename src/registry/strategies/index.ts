// The strategy of every stored resource. Each starts from the catalogue's facts (a status subresource means
// the status/spec split); kinds with upstream defaulting, validation or field selectors of their own get a
// strategy file beside this one as they are built.
import type { ResourceInfo } from '../../api/resources.js';
import { resources } from '../../api/resources.js';
import type { ResourceStrategy } from '../generic/strategy.js';

/** Kinds whose metadata.generation counts spec changes, as their upstream strategies do. */
const generationTracked = new Set([
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  'apps/daemonsets',
  'batch/jobs',
  'batch/cronjobs',
  '/replicationcontrollers',
  'policy/poddisruptionbudgets',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/networkpolicies',
  'apiextensions.k8s.io/customresourcedefinitions',
  'autoscaling/horizontalpodautoscalers',
  'discovery.k8s.io/endpointslices',
]);

/** A top-level string field, or '' when absent or not a string. */
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Field selectors each kind supports beyond metadata.name and metadata.namespace (upstream's GetAttrs). */
const selectable: Record<string, (obj: Record<string, unknown>) => Record<string, string>> = {
  '/pods': (o) => {
    const spec = (o.spec ?? {}) as { nodeName?: string; restartPolicy?: string; schedulerName?: string; serviceAccountName?: string; hostNetwork?: boolean };
    const status = (o.status ?? {}) as { phase?: string; podIP?: string; nominatedNodeName?: string };
    return {
      'spec.nodeName': spec.nodeName ?? '',
      'spec.restartPolicy': spec.restartPolicy ?? '',
      'spec.schedulerName': spec.schedulerName ?? '',
      'spec.serviceAccountName': spec.serviceAccountName ?? '',
      'spec.hostNetwork': String(spec.hostNetwork ?? false),
      'status.phase': status.phase ?? '',
      'status.podIP': status.podIP ?? '',
      'status.nominatedNodeName': status.nominatedNodeName ?? '',
    };
  },
  '/nodes': (o) => ({ 'spec.unschedulable': String(((o.spec ?? {}) as { unschedulable?: boolean }).unschedulable ?? false) }),
  '/secrets': (o) => ({ type: str(o.type) }),
  '/namespaces': (o) => ({ 'status.phase': ((o.status ?? {}) as { phase?: string }).phase ?? '' }),
  '/events': (o) => {
    const io = (o.involvedObject ?? {}) as Record<string, string | undefined>;
    const src = (o.source ?? {}) as { component?: string };
    return {
      'involvedObject.kind': io.kind ?? '',
      'involvedObject.namespace': io.namespace ?? '',
      'involvedObject.name': io.name ?? '',
      'involvedObject.uid': io.uid ?? '',
      'involvedObject.apiVersion': io.apiVersion ?? '',
      'involvedObject.resourceVersion': io.resourceVersion ?? '',
      'involvedObject.fieldPath': io.fieldPath ?? '',
      reason: str(o.reason),
      reportingComponent: str(o.reportingComponent),
      source: src.component ?? '',
      type: str(o.type),
    };
  },
  'apps/replicasets': (o) => ({ 'status.replicas': String(((o.status ?? {}) as { replicas?: number }).replicas ?? 0) }),
  '/replicationcontrollers': (o) => ({ 'status.replicas': String(((o.status ?? {}) as { replicas?: number }).replicas ?? 0) }),
  'batch/jobs': (o) => ({ 'status.successful': String(((o.status ?? {}) as { succeeded?: number }).succeeded ?? 0) }),
};

/** Events expire an hour after their last write, as with kube-apiserver's default --event-ttl=1h. */
export const eventTTLSeconds = 3600;

/** The default strategy of a resource: its status split and generation tracking from the facts above. */
export function defaultStrategy(info: ResourceInfo): ResourceStrategy {
  const id = `${info.group}/${info.plural}`;
  const hasStatus = info.subresources.some((s) => s.name === 'status');
  const fields = selectable[id];
  return {
    info,
    hasStatus,
    tracksGeneration: generationTracked.has(id),
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    ...(hasStatus && info.plural !== 'namespaces' ? { prepareForCreate: (obj) => void delete obj.status } : {}),
    ...(fields ? { selectableFields: fields } : {}),
    ...(info.plural === 'events' ? { ttlSeconds: eventTTLSeconds } : {}),
  };
}

/** The strategies of every stored resource in the catalogue, by "group/plural" (one per storage prefix). */
export function builtinStrategies(overrides: ReadonlyMap<string, ResourceStrategy> = new Map()): Map<string, ResourceStrategy> {
  const out = new Map<string, ResourceStrategy>();
  for (const info of resources) {
    if (info.etcdPrefix === undefined) continue;
    const id = `${info.group}/${info.version}/${info.plural}`;
    out.set(id, overrides.get(id) ?? defaultStrategy(info));
  }
  return out;
}
