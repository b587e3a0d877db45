// The kubelet's token manager (upstream's pkg/kubelet/token): service account tokens for pods' projected
// volumes come from TokenRequests bound to the pod, cached by what was asked, and fetched again once 80% of
// their lifetime has passed or they are 24 hours old (less a few seconds of jitter, so that many pods do not
// refresh at once). When the API cannot be reached, a cached token that has not expired is still used.

/** authentication.k8s.io/v1 TokenRequest, the parts the kubelet uses. */
export interface TokenRequest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
  spec: {
    audiences: string[];
    expirationSeconds?: number;
    boundObjectRef?: { apiVersion?: string; kind?: string; name?: string; uid?: string };
  };
  status?: { token: string; expirationTimestamp: string };
  [key: string]: unknown;
}

/** Asks the API for a token: POST serviceaccounts/<name>/token in the namespace. */
export type TokenFetcher = (namespace: string, serviceAccount: string, request: TokenRequest) => Promise<TokenRequest>;

/** A token is fetched again after at most this long, whatever its lifetime. */
const maxTTLMs = 24 * 60 * 60 * 1000;
/** Up to this much earlier, at random. */
const maxJitterMs = 10_000;

export interface TokenManagerOptions {
  now?: () => number;
  random?: () => number;
}

/** Caches and refreshes service account tokens for pods. */
export class TokenManager {
  readonly #fetch: TokenFetcher;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #cache = new Map<string, TokenRequest>();

  constructor(fetch: TokenFetcher, options: TokenManagerOptions = {}) {
    this.#fetch = fetch;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** A token for the service account as the request describes it, from the cache while it is fresh. */
  async getServiceAccountToken(namespace: string, name: string, request: TokenRequest): Promise<TokenRequest> {
    const key = JSON.stringify([name, namespace, request.spec]);
    const cached = this.#cache.get(key);
    if (cached && !this.#requiresRefresh(cached)) return cached;
    this.#collectExpired();
    try {
      const fresh = await this.#fetch(namespace, name, request);
      if (!fresh.status?.token) throw new Error('the TokenRequest answer has no token');
      this.#cache.set(key, fresh);
      return fresh;
    } catch (err) {
      if (cached && !this.#expired(cached)) return cached;
      throw err;
    }
  }

  /** Forgets the tokens bound to a pod that is gone. */
  deleteServiceAccountToken(podUID: string): void {
    for (const [k, tr] of this.#cache) if (tr.spec.boundObjectRef?.uid === podUID) this.#cache.delete(k);
  }

  /** How many tokens are cached (for tests). */
  get size(): number {
    return this.#cache.size;
  }

  #expired(tr: TokenRequest): boolean {
    return this.#now() >= Date.parse(tr.status?.expirationTimestamp ?? '');
  }

  #collectExpired(): void {
    for (const [k, tr] of this.#cache) if (this.#expired(tr)) this.#cache.delete(k);
  }

  /** Upstream's rule: refresh after 24 h, or within the last 20% of the lifetime, each less some jitter. */
  #requiresRefresh(tr: TokenRequest): boolean {
    const seconds = tr.spec.expirationSeconds;
    if (seconds === undefined) return false;
    const now = this.#now();
    const exp = Date.parse(tr.status?.expirationTimestamp ?? '');
    if (!Number.isFinite(exp)) return true;
    const iat = exp - seconds * 1000;
    const jitter = Math.floor(this.#random() * (maxJitterMs / 1000)) * 1000;
    if (now > iat + maxTTLMs - jitter) return true;
    return now > exp - (Math.floor((seconds * 20) / 100) * 1000) - jitter;
  }
}
