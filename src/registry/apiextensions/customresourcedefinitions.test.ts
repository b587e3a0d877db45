import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { KObject } from '../generic/strategy.js';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { customResourceDefinitionStrategy } from './customresourcedefinitions.js';

const h = new StrategyHarness(customResourceDefinitionStrategy);
after(() => h.close());

const schema = {
  openAPIV3Schema: {
    type: 'object',
    properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
  },
};
const crd = (name: string, spec: Record<string, unknown>): KObject => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name },
  spec,
});
const widgets = () =>
  crd('widgets.example.com', {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true, schema }],
  });

describe('customresourcedefinitions', () => {
  it('default singular, listKind and conversion, and record the storage version', async () => {
    const stored = await h.create(widgets());
    const spec = stored.spec as Record<string, unknown>;
    assert.deepEqual(spec.names, {
      plural: 'widgets',
      kind: 'Widget',
      singular: 'widget',
      listKind: 'WidgetList',
    });
    assert.deepEqual(spec.conversion, { strategy: 'None' });
    assert.deepEqual(stored.status, { acceptedNames: { kind: '', plural: '' }, storedVersions: ['v1'] });
    assert.equal(stored.metadata?.generation, 1);
  });

  it('require the name to be <plural>.<group>', async () => {
    const c = widgets();
    c.metadata = { name: 'gadgets.example.com' };
    const { causes } = await h.invalid(h.create(c));
    assert.deepEqual(causes, [
      'metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group',
    ]);
  });

  it('require exactly one storage version, a scope and a structural schema', async () => {
    const { causes } = await h.invalid(
      h.create(
        crd('things.example.com', {
          group: 'example.com',
          names: { plural: 'things', kind: 'Thing' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: false,
              schema: { openAPIV3Schema: { properties: { a: {} } } },
            },
            { name: 'v2', served: true, storage: false },
          ],
        }),
      ),
    );
    assert.deepEqual(causes, [
      'spec.scope: Required value',
      'spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root',
      'spec.versions[0].schema.openAPIV3Schema.properties[a].type: Required value: must not be empty for specified object fields',
      'spec.versions[1].schema.openAPIV3Schema: Required value: schemas are required',
      'spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{{Name:"v1", Served:true, Storage:false}, {Name:"v2", Served:true, Storage:false}}: must have exactly one version marked as storage version',
      'status.storedVersions: Invalid value: []string(nil): must have at least one stored version',
    ]);
  });

  it('keep the group fixed and add a new storage version to storedVersions', async () => {
    const stored = await h.create(
      crd('gizmos.example.com', {
        ...(widgets().spec as object),
        names: { plural: 'gizmos', kind: 'Gizmo' },
      }),
    );
    const spec = stored.spec as { versions: Record<string, unknown>[] };
    spec.versions = [
      { name: 'v1', served: true, storage: false, schema },
      { name: 'v2', served: true, storage: true, schema },
    ];
    const updated = await h.update(stored);
    assert.deepEqual((updated.status as { storedVersions: string[] }).storedVersions, ['v1', 'v2']);
    assert.equal(updated.metadata?.generation, 2);
    (updated.spec as Record<string, unknown>).group = 'other.example.com';
    const { causes } = await h.invalid(h.update(updated));
    assert.ok(
      causes.includes('spec.group: Invalid value: "other.example.com": field is immutable'),
      causes.join('\n'),
    );
  });
});
