import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchemaIndex } from '../openapi/schema-index.js';
import type { JsonObject } from '../patch/json-value.js';
import {
  compareObjects,
  FieldSet,
  fieldPath,
  fieldSetOf,
  keyElement,
  parsePathElement,
  serializePathElement,
  type FieldPath,
} from './field-set.js';

const deploymentSchema = SchemaIndex.builtin().forKind({ group: 'apps', version: 'v1', kind: 'Deployment' });
const configMapSchema = SchemaIndex.builtin().forKind({ group: '', version: 'v1', kind: 'ConfigMap' });

// A kubectl-create Deployment's FieldsV1 as a real API server stored it (key order included).
const storedDeploymentFields =
  '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},' +
  '"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},' +
  '"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":' +
  '{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},' +
  '"f:ports":{".":{},"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{},' +
  '"f:protocol":{}}},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},' +
  '"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},' +
  '"f:terminationGracePeriodSeconds":{}}}}}';

const field = (name: string) => ({ type: 'field', name }) as const;
const show = (paths: FieldPath[]): string[] => paths.map((p) => p.map(serializePathElement).join('/'));

describe('FieldsV1 encoding', () => {
  it('reads and writes a stored set back byte for byte', () => {
    const set = FieldSet.fromFieldsV1(JSON.parse(storedDeploymentFields) as JsonObject);
    assert.equal(JSON.stringify(set.toFieldsV1()), storedDeploymentFields);
    assert.ok(set.has([...fieldPath('metadata', 'labels')]));
    assert.ok(set.has([...fieldPath('metadata', 'labels', 'app')]));
    assert.ok(!set.has(fieldPath('metadata')), 'a node without "." is not a member');
    assert.ok(
      set.has([
        ...fieldPath('spec', 'template', 'spec', 'containers'),
        keyElement([{ name: 'name', value: 'nginx' }]),
        field('image'),
      ]),
    );
  });

  it('orders fields before keys before values before indexes, names by byte order', () => {
    const set = FieldSet.of(
      [{ type: 'index', index: 2 }],
      [{ type: 'value', value: 'b' }],
      [{ type: 'value', value: 3 }],
      [keyElement([{ name: 'name', value: 'x' }])],
      [field('b')],
      [field('B')],
      [field('é')],
      [field('a.b')],
    );
    assert.deepEqual(Object.keys(set.toFieldsV1()), [
      'f:B',
      'f:a.b',
      'f:b',
      'f:é',
      'k:{"name":"x"}',
      'v:3',
      'v:"b"',
      'i:2',
    ]);
  });

  it('sorts key fields by name and writes values as Go JSON', () => {
    const pe = keyElement([
      { name: 'protocol', value: 'TCP' },
      { name: 'containerPort', value: 80 },
    ]);
    assert.equal(serializePathElement(pe), 'k:{"containerPort":80,"protocol":"TCP"}');
    assert.equal(serializePathElement({ type: 'value', value: '<a&b>' }), 'v:"\\u003ca\\u0026b\\u003e"');
    assert.deepEqual(parsePathElement('k:{"protocol":"TCP","containerPort":80}'), pe);
    assert.equal(parsePathElement('z:whatever'), undefined);
    assert.throws(() => parsePathElement('f'));
    assert.throws(() => parsePathElement('k:{broken'));
  });

  it('takes a node as a member when it has "." or nothing known below it', () => {
    const set = FieldSet.fromFieldsV1({
      'f:a': { '.': {}, 'f:b': {} },
      'f:c': { 'f:d': {} },
      'f:e': { 'z:x': {} },
    });
    assert.deepEqual(show(set.paths()), ['f:a', 'f:a/f:b', 'f:c/f:d', 'f:e']);
    assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 1 }));
    assert.throws(() => FieldSet.fromFieldsV1([]));
  });
});

describe('FieldSet operations', () => {
  const ab = FieldSet.of(fieldPath('a'), fieldPath('a', 'b'), fieldPath('a', 'c'));
  const b = FieldSet.of(fieldPath('a', 'b'));

  it('unions, intersects and subtracts', () => {
    assert.deepEqual(show(ab.union(FieldSet.of(fieldPath('z'))).paths()), [
      'f:a',
      'f:a/f:b',
      'f:a/f:c',
      'f:z',
    ]);
    assert.deepEqual(show(ab.intersection(b).paths()), ['f:a/f:b']);
    assert.deepEqual(show(ab.difference(b).paths()), ['f:a', 'f:a/f:c']);
    assert.deepEqual(show(ab.difference(FieldSet.of(fieldPath('a'))).paths()), ['f:a/f:b', 'f:a/f:c']);
    assert.deepEqual(show(ab.recursiveDifference(FieldSet.of(fieldPath('a'))).paths()), []);
    assert.ok(ab.difference(ab).isEmpty());
    assert.deepEqual(ab.difference(ab).toFieldsV1(), {}, 'emptied nodes are dropped');
  });

  it('compares by content and leaves the operands alone', () => {
    const copy = FieldSet.fromFieldsV1(ab.toFieldsV1());
    assert.ok(copy.equals(ab));
    assert.ok(!copy.equals(b));
    ab.union(FieldSet.of(fieldPath('q')));
    assert.ok(copy.equals(ab));
  });
});

describe('fieldSetOf', () => {
  it('marks map entries and list items, and struct fields only at leaves', () => {
    const set = fieldSetOf(deploymentSchema, {
      metadata: { labels: { app: 'web' } },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          spec: {
            containers: [{ name: 'web', image: 'nginx', args: ['a', 'b'], ports: [{ containerPort: 80 }] }],
            securityContext: {},
          },
        },
      },
    });
    assert.deepEqual(set.toFieldsV1(), {
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:selector': {},
        'f:template': {
          'f:spec': {
            'f:containers': {
              'k:{"name":"web"}': {
                '.': {},
                'f:args': {},
                'f:image': {},
                'f:name': {},
                // protocol is a key with a schema default, so the item is keyed by it all the same
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
            'f:securityContext': {},
          },
        },
      },
    });
  });

  it('treats free-form values as granular maps and atomic lists', () => {
    const set = fieldSetOf(undefined, { a: { b: 1, c: [1, 2] } });
    assert.deepEqual(show(set.paths()), ['f:a', 'f:a/f:b', 'f:a/f:c']);
  });
});

describe('compareObjects', () => {
  const before: JsonObject = {
    metadata: { name: 'x', labels: { app: 'web', tier: 'front' } },
    data: { a: '1', b: '2' },
  };

  it('reports added, modified and removed paths', () => {
    const after: JsonObject = {
      metadata: { name: 'x', labels: { app: 'api' }, annotations: { note: 'n' } },
      data: { a: '1', b: '2' },
      immutable: true,
    };
    const cmp = compareObjects(configMapSchema, before, after);
    assert.deepEqual(show(cmp.added.paths()), [
      'f:immutable',
      'f:metadata/f:annotations',
      'f:metadata/f:annotations/f:note',
    ]);
    assert.deepEqual(show(cmp.modified.paths()), ['f:metadata/f:labels/f:app']);
    assert.deepEqual(show(cmp.removed.paths()), ['f:metadata/f:labels/f:tier']);
  });

  it('compares atomic values whole and keyed list items by key', () => {
    const pod = (containers: JsonObject[], selector: JsonObject): JsonObject => ({
      spec: { selector, template: { spec: { containers } } },
    });
    const cmp = compareObjects(
      deploymentSchema,
      pod(
        [
          { name: 'a', image: 'x' },
          { name: 'b', image: 'y' },
        ],
        { matchLabels: { app: 'a' } },
      ),
      pod([{ name: 'b', image: 'z' }], { matchLabels: { app: 'b' } }),
    );
    assert.deepEqual(show(cmp.modified.paths()), [
      'f:spec/f:selector',
      'f:spec/f:template/f:spec/f:containers/k:{"name":"b"}/f:image',
    ]);
    assert.deepEqual(show(cmp.removed.paths()), [
      'f:spec/f:template/f:spec/f:containers/k:{"name":"a"}',
      'f:spec/f:template/f:spec/f:containers/k:{"name":"a"}/f:image',
      'f:spec/f:template/f:spec/f:containers/k:{"name":"a"}/f:name',
    ]);
    assert.ok(cmp.added.isEmpty());
  });

  it('keeps an empty map apart from an absent one, and null from a map', () => {
    const cmp = compareObjects(
      deploymentSchema,
      { spec: { selector: null } },
      { spec: { strategy: {}, selector: {} } },
    );
    assert.deepEqual(show(cmp.added.paths()), ['f:spec/f:strategy']);
    assert.deepEqual(show(cmp.modified.paths()), ['f:spec/f:selector']);
  });
});
