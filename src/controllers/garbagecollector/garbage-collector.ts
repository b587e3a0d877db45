// The garbage collector (upstream's pkg/controller/garbagecollector): a dependency graph of every
// deletable object built from ownerReferences, and two queues working on it. attemptToDelete deletes
// dependents whose owners are all gone (checked by a live GET, never the cache alone) and drives
// foreground deletion; attemptToOrphan strips an owner's references from its dependents before letting the
// owner go. The graph is updated right in the informer handlers: JavaScript runs them one at a time, which
// gives the single-writer guarantee upstream's graph-changes goroutine exists for, and the updates are
// cheap map operations; the API calls all happen in the workers.
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { findGroup, findResourceForKind, resources } from '../../api/resources.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { Logger } from '../../base/log.js';
import type { EventRecorder, KubeObject, ResourceRef, RESTClient, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';

const finalizerOrphan = 'orphan';
const finalizerForeground = 'foregroundDeletion';
/** Upstream's default for --concurrent-gc-syncs. */
const workers = 20;
/** Upstream's absent-owner cache holds 500 entries. */
const absentOwnerCacheSize = 500;

/** An ownerReference as stored in metadata. */
/** metav1.OwnerReference. */
export type { OwnerReference };

/** Where an object is: its coordinates as an owner reference plus its namespace ('' when cluster-scoped). */
interface Identity {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  namespace: string;
}

/** One object in the graph. A virtual node stands for an owner only known from a dependent's reference. */
interface GraphNode {
  identity: Identity;
  owners: OwnerReference[];
  dependents: Set<GraphNode>;
  virtual: boolean;
  beingDeleted: boolean;
  deletingDependents: boolean;
}

interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

/**
 * Every stored resource the collector watches: list, watch and delete, preferred version of its group (as
 * upstream's discovery of deletable resources). Events are left out as upstream's default
 * ignoredResources does; the two Event groups also share storage and would show each object twice.
 */
export const monitoredResources: readonly ResourceInfo[] = resources.filter(
  (r) =>
    r.etcdPrefix !== undefined &&
    (['list', 'watch', 'delete'] as const).every((v) => r.verbs.includes(v)) &&
    findGroup(r.group)?.preferredVersion === r.version &&
    r.plural !== 'events',
);

/** Thrown when an API version and kind do not name a served resource (upstream's restMappingError). */
class RestMappingError extends Error {}

/** The resource serving apiVersion/kind: that exact version, else the same kind in another version. */
function resourceFor(apiVersion: string, kind: string): ResourceInfo {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const r = findResourceForKind(group, version, kind) ?? resources.find((x) => x.group === group && x.kind === kind);
  if (!r) throw new RestMappingError(`unable to get REST mapping for ${apiVersion}/${kind}`);
  return r;
}

function metaOf(obj: KubeObject): ObjectMeta {
  return obj.metadata ?? {};
}

function identityOf(obj: KubeObject): Identity {
  const m = metaOf(obj);
  return {
    apiVersion: obj.apiVersion ?? '',
    kind: obj.kind ?? '',
    name: m.name ?? '',
    uid: m.uid ?? '',
    namespace: m.namespace ?? '',
  };
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.apiVersion === b.apiVersion && a.kind === b.kind && a.name === b.name && a.uid === b.uid && a.namespace === b.namespace;
}

function refMatches(ref: OwnerReference, id: Identity): boolean {
  return ref.apiVersion === id.apiVersion && ref.kind === id.kind && ref.name === id.name && ref.uid === id.uid;
}

function identityKey(id: Identity): string {
  return JSON.stringify([id.apiVersion, id.kind, id.namespace, id.name, id.uid]);
}

function refsEqual(a: OwnerReference, b: OwnerReference): boolean {
  return (
    refMatches(a, { ...b, namespace: '' }) &&
    (a.controller ?? false) === (b.controller ?? false) &&
    (a.blockOwnerDeletion ?? false) === (b.blockOwnerDeletion ?? false)
  );
}

/** Deletes orphaned dependents, and carries out foreground and orphan deletion of owners. */
export class GarbageCollector implements Controller {
  readonly name = 'garbagecollector';
  private readonly client: RESTClient;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  /** uid → node. */
  private readonly graph = new Map<string, GraphNode>();
  /** Owners a live GET found gone (insertion-ordered, so the oldest is dropped first). */
  private readonly absentOwners = new Map<string, true>();
  /** Keys are uids; the node is looked up in the graph when the key is synced. */
  private readonly attemptToDelete = newQueue('garbage_collector_attempt_to_delete');
  private readonly attemptToOrphan = newQueue('garbage_collector_attempt_to_orphan');
  private readonly informers: SharedInformer[];

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log.with({ controller: 'garbagecollector' });
    this.recorder = ctx.recorder('garbage-collector-controller');
    this.informers = monitoredResources.map((r) => {
      const inf = ctx.informers.informerFor({ group: r.group, version: r.version, resource: r.plural });
      // List results carry no apiVersion/kind on their items; the informer knows which they are.
      const typed = (obj: KubeObject): KubeObject =>
        obj.kind ? obj : { ...obj, apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`, kind: r.kind };
      inf.addEventHandler({
        onAdd: (obj) => this.observe(undefined, typed(obj)),
        onUpdate: (old, obj) => this.observe(typed(old), typed(obj)),
        onDelete: (obj) => this.observeDelete(typed(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj)),
      });
      return inf;
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    try {
      await Promise.all(this.informers.map((inf) => inf.waitForSync(signal)));
    } catch {
      return;
    }
    if (signal.aborted) return;
    this.log.info('all resource monitors have synced, proceeding to collect garbage', { resources: this.informers.length }, 2);
    await Promise.all([
      runWorkers(this.attemptToDelete, workers, (uid) => this.syncAttemptToDelete(uid), signal, this.log),
      runWorkers(this.attemptToOrphan, workers, (uid) => this.syncAttemptToOrphan(uid), signal, this.log),
    ]);
  }

  // ---- the graph ----

  private observe(oldObj: KubeObject | undefined, obj: KubeObject): void {
    const meta = metaOf(obj);
    const uid = meta.uid;
    if (!uid) return;
    const owners = (meta.ownerReferences ?? []).map((r) => ({ ...r }));
    const observed = identityOf(obj);
    let node = this.graph.get(uid);
    if (!node) {
      node = { identity: observed, owners, dependents: new Set(), virtual: false, beingDeleted: false, deletingDependents: false };
      this.graph.set(uid, node);
      this.addDependentToOwners(node, owners);
    } else {
      if (node.virtual || !sameIdentity(node.identity, observed)) {
        // Dependents that named this owner by other coordinates must be looked at again.
        for (const dep of node.dependents) {
          const ref = dep.owners.find((r) => r.uid === uid);
          if (ref && refMatches(ref, observed) && (observed.namespace === '' || dep.identity.namespace === observed.namespace)) continue;
          if (observed.namespace !== '' && dep.identity.namespace !== observed.namespace) this.reportInvalidNamespace(dep, ref);
          this.attemptToDelete.add(dep.identity.uid);
        }
        node.identity = observed;
        node.virtual = false;
      }
      this.updateOwners(node, owners);
    }
    node.beingDeleted = meta.deletionTimestamp !== undefined;
    this.processTransitions(oldObj, obj, node);
  }

  private addDependentToOwners(node: GraphNode, owners: OwnerReference[]): void {
    let suspicious = false;
    for (const ref of owners) {
      let owner = this.graph.get(ref.uid);
      if (!owner) {
        // A virtual owner, checked against the API by attemptToDelete and dropped if it does not exist.
        owner = {
          identity: { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: node.identity.namespace },
          owners: [],
          dependents: new Set(),
          virtual: true,
          beingDeleted: false,
          deletingDependents: false,
        };
        this.graph.set(ref.uid, owner);
        owner.dependents.add(node);
        this.attemptToDelete.add(ref.uid);
        continue;
      }
      owner.dependents.add(node);
      if (suspicious) continue;
      const ownerNamespace = owner.identity.namespace;
      if (ownerNamespace !== '' && ownerNamespace !== node.identity.namespace) {
        if (!owner.virtual) this.reportInvalidNamespace(node, ref);
        suspicious = true;
      } else if (!refMatches(ref, owner.identity)) {
        suspicious = true;
      } else if (ownerNamespace === '' && node.identity.namespace !== '' && owner.virtual) {
        // Possibly a namespaced owner wrongly referenced from a cluster-scoped object: verify.
        suspicious = true;
      }
    }
    if (suspicious) this.attemptToDelete.add(node.identity.uid);
  }

  private removeDependentFromOwners(node: GraphNode, owners: OwnerReference[]): void {
    for (const ref of owners) this.graph.get(ref.uid)?.dependents.delete(node);
  }

  /** Applies a change of ownerReferences; owners whose blocking dependent went away are looked at again. */
  private updateOwners(node: GraphNode, owners: OwnerReference[]): void {
    const oldByUid = new Map(node.owners.map((r) => [r.uid, r]));
    const newByUid = new Map(owners.map((r) => [r.uid, r]));
    const added = owners.filter((r) => !oldByUid.has(r.uid));
    const removed = node.owners.filter((r) => !newByUid.has(r.uid));
    const unblocked: OwnerReference[] = removed.filter((r) => r.blockOwnerDeletion === true);
    for (const r of owners) {
      const old = oldByUid.get(r.uid);
      if (old && old.blockOwnerDeletion === true && r.blockOwnerDeletion !== true) unblocked.push(r);
    }
    const changed = owners.some((r) => {
      const old = oldByUid.get(r.uid);
      return old !== undefined && !refsEqual(old, r);
    });
    if (added.length === 0 && removed.length === 0 && !changed) return;
    for (const r of unblocked) {
      if (this.graph.get(r.uid)?.deletingDependents) this.attemptToDelete.add(r.uid);
    }
    node.owners = owners;
    this.addDependentToOwners(node, added);
    this.removeDependentFromOwners(node, removed);
  }

  /** Level-triggered: an owner being deleted with one of the two finalizers gets its work queued. */
  private processTransitions(_oldObj: KubeObject | undefined, obj: KubeObject, node: GraphNode): void {
    const meta = metaOf(obj);
    if (meta.deletionTimestamp === undefined) return;
    const finalizers = meta.finalizers ?? [];
    if (finalizers.includes(finalizerOrphan)) {
      this.attemptToOrphan.add(node.identity.uid);
      return;
    }
    if (finalizers.includes(finalizerForeground)) {
      node.deletingDependents = true;
      for (const dep of node.dependents) this.attemptToDelete.add(dep.identity.uid);
      this.attemptToDelete.add(node.identity.uid);
    }
  }

  private observeDelete(obj: KubeObject): void {
    const uid = metaOf(obj).uid;
    const node = uid === undefined ? undefined : this.graph.get(uid);
    if (node) this.removeNode(node, identityOf(obj));
  }

  /** Takes a node out of the graph and queues what its absence affects. */
  private removeNode(node: GraphNode, deleted: Identity): void {
    this.graph.delete(node.identity.uid);
    this.removeDependentFromOwners(node, node.owners);
    if (node.dependents.size > 0) this.markAbsent(deleted);
    for (const dep of node.dependents) this.attemptToDelete.add(dep.identity.uid);
    for (const ref of node.owners) {
      // An owner deleting in the foreground may be waiting for exactly this dependent.
      if (this.graph.get(ref.uid)?.deletingDependents) this.attemptToDelete.add(ref.uid);
    }
  }

  /** A live GET found the node's object gone: upstream's virtual delete event. */
  private virtualDelete(deleted: Identity): void {
    const node = this.graph.get(deleted.uid);
    if (!node) return;
    const matching: GraphNode[] = [];
    const nonmatching: GraphNode[] = [];
    for (const dep of node.dependents) {
      const refs = dep.owners.filter((r) => r.uid === deleted.uid);
      const sameNamespace = deleted.namespace === '' || dep.identity.namespace === deleted.namespace;
      if (refs.some((r) => sameNamespace && refMatches(r, deleted))) matching.push(dep);
      if (refs.some((r) => !sameNamespace || !refMatches(r, deleted))) nonmatching.push(dep);
    }
    if (node.virtual ? nonmatching.length === 0 : sameIdentity(node.identity, deleted)) {
      this.removeNode(node, deleted);
      return;
    }
    // Dependents disagree about the owner's coordinates (or the informer saw it under others): only those
    // that used the missing coordinates lose it; the node stays for the rest.
    if (matching.length > 0) {
      this.markAbsent(deleted);
      for (const dep of matching) this.attemptToDelete.add(dep.identity.uid);
    }
    if (node.virtual && sameIdentity(node.identity, deleted)) {
      // Try the coordinates another dependent uses; the matching dependents going makes this converge.
      for (const dep of nonmatching) {
        const ref = dep.owners.find((r) => r.uid === deleted.uid && !refMatches(r, deleted));
        const alt = ref ? { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: dep.identity.namespace } : undefined;
        if (alt && !sameIdentity(alt, deleted)) {
          node.identity = alt;
          this.attemptToDelete.addRateLimited(deleted.uid);
          break;
        }
      }
    }
  }

  private markAbsent(id: Identity): void {
    const key = identityKey(id);
    this.absentOwners.delete(key);
    this.absentOwners.set(key, true);
    if (this.absentOwners.size > absentOwnerCacheSize) {
      const oldest = this.absentOwners.keys().next().value;
      if (oldest !== undefined) this.absentOwners.delete(oldest);
    }
  }

  private reportInvalidNamespace(dep: GraphNode, ref: OwnerReference | undefined): void {
    if (!ref) return;
    const d = dep.identity;
    this.recorder.event(
      { apiVersion: d.apiVersion, kind: d.kind, name: d.name, namespace: d.namespace, uid: d.uid },
      'Warning',
      'OwnerRefInvalidNamespace',
      `ownerRef [${ref.apiVersion}/${ref.kind}, namespace: ${d.namespace}, name: ${ref.name}, uid: ${ref.uid}] does not exist in namespace "${d.namespace}"`,
    );
  }

  // ---- API access ----

  private refFor(id: Identity): ResourceRef {
    const r = resourceFor(id.apiVersion, id.kind);
    return { group: r.group, version: r.version, resource: r.plural, ...(r.namespaced ? { namespace: id.namespace } : {}) };
  }

  /** The object as the API server has it now, or undefined when it is gone or another object took its name. */
  private async getLive(id: Identity): Promise<KubeObject | undefined> {
    try {
      const obj = await this.client.get(this.refFor(id), id.name);
      return metaOf(obj).uid === id.uid ? obj : undefined;
    } catch (err) {
      if (isStatus(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  // ---- attemptToDelete ----

  private async syncAttemptToDelete(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    if (!node) return;
    if (node.beingDeleted && !node.deletingDependents) return;
    const identity = node.identity;
    const latest = await this.getLive(identity);
    if (!latest) {
      this.virtualDelete(identity);
      return;
    }
    if (node.deletingDependents) {
      await this.processDeletingDependents(node);
    } else {
      await this.deleteIfOrphaned(node, latest);
    }
    // An owner that exists but that our informers have not shown us yet: look again once they have.
    if (this.graph.get(uid)?.virtual) throw new Error(`item ${identity.kind} ${identity.namespace}/${identity.name} has not been observed via informer yet`);
  }

  private async deleteIfOrphaned(node: GraphNode, latest: KubeObject): Promise<void> {
    const meta = metaOf(latest);
    const refs = meta.ownerReferences ?? [];
    if (refs.length === 0) return;
    let classified;
    try {
      classified = await this.classifyReferences(node, refs);
    } catch (err) {
      // A cluster-scoped object naming a namespaced owner can never resolve: leave it alone.
      if (err instanceof NamespacedOwnerOfClusterScopedObject) {
        this.log.info('item is cluster-scoped, but refers to a namespaced owner', { item: node.identity.name, owner: err.message }, 2);
        return;
      }
      throw err;
    }
    const { solid, dangling, waiting } = classified;
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Still owned: only the references to gone owners and owners deleting in the foreground go.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      await this.patchOwnerReferences(node.identity, (r) => !drop.has(r.uid));
      return;
    }
    if (waiting.length > 0 && node.dependents.size > 0) {
      for (const dep of node.dependents) {
        if (dep.deletingDependents) {
          // A cycle of foreground deletions would wait forever; unblock our owners to break it.
          this.log.info('processing object whose owner is deleting dependents, and which has a dependent deleting dependents too; unblocking owner references', { item: node.identity.name }, 2);
          await this.patchOwnerReferences(node.identity, () => true, (r) => (r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r));
          break;
        }
      }
      await this.deleteObject(node.identity, 'Foreground');
      return;
    }
    const finalizers = meta.finalizers ?? [];
    const policy = finalizers.includes(finalizerOrphan)
      ? 'Orphan'
      : finalizers.includes(finalizerForeground)
        ? 'Foreground'
        : 'Background';
    await this.deleteObject(node.identity, policy);
  }

  /** Sorts references into owners that exist, owners that are gone, and owners deleting in the foreground. */
  private async classifyReferences(
    node: GraphNode,
    refs: OwnerReference[],
  ): Promise<{ solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] }> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const owner = await this.liveOwner(ref, node);
      if (!owner) {
        dangling.push(ref);
        continue;
      }
      const m = metaOf(owner);
      if (m.deletionTimestamp !== undefined && (m.finalizers ?? []).includes(finalizerForeground)) waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  /** The owner a reference names, by a live GET (or the absent-owner cache of earlier GETs). */
  private async liveOwner(ref: OwnerReference, node: GraphNode): Promise<KubeObject | undefined> {
    const coords = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid };
    if (this.absentOwners.has(identityKey({ ...coords, namespace: '' }))) return undefined;
    if (this.absentOwners.has(identityKey({ ...coords, namespace: node.identity.namespace }))) return undefined;
    const r = resourceFor(ref.apiVersion, ref.kind);
    if (r.namespaced && node.identity.namespace === '') throw new NamespacedOwnerOfClusterScopedObject(`${ref.kind}/${ref.name}`);
    // Owner references cannot cross namespaces: a namespaced owner is looked for in the dependent's.
    const id = { ...coords, namespace: r.namespaced ? node.identity.namespace : '' };
    const owner = await this.getLive(id);
    if (!owner) this.markAbsent(id);
    return owner;
  }

  private async deleteObject(id: Identity, policy: 'Orphan' | 'Foreground' | 'Background'): Promise<void> {
    this.log.info('deleting object', { kind: id.kind, namespace: id.namespace, name: id.name, propagationPolicy: policy }, 2);
    try {
      await this.client.delete(this.refFor(id), id.name, { propagationPolicy: policy, preconditions: { uid: id.uid } });
    } catch (err) {
      // Gone already, or a new object took the name (the uid precondition): nothing of ours to delete.
      if (isStatus(err, 'NotFound') || isStatus(err, 'Conflict')) return;
      throw err;
    }
  }

  /** Foreground: delete blocking dependents; once none is left, let the owner go. */
  private async processDeletingDependents(node: GraphNode): Promise<void> {
    const blocking = [...node.dependents].filter((dep) =>
      dep.owners.some((r) => r.uid === node.identity.uid && r.blockOwnerDeletion === true),
    );
    if (blocking.length === 0) {
      await this.removeFinalizer(node.identity, finalizerForeground);
      return;
    }
    for (const dep of blocking) if (!dep.deletingDependents) this.attemptToDelete.add(dep.identity.uid);
  }

  // ---- attemptToOrphan ----

  private async syncAttemptToOrphan(uid: string): Promise<void> {
    const owner = this.graph.get(uid);
    if (!owner) return;
    // Only while the owner still asks for it: a later Foreground delete replaces the orphan finalizer.
    const live = await this.getLive(owner.identity);
    const liveMeta = live ? metaOf(live) : undefined;
    if (!liveMeta?.deletionTimestamp || !(liveMeta.finalizers ?? []).includes(finalizerOrphan)) return;
    const failures: string[] = [];
    for (const dep of [...owner.dependents]) {
      try {
        await this.patchOwnerReferences(dep.identity, (r) => r.uid !== uid);
      } catch (err) {
        failures.push(`${dep.identity.kind} ${dep.identity.namespace}/${dep.identity.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (failures.length > 0) throw new Error(`failed to orphan dependents of owner ${owner.identity.name}: ${failures.join('; ')}`);
    await this.removeFinalizer(owner.identity, finalizerOrphan);
  }

  // ---- writes ----

  /**
   * Rewrites an object's ownerReferences (keep, then change each kept one) with a JSON patch guarded by
   * its uid and resourceVersion, retrying on conflict; a missing object or nothing to change is success.
   */
  private async patchOwnerReferences(
    id: Identity,
    keep: (r: OwnerReference) => boolean,
    change: (r: OwnerReference) => OwnerReference = (r) => r,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const obj = await this.getLive(id);
      if (!obj) return;
      const meta = metaOf(obj);
      const refs = meta.ownerReferences ?? [];
      const next = refs.filter(keep).map(change);
      if (next.length === refs.length && next.every((r, i) => refsEqual(r, refs[i]!))) return;
      const ops: unknown[] = [
        { op: 'test', path: '/metadata/uid', value: id.uid },
        { op: 'test', path: '/metadata/resourceVersion', value: meta.resourceVersion },
        next.length === 0
          ? { op: 'remove', path: '/metadata/ownerReferences' }
          : { op: 'replace', path: '/metadata/ownerReferences', value: next },
      ];
      try {
        await this.client.patch(this.refFor(id), id.name, ops, 'json');
        return;
      } catch (err) {
        if (isStatus(err, 'NotFound')) return;
        // A failed test op (422) or a write race (409): read again.
        if ((isStatus(err, 'Conflict') || isStatus(err, 'Invalid')) && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** Removes one finalizer with a merge patch guarded by resourceVersion, retrying on conflict. */
  private async removeFinalizer(id: Identity, finalizer: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const obj = await this.getLive(id);
      if (!obj) return;
      const meta = metaOf(obj);
      const finalizers = meta.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return;
      try {
        await this.client.patch(
          this.refFor(id),
          id.name,
          { metadata: { resourceVersion: meta.resourceVersion, finalizers: finalizers.filter((f) => f !== finalizer) } },
          'merge',
        );
        this.log.info('removed finalizer', { kind: id.kind, namespace: id.namespace, name: id.name, finalizer }, 2);
        return;
      } catch (err) {
        if (isStatus(err, 'NotFound')) return;
        if (isStatus(err, 'Conflict') && attempt < 5) continue;
        throw err;
      }
    }
  }
}

/** A cluster-scoped dependent names a namespaced owner: never resolvable, so never retried. */
class NamespacedOwnerOfClusterScopedObject extends Error {}
