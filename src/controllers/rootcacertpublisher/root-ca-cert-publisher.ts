// The root CA certificate publisher (upstream's root-ca-cert-publisher): every namespace holds the ConfigMap
// kube-root-ca.crt whose ca.crt is the CA bundle that verifies the API server, so that pods (through their
// kube-api-access volume) can trust it. A changed or deleted copy is put back.
import type { Logger } from '../../base/log.js';
import type { KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { isStatus } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';

const namespacesRef = { group: '', version: 'v1', resource: 'namespaces' };
const configMapsRef = { group: '', version: 'v1', resource: 'configmaps' };
/** The ConfigMap's name, as pods' projected volumes name it. */
export const rootCACertConfigMapName = 'kube-root-ca.crt';
/** The annotation upstream puts on it, with upstream's words (clients may show them). */
export const descriptionAnnotation = 'kubernetes.io/description';
export const rootCADescription =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

interface ConfigMapLike extends KubeObject {
  data?: Record<string, string>;
}

/** Keeps kube-root-ca.crt in every namespace. */
export class RootCACertPublisher implements Controller {
  readonly name = 'root-ca-cert-publisher';
  private readonly client: RESTClient;
  private readonly namespaces: SharedInformer;
  private readonly configMaps: SharedInformer<ConfigMapLike>;
  private readonly queue = newQueue('root_ca_cert_publisher');
  private readonly log: Logger;
  private readonly rootCA: string | undefined;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log.with({ controller: this.name });
    // Without a CA (a manager talking plain HTTP, as in tests) there is nothing to publish.
    this.rootCA = ctx.config?.rootCA ?? ctx.client.config.ca;
    this.namespaces = ctx.informers.informerFor(namespacesRef);
    this.configMaps = ctx.informers.informerFor<ConfigMapLike>(configMapsRef);
    const byNamespace = (obj: KubeObject): void => this.queue.add(obj.metadata?.name ?? '');
    this.namespaces.addEventHandler({ onAdd: byNamespace, onUpdate: (_o, obj) => byNamespace(obj) });
    const byConfigMap = (obj: KubeObject): void => {
      if (obj.metadata?.name === rootCACertConfigMapName) this.queue.add(obj.metadata.namespace ?? '');
    };
    this.configMaps.addEventHandler({
      onUpdate: (_o, obj) => byConfigMap(obj),
      onDelete: (obj) => byConfigMap('obj' in obj ? (obj.obj as KubeObject) : obj),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.namespaces.waitForSync(signal), this.configMaps.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    if (this.rootCA === undefined) {
      this.log.info('no root CA to publish: idle', {}, 1);
      this.queue.shutDown();
      return;
    }
    await runWorkers(this.queue, 1, (key) => this.sync(key), signal, this.log);
  }

  /** Level-triggered: creates the ConfigMap, or puts its data and annotation back. */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.lister.get('', namespace);
    if (this.rootCA === undefined) return;
    if (!ns || ns.metadata?.deletionTimestamp || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating') return;
    const ref = { ...configMapsRef, namespace };
    const data = { 'ca.crt': this.rootCA };
    const cm = this.configMaps.lister.get(namespace, rootCACertConfigMapName);
    if (!cm) {
      try {
        await this.client.create(ref, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: rootCACertConfigMapName, annotations: { [descriptionAnnotation]: rootCADescription } },
          data,
        });
      } catch (err) {
        // Made meanwhile, or the namespace is gone or going: the next event says what to do.
        if (isStatus(err, 'AlreadyExists') || isStatus(err, 'NotFound') || isStatus(err, 'Forbidden')) return;
        throw err;
      }
      return;
    }
    const annotations = cm.metadata?.annotations ?? {};
    const same = Object.keys(cm.data ?? {}).length === 1 && cm.data?.['ca.crt'] === this.rootCA;
    if (same && (annotations[descriptionAnnotation] ?? '') !== '') return;
    const updated = {
      ...cm,
      metadata: { ...cm.metadata, annotations: { ...annotations, [descriptionAnnotation]: annotations[descriptionAnnotation] || rootCADescription } },
      data,
    };
    try {
      await this.client.update(ref, updated);
    } catch (err) {
      if (isStatus(err, 'NotFound')) return;
      throw err;
    }
  }
}
