// Shared informers for the controller manager: one informer per resource however many controllers watch
// it, as client-go's SharedInformerFactory does, so that the API server sees one list+watch per resource.
import type { KubeObject, ResourceRef, RESTClient, SharedInformerOptions } from '../../client/index.js';
import { SharedInformer } from '../../client/index.js';

/** Hands out one informer per resource and starts them together. */
export class InformerFactory {
  private readonly client: RESTClient;
  private readonly informers = new Map<string, SharedInformer>();
  private readonly options: SharedInformerOptions<KubeObject>;
  private started: AbortSignal | undefined;

  constructor(client: RESTClient, options: SharedInformerOptions<KubeObject> = {}) {
    this.client = client;
    this.options = options;
  }

  /** The informer of a resource (all namespaces), made on first request. */
  informerFor<T extends KubeObject = KubeObject>(ref: ResourceRef): SharedInformer<T> {
    const key = `${ref.group}/${ref.version}/${ref.resource}`;
    let inf = this.informers.get(key);
    if (!inf) {
      const { namespace: _namespace, ...allNamespaces } = ref;
      inf = SharedInformer.forResource(this.client, allNamespaces, this.options);
      this.informers.set(key, inf);
      // Informers asked for after start() start at once.
      if (this.started) void inf.run(this.started);
    }
    return inf as unknown as SharedInformer<T>;
  }

  /** Starts every informer made so far (and any made later) until the signal aborts. */
  start(signal: AbortSignal): void {
    this.started = signal;
    for (const inf of this.informers.values()) void inf.run(signal);
  }

  /** Resolves once every informer made so far has listed once. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((inf) => inf.waitForSync(signal)));
  }
}
