// What the EndpointSlice and Endpoints controllers share (upstream's endpointutil and podutil parts): which
// pods a service selects, which of them belong in endpoints, a pod's addresses per family, named target
// ports resolved against the pod's containers, and the event handlers that map pod changes to services.
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { ipFamilyOf } from '../../api/ip.js';
import { LabelSelector } from '../../api/labels.js';
import type { KubeObject, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, metaNamespaceKey } from '../../client/index.js';

export type PodObject = Pod & KubeObject;
export type ServiceObject = Service & KubeObject;

/** The object of a delete notification, whether or not the informer saw the delete itself. */
export function deletedObject<T extends KubeObject>(obj: T | DeletedFinalStateUnknown<T>): T {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

/** True when the pod's Ready condition is True (podutil.IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Whether a pod belongs in a service's endpoints (endpointutil.ShouldPodBeInEndpoints): not finished, with
 * an address, and not terminating unless terminating pods are wanted.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (podIPs(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** The pod's addresses (status.podIPs, or podIP alone). */
export function podIPs(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

/** The pod's address of a family, if it has one. */
export function podIPOf(pod: Pod, family: string): string | undefined {
  return podIPs(pod).find((ip) => ipFamilyOf(ip) === family);
}

/** The families a service's endpoints have (its ipFamilies, or the family of its clusterIP for old objects). */
export function serviceFamilies(svc: Service): string[] {
  const fams = svc.spec?.ipFamilies ?? [];
  if (fams.length > 0) return [...fams];
  const ip = svc.spec?.clusterIP;
  if (ip && ip !== 'None') return [ipFamilyOf(ip) ?? 'IPv4'];
  return ['IPv4'];
}

/**
 * The container port a service port's targetPort names on this pod (podutil.FindPort): a number as it is,
 * a name looked up among the containers' ports with the same protocol; undefined when the pod has none.
 */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const cp of c.ports ?? []) if (cp.name === target && (cp.protocol ?? 'TCP') === protocol) return cp.containerPort;
  }
  return undefined;
}

/** True when the pod's hostname should be published for this service (StatefulSet-style DNS). */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace;
}

/** The pods of the service's namespace its selector matches. */
export function selectedPods(pods: SharedInformer<PodObject>, svc: Service): PodObject[] {
  const selector = svc.spec?.selector;
  if (!selector) return [];
  return pods.lister.listNamespace(svc.metadata?.namespace ?? '', LabelSelector.fromSet(selector));
}

/**
 * Enqueues, on every pod change, the services whose selectors match the pod before or after it (upstream's
 * GetPodServiceMemberships over old and new labels).
 */
export function enqueueServicesOfPods(
  pods: SharedInformer<PodObject>,
  services: SharedInformer<ServiceObject>,
  enqueue: (key: string) => void,
): void {
  const forPod = (pod: PodObject): void => {
    for (const svc of services.lister.listNamespace(pod.metadata?.namespace ?? '')) {
      const selector = svc.spec?.selector;
      if (selector && LabelSelector.fromSet(selector).matches(pod.metadata?.labels)) enqueue(metaNamespaceKey(svc));
    }
  };
  pods.addEventHandler({
    onAdd: forPod,
    onUpdate: (old, cur) => {
      if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
      forPod(cur);
      if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {})) forPod(old);
    },
    onDelete: (obj) => forPod(deletedObject(obj)),
  });
}
