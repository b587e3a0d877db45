// The service account controller (upstream's ServiceAccountsController): every active namespace has a
// ServiceAccount named "default"; one that goes missing is made again.
import type { Logger } from '../../base/log.js';
import type { KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { isStatus } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';

const namespacesRef = { group: '', version: 'v1', resource: 'namespaces' };
const serviceAccountsRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
/** The service accounts every namespace gets (upstream's --service-account... default list). */
const managedNames = ['default'];

/** Keeps the default ServiceAccount in every namespace. */
export class ServiceAccountController implements Controller {
  readonly name = 'serviceaccount';
  private readonly client: RESTClient;
  private readonly namespaces: SharedInformer;
  private readonly serviceAccounts: SharedInformer;
  private readonly queue = newQueue('serviceaccount');
  private readonly log: Logger;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log.with({ controller: 'serviceaccount' });
    this.namespaces = ctx.informers.informerFor(namespacesRef);
    this.serviceAccounts = ctx.informers.informerFor(serviceAccountsRef);
    const byNamespace = (obj: KubeObject): void => this.queue.add(obj.metadata?.name ?? '');
    this.namespaces.addEventHandler({ onAdd: byNamespace, onUpdate: (_o, obj) => byNamespace(obj) });
    // A deleted default ServiceAccount brings its namespace back onto the queue.
    this.serviceAccounts.addEventHandler({
      onDelete: (obj) => {
        const o = 'obj' in obj ? (obj.obj as KubeObject) : obj;
        if (managedNames.includes(o.metadata?.name ?? '')) this.queue.add(o.metadata?.namespace ?? '');
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.namespaces.waitForSync(signal), this.serviceAccounts.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, 5, (key) => this.sync(key), signal, this.log);
  }

  /** Level-triggered: creates whichever managed ServiceAccounts the namespace lacks. */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.lister.get('', namespace);
    if (!ns || ns.metadata?.deletionTimestamp || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating') return;
    for (const name of managedNames) {
      if (this.serviceAccounts.lister.get(namespace, name)) continue;
      try {
        await this.client.create({ ...serviceAccountsRef, namespace }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
      } catch (err) {
        // Made meanwhile (by us in another worker, or by someone else): nothing to do.
        if (isStatus(err, 'AlreadyExists') || isStatus(err, 'Forbidden')) continue;
        throw err;
      }
    }
  }
}
