// kube-apiserver: HTTPS (or plain HTTP when embedded in tests without TLS), the filter chain
// (authentication, in-flight limits, authorization seam), and routing to discovery, OpenAPI, health and the
// resource handlers. The only component that touches the store.
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { findResource } from '../api/resources.js';
import { OpenAPISpecs } from '../api/openapi/index.js';
import { apiErrors, StatusError } from '../apimachinery/errors/status-error.js';
import { encodeOpenAPIV2Document, openAPIV2ProtobufAccept, openAPIV2ProtobufContentType } from '../apimachinery/protobuf/index.js';
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import { addDefaultTolerations } from '../registry/core/pods.js';
import type { KObject, ResourceStrategy } from '../registry/generic/index.js';
import { RegistryStore } from '../registry/generic/index.js';
import { allBuiltinStrategies } from '../registry/builtin-strategies.js';
import { namespaceFinalizeStrategy } from '../registry/core/namespaces.js';
import { ServiceAllocator } from '../registry/core/service-allocator.js';
import { createServiceStrategy } from '../registry/core/services.js';
import { systemPriorityClasses } from '../registry/scheduling/priorityclasses.js';
import type { Store } from '../storage/store.js';
import { aggregatedDiscovery, aggregatedDiscoveryVersion, apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import type { KubeletClientConfig } from './handlers/kubelet-proxy.js';
import { KubeletProxy, writeUpgradeError } from './handlers/kubelet-proxy.js';
import { notFoundPath, ResourceHandler } from './handlers/resource-handler.js';
import { serveReview } from './handlers/reviews.js';
import { parseAccept, writeError, writeJson } from './http/respond.js';
import { authenticateTlsPeer } from './pki/authenticate-tls-peer.js';
import { parseRequestInfo } from './request-info.js';
import { reconcileKubernetesService, runKubernetesServiceReconciler } from './kubernetes-service.js';
import { startServiceAllocation } from './service-allocation.js';
import { WatchCache } from './watch-cache/watch-cache.js';
import { admitPodServiceAccount, lookupIgnoringNotFound } from './serviceaccount/admission.js';
import type { IssuerDiscoveryDocuments } from './serviceaccount/issuer-discovery.js';
import { issuerDiscoveryDocuments, jwksPath, openIDConfigurationPath } from './serviceaccount/issuer-discovery.js';
import type { JwtKey } from './serviceaccount/jwt.js';
import { signingKeyFromPem, verifyingKeyFromPem } from './serviceaccount/jwt.js';
import type { TokenRequestContext } from './serviceaccount/token-request.js';
import { serveTokenRequest } from './serviceaccount/token-request.js';
import type { LookedUpObject } from './serviceaccount/tokens.js';
import { ServiceAccountTokenAuthenticator, ServiceAccountTokenIssuer, TokenAuthenticationError } from './serviceaccount/tokens.js';

/** Who made a request. */
export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** Service account tokens: their signing key and issuer (kube-apiserver's --service-account-* flags). */
export interface ServiceAccountOptions {
  /**
   * PEM private key that signs tokens (--service-account-signing-key-file; k3s's tls/service.key). A promise
   * lets the server get ready while a first start still makes the key; token requests wait for it.
   */
  signingKeyPem: string | Promise<string>;
  /** More PEM keys whose tokens are accepted (--service-account-key-file). */
  extraKeyPems?: readonly string[];
  /** --service-account-issuer: the first names new tokens, all are accepted. */
  issuers: readonly string[];
  /** --api-audiences; default: the first issuer. */
  audiences?: readonly string[];
  /** --service-account-extend-token-expiration; default true. */
  extendExpiration?: boolean;
  /** --service-account-max-token-expiration in seconds; default 0 (no limit). */
  maxExpirationSeconds?: number;
  /** --service-account-jwks-uri; default https://<advertise address>:<port>/openid/v1/jwks. */
  jwksURI?: string;
}

export interface ApiServerOptions {
  store: Store;
  /** Serving certificate, key and the CA that signs client certificates; absent: plain HTTP, every caller admin. */
  tls?: { cert: string; key: string; clientCA: string };
  /** Address to listen on; default 127.0.0.1. */
  bindAddress?: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /** The gitVersion /version reports. */
  gitVersion: string;
  /** Maximum requests in flight: read-only and mutating, as kube-apiserver's --max-requests-inflight (400) and --max-mutating-requests-inflight (200). */
  maxReadOnlyInFlight?: number;
  maxMutatingInFlight?: number;
  /** Changes the watch cache keeps per resource for watches that resume from an older revision. */
  watchCacheCapacity?: number;
  /** Tolerations DefaultTolerationSeconds adds to pods (kube-apiserver's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds). */
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
  /** The API server's client certificate towards kubelets (pods/log, exec, attach, portforward), and the CA of kubelets' serving certificates. */
  kubeletClient?: KubeletClientConfig;
  /** The service CIDRs (--service-cidr): one, or an IPv4 and an IPv6 one, the primary first. Default 10.43.0.0/16 and fd43::/112. */
  serviceCIDRs?: readonly string[];
  /** How often service allocations are repaired; default 3 minutes, as upstream. */
  serviceRepairIntervalMs?: number;
  /** The node port range (--service-node-port-range); default 30000-32767. */
  nodePortRange?: { base: number; size: number };
  /** The address the kubernetes Service's endpoints name (upstream's --advertise-address); default: the bind address, or the host's first non-loopback IPv4 address. */
  advertiseAddress?: string;
  /** Strategies to use instead of the defaults, by "group/version/plural". */
  strategies?: ReadonlyMap<string, ResourceStrategy>;
  /** Extra Prometheus text served at /metrics (e.g. the in-process scheduler's registry). */
  metrics?: () => string | Promise<string>;
  now?: () => Date;
  log?: Logger;
  /** Paths served before authentication by handlers that check their own credentials (the node join endpoints). */
  extraHandlers?: ReadonlyMap<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
  /**
   * Service account tokens: TokenRequest, bearer token authentication, the issuer's discovery documents,
   * and the ServiceAccount admission plugin. Absent: none of them (an API server embedded in a test).
   */
  serviceAccounts?: ServiceAccountOptions;
  /** Admission plugins turned off by name (--disable-admission-plugins): ServiceAccount, DefaultTolerationSeconds, Priority. */
  disabledAdmissionPlugins?: readonly string[];
}

/** What service account tokens need once the signing key is there. */
interface ServiceAccountTokens {
  issuer: ServiceAccountTokenIssuer;
  authenticator: ServiceAccountTokenAuthenticator;
  keys: JwtKey[];
  request: TokenRequestContext;
}

/** The admission plugins this server has, by upstream's names. */
export const admissionPluginNames = ['ServiceAccount', 'DefaultTolerationSeconds', 'Priority'] as const;

/** k3s's service CIDRs: dual-stack, IPv4 primary. */
export const defaultServiceCIDRs = ['10.43.0.0/16', 'fd43::/112'];

/**
 * The address the API server advertises: the bind address, or for a wildcard bind the host's first
 * non-loopback IPv4 one. A server bound to loopback advertises loopback, which endpoints may not name: its
 * kubernetes Service then has no endpoints (nothing off the host could reach it anyway).
 */
function advertiseAddressFor(bindAddress: string): string {
  if (bindAddress !== '0.0.0.0' && bindAddress !== '::') return bindAddress;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Namespaces that exist from the first start, as upstream's system namespaces controller makes them. */
const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
/** Paths anyone may read without credentials (upstream's system:public-info-viewer role). */
const publicPaths = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

/** The API server. */
export class ApiServer {
  private readonly options: ApiServerOptions;
  private readonly log: Logger;
  private readonly registries = new Map<string, RegistryStore>();
  private readonly handler: ResourceHandler;
  private readonly kubelet: KubeletProxy;
  private readonly upgraded = new Set<Duplex>();
  private readonly sockets = new Set<Duplex>();
  private readonly cache: WatchCache;
  private readonly now: () => Date;
  private server: Server | undefined;
  private ready = false;
  /** Cluster IPs and node ports of Services. */
  readonly serviceAllocator: ServiceAllocator;
  private readonly background = new AbortController();
  private inFlight = { readOnly: 0, mutating: 0 };
  private readonly peers = new WeakMap<TLSSocket, UserInfo | undefined | 'invalid'>();
  private readonly tokensReady: Promise<ServiceAccountTokens> | undefined;
  private discovery: IssuerDiscoveryDocuments | undefined;
  private readonly disabledAdmission: ReadonlySet<string>;
  private readonly specs = OpenAPISpecs.builtin();
  private v3Index: unknown;
  private v2Protobuf: Buffer | undefined;

  constructor(options: ApiServerOptions) {
    this.options = options;
    this.log = options.log ?? logger('apiserver');
    this.now = options.now ?? (() => new Date());
    const strategies = allBuiltinStrategies();
    const cidrs = options.serviceCIDRs ?? defaultServiceCIDRs;
    const nodePortRange = options.nodePortRange ?? { base: 30000, size: 2768 };
    const serviceStrategy = createServiceStrategy({
      nodePortRange,
      ipFamilies: cidrs.map((c) => (c.includes(':') ? 'IPv6' : 'IPv4')),
    });
    strategies.set('/v1/services', serviceStrategy);
    for (const [id, s] of options.strategies ?? []) strategies.set(id, s);
    const ipAddresses = new RegistryStore(strategies.get('networking.k8s.io/v1/ipaddresses')!, options.store, { now: this.now });
    this.serviceAllocator = new ServiceAllocator({
      serviceCIDRs: cidrs,
      nodePortRange,
      strategy: serviceStrategy,
      ipAddresses,
      store: options.store,
      log: this.log,
    });
    for (const [id, strategy] of strategies) {
      if (id === 'networking.k8s.io/v1/ipaddresses') {
        this.registries.set(id, ipAddresses);
        continue;
      }
      const hooks = id === '/v1/services' ? { hooks: this.serviceAllocator } : {};
      this.registries.set(id, new RegistryStore(strategy, options.store, { now: this.now, ...hooks }));
    }
    const namespaces = this.registries.get('/v1/namespaces')!;
    this.registries.set('/v1/namespaces/finalize', new RegistryStore(namespaceFinalizeStrategy, options.store, { now: this.now }));
    this.cache = new WatchCache(options.store, [...this.registries.values()], {
      log: this.log,
      ...(options.watchCacheCapacity !== undefined ? { capacity: options.watchCacheCapacity } : {}),
    });
    this.kubelet = new KubeletProxy(this.registries.get('/v1/pods')!, this.registries.get('/v1/nodes')!, options.kubeletClient);
    this.handler = new ResourceHandler({
      registryFor: (info, subresource) =>
        this.registries.get(`${info.group}/${info.version}/${info.plural}${subresource ? `/${subresource}` : ''}`),
      admit: (info, obj, namespace) => this.admitCreate(info, obj, namespace),
      ...(options.serviceAccounts
        ? { tokenRequest: async (req, res, ri, info) => serveTokenRequest(req, res, ri, info, (await this.tokensReady!).request) }
        : {}),
      namespaces,
      cache: this.cache,
      now: this.now,
      kubelet: this.kubelet,
    });
    this.disabledAdmission = new Set(options.disabledAdmissionPlugins ?? []);
    const sa = options.serviceAccounts;
    if (sa) {
      if (sa.issuers.length === 0) throw new Error('service account tokens need at least one issuer');
      this.tokensReady = Promise.resolve(sa.signingKeyPem).then((pem) => this.serviceAccountTokens(sa, pem));
      this.tokensReady.catch((err: unknown) => this.log.error('service account signing key unusable', { error: err instanceof Error ? err.message : String(err) }));
    }
  }

  /** The token issuer, the bearer token authenticator and the TokenRequest handler's context. */
  private serviceAccountTokens(o: ServiceAccountOptions, signingKeyPem: string): ServiceAccountTokens {
    const signing = signingKeyFromPem(signingKeyPem);
    const keys = [signing, ...(o.extraKeyPems ?? []).map(verifyingKeyFromPem)];
    const issuer = new ServiceAccountTokenIssuer(o.issuers[0]!, signing);
    const audiences = o.audiences && o.audiences.length > 0 ? [...o.audiences] : [o.issuers[0]!];
    const reg = (plural: string): RegistryStore => this.registries.get(`/v1/${plural}`)!;
    // The watch cache answers first; an object it has not seen yet (made a moment ago) is read from the store.
    const lookup = async (plural: string, namespace: string, name: string): Promise<LookedUpObject | undefined> => {
      const r = reg(plural);
      const cached = this.cache.cacheFor(r)?.get(r.key(namespace, name));
      if (cached) return cached;
      return (await lookupIgnoringNotFound((ns, n) => r.get(ns, n))(namespace, name));
    };
    const authenticator = new ServiceAccountTokenAuthenticator({
      issuers: o.issuers,
      keys,
      audiences,
      now: this.now,
      getter: {
        serviceAccount: (ns, name) => lookup('serviceaccounts', ns, name),
        pod: (ns, name) => lookup('pods', ns, name),
        secret: (ns, name) => lookup('secrets', ns, name),
        node: (name) => lookup('nodes', '', name),
      },
    });
    const request: TokenRequestContext = {
      issuer,
      audiences,
      extendExpiration: o.extendExpiration ?? true,
      maxExpirationSeconds: o.maxExpirationSeconds ?? 0,
      serviceAccounts: reg('serviceaccounts'),
      pods: reg('pods'),
      secrets: reg('secrets'),
      nodes: reg('nodes'),
      now: this.now,
    };
    return { issuer, authenticator, keys, request };
  }

  /**
   * The admission plugins that change objects on create, each unless --disable-admission-plugins names it:
   * ServiceAccount (with service account tokens only) defaults the pod's account and mounts its token
   * volume; DefaultTolerationSeconds gives pods upstream's
   * 300 s tolerations of not-ready and unreachable nodes; Priority resolves spec.priorityClassName (or the
   * global default class) into spec.priority and spec.preemptionPolicy.
   */
  private async admitCreate(info: { group: string; plural: string }, obj: KObject, namespace: string): Promise<void> {
    if (info.group === '' && info.plural === 'pods') {
      if (this.options.serviceAccounts && !this.disabledAdmission.has('ServiceAccount')) {
        const sas = this.registries.get('/v1/serviceaccounts')!;
        const fromStore = lookupIgnoringNotFound((ns, name) => sas.get(ns, name));
        await admitPodServiceAccount(obj, namespace, {
          lookup: async (ns, name) => this.cache.cacheFor(sas)?.get(sas.key(ns, name)) ?? (await fromStore(ns, name)),
        });
      }
      if (!this.disabledAdmission.has('DefaultTolerationSeconds')) {
        addDefaultTolerations(obj, this.options.defaultNotReadyTolerationSeconds ?? 300, this.options.defaultUnreachableTolerationSeconds ?? 300);
      }
      if (!this.disabledAdmission.has('Priority')) await this.admitPriority(obj);
    }
  }

  /** Upstream's Priority admission plugin, reading PriorityClasses from the watch cache. */
  private async admitPriority(obj: KObject): Promise<void> {
    const spec = (obj.spec ?? {}) as { priorityClassName?: string; priority?: number; preemptionPolicy?: string };
    const reg = this.registries.get('scheduling.k8s.io/v1/priorityclasses')!;
    const classes = (this.cache.cacheFor(reg)?.list(reg.keyPrefix('')) ?? []).map((e) => e.object as { metadata?: { name?: string }; value?: number; globalDefault?: boolean; preemptionPolicy?: string });
    const podsGR = { group: '', resource: 'pods' };
    const name = obj.metadata?.name ?? '';
    let priority = 0;
    let policy = 'PreemptLowerPriority';
    if (spec.priorityClassName) {
      // A class created a moment ago may not be in the watch cache yet: ask the store before refusing.
      type PC = (typeof classes)[number];
      let pc: PC | undefined = classes.find((c) => c.metadata?.name === spec.priorityClassName);
      pc ??= await reg.get('', spec.priorityClassName).catch(() => undefined);
      if (!pc) throw apiErrors.forbidden(podsGR, name, `no PriorityClass with name ${spec.priorityClassName} was found`);
      priority = pc.value ?? 0;
      policy = pc.preemptionPolicy ?? policy;
    } else {
      // The default class with the lowest value wins, as upstream picks among several.
      const defaults = classes.filter((c) => c.globalDefault).sort((a, b) => (a.value ?? 0) - (b.value ?? 0));
      if (defaults[0]) {
        spec.priorityClassName = defaults[0].metadata?.name ?? '';
        priority = defaults[0].value ?? 0;
        policy = defaults[0].preemptionPolicy ?? policy;
      }
    }
    if (spec.priority !== undefined && spec.priority !== priority) {
      throw apiErrors.forbidden(podsGR, name, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
    }
    if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== policy) {
      throw apiErrors.forbidden(podsGR, name, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
    }
    spec.priority = priority;
    spec.preemptionPolicy = policy;
    obj.spec = spec;
  }

  /** The registry store of a resource, for in-process bootstrapping. */
  registry(group: string, version: string, plural: string): RegistryStore | undefined {
    return this.registries.get(`${group}/${version}/${plural}`);
  }

  /** Creates the system namespaces, then listens. Resolves with the bound port. */
  async start(): Promise<number> {
    await this.bootstrap();
    await this.cache.start();
    await this.startServiceAllocation();
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.serve(req, res);
    const tls = this.options.tls;
    this.server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key, ca: [tls.clientCA], requestCert: true, rejectUnauthorized: false }, handler)
      : createHttpServer(handler);
    this.server.keepAliveTimeout = 65_000;
    // Every TCP connection, TLS handshakes included: closeAllConnections() knows only those that reached HTTP.
    this.server.on('connection', (socket: Duplex) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.serveUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port ?? 0, this.options.bindAddress ?? '127.0.0.1', () => resolve());
    });
    const port = (this.server.address() as AddressInfo).port;
    await this.startKubernetesService(port);
    this.ready = true;
    return port;
  }

  /** Stops accepting requests and ends open ones (watches included). */
  async stop(): Promise<void> {
    this.ready = false;
    this.background.abort();
    const server = this.server;
    if (server) {
      for (const s of this.upgraded) s.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of this.sockets) s.destroy();
      });
    }
    await this.cache.stop();
  }

  /** The default/kubernetes Service with the API server as its endpoint, reconciled from now on. */
  private async startKubernetesService(port: number): Promise<void> {
    const primary = this.serviceAllocator.ipAllocators.values().next().value;
    if (!primary) return;
    const options = {
      services: this.registries.get('/v1/services')!,
      endpoints: this.registries.get('/v1/endpoints')!,
      endpointSlices: this.registries.get('discovery.k8s.io/v1/endpointslices')!,
      serviceIP: primary.addressAt(0),
      advertiseAddress: this.options.advertiseAddress ?? advertiseAddressFor(this.options.bindAddress ?? '127.0.0.1'),
      port,
      log: this.log,
    };
    await reconcileKubernetesService(options);
    void runKubernetesServiceReconciler(options, this.background.signal);
  }

  /** The default ServiceCIDR, the allocator's bitmaps from the IPAddresses, and the repair (service-allocation.ts). */
  private async startServiceAllocation(): Promise<void> {
    await startServiceAllocation(
      {
        allocator: this.serviceAllocator,
        services: this.registries.get('/v1/services')!,
        ipAddresses: this.registries.get('networking.k8s.io/v1/ipaddresses')!,
        serviceCIDRs: this.registries.get('networking.k8s.io/v1/servicecidrs')!,
        events: this.registries.get('events.k8s.io/v1/events'),
        cache: this.cache,
        cidrs: this.options.serviceCIDRs ?? defaultServiceCIDRs,
        ...(this.options.serviceRepairIntervalMs !== undefined ? { repairIntervalMs: this.options.serviceRepairIntervalMs } : {}),
        now: this.now,
        log: this.log,
      },
      this.background.signal,
    );
  }

  private async bootstrap(): Promise<void> {
    // The two system PriorityClasses, as upstream's scheduling bootstrap makes them.
    const priorityClasses = this.registries.get('scheduling.k8s.io/v1/priorityclasses')!;
    for (const pc of systemPriorityClasses) {
      try {
        await priorityClasses.create('', {
          apiVersion: 'scheduling.k8s.io/v1',
          kind: 'PriorityClass',
          metadata: { name: pc.name },
          value: pc.value,
          globalDefault: pc.globalDefault,
          description: pc.description,
        });
        this.log.info('created system priority class', { name: pc.name }, 1);
      } catch (err) {
        if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
      }
    }
    const namespaces = this.registries.get('/v1/namespaces')!;
    for (const name of systemNamespaces) {
      try {
        await namespaces.create('', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
          spec: { finalizers: ['kubernetes'] },
          status: { phase: 'Active' },
        });
        this.log.info('created system namespace', { name }, 1);
      } catch (err) {
        if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
      }
    }
  }

  /**
   * The union of the authenticators, as upstream orders them: a valid client certificate wins; otherwise a
   * bearer token decides (a token no authenticator accepts is refused); otherwise an invalid certificate is
   * refused and a request without credentials is anonymous (undefined).
   */
  private async authenticate(req: IncomingMessage): Promise<UserInfo | undefined | 'invalid'> {
    if (!this.options.tls) return { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
    const cert = this.authenticateCertificate(req.socket as TLSSocket);
    if (cert !== undefined && cert !== 'invalid') return cert;
    const auth = req.headers.authorization;
    if (auth !== undefined && /^bearer\s/i.test(auth)) {
      const token = auth.slice(auth.indexOf(' ') + 1).trim();
      if (token === '' || !this.tokensReady) return 'invalid';
      try {
        const user = await (await this.tokensReady).authenticator.authenticate(token);
        if (!user) return 'invalid';
        return { name: user.name, uid: user.uid, groups: [...user.groups, 'system:authenticated'], extra: user.extra };
      } catch (err) {
        if (!(err instanceof TokenAuthenticationError)) throw err;
        this.log.info('bearer token refused', { reason: err.message }, 2);
        return 'invalid';
      }
    }
    return cert;
  }

  private authenticateCertificate(socket: TLSSocket): UserInfo | undefined | 'invalid' {
    // A connection's client certificate cannot change after the handshake: decide once per connection.
    const known = this.peers.get(socket);
    if (known !== undefined) return known;
    const r = authenticateTlsPeer(socket);
    const user: UserInfo | undefined | 'invalid' =
      r.kind === 'user' ? { name: r.user.user, groups: [...r.user.groups, 'system:authenticated'] } : r.kind === 'invalid' ? 'invalid' : undefined;
    this.peers.set(socket, user);
    return user;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const info = parseRequestInfo(method, url);
    const mutating = info.isResourceRequest && !['get', 'list', 'watch'].includes(info.verb);
    // Long-running requests (watches, and following or streaming a pod's log) do not count against the in-flight limits, as upstream.
    const isWatch = info.isResourceRequest && (info.verb === 'watch' || (info.resource === 'pods' && info.subresource === 'log'));
    let counted = false;
    try {
      const extra = this.options.extraHandlers?.get(info.path);
      if (extra !== undefined) return await extra(req, res);
      const user = await this.authenticate(req);
      if (user === 'invalid' || (user === undefined && !publicPaths.has(info.path))) throw apiErrors.unauthorized();
      if (!isWatch) {
        const limit = mutating ? (this.options.maxMutatingInFlight ?? 200) : (this.options.maxReadOnlyInFlight ?? 400);
        const kind = mutating ? 'mutating' : 'readOnly';
        if (this.inFlight[kind] >= limit) throw apiErrors.tooManyRequests('too many requests, please try again later', 1);
        this.inFlight[kind] += 1;
        counted = true;
      }
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
      if (info.isResourceRequest) {
        const resource = findResource(info.apiGroup, info.apiVersion, info.resource);
        if (!resource) throw notFoundPath();
        if (resource.etcdPrefix === undefined) return await serveReview(req, res, resource, info.verb, user!);
        await this.handler.handle(req, res, info, resource, query);
        return;
      }
      if ((info.path === openIDConfigurationPath || info.path === jwksPath) && this.tokensReady) {
        return await this.serveIssuerDiscovery(req, res, info.path);
      }
      if (info.path === '/metrics' && this.options.metrics) {
        const text = await this.options.metrics();
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(text);
        return;
      }
      this.serveNonResource(req, res, info.path);
    } catch (err) {
      writeError(res, err);
    } finally {
      if (counted) this.inFlight[mutating ? 'mutating' : 'readOnly'] -= 1;
    }
  }

  /**
   * Protocol upgrades: exec, attach and portforward of pods (SPDY or WebSocket) are tunnelled to the
   * pod's kubelet; anything else is refused. Long-running, so not counted against the in-flight limits.
   */
  private async serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    try {
      const user = await this.authenticate(req);
      if (user === 'invalid' || user === undefined) throw apiErrors.unauthorized();
      const url = req.url ?? '/';
      const info = parseRequestInfo(req.method ?? 'GET', url);
      const streaming = ['exec', 'attach', 'portforward'];
      if (!info.isResourceRequest || info.apiGroup !== '' || info.resource !== 'pods' || !streaming.includes(info.subresource)) {
        // Not ours to upgrade (an h2c offer, a WebSocket watch): answer it as a plain HTTP/1.1 request, as Go's
        // server ignores an Upgrade header it does not act on.
        const res = new ServerResponse(req);
        res.shouldKeepAlive = false;
        res.assignSocket(socket as Socket);
        res.once('finish', () => socket.end());
        if (head.length > 0) socket.unshift(head);
        await this.serve(req, res);
        return;
      }
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
      await this.kubelet.serveUpgrade(req, socket, head, info, query);
    } catch (err) {
      writeUpgradeError(socket, err);
    }
  }

  private serveNonResource(req: IncomingMessage, res: ServerResponse, path: string): void {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') throw apiErrors.methodNotSupported({ group: '', resource: path }, method);
    const accept = parseAccept(req.headers.accept);
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    switch (trimmed) {
      case '/healthz':
      case '/livez':
      case '/readyz':
        if (trimmed === '/readyz' && !this.ready) return writeText(res, 500, '[-]ready failed: not started\nreadyz check failed\n');
        return writeText(res, 200, 'ok');
      case '/version':
        return writeJson(res, 200, this.version());
      case '/api':
      case '/apis': {
        const prefix = trimmed === '/api' ? 'api' : 'apis';
        const v = aggregatedDiscoveryVersion(accept);
        if (v) {
          return writeJson(res, 200, aggregatedDiscovery(prefix, v), `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`);
        }
        const host = req.headers.host ?? '127.0.0.1';
        return writeJson(res, 200, prefix === 'api' ? apiVersions(host) : apiGroupList());
      }
      case '/openapi/v2':
        // kubectl asks for the gnostic protobuf document; other clients get the JSON.
        if ((req.headers.accept ?? '').includes(openAPIV2ProtobufAccept)) {
          this.v2Protobuf ??= Buffer.from(encodeOpenAPIV2Document(this.specs.v2() as unknown as Record<string, unknown>));
          res.writeHead(200, { 'Content-Type': openAPIV2ProtobufContentType, 'Content-Length': this.v2Protobuf.length });
          res.end(this.v2Protobuf);
          return;
        }
        return writeJson(res, 200, this.specs.v2Text());
      case '/openapi/v3':
        return writeJson(res, 200, this.openapiV3Index());
      default:
        break;
    }
    if (trimmed.startsWith('/openapi/v3/')) {
      const gv = trimmed.slice('/openapi/v3/'.length);
      const text = this.specs.v3Text(gv);
      if (text === undefined) throw notFoundPath();
      return writeJson(res, 200, text);
    }
    const parts = trimmed.split('/').filter((p) => p !== '');
    if (parts[0] === 'api' && parts.length === 2) {
      const list = apiResourceList('', parts[1]!);
      if (list) return writeJson(res, 200, list);
    } else if (parts[0] === 'apis' && parts.length === 2) {
      const g = apiGroup(parts[1]!);
      if (g) return writeJson(res, 200, g);
    } else if (parts[0] === 'apis' && parts.length === 3) {
      const list = apiResourceList(parts[1]!, parts[2]!);
      if (list) return writeJson(res, 200, list);
    }
    throw notFoundPath();
  }

  /** The service account issuer's discovery documents, at /.well-known/openid-configuration and /openid/v1/jwks. */
  private async serveIssuerDiscovery(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') throw apiErrors.methodNotSupported({ group: '', resource: path }, method);
    const o = this.options.serviceAccounts!;
    const tokens = await this.tokensReady!;
    if (!this.discovery) {
      const port = (this.server?.address() as AddressInfo | null)?.port ?? 0;
      const address = this.options.advertiseAddress ?? advertiseAddressFor(this.options.bindAddress ?? '127.0.0.1');
      const host = address.includes(':') ? `[${address}]` : address;
      const jwksURI = o.jwksURI ?? `${this.options.tls ? 'https' : 'http'}://${port > 0 ? `${host}:${port}` : (req.headers.host ?? host)}${jwksPath}`;
      this.discovery = issuerDiscoveryDocuments(tokens.issuer.issuer, tokens.keys, jwksURI);
    }
    res.setHeader('Cache-Control', 'public, max-age=3600');
    if (path === jwksPath) return writeJson(res, 200, this.discovery.jwks, 'application/jwk-set+json');
    return writeJson(res, 200, this.discovery.configuration);
  }

  private openapiV3Index(): unknown {
    if (!this.v3Index) {
      // The hash lets clients cache each document until it changes (upstream uses SHA-512 of the bytes).
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const p of this.specs.v3Paths()) {
        const hash = createHash('sha512').update(this.specs.v3Text(p) ?? '').digest('hex').toUpperCase();
        paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
      }
      this.v3Index = { paths };
    }
    return this.v3Index;
  }

  private version(): unknown {
    const m = /^v(\d+)\.(\d+)\./.exec(this.options.gitVersion);
    return {
      major: m?.[1] ?? '1',
      minor: m?.[2] ?? '33',
      gitVersion: this.options.gitVersion,
      gitCommit: '',
      gitTreeState: 'clean',
      buildDate: '1970-01-01T00:00:00Z',
      goVersion: `node${process.versions.node}`,
      compiler: 'tsc',
      platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
    };
  }
}

function writeText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

