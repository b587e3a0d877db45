// Discovery: the documents clients read to learn which groups, versions and resources exist. Legacy
// discovery (/api, /apis, /api/v1, /apis/G/V) and aggregated discovery (apidiscovery.k8s.io v2 and v2beta1
// at /api and /apis, chosen only by the Accept header), all built from the resource catalogue.
import type { ResourceInfo } from '../api/resources.js';
import { apiGroups, resources } from '../api/resources.js';

/** The Accept entry that asks for aggregated discovery, and the content type answered. */
export function aggregatedDiscoveryVersion(accept: { type: string; params: Record<string, string> }[]): 'v2' | 'v2beta1' | undefined {
  for (const e of accept) {
    if ((e.type === 'application/json' || e.type === '*/*') && e.params.g === 'apidiscovery.k8s.io' && e.params.as === 'APIGroupDiscoveryList') {
      if (e.params.v === 'v2' || e.params.v === 'v2beta1') return e.params.v;
    }
    // Clients list the plain form after the aggregated ones; the first acceptable entry wins.
    if (e.type === 'application/json' && e.params.as === undefined) return undefined;
  }
  return undefined;
}

const groupVersion = (group: string, version: string): string => (group === '' ? version : `${group}/${version}`);

/** /api: the core group's versions. */
export function apiVersions(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(name: string, versions: readonly string[], preferred: string): unknown {
  return {
    name,
    versions: versions.map((v) => ({ groupVersion: groupVersion(name, v), version: v })),
    preferredVersion: { groupVersion: groupVersion(name, preferred), version: preferred },
  };
}

/** /apis: every named group with its versions, preferred version first. */
export function apiGroupList(): unknown {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: apiGroups.filter((g) => g.name !== '').map((g) => groupEntry(g.name, g.versions, g.preferredVersion)),
  };
}

/** /apis/G: one group. */
export function apiGroup(name: string): unknown {
  const g = apiGroups.find((x) => x.name === name && name !== '');
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...(groupEntry(g.name, g.versions, g.preferredVersion) as object) } : undefined;
}

/** /api/v1 or /apis/G/V: the resources of one group-version, each subresource as its own entry. */
export function apiResourceList(group: string, version: string): unknown {
  const list = resources.filter((r) => r.group === group && r.version === version);
  if (list.length === 0) return undefined;
  const entries: unknown[] = [];
  for (const r of list) {
    entries.push({
      name: r.plural,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources) {
      entries.push({
        name: `${r.plural}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(s.group !== undefined ? { group: s.group } : {}),
        ...(s.version !== undefined ? { version: s.version } : {}),
        kind: s.kind,
        verbs: s.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(group, version), resources: entries };
}

function discoveryResource(r: ResourceInfo): unknown {
  return {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singularName,
    verbs: r.verbs,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    ...(r.subresources.length > 0
      ? {
          subresources: r.subresources.map((s) => ({
            subresource: s.name,
            responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind },
            verbs: s.verbs,
          })),
        }
      : {}),
  };
}

/** The aggregated document for /api (core) or /apis (named groups), as apidiscovery.k8s.io/<version>. */
export function aggregatedDiscovery(prefix: 'api' | 'apis', version: 'v2' | 'v2beta1'): unknown {
  const groups = apiGroups.filter((g) => (prefix === 'api' ? g.name === '' : g.name !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: resources.filter((r) => r.group === g.name && r.version === v).map(discoveryResource),
        freshness: 'Current',
      })),
    })),
  };
}
