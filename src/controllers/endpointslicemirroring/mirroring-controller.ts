// The EndpointSlice mirroring controller (upstream's endpointslicemirroring): a Service without a selector
// whose Endpoints a user (or another controller) writes gets EndpointSlices mirroring them, one per
// address family and subset, so that consumers of slices (the proxy, DNS) see them. Endpoints labelled
// endpointslice.kubernetes.io/skip-mirror=true are left alone, as are services with a selector (the
// EndpointSlice controller's).
import type { EndpointPort, Endpoints } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ipFamilyOf } from '../../api/ip.js';
import type { Logger } from '../../base/log.js';
import type { KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { isStatus, metaNamespaceKey, splitMetaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import type { ServiceObject } from '../endpointslice/endpoints-util.js';
import { deletedObject } from '../endpointslice/endpoints-util.js';
import { managedByLabel, serviceNameLabel } from '../endpointslice/endpointslice-controller.js';

export const mirroringManagedBy = 'endpointslicemirroring-controller.k8s.io';
const skipMirrorLabel = 'endpointslice.kubernetes.io/skip-mirror';

type EndpointsObject = Endpoints & KubeObject;
type SliceObject = EndpointSlice & KubeObject;

const servicesRef = { group: '', version: 'v1', resource: 'services' };
const endpointsRef = { group: '', version: 'v1', resource: 'endpoints' };
const slicesRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };

/** Mirrors the Endpoints of selectorless services into EndpointSlices. */
export class EndpointSliceMirroringController implements Controller {
  readonly name: string = 'endpointslicemirroring';
  private readonly client: RESTClient;
  private readonly services: SharedInformer<ServiceObject>;
  private readonly endpoints: SharedInformer<EndpointsObject>;
  private readonly slices: SharedInformer<SliceObject>;
  private readonly queue = newQueue('endpointslice_mirroring');
  private readonly log: Logger;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log.with({ controller: 'endpointslicemirroring' });
    this.services = ctx.informers.informerFor<ServiceObject>(servicesRef);
    this.endpoints = ctx.informers.informerFor<EndpointsObject>(endpointsRef);
    this.slices = ctx.informers.informerFor<SliceObject>(slicesRef);
    const enqueue = (o: KubeObject): void => this.queue.add(metaNamespaceKey(o));
    for (const inf of [this.services, this.endpoints] as SharedInformer[]) {
      inf.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: (o) => enqueue(deletedObject(o)) });
    }
    this.slices.addEventHandler({
      onDelete: (o) => {
        const s = deletedObject(o);
        const svc = s.metadata?.labels?.[serviceNameLabel];
        if (svc && s.metadata?.labels?.[managedByLabel] === mirroringManagedBy) this.queue.add(`${s.metadata?.namespace ?? ''}/${svc}`);
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.services, this.endpoints, this.slices].map((i) => i.waitForSync(signal))).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, 5, (key) => this.sync(key), signal, this.log);
  }

  /** Level-triggered: the mirrored slices the service's Endpoints call for, by name. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const svc = this.services.lister.get(namespace, name);
    const ep = this.endpoints.lister.get(namespace, name);
    const mine = this.slices.lister
      .listNamespace(namespace)
      .filter((s) => s.metadata?.labels?.[serviceNameLabel] === name && s.metadata.labels[managedByLabel] === mirroringManagedBy);
    const wanted = new Map<string, { addressType: string; endpoints: Endpoint[]; ports: EndpointPort[] }>();
    const mirror = svc && !svc.spec?.selector && svc.spec?.type !== 'ExternalName' && ep && ep.metadata?.labels?.[skipMirrorLabel] !== 'true';
    if (mirror) {
      (ep.subsets ?? []).forEach((subset, i) => {
        const add = (ip: string, ready: boolean, hostname?: string, nodeName?: string): void => {
          const family = ipFamilyOf(ip);
          if (!family) return;
          const sliceName = `${name}-${i}-${family.toLowerCase()}`.slice(0, 253);
          let w = wanted.get(sliceName);
          if (!w) wanted.set(sliceName, (w = { addressType: family, endpoints: [], ports: (subset.ports ?? []).map((p) => ({ ...p })) }));
          const e: Endpoint = { addresses: [ip], conditions: { ready } };
          if (hostname) e.hostname = hostname;
          if (nodeName) e.nodeName = nodeName;
          w.endpoints.push(e);
        };
        for (const a of subset.addresses ?? []) add(a.ip, true, a.hostname, a.nodeName);
        for (const a of subset.notReadyAddresses ?? []) add(a.ip, false, a.hostname, a.nodeName);
      });
    }
    const ref = { ...slicesRef, namespace };
    for (const s of mine) {
      if (wanted.has(s.metadata?.name ?? '')) continue;
      await this.client.delete(ref, s.metadata?.name ?? '').catch((err: unknown) => {
        if (!isStatus(err, 'NotFound')) throw err;
      });
    }
    if (!svc) return;
    const labels = { [serviceNameLabel]: name, [managedByLabel]: mirroringManagedBy };
    for (const [sliceName, body] of wanted) {
      const cur = mine.find((s) => s.metadata?.name === sliceName);
      if (cur && JSON.stringify([cur.addressType, cur.endpoints ?? [], cur.ports ?? []]) === JSON.stringify([body.addressType, body.endpoints, body.ports])) continue;
      const obj = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: sliceName,
          namespace,
          labels,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name, uid: ep?.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
          ...(cur ? { resourceVersion: cur.metadata?.resourceVersion } : {}),
        },
        ...body,
      };
      if (cur) await this.client.update(ref, obj);
      else {
        await this.client.create(ref, obj).catch((err: unknown) => {
          // Made meanwhile: the cache catches up and the next sync compares.
          if (!isStatus(err, 'AlreadyExists')) throw err;
        });
      }
    }
  }
}
