// The REST verbs on resources: get, list, watch, create, update, patch, delete and deletecollection, with
// upstream's query parameters (labelSelector, fieldSelector, limit/continue, resourceVersion, watch,
// timeoutSeconds, allowWatchBookmarks, dryRun, gracePeriodSeconds, propagationPolicy) and bodies (JSON or
// YAML objects, DeleteOptions, the three patch types), answering JSON or Table.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { yaml } from '../../base/lazy-yaml.js';
import { FieldSelector, FieldSelectorError } from '../../api/fields.js';
import { LabelSelector, LabelSelectorError } from '../../api/labels.js';
import type { ResourceInfo } from '../../api/resources.js';
import { findResource, findSubresource } from '../../api/resources.js';
import { apiErrors, StatusError } from '../../apimachinery/errors/status-error.js';
import { managerFromUserAgent } from '../../apimachinery/fieldmanager/index.js';
import { SchemaIndex, typedDecode } from '../../apimachinery/openapi/index.js';
import { decodeProtobufObject, ProtobufError } from '../../apimachinery/protobuf/index.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import type { KObject, RegistryStore } from '../../registry/generic/index.js';
import { printListTable, printTable } from '../../registry/printers/index.js';
import { isStoreError } from '../../storage/errors.js';
import type { AcceptEntry } from '../http/respond.js';
import { mediaType, parseAccept, readBody, writeJson, writeJsonList } from '../http/respond.js';
import { Turns } from '../http/turns.js';
import { WatchBatcher } from '../http/watch-batch.js';
import type { ResourceRequestInfo } from '../request-info.js';
import type { CachedEvent, WatchCache } from '../watch-cache/watch-cache.js';
import { applyPatchBody } from './apply-patch.js';
import type { KubeletProxy } from './kubelet-proxy.js';
import { decodeContinue, encodeContinue } from './continue-token.js';
import { serveEviction } from './eviction.js';
import { serveBinding, serveKubeletSubresource, serveScale } from './subresources.js';

/** How the response is encoded: plain objects, or meta.k8s.io Tables for kubectl get. */
type Output = { kind: 'object' } | { kind: 'table'; version: 'v1' | 'v1beta1'; includeObject: 'None' | 'Metadata' | 'Object' };

/** Upstream's default watch timeout window (kube-apiserver --min-request-timeout 1800 s, randomized). */
const defaultWatchTimeoutSeconds = 1800;
/** How often a watch sends a BOOKMARK when the client allows them (upstream sends about once a minute). */
const bookmarkIntervalMs = 60_000;

/** What a resource handler needs from the rest of the server. */
export interface ResourceHandlerContext {
  /** The registry store of a stored resource, or of a subresource with a strategy of its own (namespaces/finalize). */
  registryFor(info: ResourceInfo, subresource?: string): RegistryStore | undefined;
  /** Mutating admission on create, in the request's namespace ('' for cluster-scoped resources). */
  admit(info: ResourceInfo, obj: KObject, namespace: string): void | Promise<void>;
  /** serviceaccounts/token (TokenRequest); absent when the server has no service account signing key. */
  tokenRequest?: (req: IncomingMessage, res: ServerResponse, ri: ResourceRequestInfo, info: ResourceInfo) => Promise<void>;
  /** The namespaces registry, to check that a namespace exists and is not terminating. */
  namespaces: RegistryStore;
  /** The watch cache that serves watches and unpaged lists. */
  cache: WatchCache;
  /** The clock for Table ages. */
  now(): Date;
  /** Routes pods/log (and checks the streaming subresources) to the pod's kubelet. */
  kubelet: KubeletProxy;
}

/** The 404 of a path the server does not serve. */
export function notFoundPath(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function badRequest(message: string): StatusError {
  return apiErrors.badRequest(message);
}

/** Reads the Accept header into the output form. */
function negotiate(accept: AcceptEntry[], query: URLSearchParams): Output {
  for (const e of accept) {
    if (e.params.as === 'Table' && e.params.g === 'meta.k8s.io' && (e.type === 'application/json' || e.type === '*/*')) {
      const version = e.params.v === 'v1beta1' ? 'v1beta1' : 'v1';
      const inc = query.get('includeObject');
      const includeObject = inc === 'None' || inc === 'Object' ? inc : 'Metadata';
      return { kind: 'table', version, includeObject };
    }
    if (e.params.as === undefined && (e.type === 'application/json' || e.type === '*/*' || e.type === 'application/yaml')) {
      return { kind: 'object' };
    }
  }
  return { kind: 'object' };
}

function tableContentType(o: Output): string {
  return o.kind === 'table' ? `application/json;as=Table;v=${o.version};g=meta.k8s.io` : 'application/json';
}

/** Parses a request body (JSON, YAML or Kubernetes protobuf) into an object of the resource's kind. */
export function decodeObjectBody(body: Buffer, contentType: string | undefined, info?: ResourceInfo): KObject {
  const type = mediaType(contentType);
  if (type === 'application/vnd.kubernetes.protobuf') {
    try {
      const defaults = info ? { group: info.group, version: info.version, kind: info.kind } : undefined;
      return decodeProtobufObject(body, defaults ? { defaults } : {}).object;
    } catch (err) {
      if (err instanceof ProtobufError) throw badRequest(err.message);
      throw err;
    }
  }
  let value: unknown;
  try {
    if (type === 'application/yaml') value = yaml().parse(body.toString('utf8'));
    else value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badRequest(`the object provided is unrecognized (must be of type object): ${err instanceof Error ? err.message : String(err)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf');
  }
  return value as KObject;
}

function groupVersion(info: ResourceInfo): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

function withTypeMeta(info: ResourceInfo, obj: KObject): KObject {
  return { apiVersion: groupVersion(info), kind: info.kind, ...obj };
}

function parseIntParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid ${name}: ${v}`);
  return n;
}

function dryRunOf(query: URLSearchParams, body?: { dryRun?: string[] }): boolean {
  const values = [...query.getAll('dryRun'), ...(body?.dryRun ?? [])];
  for (const v of values) {
    if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  }
  return values.length > 0;
}

/** The request's field manager: ?fieldManager=, else the User-Agent's program name, as upstream derives it. */
function fieldManagerOf(req: IncomingMessage, query: URLSearchParams): string {
  const explicit = query.get('fieldManager') ?? undefined;
  if (explicit !== undefined && explicit.length > 128) throw badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
  return managerFromUserAgent(req.headers['user-agent'], explicit);
}

/** The selectable fields of the watch cache's (frozen, never changed) objects, made once per object. */
const cachedFields = new WeakMap<KObject, Record<string, string>>();

/** The field values a field selector can match for an object of this resource. */
function selectableFields(reg: RegistryStore, obj: KObject): Record<string, string> {
  const frozen = Object.isFrozen(obj);
  if (frozen) {
    const hit = cachedFields.get(obj);
    if (hit !== undefined) return hit;
  }
  const all = fieldsOf(reg, obj);
  if (frozen) cachedFields.set(obj, all);
  return all;
}

function fieldsOf(reg: RegistryStore, obj: KObject): Record<string, string> {
  const meta = obj.metadata ?? {};
  const fields: Record<string, string> = { 'metadata.name': meta.name ?? '' };
  if (reg.strategy.info.namespaced) fields['metadata.namespace'] = meta.namespace ?? '';
  return { ...fields, ...(reg.strategy.selectableFields?.(obj) ?? {}) };
}

/**
 * Whether a change's object (or the object before it) matches: its fields are worked out once per change,
 * on the change itself, and shared by every filtered watcher (no per-object cache for objects that may
 * never be listed).
 */
function eventMatches(reg: RegistryStore, sel: { labels: LabelSelector; fields: FieldSelector }, e: CachedEvent, before: boolean): boolean {
  const obj = before ? e.prevObject : e.object;
  if (obj === undefined) return false;
  if (!sel.labels.empty() && !sel.labels.matches(obj.metadata?.labels ?? {})) return false;
  if (sel.fields.empty()) return true;
  const known = before ? e.prevFields : e.fields;
  if (known?.registry === reg) return sel.fields.matches(known.values);
  const values = fieldsOf(reg, obj);
  if (known === undefined) {
    if (before) e.prevFields = { registry: reg, values };
    else e.fields = { registry: reg, values };
  }
  return sel.fields.matches(values);
}

/** The request's label and field selectors, checked against what the resource supports. */
function selectorsOf(reg: RegistryStore, query: URLSearchParams): { labels: LabelSelector; fields: FieldSelector } {
  let labels = LabelSelector.everything();
  let fields = FieldSelector.everything();
  try {
    labels = LabelSelector.parse(query.get('labelSelector') ?? '');
  } catch (err) {
    if (err instanceof LabelSelectorError) throw badRequest(`unable to parse requirement: ${err.message}`.replace('unable to parse requirement: unable to parse requirement: ', 'unable to parse requirement: '));
    throw err;
  }
  try {
    fields = FieldSelector.parse(query.get('fieldSelector') ?? '');
    // selectableFields already holds the strategy's fields besides the metadata ones.
    const sample = new Set(Object.keys(selectableFields(reg, { metadata: {} })));
    for (const t of fields.requirements()) {
      if (!sample.has(t.field)) throw new FieldSelectorError(`field label not supported: ${t.field}`);
    }
  } catch (err) {
    if (err instanceof FieldSelectorError) throw badRequest(err.message);
    throw err;
  }
  return { labels, fields };
}

function matches(reg: RegistryStore, sel: { labels: LabelSelector; fields: FieldSelector }, obj: KObject): boolean {
  if (!sel.labels.empty() && !sel.labels.matches(obj.metadata?.labels ?? {})) return false;
  if (!sel.fields.empty() && !sel.fields.matches(selectableFields(reg, obj))) return false;
  return true;
}

/** Serves the verbs of every stored resource. */
export class ResourceHandler {
  private readonly ctx: ResourceHandlerContext;
  private schemas: SchemaIndex | undefined;
  /** Writes take turns, a few per event-loop iteration, so that reads are not queued behind a burst. */
  private readonly writeTurns = new Turns();
  /** Watchers' lines go out batched over a few of those turns. */
  private readonly watchBatcher = new WatchBatcher(this.writeTurns);

  constructor(ctx: ResourceHandlerContext) {
    this.ctx = ctx;
  }

  /** Reads a mutating request's body, then waits for the request's turn to write. */
  private async readWriteBody(req: IncomingMessage): Promise<Buffer> {
    const body = await readBody(req);
    await this.writeTurns.next();
    return body;
  }

  async handle(req: IncomingMessage, res: ServerResponse, ri: ResourceRequestInfo, info: ResourceInfo, query: URLSearchParams): Promise<void> {
    const reg = this.ctx.registryFor(info);
    if (!reg) throw apiErrors.methodNotSupported({ group: info.group, resource: info.plural }, ri.verb);
    const sub = ri.subresource;
    if (sub === 'finalize' && info.plural === 'namespaces' && ri.verb === 'update') {
      const finalize = this.ctx.registryFor(info, 'finalize')!;
      const obj = decodeObjectBody(await readBody(req), req.headers['content-type'], info);
      const result = await finalize.update('', ri.name, obj, { dryRun: dryRunOf(query) });
      return writeJson(res, 200, withTypeMeta(info, result.object));
    }
    if (sub !== '' && sub !== 'status') {
      if (!findSubresource(info, sub)) throw notFoundPath();
      if (sub === 'scale') return serveScale(req, res, reg, ri);
      if (info.plural === 'serviceaccounts' && sub === 'token') {
        if (!this.ctx.tokenRequest) throw notFoundPath();
        return this.ctx.tokenRequest(req, res, ri, info);
      }
      if (info.plural === 'pods' && sub === 'binding') {
        // The watch cache's copy of the pod spares a read of the store (a stale one costs a retry).
        const cached = this.ctx.cache.cacheFor(reg)?.get(reg.key(ri.namespace, ri.name));
        return serveBinding(req, res, reg, ri, () => this.ctx.now(), cached);
      }
      if (info.plural === 'pods' && sub === 'eviction') {
        const pdbInfo = findResource('policy', 'v1', 'poddisruptionbudgets');
        return serveEviction(req, res, reg, pdbInfo ? this.ctx.registryFor(pdbInfo) : undefined, ri, () => this.ctx.now());
      }
      if (info.plural === 'pods' && ['log', 'exec', 'attach', 'portforward', 'proxy'].includes(sub)) {
        return serveKubeletSubresource(req, res, reg, this.ctx.kubelet, ri, info, query);
      }
      throw apiErrors.methodNotSupported({ group: info.group, resource: `${info.plural}/${sub}` }, ri.verb);
    }
    if (sub === 'status' && !['get', 'update', 'patch'].includes(ri.verb)) {
      throw apiErrors.methodNotSupported({ group: info.group, resource: `${info.plural}/status` }, ri.verb);
    }
    if (info.namespaced && ri.namespace === '' && ['create', 'update', 'patch', 'delete', 'get', 'deletecollection'].includes(ri.verb)) {
      throw badRequest('the server could not find the requested resource');
    }
    const output = negotiate(parseAccept(req.headers.accept), query);
    const respond = (code: number, obj: KObject): void => {
      if (output.kind === 'table') {
        writeJson(res, code, printTable(info.group, info.kind, obj as never, { now: this.ctx.now(), version: output.version, includeObject: output.includeObject }), tableContentType(output));
      } else {
        writeJson(res, code, withTypeMeta(info, obj));
      }
    };
    switch (ri.verb) {
      case 'get':
        this.writeTurns.noteRead();
        return respond(200, await reg.get(ri.namespace, ri.name));
      case 'list':
        this.writeTurns.noteRead();
        return this.list(res, reg, info, ri, query, output);
      case 'watch':
        return this.watch(req, res, reg, info, ri, query, output);
      case 'create': {
        const obj = decodeObjectBody(await this.readWriteBody(req), req.headers['content-type'], info);
        this.checkTypeMeta(info, obj);
        this.decodeTyped(info, obj, query, res);
        const bodyNs = obj.metadata?.namespace;
        if (info.namespaced && bodyNs && bodyNs !== ri.namespace) {
          throw badRequest(`the namespace of the provided object does not match the namespace sent on the request`);
        }
        if (info.namespaced) await this.checkNamespace(ri.namespace);
        await this.ctx.admit(info, obj, ri.namespace);
        const created = await reg.create(ri.namespace, obj, { dryRun: dryRunOf(query), fieldManager: fieldManagerOf(req, query), handOver: true });
        return respond(201, created);
      }
      case 'update': {
        const obj = decodeObjectBody(await this.readWriteBody(req), req.headers['content-type'], info);
        this.checkTypeMeta(info, obj);
        this.decodeTyped(info, obj, query, res);
        const result = await reg.update(ri.namespace, ri.name, obj, {
          dryRun: dryRunOf(query),
          fieldManager: fieldManagerOf(req, query),
          ...(sub === 'status' ? { subresource: 'status' as const } : {}),
        });
        return respond(result.created ? 201 : 200, result.object);
      }
      case 'patch': {
        const body = await this.readWriteBody(req);
        const type = mediaType(req.headers['content-type']);
        const patched = await reg.guaranteedUpdate(
          ri.namespace,
          ri.name,
          (cur: KObject) => {
            const patched = this.applyPatch(info, type, cur, body);
            this.decodeTyped(info, patched, query, res);
            return patched;
          },
          { dryRun: dryRunOf(query), fieldManager: fieldManagerOf(req, query), ...(sub === 'status' ? { subresource: 'status' as const } : {}) },
        );
        return respond(200, patched);
      }
      case 'delete': {
        const opts = await this.deleteOptions(req, query);
        const result = await reg.delete(ri.namespace, ri.name, opts);
        if (result.deleted && !returnsDeletedObject(info)) {
          const meta = result.object.metadata ?? {};
          return writeJson(res, 200, {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: { name: meta.name, ...(info.group ? { group: info.group } : {}), kind: info.plural, uid: meta.uid },
          });
        }
        return respond(result.deleted ? 200 : 202, result.object);
      }
      case 'deletecollection': {
        const opts = await this.deleteOptions(req, query);
        const sel = selectorsOf(reg, query);
        const listed = await reg.list(ri.namespace);
        const items: KObject[] = [];
        for (const obj of listed.items) {
          if (!matches(reg, sel, obj)) continue;
          try {
            items.push((await reg.delete(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', opts)).object);
          } catch (err) {
            if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
          }
        }
        return writeJson(res, 200, {
          kind: `${info.kind}List`,
          apiVersion: groupVersion(info),
          metadata: { resourceVersion: String(listed.revision) },
          items,
        });
      }
    }
  }

  /**
   * Decodes a body into the kind's typed form as upstream does: a value of the wrong type is a 400, and
   * unknown fields are dropped and, per ?fieldValidation=, refused (Strict), reported in Warning headers
   * (Warn, the default) or ignored (Ignore).
   */
  private decodeTyped(info: ResourceInfo, obj: KObject, query: URLSearchParams, res: ServerResponse): void {
    const validation = query.get('fieldValidation') ?? 'Warn';
    if (validation !== 'Strict' && validation !== 'Warn' && validation !== 'Ignore') {
      throw badRequest(`fieldValidation parameter unsupported: ${validation}. Must be one of: Ignore, Warn, Strict`);
    }
    this.schemas ??= SchemaIndex.builtin();
    const node = this.schemas.forKind({ group: info.group, version: info.version, kind: info.kind });
    if (!node) return;
    const r = typedDecode(obj, node, info.kind);
    if (r.typeError !== undefined) {
      throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${r.typeError}`);
    }
    if (r.unknownFields.length === 0 || validation === 'Ignore') return;
    const messages = r.unknownFields.map((f) => `unknown field "${f}"`);
    if (validation === 'Strict') throw badRequest(`strict decoding error: ${messages.join(', ')}`);
    res.setHeader('Warning', messages.map((m) => `299 - ${JSON.stringify(m)}`));
  }

  private checkTypeMeta(info: ResourceInfo, obj: KObject): void {
    const gv = groupVersion(info);
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`);
    }
    if (obj.kind !== undefined && obj.kind !== info.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${info.kind})`);
    }
  }

  /**
   * Upstream's NamespaceLifecycle admission: the namespace must exist and not be terminating. Like upstream,
   * it looks in the cache first and reads the store only when the cache has not (yet) seen the namespace.
   */
  private async checkNamespace(namespace: string): Promise<void> {
    const registry = this.ctx.namespaces;
    let ns = this.ctx.cache.cacheFor(registry)?.get(registry.key('', namespace));
    if (ns === undefined) {
      try {
        ns = await registry.get('', namespace);
      } catch (err) {
        if (err instanceof StatusError && err.reason === 'NotFound') throw apiErrors.notFound({ group: '', resource: 'namespaces' }, namespace);
        throw err;
      }
    }
    if (ns.metadata?.deletionTimestamp !== undefined || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating') {
      const message = `unable to create new content in namespace ${namespace} because it is being terminated`;
      throw new StatusError(403, 'Forbidden', message, {
        name: namespace,
        kind: 'namespaces',
        causes: [{ reason: 'NamespaceTerminating', message, field: 'metadata.namespace' }],
      });
    }
  }

  private applyPatch(info: ResourceInfo, type: string, cur: KObject, body: Buffer): KObject {
    this.schemas ??= SchemaIndex.builtin();
    const schema = type === 'application/strategic-merge-patch+json' ? this.schemas.forKind({ group: info.group, version: info.version, kind: info.kind }) : undefined;
    return applyPatchBody(type, cur, body, schema);
  }

  private async deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<Parameters<RegistryStore['delete']>[2]> {
    const body = await this.readWriteBody(req);
    let opts: {
      gracePeriodSeconds?: number;
      propagationPolicy?: string;
      orphanDependents?: boolean;
      preconditions?: { uid?: string; resourceVersion?: string };
      dryRun?: string[];
    } = {};
    if (body.length > 0) opts = decodeObjectBody(body, req.headers['content-type']) as typeof opts;
    const grace = parseIntParam(query, 'gracePeriodSeconds') ?? opts.gracePeriodSeconds;
    let policy = query.get('propagationPolicy') ?? opts.propagationPolicy;
    const orphan = query.get('orphanDependents') ?? (opts.orphanDependents === undefined ? undefined : String(opts.orphanDependents));
    if (policy === undefined && orphan !== undefined) policy = orphan === 'true' ? 'Orphan' : 'Background';
    if (policy !== undefined && policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
      throw apiErrors.invalid('', 'DeleteOptions', '', [
        field.notSupported(newPath('propagationPolicy'), policy, ['Foreground', 'Background', 'Orphan', 'nil']),
      ]);
    }
    if (grace !== undefined && grace < 0) throw badRequest('gracePeriodSeconds must be a non-negative integer');
    return {
      dryRun: dryRunOf(query, opts),
      ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
      ...(policy !== undefined ? { propagationPolicy: policy } : {}),
      ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
    };
  }

  private async list(
    res: ServerResponse,
    reg: RegistryStore,
    info: ResourceInfo,
    ri: ResourceRequestInfo,
    query: URLSearchParams,
    output: Output,
  ): Promise<void> {
    const sel = selectorsOf(reg, query);
    const limit = parseIntParam(query, 'limit') ?? 0;
    const token = query.get('continue') ?? '';
    let revision: number | undefined;
    let after: string | undefined;
    if (token !== '') {
      const c = decodeContinue(token);
      revision = c.revision;
      after = reg.keyPrefix(ri.namespace) + c.start;
    }
    const rv = query.get('resourceVersion') ?? '';
    const fromCache = await this.listFromCache(reg, ri.namespace, sel, rv, token, limit, query.get('resourceVersionMatch') ?? '');
    if (fromCache) return this.writeList(res, info, output, fromCache.items, { resourceVersion: String(fromCache.revision) });
    const items: KObject[] = [];
    let listRevision = 0;
    let more = false;
    let remaining = 0;
    let lastKey: string | undefined;
    try {
      // Read pages until the limit is filled with matching objects, as upstream does with selectors.
      for (;;) {
        const page = await reg.list(ri.namespace, {
          ...(limit > 0 ? { limit: limit - items.length } : {}),
          ...(after !== undefined ? { after } : {}),
          ...(revision !== undefined ? { revision } : {}),
        });
        listRevision = page.revision;
        revision = page.revision;
        for (const obj of page.items) if (matches(reg, sel, obj)) items.push(obj);
        more = page.more;
        remaining = page.remaining;
        lastKey = page.lastKey;
        if (!more || limit <= 0 || items.length >= limit || lastKey === undefined) break;
        after = lastKey;
      }
    } catch (err) {
      if (isStoreError(err, 'Compacted')) {
        throw apiErrors.resourceExpired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      throw err;
    }
    const metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number } = {
      resourceVersion: String(listRevision),
    };
    if (more && lastKey !== undefined) {
      metadata.continue = encodeContinue(listRevision, lastKey.slice(reg.keyPrefix(ri.namespace).length));
      if (sel.labels.empty() && sel.fields.empty()) metadata.remainingItemCount = remaining;
    }
    return this.writeList(res, info, output, items, metadata);
  }

  /**
   * Serves a list from the watch cache when upstream would: no continue token, not an exact revision, and
   * either no limit or resourceVersion=0. "" waits until the cache holds every acknowledged write; a number
   * waits until the cache has reached it. Undefined: read from the store instead.
   */
  private async listFromCache(
    reg: RegistryStore,
    namespace: string,
    sel: { labels: LabelSelector; fields: FieldSelector },
    rv: string,
    token: string,
    limit: number,
    match: string,
  ): Promise<{ items: KObject[]; revision: number } | undefined> {
    const watchCache = this.ctx.cache;
    const cache = watchCache.cacheFor(reg);
    if (!cache || token !== '' || match === 'Exact' || (limit > 0 && rv !== '0')) return undefined;
    if (rv === '') {
      if (!(await watchCache.waitUntilFresh())) return undefined;
    } else if (rv !== '0') {
      const n = Number(rv);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid resource version: ${rv}`);
      if (!(await watchCache.waitFor(n, 3000))) return undefined;
    }
    const revision = watchCache.currentRevision;
    const items: KObject[] = [];
    for (const { object } of cache.list(reg.keyPrefix(namespace))) {
      const served = reg.served(object);
      if (matches(reg, sel, served)) items.push(served);
    }
    return { items, revision };
  }

  private writeList(
    res: ServerResponse,
    info: ResourceInfo,
    output: Output,
    items: KObject[],
    metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number },
  ): Promise<void> {
    if (output.kind === 'table') {
      const { rows, ...table } = printListTable(info.group, info.kind, { metadata, items }, {
        now: this.ctx.now(),
        version: output.version,
        includeObject: output.includeObject,
      }) as { rows: unknown[] };
      return writeJsonList(res, { ...table, rows: [] }, rows, tableContentType(output));
    }
    return writeJsonList(res, { kind: `${info.kind}List`, apiVersion: groupVersion(info), metadata, items: [] }, items);
  }

  private async watch(
    req: IncomingMessage,
    res: ServerResponse,
    reg: RegistryStore,
    info: ResourceInfo,
    ri: ResourceRequestInfo,
    query: URLSearchParams,
    output: Output,
  ): Promise<void> {
    const sel = selectorsOf(reg, query);
    const rvParam = query.get('resourceVersion') ?? '';
    const timeout = parseIntParam(query, 'timeoutSeconds') ?? defaultWatchTimeoutSeconds;
    const bookmarks = query.get('allowWatchBookmarks') === 'true';
    const sendInitial = query.get('sendInitialEvents');
    if (sendInitial !== null && query.get('resourceVersionMatch') !== 'NotOlderThan') {
      throw apiErrors.invalid('meta.k8s.io', 'ListOptions', '', [
        field.forbidden(newPath('resourceVersionMatch'), 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'),
      ]);
    }
    if (ri.name !== '') sel.fields = FieldSelector.and(sel.fields, FieldSelector.oneTermEqual('metadata.name', ri.name));
    const requested = rvParam === '' ? 0 : Number(rvParam);
    if (!Number.isInteger(requested) || requested < 0) throw badRequest(`invalid resource version: ${rvParam}`);
    const watchCache = this.ctx.cache;
    const cache = watchCache.cacheFor(reg);
    if (!cache) throw apiErrors.methodNotSupported({ group: info.group, resource: info.plural }, 'watch');
    // "" and "0" start with the current state as ADDED events, unless sendInitialEvents=false says not to.
    const initial = rvParam === '' || rvParam === '0' ? sendInitial !== 'false' : sendInitial === 'true';
    if (rvParam === '') await watchCache.waitUntilFresh();
    else if (requested > watchCache.currentRevision) await watchCache.waitFor(requested, 3000);

    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeout * 1000);
    const stop = (): void => ac.abort();
    req.on('close', stop);
    res.on('close', stop);
    res.writeHead(200, { 'Content-Type': tableContentType(output), 'Transfer-Encoding': 'chunked' });
    // Clients (client-go, kubectl) wait for the response headers before they consider the watch started.
    res.flushHeaders();
    const lines = this.watchBatcher.output(res);
    const gv = groupVersion(info);
    const line = (type: string, obj: KObject): string => {
      const object =
        output.kind === 'table'
          ? printTable(info.group, info.kind, obj as never, { now: this.ctx.now(), version: output.version, includeObject: output.includeObject, noHeaders: true })
          : type === 'BOOKMARK' || type === 'ERROR'
            ? obj
            : withTypeMeta(info, obj);
      return JSON.stringify({ type, object }) + '\n';
    };
    let lastRevision = 0;
    const bookmark = (annotations?: Record<string, string>): void => {
      lines.writeNow(
        line('BOOKMARK', { kind: info.kind, apiVersion: gv, metadata: { resourceVersion: String(lastRevision), ...(annotations ? { annotations } : {}) } }),
      );
    };
    // Snapshot and subscription happen in one synchronous step: no change can fall between them.
    const prefix = reg.keyPrefix(ri.namespace);
    const start = initial ? watchCache.currentRevision : requested;
    const snapshot = initial ? cache.list(prefix) : [];
    const filtered = !sel.labels.empty() || !sel.fields.empty();
    const sub = cache.subscribe(prefix, start, (events: CachedEvent[]) => {
      let out = '';
      for (const ev of events) {
        lastRevision = ev.revision;
        const e = reg.strategy.fromStorage
          ? { ...ev, object: reg.served(ev.object), prevObject: ev.prevObject && reg.served(ev.prevObject) }
          : ev;
        if (!filtered) {
          out += output.kind === 'table' ? line(e.type, e.object) : this.shared(e, gv, info);
          continue;
        }
        const now = eventMatches(reg, sel, e, false);
        if (output.kind === 'table') {
          if (now) out += line(e.type, e.object);
          continue;
        }
        // A filtered watch sees objects enter and leave its selection, as upstream's cacher reports them.
        // Where the event keeps its own type, its line is the one every watcher shares.
        const before = eventMatches(reg, sel, e, true);
        if (e.type === 'DELETED') {
          if (before || now) out += this.shared(e, gv, info);
        } else if (now && e.type === 'ADDED') out += this.shared(e, gv, info);
        else if (now && !before) out += line('ADDED', e.object);
        else if (now) out += this.shared(e, gv, info);
        else if (before) out += line('DELETED', e.object);
      }
      lines.write(out);
    });
    lastRevision = start;
    const bookmarkTimer = bookmarks ? setInterval(() => bookmark(), bookmarkIntervalMs) : undefined;
    try {
      if (!sub) {
        const expired = apiErrors.resourceExpired(`too old resource version: ${requested} (${cache.oldestRevision + 1})`);
        lines.writeNow(line('ERROR', expired.status as unknown as KObject));
        return;
      }
      let out = '';
      for (const { object } of snapshot) {
        const served = reg.served(object);
        if (matches(reg, sel, served)) out += line('ADDED', served);
      }
      lines.writeNow(out);
      if (sendInitial === 'true' && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
      if (!ac.signal.aborted) await new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      sub?.cancel();
      clearTimeout(timer);
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      req.off('close', stop);
      lines.close();
      res.end();
    }
  }

  /** The event's JSON line as plain objects of this apiVersion, made once and shared by every watcher. */
  private shared(e: CachedEvent, gv: string, info: ResourceInfo): string {
    e.wire ??= new Map();
    let text = e.wire.get(gv);
    if (text === undefined) {
      text = JSON.stringify({ type: e.type, object: withTypeMeta(info, e.object) }) + '\n';
      e.wire.set(gv, text);
    }
    return text;
  }
}

/** Resources whose stores set upstream's ReturnDeletedObject: a delete answers the object, not a Status. */
const returnDeletedObject = new Set(['/pods', '/serviceaccounts', '/namespaces', 'storage.k8s.io/storageclasses']);

function returnsDeletedObject(info: ResourceInfo): boolean {
  return returnDeletedObject.has(`${info.group}/${info.plural}`);
}
