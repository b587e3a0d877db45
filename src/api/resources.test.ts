import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  apiGroups,
  findGroup,
  findResource,
  findResourceForKind,
  findSubresource,
  resolveResource,
  resources,
  resourcesInCategory,
  resourcesInGroupVersion,
  type Verb,
} from './resources.js';

// Upstream's published OpenAPI (release-1.33), kept beside the repository as the reference.
const openapiDir = path.resolve(import.meta.dirname, '../../../shared/kubernetes/openapi');

interface Operation {
  'x-kubernetes-action'?: string;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string };
}
interface Document {
  paths: Record<string, Record<string, unknown>>;
  schemas: Record<
    string,
    { 'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[] }
  >;
}

const docs = new Map<string, Document>();
let swagger: { paths: Document['paths']; definitions: Document['schemas'] } | undefined;

/** The OpenAPI document of a group-version: the v3 file where upstream publishes one, else the v2 spec. */
function documentFor(group: string, version: string): Document {
  const key = `${group}/${version}`;
  const cached = docs.get(key);
  if (cached) return cached;
  const urlPrefix = group === '' ? `/api/${version}/` : `/apis/${group}/${version}/`;
  const v3 = path.join(openapiDir, 'v3', `${urlPrefix.slice(1, -1).replaceAll('/', '__')}_openapi.json`);
  let doc: Document;
  if (existsSync(v3)) {
    const raw = JSON.parse(readFileSync(v3, 'utf8')) as {
      paths: Document['paths'];
      components: { schemas: Document['schemas'] };
    };
    doc = { paths: raw.paths, schemas: raw.components.schemas };
  } else {
    swagger ??= JSON.parse(readFileSync(path.join(openapiDir, 'swagger.json'), 'utf8')) as typeof swagger;
    const paths = Object.fromEntries(Object.entries(swagger!.paths).filter(([p]) => p.startsWith(urlPrefix)));
    doc = { paths, schemas: swagger!.definitions };
  }
  docs.set(key, doc);
  return doc;
}

/** Discovery verbs by path suffix (`""` for the resource, `"status"` for a subresource), from the spec. */
function verbsFromOpenAPI(group: string, version: string, plural: string, namespaced: boolean) {
  const base = group === '' ? `/api/${version}/` : `/apis/${group}/${version}/`;
  const scope = namespaced ? 'namespaces/{namespace}/' : '';
  const collection = `${base}${scope}${plural}`;
  const watchCollection = `${base}watch/${scope}${plural}`;
  const out = new Map<string, Set<Verb>>();
  const add = (sub: string, verb: Verb) => {
    const set = out.get(sub) ?? new Set<Verb>();
    set.add(verb);
    out.set(sub, set);
  };
  for (const [p, ops] of Object.entries(documentFor(group, version).paths)) {
    let sub: string | undefined;
    let onCollection = false;
    if (p === collection || p === watchCollection) {
      sub = '';
      onCollection = true;
    } else if (p.startsWith(`${collection}/{name}`) || p.startsWith(`${watchCollection}/{name}`)) {
      const rest = p.slice(p.indexOf('{name}') + '{name}'.length);
      if (rest === '') sub = '';
      else if (/^\/[a-z]+$/.test(rest)) sub = rest.slice(1);
      else continue; // proxy/{path}: the same subresource as proxy
    } else continue;
    for (const [method, op] of Object.entries(ops)) {
      const action = (op as Operation)['x-kubernetes-action'];
      if (action === undefined) continue;
      if (action === 'connect') {
        const verb = (
          { get: 'get', post: 'create', put: 'update', patch: 'patch', delete: 'delete' } as const
        )[method as 'get'];
        if (verb) add(sub, verb);
        continue;
      }
      const verb = (
        {
          get: 'get',
          list: 'list',
          watch: 'watch',
          watchlist: 'watch',
          post: 'create',
          put: 'update',
          patch: 'patch',
          delete: onCollection ? 'deletecollection' : 'delete',
          deletecollection: 'deletecollection',
        } as const
      )[action as 'get'];
      assert.ok(verb, `unexpected action ${action} on ${p}`);
      add(sub, verb);
    }
  }
  return out;
}

/** Kinds the document defines: schemas, and the option kinds that only connect operations name. */
function kindsIn(doc: Document): Set<string> {
  const kinds = new Set<string>();
  for (const schema of Object.values(doc.schemas)) {
    for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
      kinds.add(`${gvk.group}/${gvk.version}/${gvk.kind}`);
    }
  }
  for (const ops of Object.values(doc.paths)) {
    for (const op of Object.values(ops)) {
      const gvk = (op as Operation)['x-kubernetes-group-version-kind'];
      if (gvk && (op as Operation)['x-kubernetes-action'] === 'connect')
        kinds.add(`${gvk.group}/${gvk.version}/${gvk.kind}`);
    }
  }
  return kinds;
}

describe(
  'resource catalogue against the upstream OpenAPI',
  { skip: !existsSync(openapiDir) && `${openapiDir} is absent` },
  () => {
    it('names a kind that upstream defines for every resource and subresource', () => {
      for (const r of resources) {
        const kinds = kindsIn(documentFor(r.group, r.version));
        assert.ok(
          kinds.has(`${r.group}/${r.version}/${r.kind}`),
          `${r.group}/${r.version} ${r.plural}: ${r.kind}`,
        );
        for (const s of r.subresources) {
          const gvk = `${s.group ?? r.group}/${s.version ?? r.version}/${s.kind}`;
          assert.ok(kinds.has(gvk), `${r.plural}/${s.name}: ${gvk}`);
        }
      }
    });

    it('lists exactly the verbs and subresources that upstream serves', () => {
      for (const r of resources) {
        const fromSpec = verbsFromOpenAPI(r.group, r.version, r.plural, r.namespaced);
        const where = `${r.group || 'core'}/${r.version} ${r.plural}`;
        assert.deepEqual([...(fromSpec.get('') ?? [])].sort(), [...r.verbs], `${where} verbs`);
        const specSubs = [...fromSpec.keys()].filter((k) => k !== '').sort();
        assert.deepEqual(
          specSubs,
          r.subresources.map((s) => s.name),
          `${where} subresources`,
        );
        for (const s of r.subresources) {
          assert.deepEqual(
            [...(fromSpec.get(s.name) ?? [])].sort(),
            [...s.verbs],
            `${where}/${s.name} verbs`,
          );
        }
      }
    });

    it('places subresource kinds in the group-version the spec gives them', () => {
      for (const r of resources) {
        const base = r.group === '' ? `/api/${r.version}/` : `/apis/${r.group}/${r.version}/`;
        const scope = r.namespaced ? 'namespaces/{namespace}/' : '';
        for (const s of r.subresources) {
          const ops =
            documentFor(r.group, r.version).paths[`${base}${scope}${r.plural}/{name}/${s.name}`] ?? {};
          for (const op of Object.values(ops)) {
            const gvk = (op as Operation)['x-kubernetes-group-version-kind'];
            if (!gvk) continue;
            assert.deepEqual(
              gvk,
              { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind },
              `${r.plural}/${s.name}`,
            );
          }
        }
      }
    });
  },
);

describe('resource catalogue', () => {
  it('has one entry per group-version-resource, sorted within each group-version', () => {
    const seen = new Set<string>();
    for (const r of resources) {
      const key = `${r.group}/${r.version}/${r.plural}`;
      assert.ok(!seen.has(key), `duplicate ${key}`);
      seen.add(key);
      assert.equal(r.singularName, r.kind.toLowerCase());
      assert.deepEqual([...r.verbs], [...r.verbs].sort(), `${key} verbs sorted`);
      assert.deepEqual(
        r.subresources.map((s) => s.name),
        r.subresources.map((s) => s.name).sort(),
      );
    }
    for (const g of apiGroups) {
      for (const v of g.versions) {
        const plurals = resourcesInGroupVersion(g.name, v).map((r) => r.plural);
        assert.ok(plurals.length > 0, `${g.name}/${v} serves nothing`);
        assert.deepEqual(plurals, [...plurals].sort());
      }
    }
    for (const r of resources)
      assert.ok(findGroup(r.group)?.versions.includes(r.version), `${r.group}/${r.version}`);
  });

  it('orders groups as upstream discovery does and prefers autoscaling/v2', () => {
    assert.deepEqual(
      apiGroups.map((g) => g.name),
      [
        '',
        'apps',
        'events.k8s.io',
        'authentication.k8s.io',
        'authorization.k8s.io',
        'autoscaling',
        'batch',
        'networking.k8s.io',
        'policy',
        'rbac.authorization.k8s.io',
        'storage.k8s.io',
        'apiextensions.k8s.io',
        'scheduling.k8s.io',
        'coordination.k8s.io',
        'discovery.k8s.io',
      ],
    );
    assert.equal(findGroup('autoscaling')?.preferredVersion, 'v2');
    assert.deepEqual(findGroup('autoscaling')?.versions, ['v2', 'v1']);
  });

  it('carries upstream etcd prefixes', () => {
    const prefix = (g: string, v: string, p: string) => findResource(g, v, p)?.etcdPrefix;
    assert.equal(prefix('', 'v1', 'pods'), '/registry/pods');
    assert.equal(prefix('', 'v1', 'services'), '/registry/services/specs');
    assert.equal(prefix('', 'v1', 'endpoints'), '/registry/services/endpoints');
    assert.equal(prefix('', 'v1', 'nodes'), '/registry/minions');
    assert.equal(prefix('', 'v1', 'replicationcontrollers'), '/registry/controllers');
    assert.equal(prefix('apps', 'v1', 'deployments'), '/registry/deployments');
    assert.equal(prefix('networking.k8s.io', 'v1', 'ingresses'), '/registry/ingress');
    assert.equal(
      prefix('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'),
      '/registry/apiextensions.k8s.io/customresourcedefinitions',
    );
    assert.equal(prefix('events.k8s.io', 'v1', 'events'), prefix('', 'v1', 'events'));
    assert.equal(
      prefix('autoscaling', 'v1', 'horizontalpodautoscalers'),
      prefix('autoscaling', 'v2', 'horizontalpodautoscalers'),
    );
    assert.equal(prefix('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews'), undefined);
    // Distinct resources never share a prefix, and no prefix is a parent of another's keys.
    const owners = new Map<string, string>();
    for (const r of resources) {
      if (!r.etcdPrefix) continue;
      // events.k8s.io Events are the core Events seen through another group.
      const id = r.group === 'events.k8s.io' ? '/Event' : `${r.group}/${r.kind}`;
      const other = owners.get(r.etcdPrefix);
      assert.ok(other === undefined || other === id, `${r.etcdPrefix}: ${other} and ${id}`);
      owners.set(r.etcdPrefix, id);
    }
    for (const a of owners.keys()) {
      for (const b of owners.keys()) {
        if (a !== b) assert.ok(!`${b}/`.startsWith(`${a}/`), `${b} lies under ${a}`);
      }
    }
  });

  it('resolves plural, singular, short names and kinds', () => {
    const names = (n: string) => resolveResource(n).map((r) => `${r.group}/${r.version}/${r.plural}`);
    for (const n of ['pods', 'pod', 'po', 'Pod', 'PODS']) assert.deepEqual(names(n), ['/v1/pods']);
    assert.deepEqual(names('deploy'), ['apps/v1/deployments']);
    assert.deepEqual(names('deployments.apps'), ['apps/v1/deployments']);
    assert.deepEqual(names('hpa'), [
      'autoscaling/v2/horizontalpodautoscalers',
      'autoscaling/v1/horizontalpodautoscalers',
    ]);
    assert.deepEqual(names('hpa.v1.autoscaling'), ['autoscaling/v1/horizontalpodautoscalers']);
    assert.deepEqual(names('ev'), ['/v1/events', 'events.k8s.io/v1/events']);
    assert.deepEqual(names('events.events.k8s.io'), ['events.k8s.io/v1/events']);
    assert.deepEqual(names('crds'), ['apiextensions.k8s.io/v1/customresourcedefinitions']);
    assert.deepEqual(names('netpol'), ['networking.k8s.io/v1/networkpolicies']);
    assert.deepEqual(names('quota'), ['/v1/resourcequotas']);
    assert.deepEqual(names('nonsense'), []);
    assert.equal(findResourceForKind('apps', 'v1', 'StatefulSet')?.plural, 'statefulsets');
    assert.equal(findResourceForKind('apps', 'v1', 'Pod'), undefined);
  });

  it('describes subresources with their own kinds', () => {
    const pods = findResource('', 'v1', 'pods')!;
    assert.deepEqual(findSubresource(pods, 'eviction'), {
      name: 'eviction',
      kind: 'Eviction',
      group: 'policy',
      version: 'v1',
      verbs: ['create'],
    });
    assert.equal(findSubresource(pods, 'binding')?.kind, 'Binding');
    const scale = findSubresource(findResource('apps', 'v1', 'deployments')!, 'scale');
    assert.deepEqual([scale?.group, scale?.version, scale?.kind], ['autoscaling', 'v1', 'Scale']);
    const token = findSubresource(findResource('', 'v1', 'serviceaccounts')!, 'token');
    assert.deepEqual([token?.group, token?.kind], ['authentication.k8s.io', 'TokenRequest']);
    assert.equal(findSubresource(pods, 'scale'), undefined);
  });

  it('lists the all category as kubectl get all expands it', () => {
    assert.deepEqual(
      resourcesInCategory('all')
        .map((r) => `${r.group}/${r.plural}`)
        .sort(),
      [
        '/pods',
        '/replicationcontrollers',
        '/services',
        'apps/daemonsets',
        'apps/deployments',
        'apps/replicasets',
        'apps/statefulsets',
        'autoscaling/horizontalpodautoscalers',
        'batch/cronjobs',
        'batch/jobs',
      ],
    );
    assert.equal(
      resourcesInCategory('all').find((r) => r.plural === 'horizontalpodautoscalers')?.version,
      'v2',
    );
    assert.deepEqual(
      resourcesInCategory('api-extensions').map((r) => r.plural),
      ['customresourcedefinitions'],
    );
  });
});
