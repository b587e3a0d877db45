// The one generic resource store (upstream's registry/generic/registry.Store): create, read, update and
// delete of any kind over the revisioned Store, with the resource's strategy deciding defaults, validation
// and the status/spec split. It owns the object metadata rules every kind shares: uid, creationTimestamp,
// generateName, resourceVersion (the store's modRevision), generation, finalizers and deletionTimestamp.
import { randomUUID } from 'node:crypto';
import type { GroupResource , StatusError } from '../../apimachinery/errors/status-error.js';
import { apiErrors } from '../../apimachinery/errors/status-error.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { updateManagedFields } from '../../apimachinery/fieldmanager/index.js';
import type { SchemaNode } from '../../apimachinery/openapi/index.js';
import { SchemaIndex } from '../../apimachinery/openapi/index.js';
import type { JsonObject, JsonValue } from '../../apimachinery/patch/index.js';
import { cloneJson, jsonEqual } from '../../apimachinery/patch/index.js';
import { isStoreError } from '../../storage/errors.js';
import type { KeyValue, Store } from '../../storage/store.js';
import type { KObject, ResourceStrategy } from './strategy.js';

/** The message of a stale-resourceVersion conflict, as upstream words it. */
export const optimisticLockMessage =
  'the object has been modified; please apply your changes to the latest version and try again';

/** Letters upstream's name generator draws from (no vowels, no look-alike digits). */
const generatedNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';
const generatedNameLength = 5;
/** Names are at most 253 characters; a generated suffix takes the last five. */
const maxGeneratePrefix = 253 - generatedNameLength;

/** What an allocation did, to keep (after the write) or undo (when the write fails). */
export interface AllocationTxn {
  commit(): Promise<void>;
  revert(): Promise<void>;
}

/**
 * Side allocations a resource makes around its writes (Services: cluster IPs and node ports), as upstream's
 * BeginCreate, BeginUpdate and AfterDelete hooks: begin runs after the strategy prepared the object and
 * before it validates, and may fill fields or throw a StatusError.
 */
export interface AllocationHooks {
  beginCreate(obj: KObject, dryRun: boolean): Promise<AllocationTxn>;
  beginUpdate(obj: KObject, old: KObject, dryRun: boolean): Promise<AllocationTxn>;
  /** The object is gone from the store. */
  afterDelete(obj: KObject): Promise<void>;
}

export interface RegistryStoreOptions {
  /** Allocations around writes (Services). */
  hooks?: AllocationHooks;
  /** The clock for creationTimestamp and deletionTimestamp. */
  now?: () => Date;
  /** How many times an update is retried when the object changed between read and write. */
  maxRetries?: number;
}

export interface WriteOptions {
  /** dryRun=All: run everything but the write. */
  dryRun?: boolean;
  /** The field manager of an API request (?fieldManager= or the User-Agent): managedFields are recorded for it. */
  fieldManager?: string;
  /**
   * The caller hands its input over (a request body it decoded for this write alone): create may fill in and
   * keep that object instead of copying it first.
   */
  handOver?: boolean;
}

/** Options of updates: which part of the object they may change. */
export interface UpdateOptions extends WriteOptions {
  /** 'status': change status alone. 'all': an internal write (pods/binding) that sets spec and status
   * together and skips the strategy's update rules, as upstream's binding storage does; its transform gets
   * the stored object itself and must copy (not change) the parts it changes, metadata included. */
  subresource?: 'status' | 'all';
  /**
   * For 'all': the object as the watch cache holds it (its resourceVersion the revision it was read at), to
   * try first instead of reading the store, as upstream's GuaranteedUpdate takes the cacher's copy. A stale
   * copy fails the write's revision check, and the retry reads the store.
   */
  cached?: KObject;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
}

/** What a delete did: removed the object, or only marked it (finalizers or a grace period pending). */
export interface DeleteResult {
  object: KObject;
  deleted: boolean;
}

/** A change to an object, for watches. */
export interface ObjectEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KObject;
  revision: number;
}

/** Formats a time as Kubernetes' metav1.Time: RFC 3339 in UTC with whole seconds. */
export function formatTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sets a decoded object's resourceVersion: the revision it was written at (never stored in the value). */
function withRevision(obj: KObject, revision: number): KObject {
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

function clone<T>(v: T): T {
  return cloneJson(v as JsonValue) as T;
}

/** The spec-like part of an object: every top-level field except the envelope, metadata and status. */
function specOf(obj: KObject): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k !== 'apiVersion' && k !== 'kind' && k !== 'metadata' && k !== 'status') rest[k] = v;
  }
  return rest;
}

/** The object as stored: without the resourceVersion, which is the key's revision. */
function storedForm(obj: KObject): KObject {
  const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
  return { ...obj, metadata: meta };
}

/** The generic store for one resource. */
export class RegistryStore {
  readonly strategy: ResourceStrategy;
  readonly groupResource: GroupResource;
  private readonly storage: Store;
  private readonly now: () => Date;
  private readonly maxRetries: number;
  private readonly prefix: string;
  private readonly hooks: AllocationHooks | undefined;
  private schema: SchemaNode | null | undefined;

  constructor(strategy: ResourceStrategy, storage: Store, options: RegistryStoreOptions = {}) {
    if (strategy.info.etcdPrefix === undefined) throw new Error(`${strategy.info.plural} is not a stored resource`);
    this.strategy = strategy;
    this.storage = storage;
    this.groupResource = { group: strategy.info.group, resource: strategy.info.plural };
    this.now = options.now ?? (() => new Date());
    this.maxRetries = options.maxRetries ?? 1000;
    this.prefix = strategy.info.etcdPrefix + '/';
    this.hooks = options.hooks;
  }

  /** The storage key of an object: <prefix>/<namespace>/<name> or <prefix>/<name>. */
  key(namespace: string, name: string): string {
    return this.strategy.info.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  /** The key prefix of a namespace's objects, or of all objects when namespace is ''. */
  keyPrefix(namespace: string): string {
    return this.strategy.info.namespaced && namespace !== '' ? `${this.prefix}${namespace}/` : this.prefix;
  }

  /** Decodes a stored value, setting resourceVersion from the revision it was written at. */
  decode(kv: KeyValue): KObject {
    return this.decodeAt(kv.value, kv.modRevision);
  }

  /** Decodes a stored value's text in its stored form (no version conversion), as the watch cache keeps it. */
  decodeStoredText(text: string, revision: number): KObject {
    return withRevision(JSON.parse(text) as KObject, revision);
  }

  /** The served form of an object in its stored form. */
  served(obj: KObject): KObject {
    return this.strategy.fromStorage ? this.strategy.fromStorage(obj) : obj;
  }

  private decodeAt(value: Uint8Array, revision: number): KObject {
    return withRevision(this.served(JSON.parse(decoder.decode(value)) as KObject), revision);
  }

  private encode(obj: KObject): Uint8Array {
    const stored = storedForm(obj);
    return encoder.encode(JSON.stringify(this.strategy.toStorage ? this.strategy.toStorage(stored) : stored));
  }

  private invalid(name: string, errs: ErrorList): StatusError {
    return apiErrors.invalid(this.strategy.info.group, this.strategy.info.kind, name, errs);
  }

  private generateName(prefix: string): string {
    let suffix = '';
    for (let i = 0; i < generatedNameLength; i++) {
      suffix += generatedNameAlphabet[Math.floor(Math.random() * generatedNameAlphabet.length)];
    }
    return prefix.slice(0, maxGeneratePrefix) + suffix;
  }

  /** Creates an object in `namespace` ('' for cluster-scoped kinds). */
  async create(namespace: string, input: KObject, options: WriteOptions = {}): Promise<KObject> {
    const obj = options.handOver ? input : clone(input);
    const meta = (obj.metadata ??= {});
    if (this.strategy.info.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    this.strategy.defaults?.(obj);
    // Fields the server owns.
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    meta.uid = randomUUID();
    meta.creationTimestamp = formatTime(this.now());
    if (this.strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (!meta.name && meta.generateName) meta.name = this.generateName(meta.generateName);
    this.strategy.prepareForCreate?.(obj);
    const txn = await this.hooks?.beginCreate(obj, options.dryRun === true);
    let created: KObject;
    try {
      created = await this.createPrepared(namespace, obj, options);
    } catch (err) {
      await txn?.revert();
      throw err;
    }
    await txn?.commit();
    return created;
  }

  private async createPrepared(namespace: string, obj: KObject, options: WriteOptions): Promise<KObject> {
    const meta = (obj.metadata ??= {});
    if (options.fieldManager !== undefined) this.recordManagedFields(undefined, obj, options.fieldManager, undefined);
    const errs = this.strategy.validate?.(obj) ?? [];
    if (errs.length > 0) throw this.invalid(meta.name ?? '', errs);
    const name = meta.name ?? '';
    if (options.dryRun) {
      const existing = await this.storage.get(this.key(namespace, name));
      if (existing.kv) throw apiErrors.alreadyExists(this.groupResource, name);
      delete meta.resourceVersion;
      return obj;
    }
    try {
      const kv = await this.storage.create(this.key(namespace, name), this.encode(obj), this.ttl());
      meta.resourceVersion = String(kv.modRevision);
      return obj;
    } catch (err) {
      if (isStoreError(err, 'KeyExists')) throw apiErrors.alreadyExists(this.groupResource, name);
      throw this.storageError(err, name);
    }
  }

  /** Records the write in metadata.managedFields, as upstream's field manager does for Update operations. */
  private recordManagedFields(old: KObject | undefined, obj: KObject, manager: string, subresource: 'status' | undefined): void {
    const info = this.strategy.info;
    const apiVersion = info.group === '' ? info.version : `${info.group}/${info.version}`;
    this.schema ??= SchemaIndex.builtin().forKind({ group: info.group, version: info.version, kind: info.kind }) ?? null;
    const typed = (o: KObject): JsonObject => ({ ...o, apiVersion, kind: info.kind }) as unknown as JsonObject;
    const entries = updateManagedFields({
      old: old === undefined ? undefined : typed(old),
      new: typed(obj),
      manager,
      apiVersion,
      time: this.now(),
      ...(subresource ? { subresource } : {}),
      schema: this.schema ?? undefined,
    });
    const meta = (obj.metadata ??= {});
    if (entries.length > 0) meta.managedFields = entries;
    else delete meta.managedFields;
  }

  private ttl(): { ttlSeconds?: number } {
    return this.strategy.ttlSeconds !== undefined ? { ttlSeconds: this.strategy.ttlSeconds } : {};
  }

  /** Reads one object. */
  async get(namespace: string, name: string): Promise<KObject> {
    const res = await this.read(namespace, name);
    if (!res) throw apiErrors.notFound(this.groupResource, name);
    return res.obj;
  }

  private async read(namespace: string, name: string): Promise<{ obj: KObject; kv: KeyValue } | undefined> {
    const { kv } = await this.storage.get(this.key(namespace, name));
    return kv ? { obj: this.decode(kv), kv } : undefined;
  }

  /**
   * Replaces an object (PUT), on the main resource or its status subresource. A resourceVersion in the new
   * object must match the stored one; without one the write is unconditional where the strategy allows.
   */
  async update(
    namespace: string,
    name: string,
    input: KObject,
    options: UpdateOptions = {},
  ): Promise<{ object: KObject; created: boolean }> {
    const wanted = input.metadata?.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      const cur = await this.read(namespace, name);
      if (!cur) {
        if (!this.strategy.allowCreateOnUpdate || options.subresource) throw apiErrors.notFound(this.groupResource, name);
        const obj = clone(input);
        obj.metadata = { ...obj.metadata, name };
        delete obj.metadata.resourceVersion;
        return { object: await this.create(namespace, obj, options), created: true };
      }
      if (wanted === undefined || wanted === '') {
        if (!this.strategy.allowUnconditionalUpdate) {
          // Upstream reports the missing version as the uint64 zero, which Go prints as 0x0.
          throw this.invalid(name, [
            field.invalid(newPath('metadata', 'resourceVersion'), new GoValue('0x0'), 'must be specified for an update'),
          ]);
        }
      } else if (wanted !== cur.obj.metadata?.resourceVersion) {
        throw apiErrors.conflict(this.groupResource, name, optimisticLockMessage);
      }
      try {
        const object = await this.writeUpdate(namespace, name, cur, clone(input), options);
        return { object, created: false };
      } catch (err) {
        // Someone wrote between our read and our write: an unconditional update tries again.
        if (isStoreError(err, 'Conflict') && (wanted === undefined || wanted === '') && attempt < this.maxRetries) continue;
        if (isStoreError(err, 'Conflict')) throw apiErrors.conflict(this.groupResource, name, optimisticLockMessage);
        throw err;
      }
    }
  }

  /**
   * Reads, transforms and writes an object, retrying when it changed in between (upstream's
   * GuaranteedUpdate): patches and the status writers of controllers use it.
   */
  async guaranteedUpdate(
    namespace: string,
    name: string,
    transform: (current: KObject) => KObject | Promise<KObject>,
    options: UpdateOptions = {},
  ): Promise<KObject> {
    for (let attempt = 0; ; attempt++) {
      const cached = attempt === 0 && options.subresource === 'all' && options.cached !== undefined ? this.fromCache(namespace, name, options.cached) : undefined;
      const cur = cached ?? (await this.read(namespace, name));
      if (!cur) throw apiErrors.notFound(this.groupResource, name);
      // A second decode of the stored bytes is the transform's own copy (cheaper than cloning cur.obj); an
      // internal write ('all') promises to copy what it changes, so it is handed the object itself.
      const next = await transform(options.subresource === 'all' ? cur.obj : this.decode(cur.kv));
      const wanted = next.metadata?.resourceVersion;
      if (wanted !== undefined && wanted !== '' && wanted !== cur.obj.metadata?.resourceVersion) {
        throw apiErrors.conflict(this.groupResource, name, optimisticLockMessage);
      }
      try {
        return await this.writeUpdate(namespace, name, cur, next, options);
      } catch (err) {
        // A cached copy of an object since deleted: the next attempt reads the store and says NotFound.
        if (cached !== undefined && isStoreError(err, 'KeyNotFound')) continue;
        if (isStoreError(err, 'Conflict') && attempt < this.maxRetries) continue;
        if (isStoreError(err, 'Conflict')) throw apiErrors.conflict(this.groupResource, name, optimisticLockMessage);
        throw err;
      }
    }
  }

  /** A cached object in the shape read() gives; its key's value is never read (only 'all' writes use it). */
  private fromCache(namespace: string, name: string, cached: KObject): { obj: KObject; kv: KeyValue } | undefined {
    const revision = Number(cached.metadata?.resourceVersion);
    if (!Number.isInteger(revision) || revision <= 0) return undefined;
    return { obj: this.served(cached), kv: { key: this.key(namespace, name), value: new Uint8Array(0), createRevision: 0, modRevision: revision } };
  }

  private async writeUpdate(
    namespace: string,
    name: string,
    cur: { obj: KObject; kv: KeyValue },
    obj: KObject,
    options: UpdateOptions,
  ): Promise<KObject> {
    const old = cur.obj;
    const oldMeta = old.metadata ?? {};
    const meta = (obj.metadata ??= {});
    if (meta.name !== undefined && meta.name !== name) {
      throw apiErrors.badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    meta.name = name;
    if (this.strategy.info.namespaced) meta.namespace = namespace;
    // An internal write ('all', pods/binding) changes a stored object, already defaulted, in known ways.
    if (options.subresource !== 'all') this.strategy.defaults?.(obj);
    // Fields a client cannot change through update.
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    setOrDelete(meta, 'deletionTimestamp', oldMeta.deletionTimestamp);
    setOrDelete(meta, 'deletionGracePeriodSeconds', oldMeta.deletionGracePeriodSeconds);
    if (options.subresource === 'status') {
      // The status subresource changes status alone (metadata labels and annotations stay as stored).
      const status = obj.status;
      const next: KObject = this.decode(cur.kv);
      if (status === undefined) delete next.status;
      else next.status = status;
      next.metadata = { ...oldMeta };
      obj = next;
    } else if (this.strategy.hasStatus && options.subresource !== 'all') {
      if (old.status === undefined) delete obj.status;
      else obj.status = clone(old.status);
    }
    const newMeta = obj.metadata ?? {};
    if (this.strategy.tracksGeneration) {
      const gen = oldMeta.generation ?? 1;
      newMeta.generation = jsonEqual(specOf(obj) as JsonValue, specOf(old) as JsonValue) ? gen : gen + 1;
    } else {
      setOrDelete(newMeta, 'generation', oldMeta.generation);
    }
    if (options.subresource === undefined) this.strategy.prepareForUpdate?.(obj, old);
    const txn = options.subresource === undefined ? await this.hooks?.beginUpdate(obj, old, options.dryRun === true) : undefined;
    let written: KObject;
    try {
      written = await this.writePrepared(namespace, name, cur, obj, options);
    } catch (err) {
      await txn?.revert();
      throw err;
    }
    await txn?.commit();
    return written;
  }

  private async writePrepared(
    namespace: string,
    name: string,
    cur: { obj: KObject; kv: KeyValue },
    obj: KObject,
    options: UpdateOptions,
  ): Promise<KObject> {
    const old = cur.obj;
    const oldMeta = old.metadata ?? {};
    const newMeta = (obj.metadata ??= {});
    if (options.fieldManager !== undefined && options.subresource !== 'all') {
      this.recordManagedFields(old, obj, options.fieldManager, options.subresource);
    }
    const errs = options.subresource === 'all' ? [] : (this.strategy.validateUpdate?.(obj, old) ?? []);
    if (errs.length > 0) throw this.invalid(name, errs);
    newMeta.resourceVersion = oldMeta.resourceVersion;
    if (options.dryRun) return obj;
    // An object being deleted whose last finalizer this update removed goes now (upstream's deleteObj in Update).
    if (
      newMeta.deletionTimestamp &&
      (oldMeta.finalizers ?? []).length > 0 &&
      (newMeta.finalizers ?? []).length === 0 &&
      (newMeta.deletionGracePeriodSeconds ?? 0) === 0
    ) {
      const res = await this.storage.delete(this.key(namespace, name), { expectedModRevision: cur.kv.modRevision });
      newMeta.resourceVersion = String(res.revision);
      await this.hooks?.afterDelete(old);
      return obj;
    }
    // Nothing changed: no write, the object keeps its resourceVersion (upstream skips no-op updates).
    if (jsonEqual(storedForm(obj) as unknown as JsonValue, storedForm(old) as unknown as JsonValue)) return obj;
    const kv = await this.storage.update(this.key(namespace, name), this.encode(obj), cur.kv.modRevision, this.ttl());
    newMeta.resourceVersion = String(kv.modRevision);
    return obj;
  }

  /**
   * Deletes an object: removed at once, or marked with deletionTimestamp while finalizers or a grace period
   * are pending. Orphan and Foreground propagation add their finalizers for the garbage collector.
   */
  async delete(namespace: string, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.read(namespace, name);
      if (!cur) throw apiErrors.notFound(this.groupResource, name);
      const meta = cur.obj.metadata ?? {};
      const pre = options.preconditions;
      if (pre?.uid !== undefined && pre.uid !== meta.uid) {
        throw apiErrors.conflict(
          this.groupResource,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid ?? ''}`,
        );
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion) {
        throw apiErrors.conflict(
          this.groupResource,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ''}`,
        );
      }
      const obj = this.decode(cur.kv);
      const m = (obj.metadata ??= {});
      const finalizers = new Set(m.finalizers ?? []);
      if (options.propagationPolicy === 'Orphan') {
        finalizers.add('orphan');
        finalizers.delete('foregroundDeletion');
      } else if (options.propagationPolicy === 'Foreground') {
        finalizers.add('foregroundDeletion');
        finalizers.delete('orphan');
      }
      const strategyGrace = this.strategy.defaultGracePeriodSeconds?.(obj);
      const grace = strategyGrace === 0 ? 0 : (options.gracePeriodSeconds ?? strategyGrace ?? 0);
      const terminating = this.strategy.terminate?.(obj, this.now(), options.propagationPolicy);
      if (terminating !== undefined) {
        if (options.dryRun) return { object: terminating, deleted: false };
        try {
          const kv = await this.storage.update(this.key(namespace, name), this.encode(terminating), cur.kv.modRevision);
          terminating.metadata = { ...terminating.metadata, resourceVersion: String(kv.modRevision) };
          return { object: terminating, deleted: false };
        } catch (err) {
          if (isStoreError(err, 'Conflict') && attempt < this.maxRetries) continue;
          throw this.storageError(err, name);
        }
      }
      const pending = finalizers.size > 0 || grace > 0;
      try {
        if (!pending) {
          if (options.dryRun) return { object: obj, deleted: true };
          const res = await this.storage.delete(this.key(namespace, name), { expectedModRevision: cur.kv.modRevision });
          m.resourceVersion = String(res.revision);
          await this.hooks?.afterDelete(cur.obj);
          return { object: obj, deleted: true };
        }
        // Mark: the first delete sets deletionTimestamp; a later one may only shorten the grace period.
        const already = m.deletionTimestamp !== undefined;
        const current = m.deletionGracePeriodSeconds;
        const newGrace = already && current !== undefined ? Math.min(current, grace) : grace;
        if (!already || newGrace !== current) {
          m.deletionTimestamp = formatTime(new Date(this.now().getTime() + newGrace * 1000));
          m.deletionGracePeriodSeconds = newGrace;
        }
        m.finalizers = [...finalizers];
        if (m.finalizers.length === 0) delete m.finalizers;
        if (options.dryRun) return { object: obj, deleted: false };
        const kv = await this.storage.update(this.key(namespace, name), this.encode(obj), cur.kv.modRevision);
        m.resourceVersion = String(kv.modRevision);
        return { object: obj, deleted: false };
      } catch (err) {
        if ((isStoreError(err, 'Conflict') || isStoreError(err, 'KeyNotFound')) && attempt < this.maxRetries) continue;
        throw this.storageError(err, name);
      }
    }
  }

  /** Lists objects of a namespace ('' for all), in key order, straight from the store. */
  async list(
    namespace: string,
    options: { limit?: number; after?: string; revision?: number } = {},
  ): Promise<{ items: KObject[]; revision: number; more: boolean; remaining: number; lastKey?: string }> {
    const res = await this.storage.list(this.keyPrefix(namespace), options);
    const items = res.kvs.map((kv) => this.decode(kv));
    return {
      items,
      revision: res.revision,
      more: res.more,
      remaining: res.remaining,
      ...(res.kvs.length > 0 ? { lastKey: res.kvs[res.kvs.length - 1]!.key } : {}),
    };
  }

  /** Every change to objects of a namespace ('' for all) after a revision, as watch events. */
  async *watch(namespace: string, afterRevision: number, signal?: AbortSignal): AsyncIterable<ObjectEvent[]> {
    for await (const batch of this.storage.watch(this.keyPrefix(namespace), { afterRevision, ...(signal ? { signal } : {}) })) {
      yield batch.map((e): ObjectEvent => {
        switch (e.type) {
          case 'created':
            return { type: 'ADDED', object: this.decode(e.kv), revision: e.revision };
          case 'updated':
            return { type: 'MODIFIED', object: this.decode(e.kv), revision: e.revision };
          case 'deleted':
            // A deleted object carries the revision of its deletion, as upstream's watch reports it.
            return { type: 'DELETED', object: this.decodeAt(e.prevKv.value, e.revision), revision: e.revision };
        }
      });
    }
  }

  private storageError(err: unknown, name: string): unknown {
    if (isStoreError(err, 'KeyNotFound')) return apiErrors.notFound(this.groupResource, name);
    if (isStoreError(err, 'Conflict')) return apiErrors.conflict(this.groupResource, name, optimisticLockMessage);
    if (isStoreError(err, 'TooLarge')) return apiErrors.requestEntityTooLarge(err.message);
    if (isStoreError(err, 'Unavailable')) return apiErrors.serviceUnavailable(err.message);
    return err;
  }
}

function setOrDelete<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value === undefined) delete obj[key];
  else obj[key] = value;
}
