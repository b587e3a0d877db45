// The catalogue of every resource the API server serves, with the facts upstream's discovery documents
// carry for it (kube-apiserver 1.33): names, scope, verbs, short names, categories, subresources, and the
// etcd key prefix upstream stores it under. Pure data and lookups; discovery, routing, RBAC and storage
// all read from here so that they cannot disagree.

/** A verb as discovery lists it. */
export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

/** A subresource of a resource (`pods/status`, `deployments/scale`, ...). */
export interface SubresourceInfo {
  /** The part after the slash: `status`, `scale`, `exec`. */
  readonly name: string;
  /** The kind the subresource takes and returns. */
  readonly kind: string;
  /** Group and version of that kind when they differ from the parent's (`autoscaling`/`v1` for Scale). */
  readonly group?: string;
  readonly version?: string;
  /** Sorted, as discovery lists them. */
  readonly verbs: readonly Verb[];
}

/** One resource at one group-version. */
export interface ResourceInfo {
  /** `""` for the core (legacy) group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The resource name in URLs (`pods`). */
  readonly plural: string;
  /** Lower-case kind (`pod`). */
  readonly singularName: string;
  readonly namespaced: boolean;
  /** Sorted, as discovery lists them. */
  readonly verbs: readonly Verb[];
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Sorted by name, as discovery lists them. */
  readonly subresources: readonly SubresourceInfo[];
  /**
   * The etcd key prefix upstream stores objects under (`/registry/pods`); an object's key is
   * `<prefix>/<namespace>/<name>` or `<prefix>/<name>`. Absent for resources that are never stored
   * (the access reviews). Resources that share storage (core and events.k8s.io Events, autoscaling v1 and
   * v2) share a prefix.
   */
  readonly etcdPrefix?: string;
}

/** An API group with its served versions, as `/apis` lists it. */
export interface APIGroupInfo {
  /** `""` for the core group, which `/api` serves rather than `/apis`. */
  readonly name: string;
  /** Served versions, most preferred first. */
  readonly versions: readonly string[];
  readonly preferredVersion: string;
  /** The aggregator's group priority (higher sorts first in `/apis`). */
  readonly groupPriorityMinimum: number;
}

const allVerbs: readonly Verb[] = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];
const getPatchUpdate: readonly Verb[] = ['get', 'patch', 'update'];
const createGet: readonly Verb[] = ['create', 'get'];
const proxyVerbs: readonly Verb[] = ['create', 'delete', 'get', 'patch', 'update'];
const createOnly: readonly Verb[] = ['create'];

function status(kind: string): SubresourceInfo {
  return { name: 'status', kind, verbs: getPatchUpdate };
}

const scale: SubresourceInfo = {
  name: 'scale',
  kind: 'Scale',
  group: 'autoscaling',
  version: 'v1',
  verbs: getPatchUpdate,
};

interface Entry {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  verbs?: readonly Verb[];
  shortNames?: readonly string[];
  categories?: readonly string[];
  subresources?: readonly SubresourceInfo[];
  /** The part after `/registry/`; defaults to the plural. `null` for resources that are not stored. */
  storage?: string | null;
}

function entry(e: Entry): ResourceInfo {
  const subresources = [...(e.subresources ?? [])].sort((a, b) => compare(a.name, b.name));
  const info: ResourceInfo = {
    group: e.group,
    version: e.version,
    kind: e.kind,
    plural: e.plural,
    singularName: e.kind.toLowerCase(),
    namespaced: e.namespaced,
    verbs: e.verbs ?? allVerbs,
    shortNames: e.shortNames ?? [],
    categories: e.categories ?? [],
    subresources,
  };
  if (e.storage === null) return info;
  return { ...info, etcdPrefix: `/registry/${e.storage ?? e.plural}` };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const all = ['all'];

/** Every resource the API server serves, grouped by group-version and sorted by resource name within it. */
export const resources: readonly ResourceInfo[] = [
  // core/v1
  entry({
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    shortNames: ['cm'],
  }),
  entry({
    group: '',
    version: 'v1',
    kind: 'Endpoints',
    plural: 'endpoints',
    namespaced: true,
    shortNames: ['ep'],
    storage: 'services/endpoints',
  }),
  entry({ group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] }),
  entry({
    group: '',
    version: 'v1',
    kind: 'LimitRange',
    plural: 'limitranges',
    namespaced: true,
    shortNames: ['limits'],
  }),
  entry({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    // Namespaces are deleted one at a time (each goes through finalization), so no deletecollection.
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['ns'],
    subresources: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }, status('Namespace')],
  }),
  entry({
    group: '',
    version: 'v1',
    kind: 'Node',
    plural: 'nodes',
    namespaced: false,
    shortNames: ['no'],
    subresources: [{ name: 'proxy', kind: 'NodeProxyOptions', verbs: proxyVerbs }, status('Node')],
    storage: 'minions',
  }),
  entry({
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    namespaced: true,
    shortNames: ['pvc'],
    subresources: [status('PersistentVolumeClaim')],
  }),
  entry({
    group: '',
    version: 'v1',
    kind: 'PersistentVolume',
    plural: 'persistentvolumes',
    namespaced: false,
    shortNames: ['pv'],
    subresources: [status('PersistentVolume')],
  }),
  entry({
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    shortNames: ['po'],
    categories: all,
    subresources: [
      { name: 'attach', kind: 'PodAttachOptions', verbs: createGet },
      { name: 'binding', kind: 'Binding', verbs: createOnly },
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: getPatchUpdate },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: createOnly },
      { name: 'exec', kind: 'PodExecOptions', verbs: createGet },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: createGet },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: proxyVerbs },
      { name: 'resize', kind: 'Pod', verbs: getPatchUpdate },
      status('Pod'),
    ],
  }),
  entry({ group: '', version: 'v1', kind: 'PodTemplate', plural: 'podtemplates', namespaced: true }),
  entry({
    group: '',
    version: 'v1',
    kind: 'ReplicationController',
    plural: 'replicationcontrollers',
    namespaced: true,
    shortNames: ['rc'],
    categories: all,
    subresources: [scale, status('ReplicationController')],
    storage: 'controllers',
  }),
  entry({
    group: '',
    version: 'v1',
    kind: 'ResourceQuota',
    plural: 'resourcequotas',
    namespaced: true,
    shortNames: ['quota'],
    subresources: [status('ResourceQuota')],
  }),
  entry({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true }),
  entry({
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespaced: true,
    shortNames: ['sa'],
    subresources: [
      {
        name: 'token',
        kind: 'TokenRequest',
        group: 'authentication.k8s.io',
        version: 'v1',
        verbs: createOnly,
      },
    ],
  }),
  entry({
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    shortNames: ['svc'],
    categories: all,
    subresources: [{ name: 'proxy', kind: 'ServiceProxyOptions', verbs: proxyVerbs }, status('Service')],
    storage: 'services/specs',
  }),

  // apiextensions.k8s.io/v1
  entry({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: [status('CustomResourceDefinition')],
    // The apiextensions server prefixes its keys with the group.
    storage: 'apiextensions.k8s.io/customresourcedefinitions',
  }),

  // apps/v1
  entry({
    group: 'apps',
    version: 'v1',
    kind: 'ControllerRevision',
    plural: 'controllerrevisions',
    namespaced: true,
  }),
  entry({
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    categories: all,
    subresources: [status('DaemonSet')],
  }),
  entry({
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    categories: all,
    subresources: [scale, status('Deployment')],
  }),
  entry({
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    categories: all,
    subresources: [scale, status('ReplicaSet')],
  }),
  entry({
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    categories: all,
    subresources: [scale, status('StatefulSet')],
  }),

  // authentication.k8s.io/v1
  entry({
    group: 'authentication.k8s.io',
    version: 'v1',
    kind: 'SelfSubjectReview',
    plural: 'selfsubjectreviews',
    namespaced: false,
    verbs: createOnly,
    storage: null,
  }),

  // authorization.k8s.io/v1
  entry({
    group: 'authorization.k8s.io',
    version: 'v1',
    kind: 'SelfSubjectAccessReview',
    plural: 'selfsubjectaccessreviews',
    namespaced: false,
    verbs: createOnly,
    storage: null,
  }),
  entry({
    group: 'authorization.k8s.io',
    version: 'v1',
    kind: 'SelfSubjectRulesReview',
    plural: 'selfsubjectrulesreviews',
    // The namespace to review travels in the spec, not the URL.
    namespaced: false,
    verbs: createOnly,
    storage: null,
  }),

  // autoscaling/v1 and v2: one storage, two versions.
  entry({
    group: 'autoscaling',
    version: 'v1',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    shortNames: ['hpa'],
    categories: all,
    subresources: [status('HorizontalPodAutoscaler')],
  }),
  entry({
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    shortNames: ['hpa'],
    categories: all,
    subresources: [status('HorizontalPodAutoscaler')],
  }),

  // batch/v1
  entry({
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    plural: 'cronjobs',
    namespaced: true,
    shortNames: ['cj'],
    categories: all,
    subresources: [status('CronJob')],
  }),
  entry({
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    namespaced: true,
    categories: all,
    subresources: [status('Job')],
  }),

  // coordination.k8s.io/v1
  entry({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true }),

  // discovery.k8s.io/v1
  entry({
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    namespaced: true,
  }),

  // events.k8s.io/v1: the same objects as core/v1 events, stored once.
  entry({
    group: 'events.k8s.io',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    namespaced: true,
    shortNames: ['ev'],
  }),

  // networking.k8s.io/v1
  entry({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'IPAddress',
    plural: 'ipaddresses',
    namespaced: false,
    shortNames: ['ip'],
  }),
  entry({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'IngressClass',
    plural: 'ingressclasses',
    namespaced: false,
  }),
  entry({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    namespaced: true,
    shortNames: ['ing'],
    subresources: [status('Ingress')],
    storage: 'ingress',
  }),
  entry({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    shortNames: ['netpol'],
  }),
  entry({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'ServiceCIDR',
    plural: 'servicecidrs',
    namespaced: false,
    subresources: [status('ServiceCIDR')],
  }),

  // policy/v1
  entry({
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    namespaced: true,
    shortNames: ['pdb'],
    subresources: [status('PodDisruptionBudget')],
  }),

  // rbac.authorization.k8s.io/v1
  entry({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
    namespaced: false,
  }),
  entry({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRole',
    plural: 'clusterroles',
    namespaced: false,
  }),
  entry({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'RoleBinding',
    plural: 'rolebindings',
    namespaced: true,
  }),
  entry({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'Role',
    plural: 'roles',
    namespaced: true,
  }),

  // scheduling.k8s.io/v1
  entry({
    group: 'scheduling.k8s.io',
    version: 'v1',
    kind: 'PriorityClass',
    plural: 'priorityclasses',
    namespaced: false,
    shortNames: ['pc'],
  }),

  // storage.k8s.io/v1
  entry({
    group: 'storage.k8s.io',
    version: 'v1',
    kind: 'StorageClass',
    plural: 'storageclasses',
    namespaced: false,
    shortNames: ['sc'],
  }),
];

/**
 * The groups served, in upstream's discovery order: the aggregator sorts by group priority (highest
 * first), then by name; versions within a group by version priority (so autoscaling prefers v2).
 */
export const apiGroups: readonly APIGroupInfo[] = (
  [
    { name: '', versions: ['v1'], groupPriorityMinimum: 18000 },
    { name: 'apps', versions: ['v1'], groupPriorityMinimum: 17800 },
    { name: 'events.k8s.io', versions: ['v1'], groupPriorityMinimum: 17750 },
    { name: 'authentication.k8s.io', versions: ['v1'], groupPriorityMinimum: 17700 },
    { name: 'authorization.k8s.io', versions: ['v1'], groupPriorityMinimum: 17600 },
    { name: 'autoscaling', versions: ['v2', 'v1'], groupPriorityMinimum: 17500 },
    { name: 'batch', versions: ['v1'], groupPriorityMinimum: 17400 },
    { name: 'networking.k8s.io', versions: ['v1'], groupPriorityMinimum: 17200 },
    { name: 'policy', versions: ['v1'], groupPriorityMinimum: 17100 },
    { name: 'rbac.authorization.k8s.io', versions: ['v1'], groupPriorityMinimum: 17000 },
    { name: 'storage.k8s.io', versions: ['v1'], groupPriorityMinimum: 16800 },
    { name: 'apiextensions.k8s.io', versions: ['v1'], groupPriorityMinimum: 16700 },
    { name: 'scheduling.k8s.io', versions: ['v1'], groupPriorityMinimum: 16600 },
    { name: 'coordination.k8s.io', versions: ['v1'], groupPriorityMinimum: 16500 },
    { name: 'discovery.k8s.io', versions: ['v1'], groupPriorityMinimum: 16200 },
  ] satisfies Omit<APIGroupInfo, 'preferredVersion'>[]
)
  .map((g) => ({ ...g, preferredVersion: g.versions[0] ?? '' }))
  .sort((a, b) => b.groupPriorityMinimum - a.groupPriorityMinimum || compare(a.name, b.name));

/** The resources of one group-version, sorted by resource name as discovery lists them. */
export function resourcesInGroupVersion(group: string, version: string): ResourceInfo[] {
  return resources
    .filter((r) => r.group === group && r.version === version)
    .sort((a, b) => compare(a.plural, b.plural));
}

/** The resource at a group-version by its plural (`pods`), or undefined. */
export function findResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return resources.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** The group's entry, or undefined when the group is not served. */
export function findGroup(name: string): APIGroupInfo | undefined {
  return apiGroups.find((g) => g.name === name);
}

/** The resource serving a kind at a group-version (`apps`, `v1`, `Deployment`), or undefined. */
export function findResourceForKind(group: string, version: string, kind: string): ResourceInfo | undefined {
  return resources.find((r) => r.group === group && r.version === version && r.kind === kind);
}

/**
 * Resolve a name as kubectl types it (`po`, `pod`, `pods`, `Pod`, `deployments.apps`, `hpa.v1.autoscaling`)
 * to the resources it may mean, preferred version of each group first. Plural, singular, short name and
 * kind all match, case-insensitively; a `.group` or `.version.group` suffix narrows the match.
 */
export function resolveResource(name: string): ResourceInfo[] {
  const lower = name.toLowerCase();
  const candidates: { word: string; group?: string; version?: string }[] = [{ word: lower }];
  const firstDot = lower.indexOf('.');
  if (firstDot > 0) {
    const word = lower.slice(0, firstDot);
    const rest = lower.slice(firstDot + 1);
    candidates.push({ word, group: rest });
    const secondDot = rest.indexOf('.');
    if (secondDot > 0)
      candidates.push({ word, version: rest.slice(0, secondDot), group: rest.slice(secondDot + 1) });
  }
  const matches = (r: ResourceInfo, word: string): boolean =>
    r.plural === word ||
    r.singularName === word ||
    r.kind.toLowerCase() === word ||
    r.shortNames.includes(word);
  const found: ResourceInfo[] = [];
  for (const c of candidates) {
    for (const r of resources) {
      if (c.group !== undefined && r.group !== c.group) continue;
      if (c.version !== undefined && r.version !== c.version) continue;
      if (matches(r, c.word) && !found.includes(r)) found.push(r);
    }
  }
  return found.sort((a, b) => groupOrder(a) - groupOrder(b));
}

function groupOrder(r: ResourceInfo): number {
  const groupIndex = apiGroups.findIndex((g) => g.name === r.group);
  const versionIndex = apiGroups[groupIndex]?.versions.indexOf(r.version) ?? 0;
  return groupIndex * 100 + versionIndex;
}

/** The subresource of a resource by name, or undefined. */
export function findSubresource(resource: ResourceInfo, name: string): SubresourceInfo | undefined {
  return resource.subresources.find((s) => s.name === name);
}

/** The resources listed in a category (`all`, `api-extensions`), preferred versions only. */
export function resourcesInCategory(category: string): ResourceInfo[] {
  return resources.filter(
    (r) => r.categories.includes(category) && findGroup(r.group)?.preferredVersion === r.version,
  );
}
