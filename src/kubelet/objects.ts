// The API objects pods refer to (ConfigMaps, Secrets, Services), as the kubelet reads them: Services from
// one shared informer, ConfigMaps and Secrets by GET with a short-lived cache (upstream's "cache" strategy),
// shared by every pod worker (and by every node of a simulated fleet).
import type { ConfigMap, Pod, Secret, Service, ServiceAccountTokenProjection } from 'kubernetes-types/core/v1.js';
import type { RESTClient, SharedInformer } from '../client/index.js';
import { isStatus } from '../client/index.js';
import type { Kube } from './api-types.js';
import type { EnvSources } from './pod/env.js';
import type { VolumeSources } from './volumes/payload.js';
import type { TokenRequest } from './token/token-manager.js';
import { TokenManager } from './token/token-manager.js';

/** What pod workers read besides pods. */
export interface PodObjects extends EnvSources, VolumeSources {}

/** PodObjects over the API with a TTL cache. */
export class ApiPodObjects implements PodObjects {
  readonly #client: RESTClient;
  readonly #services: SharedInformer<Kube<Service>> | undefined;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { at: number; value: Promise<unknown> }>();
  readonly #tokens: TokenManager;

  constructor(client: RESTClient, services: SharedInformer<Kube<Service>> | undefined, ttlMs = 5000) {
    this.#client = client;
    this.#services = services;
    this.#ttlMs = ttlMs;
    this.#tokens = new TokenManager((namespace, name, request) =>
      this.#client.create<TokenRequest & { metadata?: { name?: string } }>(
        { group: '', version: 'v1', resource: 'serviceaccounts', namespace },
        request,
        { subresource: 'token', name },
      ),
    );
  }

  #get<T>(resource: string, namespace: string, name: string): Promise<T | undefined> {
    const key = `${resource}/${namespace}/${name}`;
    const hit = this.#cache.get(key);
    const now = Date.now();
    if (hit && now - hit.at < this.#ttlMs) return hit.value as Promise<T | undefined>;
    const value = this.#client.get<Kube<T>>({ group: '', version: 'v1', resource, namespace }, name).then(
      (o) => o as T,
      (err: unknown) => {
        if (isStatus(err, 'NotFound')) return undefined;
        this.#cache.delete(key);
        throw err;
      },
    );
    this.#cache.set(key, { at: now, value });
    if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value!);
    return value;
  }

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.#get<ConfigMap>('configmaps', namespace, name);
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.#get<Secret>('secrets', namespace, name);
  }

  /** A token bound to the pod from a TokenRequest, cached and refreshed by the token manager. */
  async serviceAccountToken(pod: Pod, projection: ServiceAccountTokenProjection): Promise<string> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const request: TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: projection.audience ? [projection.audience] : [],
        // The API defaults a projection's lifetime to an hour; the kubelet asks for exactly that.
        expirationSeconds: projection.expirationSeconds ?? 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
      },
    };
    const tr = await this.#tokens.getServiceAccountToken(namespace, pod.spec?.serviceAccountName ?? 'default', request);
    return tr.status!.token;
  }

  forgetPod(uid: string): void {
    this.#tokens.deleteServiceAccountToken(uid);
  }

  services(): readonly Service[] {
    return this.#services?.lister.list() ?? [];
  }
}
