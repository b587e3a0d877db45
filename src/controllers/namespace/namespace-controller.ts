// The namespace controller (upstream's NamespaceController with its NamespacedResourcesDeleter): when a
// namespace is being deleted it deletes everything in it, reports progress in the namespace's conditions,
// and once nothing is left removes the "kubernetes" finalizer (namespaces/finalize) and deletes the
// namespace for good.
import { resources } from '../../api/resources.js';
import type { Logger } from '../../base/log.js';
import type { KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { isStatus, metaNamespaceKey } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';

const namespacesRef = { group: '', version: 'v1', resource: 'namespaces' };
const finalizerKubernetes = 'kubernetes';
/** How long to wait before looking again while content is still going (pods with grace periods). */
const recheckMs = 2000;

interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** Every namespaced resource that can be listed and deleted, in catalogue order (each one once). */
const deletable = resources.filter(
  (r) => r.namespaced && r.etcdPrefix !== undefined && r.verbs.includes('list') && r.verbs.includes('delete'),
);

/** Empties and then removes namespaces that are being deleted. */
export class NamespaceController implements Controller {
  readonly name = 'namespace';
  private readonly client: RESTClient;
  private readonly informer: SharedInformer;
  private readonly queue = newQueue('namespace');
  private readonly log: Logger;
  private readonly ctx: ControllerContext;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.client = ctx.client;
    this.log = ctx.log.with({ controller: 'namespace' });
    this.informer = ctx.informers.informerFor(namespacesRef);
    const enqueue = (obj: KubeObject): void => {
      if (obj.metadata?.deletionTimestamp) this.queue.add(metaNamespaceKey(obj));
    };
    this.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, obj) => enqueue(obj) });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.informer.waitForSync(signal).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, 5, (key) => this.sync(key), signal, this.log);
  }

  /** Level-triggered: looks at the namespace as it is now and takes the next step of its deletion. */
  async sync(name: string): Promise<void> {
    const ns = this.informer.lister.get('', name);
    if (!ns?.metadata?.deletionTimestamp) return;
    const finalizers = ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []);
    if (!finalizers.includes(finalizerKubernetes)) {
      // Our part is done; the namespace goes once its other finalizers are removed by whoever owns them.
      if (finalizers.length === 0) await this.deleteNamespace(name);
      return;
    }
    const { remaining, failures } = await this.deleteContent(name);
    await this.updateConditions(ns, remaining, failures);
    if (failures.length > 0) throw new Error(failures.join('; '));
    if (remaining.size > 0) {
      this.queue.addAfter(name, recheckMs);
      return;
    }
    const fresh = await this.client.get(namespacesRef, name);
    const spec = (fresh.spec ?? {}) as { finalizers?: string[] };
    const left = (spec.finalizers ?? []).filter((f) => f !== finalizerKubernetes);
    await this.client.update(namespacesRef, { ...fresh, spec: { ...spec, finalizers: left } }, { subresource: 'finalize' });
    if (left.length === 0) await this.deleteNamespace(name);
  }

  private async deleteNamespace(name: string): Promise<void> {
    try {
      await this.client.delete(namespacesRef, name);
      this.log.info('namespace deleted', { namespace: name }, 1);
    } catch (err) {
      if (!isStatus(err, 'NotFound')) throw err;
    }
  }

  /** Deletes every object in the namespace; returns what is still there (resource → count) and failures. */
  private async deleteContent(namespace: string): Promise<{ remaining: Map<string, number>; failures: string[] }> {
    const remaining = new Map<string, number>();
    const failures: string[] = [];
    for (const r of deletable) {
      const ref = { group: r.group, version: r.version, resource: r.plural, namespace };
      try {
        if (r.verbs.includes('deletecollection')) await this.client.deleteCollection(ref);
        const left = await this.client.list(ref);
        if (left.items.length > 0 && !r.verbs.includes('deletecollection')) {
          for (const o of left.items) await this.client.delete(ref, o.metadata?.name ?? '').catch(() => undefined);
        }
        if (left.items.length > 0) remaining.set(r.group === '' ? r.plural : `${r.plural}.${r.group}`, left.items.length);
      } catch (err) {
        failures.push(`${r.plural}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return { remaining, failures };
  }

  /** The five deletion conditions upstream reports on a terminating namespace. */
  private async updateConditions(ns: KubeObject, remaining: Map<string, number>, failures: string[]): Promise<void> {
    const now = new Date(this.ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const cond = (type: string, bad: boolean, reason: string, message: string): NamespaceCondition => ({
      type,
      status: bad ? 'True' : 'False',
      lastTransitionTime: now,
      reason: bad ? reason : okReason[type]!,
      message: bad ? message : okMessage[type]!,
    });
    const contentRemaining = [...remaining.entries()].map(([r, n]) => `${r} has ${n} resource instances`).join(', ');
    const conditions = [
      cond('NamespaceDeletionDiscoveryFailure', false, '', ''),
      cond('NamespaceDeletionGroupVersionParsingFailure', false, '', ''),
      cond('NamespaceDeletionContentFailure', failures.length > 0, 'ContentDeletionFailed', `Failed to delete all resource types, ${failures.length} remaining: ${failures.join(', ')}`),
      cond('NamespaceContentRemaining', remaining.size > 0, 'SomeResourcesRemain', `Some resources are remaining: ${contentRemaining}`),
      cond('NamespaceFinalizersRemaining', false, '', ''),
    ];
    const old = ((ns.status ?? {}) as { conditions?: NamespaceCondition[] }).conditions ?? [];
    // Keep transition times of conditions whose status did not change.
    for (const c of conditions) {
      const prev = old.find((o) => o.type === c.type);
      if (prev && prev.status === c.status) c.lastTransitionTime = prev.lastTransitionTime;
    }
    const same = conditions.every((c) => {
      const prev = old.find((o) => o.type === c.type);
      return prev && prev.status === c.status && prev.message === c.message && prev.reason === c.reason;
    });
    if (same) return;
    const fresh = await this.client.get(namespacesRef, ns.metadata?.name ?? '');
    await this.client.updateStatus(namespacesRef, { ...fresh, status: { ...(fresh.status as object), phase: 'Terminating', conditions } });
  }
}

/** Reasons and messages of the conditions when all is well, as upstream words them. */
const okReason: Record<string, string> = {
  NamespaceDeletionDiscoveryFailure: 'ResourcesDiscovered',
  NamespaceDeletionGroupVersionParsingFailure: 'ParsedGroupVersions',
  NamespaceDeletionContentFailure: 'ContentDeleted',
  NamespaceContentRemaining: 'ContentRemoved',
  NamespaceFinalizersRemaining: 'ContentHasNoFinalizers',
};
const okMessage: Record<string, string> = {
  NamespaceDeletionDiscoveryFailure: 'All resources successfully discovered',
  NamespaceDeletionGroupVersionParsingFailure: 'All legacy kube types successfully parsed',
  NamespaceDeletionContentFailure: 'All content successfully deleted, may be waiting on finalization',
  NamespaceContentRemaining: 'All content successfully removed',
  NamespaceFinalizersRemaining: 'All content-preserving finalizers finished',
};
