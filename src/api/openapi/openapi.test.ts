import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { OpenAPISpecs } from './openapi-specs.js';

// Upstream's specs sit beside the repository (../shared from the checkout), not in it; CI has them.
const upstreamDir = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'kubernetes',
  'openapi',
);
const haveUpstream = existsSync(path.join(upstreamDir, 'swagger.json'));
const skipUpstream = haveUpstream ? false : `upstream specs not found at ${upstreamDir}; CI provides them`;

// Objects keyed by names the API chooses: a member called "description" there is data, not prose.
const namedMaps = new Set([
  'properties',
  'patternProperties',
  'definitions',
  'schemas',
  'paths',
  'responses',
  'content',
  'securitySchemes',
  'securityDefinitions',
  'parameters',
  'headers',
  'encoding',
  'examples',
]);
const literalData = new Set(['default', 'example', 'enum']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Asserts that `ours` holds exactly upstream's facts: the same members (descriptions aside), the same
 * values, property order kept. `parentKey` says what kind of object is being compared.
 */
function assertSameFacts(
  upstream: Json,
  ours: Json | undefined,
  at: string,
  parentKey: string | undefined,
): void {
  if (Array.isArray(upstream)) {
    assert.ok(Array.isArray(ours), `${at}: expected an array`);
    assert.equal(ours.length, upstream.length, `${at}: length`);
    upstream.forEach((u, i) => assertSameFacts(u, ours[i], `${at}[${i}]`, undefined));
    return;
  }
  if (!isObject(upstream)) {
    assert.deepEqual(ours, upstream, at);
    return;
  }
  assert.ok(isObject(ours), `${at}: expected an object`);
  const named = parentKey !== undefined && namedMaps.has(parentKey);
  const opaque = parentKey !== undefined && (parentKey.startsWith('x-') || literalData.has(parentKey));
  if (opaque) {
    assert.deepEqual(ours, upstream, at);
    return;
  }
  const expectedKeys = Object.keys(upstream).filter((k) => named || k !== 'description');
  const actualKeys = Object.keys(ours);
  if (parentKey === 'properties') assert.deepEqual(actualKeys, expectedKeys, `${at}: property order`);
  else assert.deepEqual([...actualKeys].sort(), [...expectedKeys].sort(), `${at}: members`);
  for (const k of expectedKeys) {
    assertSameFacts(upstream[k] as Json, ours[k], `${at}/${k}`, named ? undefined : k);
  }
}

/** Every path at which a `description` member appears outside a named map. */
function descriptionsIn(doc: Json, at: string, parentKey: string | undefined, found: string[]): string[] {
  if (Array.isArray(doc)) doc.forEach((v, i) => descriptionsIn(v, `${at}[${i}]`, undefined, found));
  else if (isObject(doc)) {
    const named = parentKey !== undefined && namedMaps.has(parentKey);
    for (const [k, v] of Object.entries(doc)) {
      if (!named && k === 'description') found.push(`${at}/${k}`);
      descriptionsIn(v, `${at}/${k}`, named ? undefined : k, found);
    }
  }
  return found;
}

function readJson(file: string): Json {
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

function compareDocument(upstream: Json, ours: Json, name: string): void {
  assert.ok(isObject(upstream) && isObject(ours));
  const { info: upstreamInfo, ...upstreamRest } = upstream;
  const { info: ourInfo, ...ourRest } = ours;
  assert.ok(isObject(upstreamInfo) && isObject(ourInfo));
  assert.equal(ourInfo.title, 'k8ts', `${name}: info.title is ours`);
  assert.equal(ourInfo.version, upstreamInfo.version, `${name}: info.version`);
  assertSameFacts(upstreamRest, ourRest, name, undefined);
  assert.deepEqual(descriptionsIn(ours, name, undefined, []), [], `${name}: no descriptions`);
}

describe('our OpenAPI documents', () => {
  const specs = OpenAPISpecs.builtin();

  it('load from the source tree by group-version path', () => {
    const paths = specs.v3Paths();
    assert.ok(paths.includes('api/v1'));
    assert.ok(paths.includes('apis/apps/v1'));
    assert.deepEqual(paths, [...paths].sort());
    const apps = specs.v3('apis/apps/v1');
    assert.equal(apps?.openapi, '3.0.0');
    assert.deepEqual(JSON.parse(specs.v3Text('apis/apps/v1') ?? 'null'), apps);
    assert.ok(apps?.components.schemas['io.k8s.api.apps.v1.Deployment']);
    assert.equal(specs.v3('apis/nonexistent/v1'), undefined);
    assert.equal(specs.v2().swagger, '2.0');
    assert.ok(specs.v2().definitions['io.k8s.api.core.v1.Pod']);
  });

  it('carry no prose', () => {
    for (const p of specs.v3Paths()) {
      assert.deepEqual(descriptionsIn(specs.v3(p) as unknown as Json, p, undefined, []), []);
    }
    assert.deepEqual(descriptionsIn(specs.v2() as unknown as Json, 'v2', undefined, []), []);
  });

  it('keep facts that live next to prose: a property named "description", extensions', () => {
    const crd = specs.v3('apis/apiextensions.k8s.io/v1');
    const props =
      crd?.components.schemas['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps'];
    assert.deepEqual(props?.properties?.description, { type: 'string' });
    const podSpec = specs.v3('api/v1')?.components.schemas['io.k8s.api.core.v1.PodSpec'];
    const containers = podSpec?.properties?.containers;
    assert.equal(containers?.['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(containers?.['x-kubernetes-patch-merge-key'], 'name');
    assert.deepEqual(containers?.['x-kubernetes-list-map-keys'], ['name']);
  });

  describe('match upstream', { skip: skipUpstream }, () => {
    it('serve the same group-versions', () => {
      const upstream = readdirSync(path.join(upstreamDir, 'v3'))
        .filter((f) => f.endsWith('_openapi.json'))
        .map((f) => f.slice(0, -'_openapi.json'.length).split('__').join('/'))
        .sort();
      assert.deepEqual(specs.v3Paths(), upstream);
    });

    it('hold upstream facts in every v3 document', () => {
      for (const p of specs.v3Paths()) {
        const upstream = readJson(path.join(upstreamDir, 'v3', `${p.split('/').join('__')}_openapi.json`));
        const ours = specs.v3(p) as unknown as Json;
        assert.ok(isObject(upstream) && isObject(ours));
        const schemas = (doc: Json) =>
          Object.keys((doc as { components: { schemas: object } }).components.schemas);
        assert.deepEqual(schemas(ours), schemas(upstream), `${p}: definitions`);
        compareDocument(upstream, ours, p);
      }
    });

    it('hold upstream facts in the v2 document', () => {
      compareDocument(readJson(path.join(upstreamDir, 'swagger.json')), specs.v2() as unknown as Json, 'v2');
    });
  });
});
