import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { OpenAPISpecs } from '../../api/openapi/openapi-specs.js';
import { SchemaIndex } from './schema-index.js';

const pod = { group: '', version: 'v1', kind: 'Pod' };
const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };

// patch-strategies.txt lists upstream's patch and list facts per property; it sits beside the repository.
const strategiesFile = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'kubernetes',
  'openapi',
  'patch-strategies.txt',
);
const skipUpstream = existsSync(strategiesFile) ? false : `${strategiesFile} not found; CI provides it`;

describe('SchemaIndex', () => {
  const index = SchemaIndex.builtin();

  it('finds the definition of a kind by its group, version and kind', () => {
    assert.equal(index.definitionFor(pod), 'io.k8s.api.core.v1.Pod');
    assert.equal(index.definitionFor(deployment), 'io.k8s.api.apps.v1.Deployment');
    assert.equal(index.forKind(deployment)?.typeName, 'Deployment');
    assert.equal(index.forKind({ group: 'example.com', version: 'v1', kind: 'Widget' }), undefined);
    assert.ok(index.kinds().some((k) => k.group === 'batch' && k.version === 'v1' && k.kind === 'CronJob'));
  });

  it('walks field paths through $refs, lists and maps, with the facts of each field', () => {
    const containers = index.field(pod, ['spec', 'containers']);
    assert.equal(containers?.node.shape, 'array');
    assert.deepEqual(containers?.meta, {
      patchStrategies: ['merge'],
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
      mapType: undefined,
    });
    const ports = index.field(pod, ['spec', 'containers', 'ports']);
    assert.equal(ports?.meta.patchMergeKey, 'containerPort');
    assert.deepEqual(ports?.meta.listMapKeys, ['containerPort', 'protocol']);
    assert.deepEqual(index.field(pod, ['spec', 'volumes'])?.meta.patchStrategies, ['merge', 'retainKeys']);
    const tolerations = index.field(pod, ['spec', 'tolerations'])?.meta;
    assert.deepEqual(tolerations?.patchStrategies, []);
    assert.equal(tolerations?.listType, 'atomic');
    const finalizers = index.field(pod, ['metadata', 'finalizers'])?.meta;
    assert.deepEqual(finalizers?.patchStrategies, ['merge']);
    assert.equal(finalizers?.listType, 'set');
    assert.deepEqual(index.field(deployment, ['spec', 'strategy'])?.meta.patchStrategies, ['retainKeys']);
    assert.equal(
      index.field(deployment, ['spec', 'strategy'])?.node.definition,
      'io.k8s.api.apps.v1.DeploymentStrategy',
    );
  });

  it('steps into list items by index or by field name, and into map values', () => {
    assert.equal(index.field(pod, ['spec', 'containers', '0'])?.node.typeName, 'Container');
    assert.equal(index.field(pod, ['spec', 'containers', '0', 'image'])?.node.schema.type, 'string');
    assert.equal(index.field(pod, ['spec', 'containers', 'image'])?.node.schema.type, 'string');
    assert.equal(index.field(pod, ['metadata', 'labels'])?.node.shape, 'map');
    assert.equal(index.field(pod, ['metadata', 'labels', 'app'])?.node.shape, 'scalar');
    const cpu = index.field(pod, ['spec', 'containers', 'resources', 'limits', 'cpu']);
    assert.equal(cpu?.node.definition, 'io.k8s.apimachinery.pkg.api.resource.Quantity');
    assert.equal(cpu?.node.shape, 'scalar');
    assert.equal(index.field(pod, ['spec', 'nodeName', 'x']), undefined);
    assert.equal(index.field(pod, ['spec', 'noSuchField']), undefined);
  });

  it('reads list and map types from the referenced type when the field has none', () => {
    const selector = index.field(deployment, ['spec', 'selector']);
    assert.equal(selector?.meta.mapType, 'atomic');
    assert.deepEqual(selector?.meta.patchStrategies, []);
  });

  it('tells free-form objects from structs and maps', () => {
    const data = index.field({ group: 'apps', version: 'v1', kind: 'ControllerRevision' }, ['data']);
    assert.equal(data?.node.shape, 'any');
    const quantity = index.node('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    assert.equal(quantity?.shape, 'scalar');
  });

  it('works the same over the v2 document', () => {
    const v2 = SchemaIndex.fromSwagger(OpenAPISpecs.builtin().v2());
    assert.equal(v2.field(pod, ['spec', 'containers', 'ports'])?.meta.patchMergeKey, 'containerPort');
    assert.equal(
      v2.field(deployment, ['spec', 'template', 'spec', 'containers', 'env'])?.meta.patchMergeKey,
      'name',
    );
    // v2 has group-versions our v3 documents do not serve.
    assert.ok(v2.forKind({ group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass' }));
  });

  it('refuses references to definitions it does not have', () => {
    const broken = new SchemaIndex(
      [['a', { properties: { b: { $ref: '#/components/schemas/missing' } } }]],
      '#/components/schemas/',
    );
    assert.throws(() => broken.node('a')?.field('b'), /unable to resolve #\/components\/schemas\/missing/);
  });

  it('agrees with upstream patch-strategies.txt on every field', { skip: skipUpstream }, () => {
    let definition = '';
    let checked = 0;
    const listed = new Set<string>();
    for (const line of readFileSync(strategiesFile, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      if (!line.startsWith(' ')) {
        definition = line.trim();
        continue;
      }
      const [name = '', facts = ''] = line.trim().split(': ');
      const fact = Object.fromEntries(facts.split(' ').map((kv) => kv.split('=') as [string, string]));
      const field = index.node(definition)?.field(name);
      assert.ok(field, `${definition}.${name} missing`);
      const where = `${definition}.${name}`;
      listed.add(where);
      const orNone = (v: string | undefined) => (v === undefined || v === '-' ? undefined : v);
      assert.deepEqual(field.meta.patchStrategies, orNone(fact.patchStrategy)?.split(',') ?? [], where);
      assert.equal(field.meta.patchMergeKey, orNone(fact.mergeKey), where);
      const own = index.schema(definition)?.properties?.[name];
      if (orNone(fact.listType) !== undefined) assert.equal(field.meta.listType, fact.listType, where);
      else assert.equal(own?.['x-kubernetes-list-type'], undefined, where);
      if (fact.listMapKeys !== undefined)
        assert.deepEqual(field.meta.listMapKeys, fact.listMapKeys.split(','), where);
      if (fact.mapType !== undefined) assert.equal(field.meta.mapType, fact.mapType, where);
      checked++;
    }
    assert.ok(checked > 400, `only ${checked} fields checked`);
    // And no field of ours has a patch strategy upstream's list does not know.
    for (const name of index.definitionNames()) {
      for (const [prop, schema] of Object.entries(index.schema(name)?.properties ?? {})) {
        if (schema['x-kubernetes-patch-strategy'] !== undefined)
          assert.ok(listed.has(`${name}.${prop}`), `${name}.${prop}`);
      }
    }
  });
});
