// POST serviceaccounts/<name>/token: the TokenRequest subresource (authentication.k8s.io/v1), as upstream's
// TokenREST serves it: the request is checked and defaulted (expirationSeconds 3600, the API's audiences),
// optionally bound to a Pod, Secret or Node that must exist (with the uid given), and answered with a signed
// token and its expiration time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceInfo } from '../../api/resources.js';
import { apiErrors } from '../../apimachinery/errors/status-error.js';
import type { FieldError } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import type { KObject, RegistryStore } from '../../registry/generic/index.js';
import { formatTime } from '../../registry/generic/index.js';
import { readBody, writeJson } from '../http/respond.js';
import type { ResourceRequestInfo } from '../request-info.js';
import { decodeObjectBody } from '../handlers/resource-handler.js';
import type { ObjectRefClaim, ServiceAccountTokenIssuer } from './tokens.js';
import { expirationExtensionSeconds, warnOnlyBoundTokenExpirationSeconds } from './tokens.js';

const group = 'authentication.k8s.io';
const kind = 'TokenRequest';
/** The shortest lifetime a TokenRequest may ask for (10 minutes) and the longest (2^32 s). */
const minExpirationSeconds = 600;
const maxExpirationSeconds = 2 ** 32;

/** What the TokenRequest handler needs. */
export interface TokenRequestContext {
  issuer: ServiceAccountTokenIssuer;
  /** --api-audiences: what a token is for when the request names no audience. */
  audiences: readonly string[];
  /** --service-account-extend-token-expiration (default on): pod-bound 3607 s tokens of the API's audiences last a year, with warnafter. */
  extendExpiration: boolean;
  /** --service-account-max-token-expiration in seconds; 0: no limit. */
  maxExpirationSeconds: number;
  serviceAccounts: RegistryStore;
  pods: RegistryStore;
  secrets: RegistryStore;
  nodes: RegistryStore;
  now(): Date;
}

interface TokenRequestSpec {
  audiences?: string[] | null;
  expirationSeconds?: number | null;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null;
}

/** Go's GroupVersionKind.String() of an apiVersion and kind. */
function gvkString(apiVersion: string, k: string): string {
  const slash = apiVersion.indexOf('/');
  const [g, v] = slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
  return `${g}/${v}, Kind=${k}`;
}

/** Static validation of a TokenRequest (upstream's ValidateTokenRequest). */
export function validateTokenRequest(spec: { expirationSeconds: number }): FieldError[] {
  const errs: FieldError[] = [];
  const p = newPath('spec').child('expirationSeconds');
  if (spec.expirationSeconds < minExpirationSeconds) errs.push(field.invalid(p, spec.expirationSeconds, 'may not specify a duration less than 10 minutes'));
  if (spec.expirationSeconds > maxExpirationSeconds) errs.push(field.invalid(p, spec.expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  return errs;
}

/** Serves the token subresource of a ServiceAccount. */
export async function serveTokenRequest(
  req: IncomingMessage,
  res: ServerResponse,
  ri: ResourceRequestInfo,
  saInfo: ResourceInfo,
  ctx: TokenRequestContext,
): Promise<void> {
  if (ri.verb !== 'create') throw apiErrors.methodNotSupported({ group: '', resource: 'serviceaccounts/token' }, ri.verb);
  const body = decodeObjectBody(await readBody(req), req.headers['content-type'], { ...saInfo, group, kind });
  const created = await createToken(body, ri.namespace, ri.name, ctx);
  writeJson(res, 201, created);
}

/** Makes the token a TokenRequest asks for: the TokenRequest with its status filled in. */
export async function createToken(body: KObject, namespace: string, name: string, ctx: TokenRequestContext): Promise<KObject> {
  const meta = body.metadata ?? {};
  if (meta.name && meta.name !== name) {
    throw apiErrors.invalid(group, kind, name, [field.invalid(newPath('metadata', 'name'), meta.name, 'must match the service account name if specified')]);
  }
  if (meta.namespace && meta.namespace !== namespace) {
    throw apiErrors.invalid(group, kind, name, [field.invalid(newPath('metadata', 'namespace'), meta.namespace, 'must match the service account namespace if specified')]);
  }
  const sa = await ctx.serviceAccounts.get(namespace, name);
  const given = (body.spec ?? {}) as TokenRequestSpec;
  const spec = {
    audiences: given.audiences && given.audiences.length > 0 ? [...given.audiences] : [...ctx.audiences],
    expirationSeconds: typeof given.expirationSeconds === 'number' ? given.expirationSeconds : 3600,
    ...(given.boundObjectRef ? { boundObjectRef: { ...given.boundObjectRef } } : {}),
  };
  const now = ctx.now();
  const errs = validateTokenRequest(spec);
  if (errs.length > 0) throw apiErrors.invalid(group, kind, '', errs);

  let pod: ObjectRefClaim | undefined;
  let secret: ObjectRefClaim | undefined;
  let node: ObjectRefClaim | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    const apiVersion = ref.apiVersion ?? '';
    const refGroup = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    const refName = ref.name ?? '';
    let uid = '';
    if (refGroup === '' && ref.kind === 'Pod') {
      const p = await ctx.pods.get(namespace, refName);
      const podSA = (p.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? '';
      if (podSA !== name) throw apiErrors.badRequest(`cannot bind token for serviceaccount "${name}" to pod running with serviceaccount "${podSA}"`);
      uid = p.metadata?.uid ?? '';
      pod = { name: refName, uid };
      const nodeName = (p.spec as { nodeName?: string } | undefined)?.nodeName;
      if (nodeName) {
        // The node is recorded for information; a node that is gone leaves it out.
        const n = await ctx.nodes.get('', nodeName).catch(() => undefined);
        if (n) node = { name: nodeName, uid: n.metadata?.uid ?? '' };
      }
    } else if (refGroup === '' && ref.kind === 'Node') {
      const n = await ctx.nodes.get('', refName);
      uid = n.metadata?.uid ?? '';
      node = { name: refName, uid };
    } else if (refGroup === '' && ref.kind === 'Secret') {
      const s = await ctx.secrets.get(namespace, refName);
      uid = s.metadata?.uid ?? '';
      secret = { name: refName, uid };
    } else {
      throw apiErrors.badRequest(`cannot bind token to object of type ${gvkString(apiVersion, ref.kind ?? '')}`);
    }
    if (ref.uid && ref.uid !== uid) {
      throw apiErrors.conflict(
        { group: refGroup, resource: ref.kind ?? '' },
        refName,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
  }
  if (ctx.maxExpirationSeconds > 0 && spec.expirationSeconds > ctx.maxExpirationSeconds) spec.expirationSeconds = ctx.maxExpirationSeconds;

  // A kubelet's 3607 s token of the API's own audiences is made to last a year, so that clients that never
  // re-read the file keep working; the server only notes its use after the requested lifetime.
  let lifetime = spec.expirationSeconds;
  let warnAfterSeconds: number | undefined;
  const kubeAudiences = ctx.audiences.length > 0 && spec.audiences.every((a) => ctx.audiences.includes(a));
  if (ctx.extendExpiration && pod && spec.expirationSeconds === warnOnlyBoundTokenExpirationSeconds && kubeAudiences) {
    warnAfterSeconds = spec.expirationSeconds;
    lifetime = expirationExtensionSeconds;
  }
  const token = ctx.issuer.generate({
    audiences: spec.audiences,
    now,
    expirationSeconds: lifetime,
    ...(warnAfterSeconds !== undefined ? { warnAfterSeconds } : {}),
    serviceAccount: { namespace, name, uid: sa.metadata?.uid ?? '' },
    ...(pod ? { pod } : {}),
    ...(secret ? { secret } : {}),
    ...(node ? { node } : {}),
  });
  const issuedAt = Math.floor(now.getTime() / 1000) * 1000;
  return {
    kind,
    apiVersion: `${group}/v1`,
    metadata: { name, namespace, creationTimestamp: formatTime(now) },
    spec,
    status: { token, expirationTimestamp: formatTime(new Date(issuedAt + spec.expirationSeconds * 1000)) },
  };
}
