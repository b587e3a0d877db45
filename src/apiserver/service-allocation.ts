// Service allocation in the API server: the default ServiceCIDR "kubernetes" made from --service-cidr
// (upstream's defaultservicecidr controller, every 10 s), the allocator's candidate bitmaps kept in step with
// the IPAddress objects through the watch cache, and the repair of allocations at start (before the server
// serves) and then periodically (upstream's RepairIPAddress and node port repair, every 3 minutes).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { onAbort } from '../base/abort.js';
import type { Logger } from '../base/log.js';
import { isStatusError } from '../apimachinery/errors/status-error.js';
import type { ServiceAllocator } from '../registry/core/service-allocator.js';
import type { RepairEvent } from '../registry/core/service-allocation-repair.js';
import { ServiceAllocationRepair } from '../registry/core/service-allocation-repair.js';
import { formatTime } from '../registry/generic/registry-store.js';
import type { KObject, RegistryStore } from '../registry/generic/index.js';
import type { ServiceCIDRObject } from '../registry/networking/servicecidrs.js';
import { defaultServiceCIDRName } from '../registry/networking/servicecidrs.js';
import type { WatchCache } from './watch-cache/watch-cache.js';

/** How often the default ServiceCIDR is checked (upstream: 10 s, as the kubernetes Service). */
export const defaultServiceCIDRSyncMs = 10_000;
/** How often the allocations are repaired (upstream's service repair interval: 3 minutes). */
export const serviceRepairIntervalMs = 3 * 60_000;

const repairController = 'ipallocator-repair-controller';

export interface ServiceAllocationOptions {
  allocator: ServiceAllocator;
  services: RegistryStore;
  ipAddresses: RegistryStore;
  serviceCIDRs: RegistryStore;
  events: RegistryStore | undefined;
  cache: WatchCache;
  /** The flags' service CIDRs, the primary first. */
  cidrs: readonly string[];
  repairIntervalMs?: number;
  now: () => Date;
  log: Logger;
}

/** Creates the default ServiceCIDR, upgrades it to dual-stack when the flags did, and marks it Ready. */
export async function syncDefaultServiceCIDR(
  reg: RegistryStore,
  cidrs: readonly string[],
  now: () => Date,
  log: Logger,
  reported: { mismatch?: boolean } = {},
): Promise<void> {
  let cur: ServiceCIDRObject | undefined = await reg.get('', defaultServiceCIDRName).catch((err: unknown) => {
    if (isStatusError(err, 'NotFound')) return undefined;
    throw err;
  });
  if (cur === undefined) {
    log.info('creating the default ServiceCIDR', { cidrs });
    try {
      cur = await reg.create('', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'ServiceCIDR',
        metadata: { name: defaultServiceCIDRName },
        spec: { cidrs: [...cidrs] },
      });
    } catch (err) {
      if (!isStatusError(err, 'AlreadyExists')) throw err;
      cur = await reg.get('', defaultServiceCIDRName);
    }
  }
  const stored = cur.spec?.cidrs ?? [];
  if (cidrs.length === 2 && stored.length === 1 && stored[0] === cidrs[0]) {
    log.info('updating the default ServiceCIDR from single-stack to dual-stack', { from: stored, to: cidrs });
    await reg.guaranteedUpdate('', defaultServiceCIDRName, (obj) => ({ ...obj, spec: { ...(obj.spec as object), cidrs: [...cidrs] } }));
    return;
  }
  if (cur.metadata?.deletionTimestamp) return;
  if (JSON.stringify(stored) !== JSON.stringify(cidrs)) {
    // Said once, as upstream's controller reports it once.
    if (!reported.mismatch) log.warn('the default ServiceCIDR does not match --service-cidr; change the flag or delete the ServiceCIDR', { serviceCIDR: stored, flags: cidrs });
    reported.mismatch = true;
    return;
  }
  const ready = (cur.status?.conditions ?? []).find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'Unknown') return;
  await reg.guaranteedUpdate(
    '',
    defaultServiceCIDRName,
    (obj) => {
      const status = ((obj as ServiceCIDRObject).status ??= {});
      const others = (status.conditions ?? []).filter((c) => c.type !== 'Ready');
      status.conditions = [...others, { type: 'Ready', status: 'True', lastTransitionTime: formatTime(now()), reason: '', message: 'Kubernetes default Service CIDR is ready' }];
      return obj;
    },
    { subresource: 'status' },
  );
}

/** A Warning event of the repair, as upstream's events.k8s.io recorder writes it. */
function repairEvent(e: RepairEvent, now: Date): KObject {
  const meta = e.object.metadata ?? {};
  const namespace = meta.namespace ?? 'default';
  const micro = now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `${(meta.name ?? '').replace(/:/g, '-')}.${randomBytes(8).toString('hex')}`, namespace },
    eventTime: micro,
    reportingController: repairController,
    reportingInstance: `${repairController}-${hostname()}`,
    action: e.action,
    reason: e.reason,
    regarding: {
      kind: e.kind,
      apiVersion: e.kind === 'Service' ? 'v1' : 'networking.k8s.io/v1',
      ...(meta.namespace ? { namespace: meta.namespace } : {}),
      name: meta.name ?? '',
      uid: meta.uid ?? '',
      resourceVersion: meta.resourceVersion ?? '',
    },
    note: e.message,
    type: 'Warning',
  };
}

/** Feeds every object of a resource in the watch cache, then each change, to `observe` until `signal` aborts. */
function follow(cache: WatchCache, reg: RegistryStore, signal: AbortSignal, observe: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject) => void): void {
  const resourceCache = cache.cacheFor(reg);
  if (!resourceCache) return;
  const prefix = reg.keyPrefix('');
  for (const { object } of resourceCache.list(prefix)) observe('ADDED', object);
  const sub = resourceCache.subscribe(prefix, cache.currentRevision, (events) => {
    for (const e of events) observe(e.type, e.object);
  });
  if (sub) onAbort(signal, () => sub.cancel());
}

/**
 * Starts service allocation: the default ServiceCIDR, the bitmaps from the IPAddresses in the watch cache
 * (then following their changes), one repair; then the periodic work until `signal` aborts.
 */
export async function startServiceAllocation(o: ServiceAllocationOptions, signal: AbortSignal): Promise<void> {
  // The IPAddresses first, so that the ranges of ServiceCIDRs start with their addresses marked.
  follow(o.cache, o.ipAddresses, signal, (type, obj) => o.allocator.observeIPAddress(type, obj));
  follow(o.cache, o.serviceCIDRs, signal, (type, obj) => o.allocator.observeServiceCIDR(type, obj));
  const reported = {};
  await syncDefaultServiceCIDR(o.serviceCIDRs, o.cidrs, o.now, o.log, reported);
  const repair = new ServiceAllocationRepair({
    allocator: o.allocator,
    services: o.services,
    ipAddresses: o.ipAddresses,
    serviceCIDRs: o.serviceCIDRs,
    now: o.now,
    log: o.log,
    record: async (e) => {
      await o.events?.create(e.object.metadata?.namespace ?? 'default', repairEvent(e, o.now()));
    },
  });
  const first = await repair.runOnce();
  o.log.info('service allocations repaired', { created: first.ipAddressesCreated, deleted: first.ipAddressesDeleted, portsFreed: first.portsFreed }, 1);
  const cidrTimer = setInterval(() => {
    syncDefaultServiceCIDR(o.serviceCIDRs, o.cidrs, o.now, o.log, reported).catch((err: unknown) => {
      o.log.warn('syncing the default ServiceCIDR failed', { error: err instanceof Error ? err.message : String(err) });
    });
  }, defaultServiceCIDRSyncMs);
  let repairing = false;
  const repairTimer = setInterval(() => {
    if (repairing) return;
    repairing = true;
    repair
      .runOnce()
      .catch((err: unknown) => o.log.warn('repairing service allocations failed', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => (repairing = false));
  }, o.repairIntervalMs ?? serviceRepairIntervalMs);
  cidrTimer.unref();
  repairTimer.unref();
  onAbort(signal, () => {
    clearInterval(cidrTimer);
    clearInterval(repairTimer);
  });
}
