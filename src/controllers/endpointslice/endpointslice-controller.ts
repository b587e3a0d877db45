// The EndpointSlice controller (upstream's endpointslice controller and its reconciler): for every Service
// with a selector, one set of slices per address family and per resolved port set, at most 100 endpoints a
// slice, endpoints with ready/serving/terminating conditions, nodeName, zone, hostname and targetRef. The
// reconciler keeps endpoints in the slice they are in (only changed slices are written), fills slices up
// to the limit with new endpoints before making another, and keeps one empty placeholder slice per family
// for a service without endpoints.
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import type { KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import type { PodObject, ServiceObject } from './endpoints-util.js';
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
} from './endpoints-util.js';

export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const managedByValue = 'endpointslice-controller.k8s.io';
/** How long a sync waits for the cache to show this controller's own writes. */
const expectationTimeoutMs = 10_000;
/** Upstream's --max-endpoints-per-slice default. */
export const maxEndpointsPerSlice = 100;

const servicesRef = { group: '', version: 'v1', resource: 'services' };
const podsRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const slicesRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };

type SliceObject = EndpointSlice & KubeObject;

/** A slice's identity for the reconciler: its family and the key of its ports. */
const portsKey = (ports: readonly EndpointPort[]): string =>
  JSON.stringify([...ports].map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort());
const endpointKey = (e: Endpoint): string => e.targetRef?.uid ?? e.addresses.join(',');

/** Keeps the EndpointSlices of selector Services. */
export class EndpointSliceController implements Controller {
  readonly name: string = 'endpointslice';
  private readonly client: RESTClient;
  private readonly services: SharedInformer<ServiceObject>;
  private readonly pods: SharedInformer<PodObject>;
  private readonly nodes: SharedInformer<Node & KubeObject>;
  private readonly slices: SharedInformer<SliceObject>;
  private readonly queue = newQueue('endpoint_slice');
  private readonly log: Logger;
  private readonly maxPerSlice: number;
  /**
   * Slices this controller wrote that its cache has not shown yet, per service: name → resourceVersion, or
   * null for a delete (upstream's endpointSliceTracker). A sync waits for them, so a stale cache never makes
   * it create a slice twice.
   */
  private readonly written = new Map<string, Map<string, { rv: string | null; at: number }>>();

  constructor(ctx: ControllerContext, options: { maxEndpointsPerSlice?: number } = {}) {
    this.client = ctx.client;
    this.log = ctx.log.with({ controller: 'endpointslice' });
    this.maxPerSlice = options.maxEndpointsPerSlice ?? maxEndpointsPerSlice;
    this.services = ctx.informers.informerFor<ServiceObject>(servicesRef);
    this.pods = ctx.informers.informerFor<PodObject>(podsRef);
    this.nodes = ctx.informers.informerFor<Node & KubeObject>(nodesRef);
    this.slices = ctx.informers.informerFor<SliceObject>(slicesRef);
    const enqueue = (key: string): void => this.queue.add(key);
    const bySvc = (svc: ServiceObject): void => enqueue(metaNamespaceKey(svc));
    this.services.addEventHandler({ onAdd: bySvc, onUpdate: (_o, n) => bySvc(n), onDelete: (o) => bySvc(deletedObject(o)) });
    enqueueServicesOfPods(this.pods, this.services, enqueue);
    // A slice someone else changed or removed is put back.
    const bySlice = (s: SliceObject): void => {
      const labels = s.metadata?.labels ?? {};
      const svc = labels[serviceNameLabel];
      if (svc && labels[managedByLabel] === managedByValue) enqueue(`${s.metadata?.namespace ?? ''}/${svc}`);
    };
    this.slices.addEventHandler({ onUpdate: (_o, n) => bySlice(n), onDelete: (o) => bySlice(deletedObject(o)) });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.services, this.pods, this.nodes, this.slices].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, 5, (key) => this.sync(key), signal, this.log);
  }

  /** The slices this controller manages for a service. */
  private ownSlices(namespace: string, name: string): SliceObject[] {
    return this.slices.lister.listNamespace(namespace).filter((s) => {
      const l = s.metadata?.labels ?? {};
      return l[serviceNameLabel] === name && l[managedByLabel] === managedByValue;
    });
  }

  /** The endpoint a pod contributes for one family (upstream's podToEndpoint). */
  private endpointFor(pod: PodObject, svc: ServiceObject, ip: string): Endpoint {
    const serving = isPodReady(pod);
    const terminating = pod.metadata?.deletionTimestamp !== undefined;
    const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
    const ep: Endpoint = {
      addresses: [ip],
      conditions: { ready, serving, terminating },
      targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
    };
    const nodeName = pod.spec?.nodeName;
    if (nodeName) {
      ep.nodeName = nodeName;
      const zone = this.nodes.lister.get('', nodeName)?.metadata?.labels?.['topology.kubernetes.io/zone'];
      if (zone) ep.zone = zone;
    }
    if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec?.hostname;
    return ep;
  }

  /** True when the cache shows every slice write made for the service. */
  private cacheCaughtUp(key: string, namespace: string): boolean {
    const w = this.written.get(key);
    if (!w) return true;
    const now = Date.now();
    for (const [name, { rv, at }] of w) {
      const cur = this.slices.lister.get(namespace, name);
      const seen = rv === null ? cur === undefined : cur !== undefined && Number(cur.metadata?.resourceVersion) >= Number(rv);
      // A write the cache never shows (the slice went again at once) stops being waited for after a while.
      if (seen || now - at > expectationTimeoutMs) w.delete(name);
    }
    if (w.size > 0) return false;
    this.written.delete(key);
    return true;
  }

  private note(key: string, name: string, rv: string | null): void {
    let w = this.written.get(key);
    if (!w) this.written.set(key, (w = new Map<string, { rv: string | null; at: number }>()));
    w.set(name, { rv, at: Date.now() });
  }

  /** Level-triggered: the slices the service should have, written where they differ. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    if (!this.cacheCaughtUp(key, namespace)) {
      this.queue.addAfter(key, 50);
      return;
    }
    const svc = this.services.lister.get(namespace, name);
    const existing = this.ownSlices(namespace, name);
    if (!svc || svc.metadata?.deletionTimestamp || svc.spec?.type === 'ExternalName' || !svc.spec?.selector) {
      // Selectorless services are the mirroring controller's; a deleted service's slices go with it.
      if (!svc || svc.metadata?.deletionTimestamp || svc.spec?.type === 'ExternalName') {
        for (const s of existing) await this.deleteSlice(key, s);
      }
      return;
    }
    // Desired endpoints grouped by family and port set.
    const groups = new Map<string, { family: string; ports: EndpointPort[]; endpoints: Endpoint[] }>();
    const families = serviceFamilies(svc);
    for (const fam of families) groups.set(`${fam}|[]`, { family: fam, ports: [], endpoints: [] });
    const placeholders = new Set(groups.keys());
    for (const pod of selectedPods(this.pods, svc)) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ports: EndpointPort[] = [];
      for (const sp of svc.spec.ports ?? []) {
        const port = findPort(pod, sp);
        if (port === undefined) continue;
        const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
        if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
        ports.push(ep);
      }
      for (const fam of families) {
        const ip = podIPOf(pod, fam);
        if (!ip) continue;
        const gk = `${fam}|${portsKey(ports)}`;
        let g = groups.get(gk);
        if (!g) groups.set(gk, (g = { family: fam, ports, endpoints: [] }));
        g.endpoints.push(this.endpointFor(pod, svc, ip));
        placeholders.delete(`${fam}|[]`);
      }
    }
    // A family with endpoints somewhere needs no placeholder.
    for (const [gk, g] of groups) if (g.endpoints.length === 0 && !placeholders.has(gk)) groups.delete(gk);
    for (const gk of placeholders) {
      const fam = groups.get(gk)!.family;
      if ([...groups.values()].some((g) => g.family === fam && g.endpoints.length > 0)) groups.delete(gk);
    }
    const unused = new Set(existing);
    for (const g of groups.values()) {
      const mine = existing.filter((s) => s.addressType === g.family && portsKey(s.ports ?? []) === portsKey(g.ports));
      for (const s of mine) unused.delete(s);
      await this.reconcileGroup(key, svc, g, mine);
    }
    for (const s of unused) await this.deleteSlice(key, s);
  }

  /** Writes one family and port set's slices, keeping endpoints where they are. */
  private async reconcileGroup(
    key: string,
    svc: ServiceObject,
    g: { family: string; ports: EndpointPort[]; endpoints: Endpoint[] },
    current: SliceObject[],
  ): Promise<void> {
    const desired = new Map(g.endpoints.map((e) => [endpointKey(e), e]));
    const placed = new Set<string>();
    const plans: { slice?: SliceObject; endpoints: Endpoint[] }[] = [];
    for (const s of current) {
      const keep: Endpoint[] = [];
      for (const e of s.endpoints ?? []) {
        const k = endpointKey(e);
        const want = desired.get(k);
        if (want && !placed.has(k) && keep.length < this.maxPerSlice) {
          keep.push(want);
          placed.add(k);
        }
      }
      plans.push({ slice: s, endpoints: keep });
    }
    const fresh = g.endpoints.filter((e) => !placed.has(endpointKey(e)));
    // New endpoints fill the fullest slices that have room, then new slices.
    for (const plan of [...plans].sort((a, b) => b.endpoints.length - a.endpoints.length)) {
      while (fresh.length > 0 && plan.endpoints.length < this.maxPerSlice && plan.endpoints.length > 0) plan.endpoints.push(fresh.shift()!);
    }
    for (const plan of plans) {
      while (fresh.length > 0 && plan.endpoints.length < this.maxPerSlice) plan.endpoints.push(fresh.shift()!);
    }
    while (fresh.length > 0) plans.push({ endpoints: fresh.splice(0, this.maxPerSlice) });
    if (plans.length === 0) plans.push({ endpoints: [] });
    // An empty group keeps one (placeholder) slice; otherwise empty slices go.
    let keptEmpty = g.endpoints.length > 0;
    for (const plan of plans) {
      if (plan.endpoints.length === 0) {
        if (keptEmpty) {
          if (plan.slice) await this.deleteSlice(key, plan.slice);
          continue;
        }
        keptEmpty = true;
      }
      await this.writeSlice(key, svc, g, plan.slice, plan.endpoints);
    }
  }

  private desiredLabels(svc: ServiceObject): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) {
      if (k !== serviceNameLabel && k !== managedByLabel) labels[k] = v;
    }
    if (svc.spec?.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    labels[serviceNameLabel] = svc.metadata?.name ?? '';
    labels[managedByLabel] = managedByValue;
    return labels;
  }

  private async writeSlice(
    key: string,
    svc: ServiceObject,
    g: { family: string; ports: EndpointPort[] },
    slice: SliceObject | undefined,
    endpoints: Endpoint[],
  ): Promise<void> {
    const namespace = svc.metadata?.namespace ?? '';
    const labels = this.desiredLabels(svc);
    const body = { addressType: g.family, endpoints, ports: g.ports };
    if (slice) {
      const same =
        JSON.stringify(slice.endpoints ?? []) === JSON.stringify(endpoints) &&
        JSON.stringify(slice.metadata?.labels ?? {}) === JSON.stringify(labels);
      if (same) return;
      const out = await this.client.update({ ...slicesRef, namespace }, { ...slice, metadata: { ...slice.metadata, labels }, ...body });
      this.note(key, out.metadata?.name ?? '', out.metadata?.resourceVersion ?? '0');
      return;
    }
    const svcName = svc.metadata?.name ?? '';
    const out: KubeObject = await this.client.create({ ...slicesRef, namespace }, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        generateName: `${svcName.slice(0, 57)}-`,
        namespace,
        labels,
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svcName, uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      ...body,
    });
    this.note(key, out.metadata?.name ?? '', out.metadata?.resourceVersion ?? '0');
  }

  private async deleteSlice(key: string, s: SliceObject): Promise<void> {
    this.note(key, s.metadata?.name ?? '', null);
    try {
      await this.client.delete({ ...slicesRef, namespace: s.metadata?.namespace ?? '' }, s.metadata?.name ?? '', {
        preconditions: { uid: s.metadata?.uid ?? '' },
      });
    } catch (err) {
      if (!isStatus(err, 'NotFound') && !isStatus(err, 'Conflict')) throw err;
    }
  }
}
