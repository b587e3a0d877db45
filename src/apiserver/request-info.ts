// What a request is about, read from its method, path and query, as upstream's RequestInfoFactory reads it
// (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go). Authorization, admission, routing and audit all
// start from this.

/** The verbs of resource requests, as RBAC names them. */
export type ResourceVerb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection';

/** A request for a resource (or one of its subresources). */
export interface ResourceRequestInfo {
  isResourceRequest: true;
  path: string;
  verb: ResourceVerb;
  /** "api" or "apis". */
  apiPrefix: 'api' | 'apis';
  /** '' for the core group. */
  apiGroup: string;
  apiVersion: string;
  /** '' for cluster-scoped requests and for lists across all namespaces. */
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the subresource (e.g. a proxy path), joined by "/". */
  rest: string;
}

/** A request for anything else: discovery, /version, /healthz, /openapi/... */
export interface NonResourceRequestInfo {
  isResourceRequest: false;
  path: string;
  /** The lower-cased HTTP method, as RBAC's non-resource verbs are. */
  verb: string;
  /** For discovery under /api or /apis: the prefix, group and version named, if any. */
  apiPrefix?: 'api' | 'apis';
  apiGroup?: string;
  apiVersion?: string;
}

/** Either kind of request. */
export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

const namespaceSubresources = new Set(['status', 'finalize']);

function methodVerb(method: string, hasName: boolean): ResourceVerb | undefined {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

/**
 * Reads a request's method and URL (path plus query). Unknown shapes come back as non-resource requests, so
 * that the router answers them with 404 or 405 as upstream does.
 */
export function parseRequestInfo(method: string, url: string): RequestInfo {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const nonResource: NonResourceRequestInfo = { isResourceRequest: false, path, verb: method.toLowerCase() };
  const parts = path.split('/').filter((p) => p !== '');
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return nonResource;
  let i = 1;
  let group = '';
  if (prefix === 'apis') {
    if (parts.length < 3) return { ...nonResource, apiPrefix: prefix, ...(parts[1] ? { apiGroup: parts[1] } : {}) };
    group = parts[i++]!;
  } else if (parts.length < 3) {
    return { ...nonResource, apiPrefix: prefix, ...(parts[1] ? { apiGroup: '', apiVersion: parts[1] } : {}) };
  }
  const version = parts[i++]!;
  let segs = parts.slice(i);
  let watchPath = false;
  // The deprecated /watch/ form: /api/v1/watch/namespaces/ns/pods
  if (segs[0] === 'watch') {
    watchPath = true;
    segs = segs.slice(1);
  }
  if (segs.length === 0) return { ...nonResource, apiPrefix: prefix, apiGroup: group, apiVersion: version };
  let namespace = '';
  if (segs[0] === 'namespaces' && segs.length >= 3 && !namespaceSubresources.has(segs[2]!)) {
    // /namespaces/{ns}/{resource}/...: a namespaced resource
    namespace = decodeURIComponent(segs[1]!);
    segs = segs.slice(2);
  }
  const resource = segs[0]!;
  const name = segs[1] === undefined ? '' : decodeURIComponent(segs[1]);
  const subresource = segs[2] ?? '';
  const rest = segs.slice(3).join('/');
  let verb = methodVerb(method, name !== '');
  if (verb === undefined) return nonResource;
  if (watchPath) {
    if (verb !== 'get' && verb !== 'list') return nonResource;
    verb = 'watch';
  } else if (verb === 'list' || verb === 'get') {
    const watch = query.get('watch');
    if (watch === 'true' || watch === '1') verb = 'watch';
  }
  return {
    isResourceRequest: true,
    path,
    verb,
    apiPrefix: prefix,
    apiGroup: group,
    apiVersion: version,
    namespace,
    resource,
    subresource,
    name,
    rest,
  };
}
