// A client of the OCI distribution API (the Docker Registry HTTP API V2) over node:http and node:https:
// manifests with Accept for both indexes and both image manifests, blobs with redirects, and the
// authentication registries use: a 401 with a WWW-Authenticate challenge, answered with a bearer token from
// the challenge's realm (anonymous, with basic credentials, with an identity token or a given registry token)
// or with basic credentials. Endpoints (mirrors first, then the registry itself) come from registry-config.ts;
// a loopback registry is tried over HTTPS without certificate checks, then over plain HTTP, as Docker treats
// it as an insecure registry by default.
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { digestOf, digestProblem, sha256Digest } from './digest.js';
import { ImageError, imageErrors } from './errors.js';
import { manifestAccept, parseManifestDocument, type Descriptor, type ManifestDocument } from './oci.js';
import { referenceString, type ImageReference } from './reference.js';
import { resolveEndpoints, type RegistriesConfig, type RegistryEndpoint } from './registry-config.js';

/** Credentials for a pull, with the fields of CRI's AuthConfig (which the kubelet fills from imagePullSecrets). */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** base64 of "username:password". */
  auth?: string;
  /** The registry these credentials are for; they are sent to a mirror only when this names the mirror. */
  serverAddress?: string;
  /** An OAuth2 refresh token, exchanged for an access token at the token service. */
  identityToken?: string;
  /** A bearer token sent to the registry as it is. */
  registryToken?: string;
}

/** Options of a RegistryClient. */
export interface RegistryClientOptions {
  config?: RegistriesConfig;
  userAgent?: string;
  /** How long a connection may stay silent before the request fails (ms). */
  timeoutMs?: number;
}

/** A manifest or index as fetched, verified against the digest it was asked by or announced with. */
export interface FetchedManifest {
  endpoint: RegistryEndpoint;
  descriptor: Descriptor;
  body: Buffer;
  document: ManifestDocument;
}

/** A blob response, its body not yet read. */
export interface BlobResponse {
  stream: IncomingMessage;
  /** Content-Length, if the server sent one. */
  length: number | undefined;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

interface RequestOptions {
  method?: 'GET' | 'HEAD';
  accept?: string;
  scope: string;
  credentials: NormalCredentials | undefined;
  signal?: AbortSignal;
  followRedirects?: boolean;
}

interface NormalCredentials {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

const maxManifestBytes = 4 << 20;
const maxErrorBodyBytes = 64 << 10;
const maxRedirects = 10;

/** Splits a WWW-Authenticate header into challenges (RFC 7235 auth-params, quoted or not). */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const re =
    /\s*([A-Za-z][A-Za-z0-9._~+/-]*)(?:\s+|$)((?:\s*,?\s*[A-Za-z0-9._~+/-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\s]*))*)/g;
  for (const m of header.matchAll(re)) {
    const [, scheme = '', rest = ''] = m;
    if (scheme === '') continue;
    const params: Record<string, string> = {};
    for (const p of rest.matchAll(/([A-Za-z0-9._~+/-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    }
    challenges.push({ scheme: scheme.toLowerCase(), params });
  }
  return challenges;
}

function normaliseCredentials(c: RegistryCredentials | undefined): NormalCredentials | undefined {
  if (c === undefined) return undefined;
  const out: NormalCredentials = {};
  if (c.username !== undefined && c.username !== '') {
    out.username = c.username;
    out.password = c.password ?? '';
  } else if (c.auth !== undefined && c.auth !== '') {
    const decoded = Buffer.from(c.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw new ImageError(
        'Unauthorized',
        'invalid auth configuration: auth is not base64 of "username:password"',
      );
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  }
  if (c.identityToken !== undefined && c.identityToken !== '') out.identityToken = c.identityToken;
  if (c.registryToken !== undefined && c.registryToken !== '') out.registryToken = c.registryToken;
  return Object.keys(out).length === 0 ? undefined : out;
}

function hostOf(address: string): string {
  try {
    return new URL(/^[a-z]+:\/\//i.test(address) ? address : `https://${address}`).host;
  } catch {
    return address;
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

async function readBody(res: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw new ImageError('InvalidManifest', `${what} is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** True when a challenge can be answered: bearer (a token service may grant anonymous pulls), or basic with credentials. */
function canAnswer(challenges: Challenge[], credentials: NormalCredentials | undefined): boolean {
  if (challenges.some((c) => c.scheme === 'bearer')) return true;
  return challenges.some((c) => c.scheme === 'basic') && credentials?.username !== undefined;
}

function drain(res: IncomingMessage): void {
  res.resume();
  res.on('error', () => undefined);
}

/** Talks to registries; keeps connections, tokens and the HTTP fallback of loopback hosts between requests. */
export class RegistryClient {
  readonly #config: RegistriesConfig;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  readonly #agents = new Map<string, http.Agent>();
  /** Authorization header values by origin and scope. */
  readonly #authorizations = new Map<string, { value: string; expiresAt: number }>();
  /** Hosts that answered only over plain HTTP. */
  readonly #plainHttp = new Set<string>();

  constructor(options: RegistryClientOptions = {}) {
    this.#config = options.config ?? {};
    this.#userAgent = options.userAgent ?? 'k8ts/0.1';
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** The endpoints to try for a reference, mirrors first. */
  endpoints(ref: ImageReference): RegistryEndpoint[] {
    return resolveEndpoints(this.#config, ref.domain, ref.path);
  }

  /**
   * Fetches the manifest or index a reference names, trying each endpoint in order; the error of the last
   * endpoint is thrown when none succeeds.
   */
  async resolve(
    ref: ImageReference,
    credentials?: RegistryCredentials,
    signal?: AbortSignal,
  ): Promise<FetchedManifest> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    let lastError: unknown;
    for (const endpoint of this.endpoints(ref)) {
      try {
        return await this.fetchManifest(endpoint, reference, credentials, signal, referenceString(ref));
      } catch (err) {
        if (signal?.aborted === true) throw err;
        lastError = err;
      }
    }
    if (lastError instanceof ImageError && !lastError.message.startsWith('failed to resolve reference')) {
      throw new ImageError(
        lastError.code,
        `failed to resolve reference "${referenceString(ref)}": ${lastError.message}`,
        {
          cause: lastError,
          ...(lastError.httpStatus === undefined ? {} : { httpStatus: lastError.httpStatus }),
        },
      );
    }
    throw lastError;
  }

  /**
   * Fetches one manifest by tag or digest from an endpoint. A digest reference is checked against the body; a
   * tag's body against the Docker-Content-Digest the registry announces.
   */
  async fetchManifest(
    endpoint: RegistryEndpoint,
    reference: string,
    credentials?: RegistryCredentials,
    signal?: AbortSignal,
    displayRef?: string,
  ): Promise<FetchedManifest> {
    const name = displayRef ?? `${endpoint.host}/${endpoint.repository}:${reference}`;
    const res = await this.#request(
      endpoint,
      `/${endpoint.repository}/manifests/${reference}`,
      {
        accept: manifestAccept,
        scope: `repository:${endpoint.repository}:pull`,
        credentials: this.#credentialsFor(endpoint, credentials),
        ...(signal === undefined ? {} : { signal }),
        followRedirects: true,
      },
      name,
    );
    const body = await readBody(res, maxManifestBytes, `manifest ${name}`);
    const isDigest = digestProblem(reference) === undefined;
    let digest: string;
    if (isDigest) {
      digest = reference;
      const actual = digestOf(body, digest);
      if (actual !== digest) throw imageErrors.digestMismatch(`manifest-${digest}`, digest, actual);
    } else {
      const announced = res.headers['docker-content-digest'];
      const header =
        typeof announced === 'string' && digestProblem(announced) === undefined ? announced : undefined;
      digest = header === undefined ? sha256Digest(body) : digestOf(body, header);
      if (header !== undefined && header !== digest)
        throw imageErrors.digestMismatch(`manifest-${header}`, header, digest);
    }
    const document = parseManifestDocument(body, res.headers['content-type']);
    const mediaType = document.kind === 'index' ? document.index.mediaType : document.manifest.mediaType;
    return { endpoint, descriptor: { mediaType, digest, size: body.length }, body, document };
  }

  /** Starts a blob download (following redirects); the caller verifies the bytes as it stores them. */
  async fetchBlob(
    endpoint: RegistryEndpoint,
    descriptor: Descriptor,
    credentials?: RegistryCredentials,
    signal?: AbortSignal,
  ): Promise<BlobResponse> {
    const res = await this.#request(
      endpoint,
      `/${endpoint.repository}/blobs/${descriptor.digest}`,
      {
        scope: `repository:${endpoint.repository}:pull`,
        credentials: this.#credentialsFor(endpoint, credentials),
        ...(signal === undefined ? {} : { signal }),
        followRedirects: true,
      },
      `${endpoint.host}/${endpoint.repository}@${descriptor.digest}`,
    );
    const length = Number(res.headers['content-length']);
    return { stream: res, length: Number.isFinite(length) ? length : undefined };
  }

  /** Closes kept-alive connections. */
  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  // ---- internals

  #credentialsFor(
    endpoint: RegistryEndpoint,
    given: RegistryCredentials | undefined,
  ): NormalCredentials | undefined {
    // Pull credentials belong to the image's registry; a mirror gets them only when they name it, so that a
    // mirror never learns the credentials of the registry it mirrors.
    if (given !== undefined) {
      const server =
        given.serverAddress === undefined || given.serverAddress === ''
          ? undefined
          : hostOf(given.serverAddress);
      if (endpoint.isDefault || server === endpoint.host) return normaliseCredentials(given);
    }
    if (endpoint.auth === undefined) return undefined;
    return normaliseCredentials({
      ...(endpoint.auth.username === undefined ? {} : { username: endpoint.auth.username }),
      ...(endpoint.auth.password === undefined ? {} : { password: endpoint.auth.password }),
      ...(endpoint.auth.auth === undefined ? {} : { auth: endpoint.auth.auth }),
      ...(endpoint.auth.identitytoken === undefined ? {} : { identityToken: endpoint.auth.identitytoken }),
    });
  }

  #protocol(endpoint: RegistryEndpoint): 'http:' | 'https:' {
    return endpoint.httpFallback && this.#plainHttp.has(endpoint.host) ? 'http:' : endpoint.protocol;
  }

  #agent(protocol: string, host: string, endpoint: RegistryEndpoint | undefined): http.Agent {
    const key = `${protocol}//${host}`;
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      if (protocol === 'http:') {
        agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      } else {
        const tls = endpoint?.host === host ? endpoint.tls : {};
        agent = new https.Agent({
          keepAlive: true,
          maxSockets: 8,
          rejectUnauthorized: tls.insecure_skip_verify !== true,
          ...(tls.ca_file === undefined ? {} : { ca: readFileSync(tls.ca_file) }),
          ...(tls.cert_file === undefined ? {} : { cert: readFileSync(tls.cert_file) }),
          ...(tls.key_file === undefined ? {} : { key: readFileSync(tls.key_file) }),
        });
      }
      this.#agents.set(key, agent);
    }
    return agent;
  }

  #send(
    url: URL,
    method: string,
    headers: OutgoingHttpHeaders,
    agent: http.Agent,
    signal?: AbortSignal,
    body?: string,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(
        url,
        { method, headers, agent, ...(signal === undefined ? {} : { signal }) },
        resolve,
      );
      req.setTimeout(this.#timeoutMs, () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', (err: Error) => {
        if (err.name === 'AbortError') reject(imageErrors.aborted(`${method} ${url.href}`));
        else
          reject(
            new ImageError('Network', `failed to do request: ${method} "${url.href}": ${err.message}`, {
              cause: err,
            }),
          );
      });
      req.end(body);
    });
  }

  async #request(
    endpoint: RegistryEndpoint,
    path: string,
    options: RequestOptions,
    name: string,
  ): Promise<IncomingMessage> {
    const method = options.method ?? 'GET';
    let authTried = false;
    for (;;) {
      const protocol = this.#protocol(endpoint);
      const url = new URL(`${protocol}//${endpoint.host}${endpoint.apiRoot}${path}`);
      const headers: OutgoingHttpHeaders = { 'user-agent': this.#userAgent };
      if (options.accept !== undefined) headers.accept = options.accept;
      const authorization = this.#cachedAuthorization(url.origin, options.scope, options.credentials);
      if (authorization !== undefined) headers.authorization = authorization;
      let res: IncomingMessage;
      try {
        res = await this.#send(
          url,
          method,
          headers,
          this.#agent(protocol, endpoint.host, endpoint),
          options.signal,
        );
      } catch (err) {
        if (
          protocol === 'https:' &&
          endpoint.httpFallback &&
          err instanceof ImageError &&
          err.code === 'Network'
        ) {
          this.#plainHttp.add(endpoint.host);
          continue;
        }
        throw err;
      }
      if (res.statusCode === 401 && !authTried) {
        authTried = true;
        const challenges = parseChallenges(String(res.headers['www-authenticate'] ?? ''));
        if (canAnswer(challenges, options.credentials)) {
          drain(res);
          await this.#authorize(url.origin, challenges, options, endpoint);
          continue;
        }
        throw await this.#errorFrom(res, method, url, name, options.credentials !== undefined);
      }
      if (options.followRedirects === true && isRedirect(res.statusCode ?? 0)) {
        return this.#followRedirects(res, url, method, headers, options, name);
      }
      if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) return res;
      throw await this.#errorFrom(res, method, url, name, options.credentials !== undefined);
    }
  }

  async #followRedirects(
    first: IncomingMessage,
    from: URL,
    method: string,
    headers: OutgoingHttpHeaders,
    options: RequestOptions,
    name: string,
  ): Promise<IncomingMessage> {
    let res = first;
    let url = from;
    for (let i = 0; i < maxRedirects; i++) {
      const location = res.headers.location;
      drain(res);
      if (location === undefined)
        throw new ImageError('Registry', `redirect from ${url.href} without a Location`);
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new ImageError('Registry', `redirect to unsupported URL ${next.href}`);
      }
      const nextHeaders: OutgoingHttpHeaders = { ...headers };
      // Blob stores behind a redirect authenticate by a signed URL; the registry's token stays with the registry.
      if (next.origin !== from.origin) delete nextHeaders.authorization;
      url = next;
      res = await this.#send(
        url,
        method,
        nextHeaders,
        this.#agent(url.protocol, url.host, undefined),
        options.signal,
      );
      if (!isRedirect(res.statusCode ?? 0)) {
        if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) return res;
        throw await this.#errorFrom(res, method, url, name, options.credentials !== undefined);
      }
    }
    drain(res);
    throw new ImageError('Registry', `stopped after ${maxRedirects} redirects fetching ${name}`);
  }

  #authKey(origin: string, scope: string, credentials: NormalCredentials | undefined): string {
    return JSON.stringify([
      origin,
      scope,
      credentials?.username ?? '',
      credentials?.password ?? '',
      credentials?.identityToken ?? '',
      credentials?.registryToken ?? '',
    ]);
  }

  #cachedAuthorization(
    origin: string,
    scope: string,
    credentials: NormalCredentials | undefined,
  ): string | undefined {
    const key = this.#authKey(origin, scope, credentials);
    const cached = this.#authorizations.get(key);
    if (cached === undefined) return undefined;
    if (cached.expiresAt <= Date.now()) {
      this.#authorizations.delete(key);
      return undefined;
    }
    return cached.value;
  }

  /** Answers a challenge that canAnswer accepted, caching the Authorization value for the origin and scope. */
  async #authorize(
    origin: string,
    challenges: Challenge[],
    options: RequestOptions,
    endpoint: RegistryEndpoint,
  ): Promise<void> {
    const key = this.#authKey(origin, options.scope, options.credentials);
    const creds = options.credentials;
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer !== undefined) {
      if (creds?.registryToken !== undefined) {
        this.#authorizations.set(key, {
          value: `Bearer ${creds.registryToken}`,
          expiresAt: Number.MAX_SAFE_INTEGER,
        });
        return;
      }
      const { token, expiresIn } = await this.#fetchToken(bearer, options, endpoint);
      // Renew a little before the token service's deadline; 60 s is the default of the token spec.
      this.#authorizations.set(key, {
        value: `Bearer ${token}`,
        expiresAt: Date.now() + Math.max(expiresIn - 10, 1) * 1000,
      });
      return;
    }
    if (creds?.username !== undefined) {
      const value = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
      this.#authorizations.set(key, { value, expiresAt: Number.MAX_SAFE_INTEGER });
    }
  }

  async #fetchToken(
    challenge: Challenge,
    options: RequestOptions,
    endpoint: RegistryEndpoint,
  ): Promise<{ token: string; expiresIn: number }> {
    const realm = challenge.params.realm;
    if (realm === undefined || realm === '')
      throw new ImageError('Unauthorized', 'bearer challenge without a realm');
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new ImageError('Unauthorized', `bearer challenge with an invalid realm ${JSON.stringify(realm)}`);
    }
    const scopes = new Set([options.scope]);
    if (challenge.params.scope !== undefined)
      for (const s of challenge.params.scope.split(' ')) if (s !== '') scopes.add(s);
    const service = challenge.params.service;
    const creds = options.credentials;
    const agent = this.#agent(url.protocol, url.host, endpoint);
    let res: IncomingMessage;
    let what: string;
    if (creds?.identityToken !== undefined) {
      what = 'oauth token';
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        client_id: 'k8ts',
      });
      if (service !== undefined) form.set('service', service);
      form.set('scope', [...scopes].join(' '));
      const body = form.toString();
      res = await this.#send(
        url,
        'POST',
        {
          'user-agent': this.#userAgent,
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        },
        agent,
        options.signal,
        body,
      );
    } else {
      what = creds?.username === undefined ? 'anonymous token' : 'token';
      if (service !== undefined) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: OutgoingHttpHeaders = { 'user-agent': this.#userAgent };
      if (creds?.username !== undefined) {
        url.searchParams.set('account', creds.username);
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
      }
      res = await this.#send(url, 'GET', headers, agent, options.signal);
    }
    const status = res.statusCode ?? 0;
    const body = await readBody(res, maxErrorBodyBytes, 'token response').catch(() => Buffer.alloc(0));
    if (status < 200 || status >= 300) {
      const code =
        status === 401 || status === 403 ? 'Unauthorized' : status === 429 ? 'TooManyRequests' : 'Registry';
      throw new ImageError(
        code,
        `failed to authorize: failed to fetch ${what}: unexpected status from ${creds?.identityToken === undefined ? 'GET' : 'POST'} request to ${url.origin}${url.pathname}: ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd(),
        { httpStatus: status },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const doc = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const token = typeof doc.token === 'string' && doc.token !== '' ? doc.token : doc.access_token;
    if (typeof token !== 'string' || token === '')
      throw new ImageError(
        'Unauthorized',
        `failed to authorize: the token service at ${url.origin} answered no token`,
      );
    const expiresIn = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    return { token, expiresIn };
  }

  async #errorFrom(
    res: IncomingMessage,
    method: string,
    url: URL,
    name: string,
    hadCredentials: boolean,
  ): Promise<ImageError> {
    const status = res.statusCode ?? 0;
    const body =
      method === 'HEAD'
        ? Buffer.alloc(0)
        : await readBody(res, maxErrorBodyBytes, 'error body').catch(() => Buffer.alloc(0));
    let codes: string[] = [];
    let messages: string[] = [];
    try {
      const parsed = JSON.parse(body.toString('utf8')) as {
        errors?: { code?: unknown; message?: unknown }[];
      };
      const text = (v: unknown) => (typeof v === 'string' ? v : '');
      codes = (parsed.errors ?? []).map((e) => text(e.code));
      messages = (parsed.errors ?? []).map((e) => `${text(e.code).toLowerCase()}: ${text(e.message)}`);
    } catch {
      // Not a distribution error document; the status says enough.
    }
    const serverMessage = messages.length > 0 ? `: server message: ${messages.join('; ')}` : '';
    const details = { httpStatus: status };
    if (
      status === 404 ||
      codes.some((c) => c === 'MANIFEST_UNKNOWN' || c === 'NAME_UNKNOWN' || c === 'BLOB_UNKNOWN')
    ) {
      return new ImageError('NotFound', `${name}: not found`, details);
    }
    if (status === 401 || status === 403 || codes.some((c) => c === 'UNAUTHORIZED' || c === 'DENIED')) {
      const prefix = hadCredentials
        ? 'pull access denied'
        : 'pull access denied, repository does not exist or may require authorization';
      return new ImageError(
        'Unauthorized',
        `${prefix}${serverMessage || `: ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd()}`,
        details,
      );
    }
    if (status === 429 || codes.includes('TOOMANYREQUESTS')) {
      return new ImageError(
        'TooManyRequests',
        `unexpected status from ${method} request to ${url.href}: 429 Too Many Requests${serverMessage}`,
        details,
      );
    }
    return new ImageError(
      'Registry',
      `unexpected status from ${method} request to ${url.href}: ${status} ${http.STATUS_CODES[status] ?? ''}${serverMessage}`,
      details,
    );
  }
}
