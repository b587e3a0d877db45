// The REST client: every verb of the Kubernetes API over HTTP(S), one keep-alive agent per client, a
// client-side token bucket, and watches as async iterables of events read from the JSON-lines stream.
// It knows nothing about the API server's internals, so a user's own controller can use it unchanged.
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Status } from '../apimachinery/errors/status-error.js';
import { StatusError } from '../apimachinery/errors/status-error.js';
import type { Clock } from './clock.js';
import { realClock, sleep } from './clock.js';
import type { ClientConfig } from './config.js';
import { TokenBucket } from './token-bucket.js';

/** Which collection a request is about; namespace is omitted (or '') for cluster-scoped resources. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
}

/** The fields every API object has that the client library relies on. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A list response. */
export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** Query options of list, watch and deletecollection. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

/** Options of the writes. */
export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

/** Options of delete and deletecollection. */
export interface DeleteOptions {
  dryRun?: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** The three patch formats the API server takes as JSON. */
export type PatchType = 'json' | 'merge' | 'strategic';

const patchContentTypes: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/** One event of a watch; `object` is a Status for ERROR events. */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** A low-level request. */
export interface RawRequest {
  method: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** Options of the RESTClient beyond the connection config. */
export interface RESTClientOptions {
  clock?: Clock;
  /** How often a 429 or 5xx answer with Retry-After is retried (client-go: 10). */
  maxRetries?: number;
}

const reasonsByCode: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The StatusError of an error answer: the server's Status when it sent one, else one made from the code. */
export function statusErrorFrom(code: number, body: string): StatusError {
  try {
    const s = JSON.parse(body) as Partial<Status>;
    if (s.kind === 'Status' && typeof s.message === 'string') {
      return new StatusError(s.code ?? code, s.reason ?? '', s.message, s.details);
    }
  } catch {
    // Not JSON: fall through to a generic error, as client-go's newUnstructuredResponseError does.
  }
  const text = body.trim();
  return new StatusError(
    code,
    reasonsByCode[code] ?? 'Unknown',
    `the server responded with the status code ${code} but did not return more information${text ? ` (${text.slice(0, 200)})` : ''}`,
  );
}

/** True when `err` is a StatusError with this reason (or this HTTP code). */
export function isStatus(err: unknown, reasonOrCode: string | number): err is StatusError {
  if (!(err instanceof StatusError)) return false;
  return typeof reasonOrCode === 'number' ? err.code === reasonOrCode : err.reason === reasonOrCode;
}

/** A client of one API server. */
export class RESTClient {
  readonly config: ClientConfig;
  readonly #url: URL;
  readonly #agent: HttpAgent;
  readonly #limiter: TokenBucket;
  readonly #clock: Clock;
  readonly #maxRetries: number;
  readonly #userAgent: string;
  #tokenCache: { value: string; readAt: number } | undefined;

  constructor(config: ClientConfig, options: RESTClientOptions = {}) {
    this.config = config;
    this.#url = new URL(config.server);
    this.#clock = options.clock ?? realClock;
    this.#maxRetries = options.maxRetries ?? 10;
    this.#userAgent = config.userAgent ?? `k8ts-client/v0.1.0 (${process.platform}/${process.arch})`;
    this.#limiter = new TokenBucket(config.qps ?? 50, config.burst ?? 100, this.#clock);
    const https = this.#url.protocol === 'https:';
    this.#agent = https
      ? new HttpsAgent({
          keepAlive: true,
          // One TLS context for all connections: given ca/cert/key instead, each new connection parses them
          // again (the kubelet opens dozens at once when many pods start).
          secureContext: createSecureContext({
            ...(config.ca !== undefined ? { ca: config.ca } : {}),
            ...(config.cert !== undefined ? { cert: config.cert } : {}),
            ...(config.key !== undefined ? { key: config.key } : {}),
          }),
          ...(config.tlsServerName !== undefined ? { servername: config.tlsServerName } : {}),
          rejectUnauthorized: !config.insecureSkipTLSVerify,
        })
      : new HttpAgent({ keepAlive: true });
  }

  /** Closes idle keep-alive connections; open watches end when their consumers stop. */
  close(): void {
    this.#agent.destroy();
  }

  /** The URL path of a collection, an object or an object's subresource. */
  path(ref: ResourceRef, name?: string, subresource?: string): string {
    let p = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
    if (ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    p += `/${ref.resource}`;
    if (name !== undefined) {
      if (name === '') throw new Error('resource name may not be empty');
      p += `/${encodeURIComponent(name)}`;
    }
    if (subresource !== undefined) p += `/${subresource}`;
    return p;
  }

  async get<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    name: string,
    options: { resourceVersion?: string; subresource?: string } = {},
  ): Promise<T> {
    return this.request<T>({
      method: 'GET',
      path: this.path(ref, name, options.subresource),
      query: { resourceVersion: options.resourceVersion },
    });
  }

  async list<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    return this.request<KubeList<T>>({ method: 'GET', path: this.path(ref), query: listQuery(options) });
  }

  async create<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    obj: T,
    options: WriteOptions & { subresource?: string; name?: string } = {},
  ): Promise<T> {
    const p =
      options.subresource !== undefined
        ? this.path(ref, options.name ?? obj.metadata?.name, options.subresource)
        : this.path(ref);
    return this.request<T>({ method: 'POST', path: p, query: writeQuery(options), body: obj });
  }

  /** Replaces the object (PUT); a stale metadata.resourceVersion makes it fail with a Conflict. */
  async update<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    obj: T,
    options: WriteOptions & { subresource?: string } = {},
  ): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error('update needs metadata.name');
    return this.request<T>({
      method: 'PUT',
      path: this.path(ref, name, options.subresource),
      query: writeQuery(options),
      body: obj,
    });
  }

  /** PUT to the status subresource. */
  async updateStatus<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    obj: T,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.update(ref, obj, { ...options, subresource: 'status' });
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    options: WriteOptions & { subresource?: string } = {},
  ): Promise<T> {
    return this.request<T>({
      method: 'PATCH',
      path: this.path(ref, name, options.subresource),
      query: writeQuery(options),
      body: patch,
      contentType: patchContentTypes[type],
    });
  }

  /** Resolves with what the server answers: the deleted object, or a Status. */
  async delete<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    name: string,
    options: DeleteOptions = {},
  ): Promise<T> {
    return this.request<T>({
      method: 'DELETE',
      path: this.path(ref, name),
      query: { dryRun: options.dryRun ? 'All' : undefined },
      body: deleteBody(options),
    });
  }

  async deleteCollection(ref: ResourceRef, options: ListOptions & DeleteOptions = {}): Promise<KubeObject> {
    return this.request({
      method: 'DELETE',
      path: this.path(ref),
      query: { ...listQuery(options), dryRun: options.dryRun ? 'All' : undefined },
      body: deleteBody(options),
    });
  }

  /** The scale subresource (autoscaling/v1 Scale). */
  async getScale(ref: ResourceRef, name: string): Promise<KubeObject> {
    return this.get(ref, name, { subresource: 'scale' });
  }

  /** Sets spec.replicas through the scale subresource. */
  async scale(
    ref: ResourceRef,
    name: string,
    replicas: number,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    return this.patch(ref, name, { spec: { replicas } }, 'merge', { ...options, subresource: 'scale' });
  }

  /**
   * Watches a collection. The iterable ends when the server closes the stream (its timeout, or the
   * connection drops: resume from the last resourceVersion seen); breaking out of the loop or aborting
   * `signal` closes the connection. A 410 at the start comes as a thrown StatusError, a 410 later as an
   * ERROR event whose object is the Status.
   */
  async *watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    options: ListOptions = {},
    signal?: AbortSignal,
  ): AsyncGenerator<WatchEvent<T>> {
    let res: IncomingMessage;
    try {
      res = await this.#send(
        {
          method: 'GET',
          path: this.path(ref),
          query: { ...listQuery(options), watch: 'true' },
          ...(signal ? { signal } : {}),
        },
        true,
      );
    } catch (err) {
      // Stopped before the server answered: an empty watch, not an error.
      if (signal?.aborted) return;
      throw err;
    }
    if ((res.statusCode ?? 0) >= 300) {
      throw statusErrorFrom(res.statusCode ?? 0, await readBody(res));
    }
    res.setEncoding('utf8');
    let buf = '';
    try {
      for await (const chunk of res as AsyncIterable<string>) {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line !== '') yield JSON.parse(line) as WatchEvent<T>;
        }
      }
      const rest = buf.trim();
      if (rest !== '') yield JSON.parse(rest) as WatchEvent<T>;
    } catch (err) {
      // A stream cut by our own abort, or by the peer, is an ordinary end of the watch.
      if (signal?.aborted || isConnectionReset(err)) return;
      throw err;
    } finally {
      res.destroy();
    }
  }

  /** Sends a request and parses the JSON answer; error answers throw a StatusError. */
  async request<T = unknown>(req: RawRequest): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.#send(req, false);
      const body = await readBody(res);
      const code = res.statusCode ?? 0;
      if (code >= 200 && code < 300) return (body === '' ? {} : JSON.parse(body)) as T;
      const retryAfter = Number(res.headers['retry-after']);
      if (
        (code === 429 || code >= 500) &&
        Number.isFinite(retryAfter) &&
        retryAfter > 0 &&
        attempt < this.#maxRetries
      ) {
        await sleep(this.#clock, retryAfter * 1000, req.signal);
        continue;
      }
      throw statusErrorFrom(code, body);
    }
  }

  async #send(req: RawRequest, streaming: boolean): Promise<IncomingMessage> {
    const wait = this.#limiter.reserve();
    if (wait > 0) await sleep(this.#clock, wait, req.signal);
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) search.set(k, String(v));
    const qs = search.toString();
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.#userAgent };
    if (body !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const token = this.#token();
    if (token) headers.Authorization = `Bearer ${token}`;
    const base = this.#url.pathname.replace(/\/+$/, '');
    const options: RequestOptions = {
      protocol: this.#url.protocol,
      hostname: this.#url.hostname.replace(/^\[|\]$/g, ''),
      port: this.#url.port || (this.#url.protocol === 'https:' ? 443 : 80),
      method: req.method,
      path: base + req.path + (qs ? `?${qs}` : ''),
      headers,
      agent: this.#agent,
      ...(req.signal ? { signal: req.signal } : {}),
    };
    const send = this.#url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const r: ClientRequest = send(options, resolve);
      r.on('error', reject);
      const timeout = this.config.timeoutMs ?? 0;
      if (!streaming && timeout > 0)
        r.setTimeout(timeout, () => r.destroy(new Error(`request timed out after ${timeout}ms`)));
      r.end(body);
    });
  }

  #token(): string | undefined {
    if (this.config.token) return this.config.token;
    const file = this.config.tokenFile;
    if (!file) return undefined;
    // Projected tokens rotate; client-go re-reads the file at most once a minute.
    const now = this.#clock.now();
    if (!this.#tokenCache || now - this.#tokenCache.readAt > 60_000) {
      this.#tokenCache = { value: readFileSync(file, 'utf8').trim(), readAt: now };
    }
    return this.#tokenCache.value;
  }
}

function listQuery(o: ListOptions): Record<string, string | number | boolean | undefined> {
  return {
    labelSelector: o.labelSelector || undefined,
    fieldSelector: o.fieldSelector || undefined,
    limit: o.limit,
    continue: o.continue || undefined,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
    timeoutSeconds: o.timeoutSeconds,
    allowWatchBookmarks: o.allowWatchBookmarks || undefined,
    sendInitialEvents: o.sendInitialEvents,
  };
}

function writeQuery(o: WriteOptions): Record<string, string | undefined> {
  return {
    dryRun: o.dryRun ? 'All' : undefined,
    fieldManager: o.fieldManager,
    fieldValidation: o.fieldValidation,
  };
}

function deleteBody(o: DeleteOptions): Record<string, unknown> | undefined {
  const body: Record<string, unknown> = {};
  if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds;
  if (o.propagationPolicy !== undefined) body.propagationPolicy = o.propagationPolicy;
  if (o.preconditions !== undefined) body.preconditions = o.preconditions;
  return Object.keys(body).length === 0 ? undefined : { kind: 'DeleteOptions', apiVersion: 'v1', ...body };
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (data += d));
    res.on('end', () => resolve(data));
    res.on('error', reject);
  });
}

function isConnectionReset(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (err as Error | null)?.name === 'AbortError'
  );
}
