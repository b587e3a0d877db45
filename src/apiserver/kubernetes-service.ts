// The default/kubernetes Service and its endpoints, as kube-apiserver's controlplane reconciler keeps them:
// the first address of the primary service CIDR, port 443 ("https") to the API server's port, and an
// Endpoints object and EndpointSlice that list the API server's advertised address. Reconciled at start and
// every ten seconds, so that an edit or a delete by a user is put back.
import { onAbort } from '../base/abort.js';
import { ipFamilyOf } from '../api/ip.js';
import { StatusError } from '../apimachinery/errors/status-error.js';
import type { Logger } from '../base/log.js';
import type { KObject, RegistryStore } from '../registry/generic/index.js';

/** How often upstream's reconciler runs (--endpoint-reconciler-type=lease aside, 10 s). */
export const kubernetesServiceReconcileMs = 10_000;

export interface KubernetesServiceOptions {
  services: RegistryStore;
  endpoints: RegistryStore;
  endpointSlices: RegistryStore;
  /** The service's cluster IP: the first address of the primary service CIDR. */
  serviceIP: string;
  /** The API server's address others reach it on, and its port. */
  advertiseAddress: string;
  port: number;
  log: Logger;
}

const name = 'kubernetes';
const namespace = 'default';
const labels = { component: 'apiserver', provider: 'kubernetes' };

function isStatus(err: unknown, reason: string): boolean {
  return err instanceof StatusError && err.reason === reason;
}

/** Creates or corrects the kubernetes Service, Endpoints and EndpointSlice. */
export async function reconcileKubernetesService(o: KubernetesServiceOptions): Promise<void> {
  const port = { name: 'https', port: 443, protocol: 'TCP', targetPort: o.port };
  const service: KObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels },
    spec: { type: 'ClusterIP', clusterIP: o.serviceIP, ports: [port], sessionAffinity: 'None', ipFamilyPolicy: 'SingleStack' },
  };
  await ensure(o.services, service, (cur) => {
    const spec = (cur.spec ?? {}) as { ports?: unknown[]; type?: string };
    if (spec.type === 'ClusterIP' && JSON.stringify(spec.ports) === JSON.stringify([port])) return undefined;
    return { ...cur, spec: { ...spec, type: 'ClusterIP', ports: [port] } };
  });
  // Endpoints may not name a loopback address: a server on loopback alone has none.
  if (o.advertiseAddress.startsWith('127.') || o.advertiseAddress === '::1') return;
  const epPort = { name: 'https', port: o.port, protocol: 'TCP' };
  const subsets = [{ addresses: [{ ip: o.advertiseAddress }], ports: [epPort] }];
  await ensure(
    o.endpoints,
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets },
    (cur) => (JSON.stringify(cur.subsets) === JSON.stringify(subsets) ? undefined : { ...cur, subsets }),
  );
  const slice = {
    addressType: ipFamilyOf(o.advertiseAddress) ?? 'IPv4',
    endpoints: [{ addresses: [o.advertiseAddress], conditions: { ready: true } }],
    ports: [epPort],
  };
  await ensure(
    o.endpointSlices,
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace, labels: { 'kubernetes.io/service-name': name } }, ...slice },
    (cur) =>
      JSON.stringify([cur.addressType, cur.endpoints, cur.ports]) === JSON.stringify([slice.addressType, slice.endpoints, slice.ports])
        ? undefined
        : { ...cur, ...slice },
  );
}

/** Creates the object, or applies `fix` to the stored one when it says something must change. */
async function ensure(registry: RegistryStore, obj: KObject, fix: (cur: KObject) => KObject | undefined): Promise<void> {
  // Read first: a create of the Service would try to allocate its address again.
  const exists = await registry.get(namespace, name).then(
    () => true,
    (err: unknown) => {
      if (isStatus(err, 'NotFound')) return false;
      throw err;
    },
  );
  if (!exists) {
    try {
      await registry.create(namespace, obj);
      return;
    } catch (err) {
      // Another API server on the same store may have made it meanwhile (its address is then taken, which
      // refuses our create as Invalid rather than AlreadyExists).
      const nowExists = await registry.get(namespace, name).then(() => true, () => false);
      if (!nowExists) throw err;
    }
  }
  await registry.guaranteedUpdate(namespace, name, (cur) => fix(cur) ?? cur);
}

/** Runs the reconciler until the signal aborts; failures are logged and retried on the next round. */
export function runKubernetesServiceReconciler(o: KubernetesServiceOptions, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const round = async (): Promise<void> => {
      try {
        await reconcileKubernetesService(o);
      } catch (err) {
        o.log.warn('reconciling the kubernetes service failed', { error: err instanceof Error ? err.message : String(err) });
      }
    };
    const timer = setInterval(() => void round(), kubernetesServiceReconcileMs);
    timer.unref();
    onAbort(signal, () => {
      clearInterval(timer);
      resolve();
    });
  });
}
