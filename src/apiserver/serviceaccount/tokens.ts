// Bound service account tokens (upstream's pkg/serviceaccount): the claims a TokenRequest puts into a JWT,
// and the bearer token authenticator that checks them again on every request: signature, issuer,
// audience, time window, and that the service account (and the pod, secret or node it is bound to) still
// exists with the same uid.
import { randomUUID } from 'node:crypto';
import { legacyClaimPrefix as legacyClaim, legacyServiceAccountIssuer, serviceAccountUsername } from '../../api/service-account-tokens.js';
import type { DecodedJwt, JwtKey } from './jwt.js';
import { decodeJwt, signJwt, verifyJwtSignature } from './jwt.js';

/** kube-apiserver's default --service-account-issuer in k3s, and the audience tokens get when none is asked for. */
export const defaultServiceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';
/** The lifetime the kubelet asks for in kube-api-access volumes; such tokens are extended (upstream's WarnOnlyBoundTokenExpirationSeconds). */
export const warnOnlyBoundTokenExpirationSeconds = 3607;
/** How long a pod-bound 3607 s token really stays valid when --service-account-extend-token-expiration is on (a year). */
export const expirationExtensionSeconds = 365 * 24 * 60 * 60;
/** go-jose's default leeway for exp, nbf and iat, and how long after deletion a bound object's tokens still work. */
const leewaySeconds = 60;
/** Tokens whose signature was checked, kept so that a client's every request does not pay for an RSA verify. */
const verifiedCacheSize = 4096;

/** A name and uid, as the private claims name bound objects. */
export interface ObjectRefClaim {
  name: string;
  uid: string;
}

/** What a token is made from. */
export interface ServiceAccountClaimsInput {
  issuer: string;
  audiences: readonly string[];
  now: Date;
  /** exp − iat. */
  expirationSeconds: number;
  /** When set, kubernetes.io.warnafter = iat + this (the requested lifetime of an extended token). */
  warnAfterSeconds?: number;
  serviceAccount: { namespace: string; name: string; uid: string };
  pod?: ObjectRefClaim;
  secret?: ObjectRefClaim;
  node?: ObjectRefClaim;
}

export { serviceAccountUsername };

/** The groups of a service account's user, without system:authenticated. */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

/** The claims of a bound token: the registered ones and upstream's private kubernetes.io claim. */
export function serviceAccountClaims(i: ServiceAccountClaimsInput): Record<string, unknown> {
  const now = Math.floor(i.now.getTime() / 1000);
  const k8s: Record<string, unknown> = {
    namespace: i.serviceAccount.namespace,
    serviceaccount: { name: i.serviceAccount.name, uid: i.serviceAccount.uid },
  };
  if (i.pod) {
    k8s.pod = { ...i.pod };
    // A pod-bound token also names the pod's node, for information only.
    if (i.node) k8s.node = { ...i.node };
  } else if (i.secret) k8s.secret = { ...i.secret };
  else if (i.node) k8s.node = { ...i.node };
  if (i.warnAfterSeconds !== undefined && i.warnAfterSeconds > 0) k8s.warnafter = now + i.warnAfterSeconds;
  return {
    aud: [...i.audiences],
    exp: now + i.expirationSeconds,
    iat: now,
    iss: i.issuer,
    jti: randomUUID(),
    'kubernetes.io': k8s,
    nbf: now,
    sub: serviceAccountUsername(i.serviceAccount.namespace, i.serviceAccount.name),
  };
}

/** Signs service account tokens with the issuer's key. */
export class ServiceAccountTokenIssuer {
  readonly issuer: string;
  readonly key: JwtKey;

  constructor(issuer: string, key: JwtKey) {
    this.issuer = issuer;
    this.key = key;
  }

  /** A signed token with these claims (the issuer filled in). */
  generate(input: Omit<ServiceAccountClaimsInput, 'issuer'>): string {
    return signJwt(serviceAccountClaims({ ...input, issuer: this.issuer }), this.key);
  }
}

/** An object the authenticator looks up: only what it checks. */
export interface LookedUpObject {
  metadata?: { uid?: string; deletionTimestamp?: string };
  spec?: unknown;
  /** A Secret's data, base64 as the API holds it. */
  data?: Record<string, string>;
}

/** How the authenticator finds the objects a token names; undefined when there is none. */
export interface ServiceAccountTokenGetter {
  serviceAccount(namespace: string, name: string): Promise<LookedUpObject | undefined>;
  pod(namespace: string, name: string): Promise<LookedUpObject | undefined>;
  secret(namespace: string, name: string): Promise<LookedUpObject | undefined>;
  node(name: string): Promise<LookedUpObject | undefined>;
}

/** The user a valid token stands for (system:authenticated is the caller's to add). */
export interface ServiceAccountUser {
  name: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** A token that is ours but not valid: the request is refused with 401. */
export class TokenAuthenticationError extends Error {
  override readonly name = 'TokenAuthenticationError';
}

export interface ServiceAccountTokenAuthenticatorOptions {
  /** Issuers whose tokens this authenticator checks (--service-account-issuer, every one given). */
  issuers: readonly string[];
  /** Keys that may have signed them. */
  keys: readonly JwtKey[];
  /** The API's audiences (--api-audiences): a token must name one of them. */
  audiences: readonly string[];
  getter: ServiceAccountTokenGetter;
  now?: () => Date;
}

interface PrivateClaims {
  namespace?: unknown;
  serviceaccount?: { name?: unknown; uid?: unknown };
  pod?: { name?: unknown; uid?: unknown };
  secret?: { name?: unknown; uid?: unknown };
  node?: { name?: unknown; uid?: unknown };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function deletedBefore(obj: LookedUpObject, limitMs: number): boolean {
  const ts = obj.metadata?.deletionTimestamp;
  return ts !== undefined && Date.parse(ts) < limitMs;
}

/** The bearer token authenticator for bound service account tokens (upstream's JWT token authenticator with its validator). */
export class ServiceAccountTokenAuthenticator {
  readonly #o: ServiceAccountTokenAuthenticatorOptions;
  readonly #verified = new Map<string, DecodedJwt>();

  constructor(options: ServiceAccountTokenAuthenticatorOptions) {
    this.#o = options;
  }

  /** The decoded token when its signature is one of ours; the claims are checked by the caller every time. */
  #verify(token: string): DecodedJwt | undefined | 'bad-signature' {
    const hit = this.#verified.get(token);
    if (hit) return hit;
    const jwt = decodeJwt(token);
    if (!jwt) return undefined;
    const iss = jwt.payload.iss;
    if (typeof iss !== 'string' || !(this.#o.issuers.includes(iss) || iss === legacyServiceAccountIssuer)) return undefined;
    if (!verifyJwtSignature(jwt, this.#o.keys)) return 'bad-signature';
    if (this.#verified.size >= verifiedCacheSize) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, jwt);
    return jwt;
  }

  /**
   * The user of a token, undefined when the token is not a JWT of one of our issuers (another
   * authenticator's to judge), or a TokenAuthenticationError when it is ours and invalid.
   */
  async authenticate(token: string): Promise<ServiceAccountUser | undefined> {
    const jwt = this.#verify(token);
    if (!jwt) return undefined;
    if (jwt === 'bad-signature') throw new TokenAuthenticationError('invalid bearer token, square/go-jose: error in cryptographic primitive');
    const claims = jwt.payload;
    if (claims.iss === legacyServiceAccountIssuer) return this.#legacy(token, claims);
    const tokenAudiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : [];
    if (this.#o.audiences.length > 0 && !tokenAudiences.some((a) => this.#o.audiences.includes(a))) {
      throw new TokenAuthenticationError(`token audiences ${JSON.stringify(tokenAudiences)} is invalid for the target audiences ${JSON.stringify(this.#o.audiences)}`);
    }
    const nowMs = (this.#o.now?.() ?? new Date()).getTime();
    const now = nowMs / 1000;
    if (typeof claims.nbf === 'number' && now + leewaySeconds < claims.nbf) throw new TokenAuthenticationError('service account token is not valid yet');
    if (typeof claims.exp === 'number' && now - leewaySeconds > claims.exp) throw new TokenAuthenticationError('service account token has expired');
    if (typeof claims.iat === 'number' && now + leewaySeconds < claims.iat) throw new TokenAuthenticationError('service account token is issued in the future');
    const k8s = (claims['kubernetes.io'] ?? {}) as PrivateClaims;
    const namespace = str(k8s.namespace);
    const saName = str(k8s.serviceaccount?.name);
    const saUID = str(k8s.serviceaccount?.uid);
    if (namespace === '' || saName === '' || saUID === '') throw new TokenAuthenticationError('service account token claims could not be validated');
    const invalidIfDeletedBefore = nowMs - leewaySeconds * 1000;
    const g = this.#o.getter;
    const sa = await g.serviceAccount(namespace, saName);
    if (!sa) throw new TokenAuthenticationError(`serviceaccounts "${saName}" not found`);
    if (deletedBefore(sa, invalidIfDeletedBefore)) throw new TokenAuthenticationError(`service account ${namespace}/${saName} has been deleted`);
    if (sa.metadata?.uid !== saUID) throw new TokenAuthenticationError(`service account UID (${sa.metadata?.uid ?? ''}) does not match claim (${saUID})`);
    const extra: Record<string, string[]> = {};
    if (k8s.secret) {
      const name = str(k8s.secret.name);
      const secret = await g.secret(namespace, name);
      if (!secret) throw new TokenAuthenticationError(`secrets "${name}" not found`);
      if (deletedBefore(secret, invalidIfDeletedBefore)) throw new TokenAuthenticationError(`secret ${namespace}/${name} has been deleted`);
      if (secret.metadata?.uid !== str(k8s.secret.uid)) {
        throw new TokenAuthenticationError(`secret UID (${secret.metadata?.uid ?? ''}) does not match service account secret ref claim (${str(k8s.secret.uid)})`);
      }
    }
    if (k8s.pod) {
      const name = str(k8s.pod.name);
      const pod = await g.pod(namespace, name);
      if (!pod) throw new TokenAuthenticationError(`pods "${name}" not found`);
      if (deletedBefore(pod, invalidIfDeletedBefore)) throw new TokenAuthenticationError(`pod ${namespace}/${name} has been deleted`);
      if (pod.metadata?.uid !== str(k8s.pod.uid)) throw new TokenAuthenticationError(`pod UID (${pod.metadata?.uid ?? ''}) does not match pod ref claim (${str(k8s.pod.uid)})`);
      extra['authentication.kubernetes.io/pod-name'] = [name];
      extra['authentication.kubernetes.io/pod-uid'] = [str(k8s.pod.uid)];
    } else if (k8s.node) {
      // Only a token bound to the node itself depends on it; the node in a pod-bound token is informational.
      const name = str(k8s.node.name);
      const node = await g.node(name);
      if (!node) throw new TokenAuthenticationError(`nodes "${name}" not found`);
      if (deletedBefore(node, invalidIfDeletedBefore)) throw new TokenAuthenticationError(`node ${name} has been deleted`);
      if (node.metadata?.uid !== str(k8s.node.uid)) throw new TokenAuthenticationError(`node UID (${node.metadata?.uid ?? ''}) does not match node ref claim (${str(k8s.node.uid)})`);
    }
    if (k8s.node) {
      extra['authentication.kubernetes.io/node-name'] = [str(k8s.node.name)];
      extra['authentication.kubernetes.io/node-uid'] = [str(k8s.node.uid)];
    }
    if (typeof claims.jti === 'string' && claims.jti !== '') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];
    return { name: serviceAccountUsername(namespace, saName), uid: saUID, groups: serviceAccountGroups(namespace), extra };
  }

  /**
   * A legacy token (upstream's legacy validator): no audience and no expiry, valid while its Secret holds
   * exactly this token and the service account exists with the uid it names.
   */
  async #legacy(token: string, claims: Record<string, unknown>): Promise<ServiceAccountUser> {
    const namespace = str(claims[`${legacyClaim}namespace`]);
    const secretName = str(claims[`${legacyClaim}secret.name`]);
    const saName = str(claims[`${legacyClaim}service-account.name`]);
    const saUID = str(claims[`${legacyClaim}service-account.uid`]);
    if (namespace === '') throw new TokenAuthenticationError('namespace claim is missing');
    if (secretName === '') throw new TokenAuthenticationError('secretName claim is missing');
    if (saName === '') throw new TokenAuthenticationError('serviceAccountName claim is missing');
    if (saUID === '') throw new TokenAuthenticationError('serviceAccountUID claim is missing');
    if (claims.sub !== serviceAccountUsername(namespace, saName)) throw new TokenAuthenticationError('sub claim is invalid');
    const secret = await this.#o.getter.secret(namespace, secretName);
    if (!secret || secret.metadata?.deletionTimestamp !== undefined) throw new TokenAuthenticationError('Token has been invalidated');
    if (Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8') !== token) throw new TokenAuthenticationError("Token does not match server's copy");
    const sa = await this.#o.getter.serviceAccount(namespace, saName);
    if (!sa) throw new TokenAuthenticationError(`serviceaccounts "${saName}" not found`);
    if (sa.metadata?.deletionTimestamp !== undefined) throw new TokenAuthenticationError(`ServiceAccount ${namespace}/${saName} has been deleted`);
    if (sa.metadata?.uid !== saUID) throw new TokenAuthenticationError(`ServiceAccount UID (${sa.metadata?.uid ?? ''}) does not match claim (${saUID})`);
    return { name: serviceAccountUsername(namespace, saName), uid: saUID, groups: serviceAccountGroups(namespace), extra: {} };
  }
}
