// Subresources that are not the status split: scale (autoscaling/v1 Scale over a workload's replicas),
// pods/binding (the scheduler's write), and the kubelet-backed pods/log, exec, attach and portforward, which
// the kubelet serves (see kubelet-proxy.ts). pods/eviction is in eviction.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatLabelSelector } from '../../api/labels.js';
import type { ResourceInfo } from '../../api/resources.js';
import { apiErrors } from '../../apimachinery/errors/status-error.js';
import type { KObject, RegistryStore } from '../../registry/generic/index.js';
import { formatTime } from '../../registry/generic/index.js';
import { mediaType, readBody, writeJson } from '../http/respond.js';
import type { KubeletProxy } from './kubelet-proxy.js';
import type { ResourceRequestInfo } from '../request-info.js';
import { applyPatchBody } from './apply-patch.js';
import { decodeObjectBody } from './resource-handler.js';

/** A workload's spec.selector as Scale's status.selector string (RCs keep a plain map). */
function selectorString(obj: KObject): string {
  const sel = (obj.spec as { selector?: unknown } | undefined)?.selector;
  if (sel === undefined || sel === null) return '';
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  if (s.matchLabels === undefined && s.matchExpressions === undefined) {
    return formatLabelSelector({ matchLabels: sel as Record<string, string> });
  }
  return formatLabelSelector(s as Parameters<typeof formatLabelSelector>[0]);
}

/** The Scale view of a workload. */
export function scaleOf(obj: KObject): KObject {
  const meta = obj.metadata ?? {};
  const spec = (obj.spec ?? {}) as { replicas?: number };
  const status = (obj.status ?? {}) as { replicas?: number };
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: selectorString(obj) },
  };
}

/** GET, PUT and PATCH of <workload>/scale. */
export async function serveScale(req: IncomingMessage, res: ServerResponse, reg: RegistryStore, ri: ResourceRequestInfo): Promise<void> {
  if (ri.verb === 'get') return writeJson(res, 200, scaleOf(await reg.get(ri.namespace, ri.name)));
  if (ri.verb !== 'update' && ri.verb !== 'patch') throw apiErrors.methodNotSupported({ group: reg.groupResource.group, resource: `${reg.groupResource.resource}/scale` }, ri.verb);
  const body = await readBody(req);
  const updated = await reg.guaranteedUpdate(ri.namespace, ri.name, (cur) => {
    const current = scaleOf(cur);
    const wanted =
      ri.verb === 'update' ? decodeObjectBody(body, req.headers['content-type']) : applyPatchBody(mediaType(req.headers['content-type']), current, body, undefined);
    const rv = wanted.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.metadata?.resourceVersion) {
      throw apiErrors.conflict(reg.groupResource, ri.name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const replicas = (wanted.spec as { replicas?: unknown } | undefined)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw apiErrors.invalid('autoscaling', 'Scale', ri.name, []);
    }
    return { ...cur, spec: { ...(cur.spec as object), replicas } };
  });
  writeJson(res, 200, scaleOf(updated));
}

const success = (code: number): unknown => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code });

/** POST pods/<name>/binding: assigns the pod to a node once, as the scheduler does. */
export async function serveBinding(
  req: IncomingMessage,
  res: ServerResponse,
  pods: RegistryStore,
  ri: ResourceRequestInfo,
  now: () => Date,
  cached?: KObject,
): Promise<void> {
  if (ri.verb !== 'create') throw apiErrors.methodNotSupported({ group: '', resource: 'pods/binding' }, ri.verb);
  const binding = decodeObjectBody(await readBody(req), req.headers['content-type']);
  const target = (binding as { target?: { kind?: string; name?: string } }).target;
  if (!target?.name) throw apiErrors.invalid('', 'Binding', ri.name, []);
  const bindingGR = { group: '', resource: 'pods/binding' };
  await pods.guaranteedUpdate(ri.namespace, ri.name, (pod) => {
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (pod.metadata?.deletionTimestamp !== undefined) {
      throw apiErrors.conflict(bindingGR, ri.name, `pod ${ri.name} is being deleted, cannot be assigned to a host`);
    }
    if (spec.nodeName) {
      throw apiErrors.conflict(bindingGR, ri.name, `pod ${ri.name} is already assigned to node "${spec.nodeName}"`);
    }
    const status = (pod.status ?? {}) as { conditions?: { type: string }[] };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: formatTime(now()) } as never);
    // A copy of what changes (the stored pod itself is handed over; see UpdateOptions 'all').
    return { ...pod, metadata: { ...pod.metadata }, spec: { ...spec, nodeName: target.name }, status: { ...status, conditions } };
  }, { subresource: 'all', ...(cached ? { cached } : {}) });
  writeJson(res, 201, success(201));
}

/**
 * pods/log, exec, attach, portforward and proxy, asked without a protocol upgrade: logs stream from the
 * kubelet; the streaming ones need an upgrade (served by the API server's upgrade path); proxy is not routed.
 */
export async function serveKubeletSubresource(
  req: IncomingMessage,
  res: ServerResponse,
  pods: RegistryStore,
  kubelet: KubeletProxy,
  ri: ResourceRequestInfo,
  info: ResourceInfo,
  query: URLSearchParams,
): Promise<void> {
  if (ri.subresource === 'log') return kubelet.serveLog(req, res, ri, query);
  const pod = await pods.get(ri.namespace, ri.name);
  const node = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
  if (!node) throw apiErrors.badRequest(`pod ${ri.name} does not have a host assigned`);
  if (ri.subresource !== 'proxy') throw apiErrors.badRequest('Upgrade request required');
  throw apiErrors.serviceUnavailable(
    `${info.plural}/${ri.subresource} of pod ${ri.name} needs the kubelet on node "${node}", and this k8ts server does not route pods/proxy yet`,
  );
}
