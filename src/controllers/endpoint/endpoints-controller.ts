// The Endpoints controller (upstream's endpoint controller): the legacy core/v1 Endpoints object of every
// Service with a selector, with ready pods in addresses and the others in notReadyAddresses (all in
// addresses with publishNotReadyAddresses), subsets packed by port set as upstream's RepackSubsets does,
// the primary family's addresses only, terminating pods left out unless publishNotReadyAddresses.
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import type { KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import type { PodObject, ServiceObject } from '../endpointslice/endpoints-util.js';
import {
  deletedObject,
  enqueueServicesOfPods,
  findPort,
  isPodReady,
  podIPOf,
  selectedPods,
  serviceFamilies,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from '../endpointslice/endpoints-util.js';

const servicesRef = { group: '', version: 'v1', resource: 'services' };
const podsRef = { group: '', version: 'v1', resource: 'pods' };
const endpointsRef = { group: '', version: 'v1', resource: 'endpoints' };
/** Upstream's annotation on Endpoints written for a headless service's label. */
const headlessLabel = 'service.kubernetes.io/headless';
/** Upstream caps an Endpoints object at 1000 addresses and says so in this annotation. */
const maxCapacity = 1000;
const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';

type EndpointsObject = Endpoints & KubeObject;

const byIP = (a: EndpointAddress, b: EndpointAddress): number => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);

/** Groups addresses by their port set into subsets, sorted as upstream sorts them. */
export function repackSubsets(entries: { address: EndpointAddress; ready: boolean; ports: EndpointPort[] }[]): EndpointSubset[] {
  const bySet = new Map<string, { ports: EndpointPort[]; ready: Map<string, EndpointAddress>; notReady: Map<string, EndpointAddress> }>();
  for (const e of entries) {
    const ports = [...e.ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    const key = JSON.stringify(ports);
    let g = bySet.get(key);
    if (!g) bySet.set(key, (g = { ports, ready: new Map(), notReady: new Map() }));
    (e.ready ? g.ready : g.notReady).set(e.address.ip, e.address);
  }
  const subsets: EndpointSubset[] = [];
  for (const g of bySet.values()) {
    const s: EndpointSubset = {};
    // An address both ready and not ready (two entries) counts as ready.
    for (const ip of g.ready.keys()) g.notReady.delete(ip);
    if (g.ready.size > 0) s.addresses = [...g.ready.values()].sort(byIP);
    if (g.notReady.size > 0) s.notReadyAddresses = [...g.notReady.values()].sort(byIP);
    if (g.ports.length > 0) s.ports = g.ports;
    subsets.push(s);
  }
  return subsets.sort((a, b) => JSON.stringify(a.ports ?? []).localeCompare(JSON.stringify(b.ports ?? [])));
}

/** Keeps the Endpoints objects of selector Services. */
export class EndpointsController implements Controller {
  readonly name: string = 'endpoint';
  private readonly client: RESTClient;
  private readonly services: SharedInformer<ServiceObject>;
  private readonly pods: SharedInformer<PodObject>;
  private readonly endpoints: SharedInformer<EndpointsObject>;
  private readonly queue = newQueue('endpoint');
  private readonly log: Logger;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log.with({ controller: 'endpoint' });
    this.services = ctx.informers.informerFor<ServiceObject>(servicesRef);
    this.pods = ctx.informers.informerFor<PodObject>(podsRef);
    this.endpoints = ctx.informers.informerFor<EndpointsObject>(endpointsRef);
    const enqueue = (key: string): void => this.queue.add(key);
    const bySvc = (svc: ServiceObject): void => enqueue(metaNamespaceKey(svc));
    this.services.addEventHandler({ onAdd: bySvc, onUpdate: (_o, n) => bySvc(n), onDelete: (o) => bySvc(deletedObject(o)) });
    enqueueServicesOfPods(this.pods, this.services, enqueue);
    // An Endpoints object deleted by someone else is made again.
    this.endpoints.addEventHandler({ onDelete: (o) => enqueue(metaNamespaceKey(deletedObject(o))) });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.services, this.pods, this.endpoints].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, 5, (key) => this.sync(key), signal, this.log);
  }

  /** Level-triggered: the Endpoints object the service should have, written when it differs. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const ref = { ...endpointsRef, namespace };
    const svc = this.services.lister.get(namespace, name);
    if (!svc) {
      // The Endpoints of a deleted service go with it (upstream deletes them by name).
      try {
        await this.client.delete(ref, name);
      } catch (err) {
        if (!isStatus(err, 'NotFound')) throw err;
      }
      return;
    }
    if (!svc.spec?.selector || svc.spec.type === 'ExternalName') return;
    const publishNotReady = svc.spec.publishNotReadyAddresses === true;
    const family = serviceFamilies(svc)[0] ?? 'IPv4';
    const entries: { address: EndpointAddress; ready: boolean; ports: EndpointPort[] }[] = [];
    for (const pod of selectedPods(this.pods, svc)) {
      if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
      const ip = podIPOf(pod, family);
      if (!ip) continue;
      const address: EndpointAddress = {
        ip,
        targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
      };
      if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
      if (shouldSetHostname(pod, svc)) address.hostname = pod.spec?.hostname;
      const ports: EndpointPort[] = [];
      for (const sp of svc.spec.ports ?? []) {
        const port = findPort(pod, sp);
        if (port === undefined) continue;
        const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
        if (sp.name) ep.name = sp.name;
        if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
        ports.push(ep);
      }
      // A headless service without ports still lists its pods.
      if (ports.length === 0 && (svc.spec.ports ?? []).length > 0) continue;
      entries.push({ address, ready: publishNotReady || isPodReady(pod), ports });
    }
    let subsets = repackSubsets(entries);
    const total = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
    const annotations: Record<string, string> = {};
    if (total > maxCapacity) {
      annotations[overCapacityAnnotation] = 'truncated';
      subsets = truncate(subsets, maxCapacity);
    }
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
    if (svc.spec.clusterIP === 'None') labels[headlessLabel] = '';
    else delete labels[headlessLabel];
    const current = this.endpoints.lister.get(namespace, name);
    const body = { subsets };
    if (!current) {
      try {
        await this.client.create(ref, {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name, namespace, labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
          ...body,
        });
      } catch (err) {
        // The cache is behind: the next sync sees the object and updates it.
        if (isStatus(err, 'AlreadyExists')) throw new Error(`endpoints ${key} exist but are not in the cache yet`);
        throw err;
      }
      return;
    }
    const curAnnotations = { ...(current.metadata?.annotations ?? {}) };
    delete curAnnotations[overCapacityAnnotation];
    const wantAnnotations = { ...curAnnotations, ...annotations };
    if (
      JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) &&
      JSON.stringify(current.metadata?.labels ?? {}) === JSON.stringify(labels) &&
      JSON.stringify(current.metadata?.annotations ?? {}) === JSON.stringify(wantAnnotations)
    ) {
      return;
    }
    await this.client.update(ref, { ...current, metadata: { ...current.metadata, labels, annotations: wantAnnotations }, ...body });
  }
}

/** Keeps the first `max` addresses, ready ones first (upstream's truncateEndpoints keeps a share per subset). */
function truncate(subsets: EndpointSubset[], max: number): EndpointSubset[] {
  let left = max;
  return subsets.map((s) => {
    const out: EndpointSubset = { ...s };
    const ready = (s.addresses ?? []).slice(0, left);
    left -= ready.length;
    const notReady = (s.notReadyAddresses ?? []).slice(0, left);
    left -= notReady.length;
    if (ready.length > 0) out.addresses = ready;
    else delete out.addresses;
    if (notReady.length > 0) out.notReadyAddresses = notReady;
    else delete out.notReadyAddresses;
    return out;
  });
}
