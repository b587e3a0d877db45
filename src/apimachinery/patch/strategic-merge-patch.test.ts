import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Schema } from '../../api/openapi/types.js';
import { SchemaIndex } from '../openapi/schema-index.js';
import { PatchError } from './patch-error.js';
import { strategicMergePatch } from './strategic-merge-patch.js';
import type { JsonObject, JsonValue } from './json-value.js';

// The type upstream's unit tests patch (strategicpatch's mergeItem), described in our schema form: one
// field of each kind of patch behaviour.
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const merged = (key?: string): Partial<Schema> => ({
  'x-kubernetes-patch-strategy': 'merge',
  ...(key === undefined ? {} : { 'x-kubernetes-patch-merge-key': key }),
});
const itemFields: Record<string, Schema> = {
  name: { type: 'string' },
  value: { type: 'string' },
  other: { type: 'string' },
  mergingList: { type: 'array', items: ref('item'), ...merged('name') },
  nonMergingList: { type: 'array', items: ref('item') },
  mergingIntList: { type: 'array', items: { type: 'integer' }, ...merged() },
  nonMergingIntList: { type: 'array', items: { type: 'integer' } },
  simpleMap: { type: 'object', additionalProperties: { type: 'string' } },
};
const testIndex = new SchemaIndex(
  [
    [
      'item',
      {
        type: 'object',
        properties: {
          ...itemFields,
          mergeItemPtr: { allOf: [ref('item')], ...merged('name') },
          replacingItem: { type: 'object', 'x-kubernetes-patch-strategy': 'replace' },
          retainKeysMap: { allOf: [ref('retainKeysItem')], 'x-kubernetes-patch-strategy': 'retainKeys' },
          retainKeysMergingList: {
            type: 'array',
            items: ref('item'),
            'x-kubernetes-patch-strategy': 'merge,retainKeys',
            'x-kubernetes-patch-merge-key': 'name',
          },
          jsonItem: {},
        },
      },
    ],
    ['retainKeysItem', { type: 'object', properties: itemFields }],
  ],
  '#/components/schemas/',
);
const item = testIndex.node('item');

function failure(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PatchError, `not a PatchError: ${String(err)}`);
    return err;
  }
  assert.fail('expected the patch to fail');
}

/** A case from upstream's tests: original, patch and the result, as JSON text. */
function gives(name: string, original: string, patch: string, result: string): () => void {
  return () => {
    it(name, () => {
      const out = strategicMergePatch(
        JSON.parse(original) as JsonObject,
        JSON.parse(patch) as JsonValue,
        item,
      );
      assert.deepEqual(out, JSON.parse(result));
    });
  };
}

/** A case from upstream's tests that must fail with a message containing `fragment`. */
function fails(name: string, original: string, patch: string, fragment: string): () => void {
  return () => {
    it(name, () => {
      const err = failure(() =>
        strategicMergePatch(JSON.parse(original) as JsonObject, JSON.parse(patch) as JsonValue, item),
      );
      assert.ok(err.message.includes(fragment), err.message);
      assert.equal(err.code, 500);
    });
  };
}

// From k8s.io/apimachinery/pkg/util/strategicpatch's tests: the patches its two- and three-way diffs
// produce, applied to the original (or the live object), with the result upstream expects, exactly in order.
const upstreamCases = [
  gives(
    'scalars merge as a set',
    '{"mergingIntList":[1,2]}',
    '{"mergingIntList":[2,3]}',
    '{"mergingIntList":[1,2,3]}',
  ),
  gives(
    '$patch: delete empties a nested map',
    '{"simpleMap":{"key1":1,"key2":1}}',
    '{"simpleMap":{"$patch":"delete"}}',
    '{"simpleMap":{}}',
  ),
  gives(
    '$patch: replace alone empties a merged list',
    '{"mergingList":[{"name":1},{"name":2}]}',
    '{"mergingList":[{"$patch":"replace"}]}',
    '{"mergingList":[]}',
  ),
  gives(
    '$patch: replace at the top drops every member',
    '{"name":1,"value":1}',
    '{"$patch":"replace"}',
    '{}',
  ),
  gives(
    '$patch: replace keeps the members it comes with',
    '{"name":1,"value":1}',
    '{"other":"a","$patch":"replace"}',
    '{"other":"a"}',
  ),
  gives(
    '$patch: delete removes every element with that key',
    '{"mergingList":[{"name":1},{"name":1},{"name":2,"value":"a"},{"name":3},{"name":3}]}',
    '{"mergingList":[{"name":1,"$patch":"delete"},{"name":3,"$patch":"delete"}]}',
    '{"mergingList":[{"name":2,"value":"a"}]}',
  ),
  gives(
    'a retainKeys map merges without a $retainKeys list',
    '{"retainKeysMap":{"name":"foo"}}',
    '{"retainKeysMap":{"value":"bar"}}',
    '{"retainKeysMap":{"name":"foo","value":"bar"}}',
  ),
  gives(
    'a merged list takes the order of the patch',
    '{"mergingList":[{"name":1},{"name":2,"value":"b"},{"name":3}]}',
    '{"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"},{"name":2,"other":"x"}]}',
    '{"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"},{"name":2,"value":"b","other":"x"}]}',
  ),
  gives(
    'a merged scalar list takes the order of the patch',
    '{"mergingIntList":[1,2,3]}',
    '{"mergingIntList":[3,1,2]}',
    '{"mergingIntList":[3,1,2]}',
  ),
  gives(
    'null deletes what the original had',
    '{"name":"a","other":"a"}',
    '{"name":1,"value":1,"other":null}',
    '{"name":1,"value":1}',
  ),
  gives(
    'an empty patch leaves a retainKeys map alone',
    '{"name":"a","value":"b","retainKeysMap":{"name":"foo"}}',
    '{}',
    '{"name":"a","value":"b","retainKeysMap":{"name":"foo"}}',
  ),
  gives(
    '$setElementOrder may name elements the list lacks',
    '{"mergingList":[{"name":1},{"name":3}]}',
    '{"$setElementOrder/mergingList":[{"name":3},{"name":2},{"name":1}],"mergingList":[{"name":3,"value":3},{"name":1,"value":1}]}',
    '{"mergingList":[{"name":3,"value":3},{"name":1,"value":1}]}',
  ),
  gives(
    '$setElementOrder alone reorders a scalar list',
    '{"mergingIntList":[1,3]}',
    '{"$setElementOrder/mergingIntList":[3,2,1]}',
    '{"mergingIntList":[3,1]}',
  ),
  fails(
    '$setElementOrder must agree with the order of the patch list',
    '{"mergingList":[{"name":1},{"name":3},{"name":2}]}',
    '{"$setElementOrder/mergingList":[{"name":1},{"name":2},{"name":3}],"mergingList":[{"name":3,"value":3},{"name":1,"value":1}]}',
    "doesn't match",
  ),
  fails(
    '$setElementOrder must agree with the order of a scalar patch list',
    '{"mergingIntList":[1,3,2]}',
    '{"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3,1]}',
    "doesn't match",
  ),
  fails(
    'an element without the merge key is an error',
    '{"mergingList":[{"name":1,"value":"a"}]}',
    '{"mergingList":[{"value":"b"}]}',
    'does not contain declared merge key',
  ),
  gives(
    '$deleteFromPrimitiveList ignores values the list lacks',
    '{"mergingIntList":[1,2]}',
    '{"$deleteFromPrimitiveList/mergingIntList":[3]}',
    '{"mergingIntList":[1,2]}',
  ),
  gives(
    '$deleteFromPrimitiveList on an empty list keeps it empty',
    '{"mergingIntList":null}',
    '{"$deleteFromPrimitiveList/mergingIntList":[3]}',
    '{"mergingIntList":null}',
  ),
  gives(
    '$deleteFromPrimitiveList does not create the list',
    '{"foo":["bar"]}',
    '{"$deleteFromPrimitiveList/mergingIntList":[3]}',
    '{"foo":["bar"]}',
  ),
  gives(
    '$deleteFromPrimitiveList removes from a merged list',
    '{"mergingIntList":[1,2,3]}',
    '{"$deleteFromPrimitiveList/mergingIntList":[2]}',
    '{"mergingIntList":[1,3]}',
  ),
  gives(
    '$deleteFromPrimitiveList removes from a replaced list too',
    '{"nonMergingIntList":[1,2,3]}',
    '{"$deleteFromPrimitiveList/nonMergingIntList":[2]}',
    '{"nonMergingIntList":[1,3]}',
  ),
  gives(
    'merging into an empty nested list',
    '{"name":"hi","mergingList":[{"name":"hello2"}]}',
    '{"$setElementOrder/mergingList":[{"name":"hello"},{"name":"doesntexist"}],"mergingList":[{"name":"hello"}]}',
    '{"name":"hi","mergingList":[{"name":"hello"},{"name":"hello2"}]}',
  ),
  gives(
    '$deleteFromPrimitiveList removes every copy',
    '{"mergingIntList":[1,2,3,3,4]}',
    '{"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]}',
    '{"mergingIntList":[1,2,4]}',
  ),
  gives(
    'adding and deleting scalars at once',
    '{"mergingIntList":[1,2,3,4]}',
    '{"$setElementOrder/mergingIntList":[1,2,4],"$deleteFromPrimitiveList/mergingIntList":[3]}',
    '{"mergingIntList":[1,2,4]}',
  ),
  gives(
    'merged lists keep server-only elements',
    '{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}',
    '{"$setElementOrder/mergingList":[{"name":4},{"name":1},{"name":2},{"name":3}],"mergingList":[{"name":4,"value":4},{"name":3,"value":3}]}',
    '{"mergingList":[{"name":4,"value":4},{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}',
  ),
  gives(
    'a duplicate merge key in the patch merges into one element',
    '{"mergingList":[{"name":1},{"name":2,"value":2}]}',
    '{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":1}]}',
    '{"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]}',
  ),
  gives(
    'adding an element the server already has merges it',
    '{"mergingList":[{"name":1,"value":"a","other":"x"},{"name":2},{"name":3}]}',
    '{}',
    '{"mergingList":[{"name":1,"value":"a","other":"x"},{"name":2},{"name":3}]}',
  ),
  gives(
    '$patch: delete removes one element',
    '{"mergingList":[{"name":1},{"name":2,"other":"b"}]}',
    '{"$setElementOrder/mergingList":[{"name":2}],"mergingList":[{"name":1,"$patch":"delete"}]}',
    '{"mergingList":[{"name":2,"other":"b"}]}',
  ),
  gives(
    '$patch: delete of an absent element does nothing',
    '{"mergingList":[{"name":2,"other":"b"}]}',
    '{"$setElementOrder/mergingList":[{"name":2}],"mergingList":[{"name":1,"$patch":"delete"}]}',
    '{"mergingList":[{"name":2,"other":"b"}]}',
  ),
  gives(
    'adding and deleting elements, ordered as kubectl apply asks',
    '{"mergingList":[{"name":1},{"name":2,"other":"b"},{"name":4,"other":"c"}]}',
    '{"$setElementOrder/mergingList":[{"name":2},{"name":3}],"mergingList":[{"name":3},{"name":1,"$patch":"delete"}]}',
    '{"mergingList":[{"name":2,"other":"b"},{"name":4,"other":"c"},{"name":3}]}',
  ),
  gives(
    'adding and deleting elements when the server has others',
    '{"mergingList":[{"name":1,"other":"a"},{"name":4,"other":"c"}]}',
    '{"$setElementOrder/mergingList":[{"name":2},{"name":3}],"mergingList":[{"name":2},{"name":3},{"name":1,"$patch":"delete"}]}',
    '{"mergingList":[{"name":4,"other":"c"},{"name":2},{"name":3}]}',
  ),
  gives(
    'null deletes a member inside a merged element',
    '{"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}',
    '{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":null}]}',
    '{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}',
  ),
  gives(
    'a list without merge strategy inside a merged element is replaced',
    '{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":1},{"name":2,"value":2}]},{"name":2,"other":"b"}]}',
    '{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"nonMergingList":[{"name":1,"value":1}]}]}',
    '{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":1,"value":1}]},{"name":2,"other":"b"}]}',
  ),
  gives(
    'merged lists nest',
    '{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":1},{"name":2,"value":2}]},{"name":2,"other":"b"}]}',
    '{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"name":1,"mergingList":[{"name":1,"value":1}]}]}',
    '{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":1,"value":1},{"name":2,"value":2}]},{"name":2,"other":"b"}]}',
  ),
  gives(
    'a pointer field patched as a list merges by key',
    '{"mergeItemPtr":[{"name":1,"other":"a"},{"name":3}]}',
    '{"$setElementOrder/mergeItemPtr":[{"name":1},{"name":2}],"mergeItemPtr":[{"name":2}]}',
    '{"mergeItemPtr":[{"name":1,"other":"a"},{"name":2},{"name":3}]}',
  ),
  gives(
    'merged scalar lists keep server-only values',
    '{"mergingIntList":[1,2,4]}',
    '{"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3]}',
    '{"mergingIntList":[1,2,3,4]}',
  ),
  gives(
    'duplicate scalars in the patch are added once',
    '{"mergingIntList":[1,2,3]}',
    '{}',
    '{"mergingIntList":[1,2,3]}',
  ),
  gives(
    'a new scalar goes where $setElementOrder puts it',
    '{"mergingIntList":[1,4,2]}',
    '{"$setElementOrder/mergingIntList":[3,1,2],"mergingIntList":[3]}',
    '{"mergingIntList":[3,1,4,2]}',
  ),
  gives(
    'a deleted scalar leaves the others in order',
    '{"mergingIntList":[1,2,3]}',
    '{"$setElementOrder/mergingIntList":[2,1],"$deleteFromPrimitiveList/mergingIntList":[3]}',
    '{"mergingIntList":[2,1]}',
  ),
  gives(
    'a new element goes where $setElementOrder puts it',
    '{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}',
    '{"$setElementOrder/mergingList":[{"name":3},{"name":1},{"name":2}],"mergingList":[{"name":3,"value":3}]}',
    '{"mergingList":[{"name":3,"value":3},{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}',
  ),
  gives(
    'a deleted element leaves the others in order',
    '{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}',
    '{"$setElementOrder/mergingList":[{"name":2},{"name":1}],"mergingList":[{"name":3,"$patch":"delete"}]}',
    '{"mergingList":[{"name":2,"value":2,"other":"b"},{"name":1,"other":"a"}]}',
  ),
  gives(
    'add and delete elements in one patch',
    '{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}',
    '{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":1}],"mergingList":[{"name":4,"value":4},{"name":3,"$patch":"delete"}]}',
    '{"mergingList":[{"name":4,"value":4},{"name":2,"value":2,"other":"b"},{"name":1,"other":"a"}]}',
  ),
  gives(
    'server-only elements stay between the ordered ones',
    '{"mergingList":[{"name":1,"other":"a"},{"name":3,"value":3},{"name":4,"value":4},{"name":2,"value":2},{"name":9}]}',
    '{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":3},{"name":1}]}',
    '{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3},{"name":1,"other":"a"},{"name":9}]}',
  ),
  gives(
    'server-only elements follow their server neighbours',
    '{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2},{"name":7},{"name":9},{"name":8},{"name":3,"value":3},{"name":4,"value":4}]}',
    '{"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3}]}',
    '{"mergingList":[{"name":2,"value":2},{"name":1,"other":"a"},{"name":7},{"name":9},{"name":8},{"name":4,"value":4},{"name":3,"value":3}]}',
  ),
  gives(
    'add and delete scalars in one ordered patch',
    '{"mergingIntList":[1,2,3]}',
    '{"$setElementOrder/mergingIntList":[4,2,1],"mergingIntList":[4],"$deleteFromPrimitiveList/mergingIntList":[3]}',
    '{"mergingIntList":[4,2,1]}',
  ),
  gives(
    'server-only scalars follow their server neighbours',
    '{"mergingIntList":[1,2,3,2,4]}',
    '{"$setElementOrder/mergingIntList":[2,1,4,3,2]}',
    '{"mergingIntList":[2,2,1,4,3]}',
  ),
  gives(
    '$retainKeys clears a defaulted member',
    '{"retainKeysMap":{"value":"foo"}}',
    '{"retainKeysMap":{"$retainKeys":["other"],"other":"bar"}}',
    '{"retainKeysMap":{"other":"bar"}}',
  ),
  gives(
    '$retainKeys adds one member and clears another',
    '{"retainKeysMap":{"name":"foo","other":"a"}}',
    '{"retainKeysMap":{"$retainKeys":["name","value"],"value":"bar"}}',
    '{"retainKeysMap":{"name":"foo","value":"bar"}}',
  ),
  gives(
    '$retainKeys alone clears members',
    '{"retainKeysMap":{"name":"foo","value":"bar","other":"a"}}',
    '{"retainKeysMap":{"$retainKeys":["name","value"]}}',
    '{"retainKeysMap":{"name":"foo","value":"bar"}}',
  ),
  gives(
    '$retainKeys with a replaced list inside',
    '{"retainKeysMap":{"name":"foo","value":"bar","nonMergingList":[{"name":"a"},{"name":"b"}]}}',
    '{"retainKeysMap":{"$retainKeys":["name","nonMergingList","value"],"nonMergingList":[{"name":"a"},{"name":"c"},{"name":"b"}]}}',
    '{"retainKeysMap":{"name":"foo","value":"bar","nonMergingList":[{"name":"a"},{"name":"c"},{"name":"b"}]}}',
  ),
  gives(
    '$retainKeys with a merged scalar list inside',
    '{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3,4]}}',
    '{"retainKeysMap":{"$retainKeys":["mergingIntList","name"],"mergingIntList":[5],"$deleteFromPrimitiveList/mergingIntList":[2],"$setElementOrder/mergingIntList":[1,3,5]}}',
    '{"retainKeysMap":{"name":"foo","mergingIntList":[1,3,5,4]}}',
  ),
  gives(
    '$retainKeys with a merged list inside',
    '{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"x"}]}}',
    '{"retainKeysMap":{"$retainKeys":["mergingList","name"],"$setElementOrder/mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}],"mergingList":[{"name":"c"}]}}',
    '{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"x"}]}}',
  ),
  gives(
    '$retainKeys in the elements of a merged list',
    '{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a","other":"x"}]}',
    '{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo"}]}',
    '{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]}',
  ),
  gives(
    '$retainKeys in an element adds one member and clears another',
    '{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","other":"x"}]}',
    '{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo","value":"a"}]}',
    '{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]}',
  ),
  gives(
    'two lists reordered, one with a deletion',
    '{"mergingList":[{"name":"a","value":"a"},{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"c","value":"c"},{"name":"d","value":"d"}]}',
    '{"$setElementOrder/mergingList":[{"name":"b"}],"$setElementOrder/mergeItemPtr":[{"name":"d"},{"name":"c"}],"mergingList":[{"$patch":"delete","name":"a"}]}',
    '{"mergingList":[{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"d","value":"d"},{"name":"c","value":"c"}]}',
  ),
  gives(
    'a field with strategy replace is replaced whole',
    '{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2},{"name":3}],"replacingItem":{"Some":"Generic","Yaml":"Inside","The":"RawExtension","Field":"Period"}}',
    '{"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}',
    '{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2},{"name":3}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}',
  ),
  gives(
    'a replaced field next to a merged list',
    '{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":3}],"replacingItem":{"Some":"Generic","Yaml":"Inside","The":"RawExtension","Field":"Period"}}',
    '{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":2}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}',
    '{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2},{"name":3}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}',
  ),
];

const builtin = SchemaIndex.builtin();
const podSchema = builtin.forKind({ group: '', version: 'v1', kind: 'Pod' });
const deploymentSchema = builtin.forKind({ group: 'apps', version: 'v1', kind: 'Deployment' });

/** A Pod as the API server stores it, defaults filled in. */
function livePod(): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'demo',
      namespace: 'default',
      labels: { app: 'demo', tier: 'web' },
      finalizers: ['a.example/x', 'b.example/y'],
    },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'nginx:1.25',
          ports: [
            { containerPort: 80, protocol: 'TCP' },
            { containerPort: 443, protocol: 'TCP' },
          ],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
        { name: 'sidecar', image: 'busybox', command: ['sleep', 'inf'] },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      dnsPolicy: 'ClusterFirst',
    },
  };
}

type PodLike = {
  metadata: { labels?: Record<string, string>; finalizers?: string[] };
  spec: {
    containers: {
      name: string;
      image?: string;
      ports?: JsonObject[];
      env?: JsonObject[];
      command?: string[];
    }[];
    volumes?: JsonObject[];
    tolerations?: JsonObject[];
  };
};

function podPatch(patch: JsonValue): PodLike {
  return strategicMergePatch(livePod(), patch, podSchema) as unknown as PodLike;
}

describe('strategic merge patch', () => {
  describe('upstream cases', () => {
    for (const define of upstreamCases) define();
  });

  describe('built-in kinds', () => {
    it('merges containers by name and keeps the ones the patch does not name', () => {
      const out = podPatch({ spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } });
      assert.deepEqual(
        out.spec.containers.map((c) => [c.name, c.image]),
        [
          ['c', 'nginx:1.25'],
          ['sidecar', 'busybox:1.36'],
        ],
      );
      assert.deepEqual(out.spec.containers[1]?.command, ['sleep', 'inf']);
    });

    it('applies what kubectl apply sends when a container port changes', () => {
      // kubectl 1.33's client-side apply, last-applied had port 80, the new manifest has 8080.
      const out = podPatch({
        spec: {
          '$setElementOrder/containers': [{ name: 'c' }, { name: 'sidecar' }],
          containers: [
            {
              '$setElementOrder/ports': [{ containerPort: 8080 }, { containerPort: 443 }],
              image: 'nginx:1.26',
              name: 'c',
              ports: [{ containerPort: 8080 }, { $patch: 'delete', containerPort: 80 }],
            },
          ],
        },
      });
      const c = out.spec.containers[0];
      assert.equal(c?.image, 'nginx:1.26');
      assert.deepEqual(c?.ports, [{ containerPort: 8080 }, { containerPort: 443, protocol: 'TCP' }]);
      assert.deepEqual(c?.env, [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ]);
    });

    it('merges env by name: change, add, delete', () => {
      const out = podPatch({
        spec: {
          containers: [
            {
              name: 'c',
              env: [
                { name: 'B', value: '20' },
                { name: 'C', value: '3' },
                { name: 'A', $patch: 'delete' },
              ],
            },
          ],
        },
      });
      assert.deepEqual(out.spec.containers[0]?.env, [
        { name: 'B', value: '20' },
        { name: 'C', value: '3' },
      ]);
    });

    it('orders long lists as $setElementOrder says', () => {
      // Past 20 elements Go's stable sort switches from insertion sort to merging blocks.
      const names = Array.from({ length: 45 }, (_, i) => `V${i}`);
      const pod = livePod();
      const container = (pod.spec as { containers: JsonObject[] }).containers[0] as JsonObject;
      container.env = names.map((name) => ({ name, value: 'old' }));
      const reversed = names.filter((_, i) => i % 9 !== 4).reverse();
      const out = strategicMergePatch(
        pod,
        {
          spec: {
            containers: [
              {
                name: 'c',
                '$setElementOrder/env': reversed.map((name) => ({ name })),
                env: reversed.map((name) => ({ name, value: 'new' })),
              },
            ],
          },
        },
        podSchema,
      ) as unknown as PodLike;
      // A server-only variable goes before the first patched one the server had after it: here, before all.
      const serverOnly = names.filter((_, i) => i % 9 === 4);
      assert.deepEqual(
        (out.spec.containers[0]?.env ?? []).map((e) => e.name),
        [...serverOnly, ...reversed],
      );
    });

    it('merges volumes by name and clears the old source with $retainKeys', () => {
      const out = podPatch({
        spec: {
          '$setElementOrder/volumes': [{ name: 'data' }, { name: 'cfg' }],
          volumes: [
            { $retainKeys: ['configMap', 'name'], name: 'data', configMap: { name: 'settings' } },
            { name: 'cfg', secret: { secretName: 's' } },
          ],
        },
      });
      assert.deepEqual(out.spec.volumes, [
        { name: 'data', configMap: { name: 'settings' } },
        { name: 'cfg', secret: { secretName: 's' } },
      ]);
    });

    it('replaces tolerations whole: the list is atomic', () => {
      const out = podPatch({
        spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }] },
      });
      assert.deepEqual(out.spec.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }]);
    });

    it('adds finalizers as a set and removes them with $deleteFromPrimitiveList', () => {
      let out = podPatch({ metadata: { finalizers: ['b.example/y', 'c.example/z'] } });
      assert.deepEqual(out.metadata.finalizers, ['a.example/x', 'b.example/y', 'c.example/z']);
      out = podPatch({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example/x'] } });
      assert.deepEqual(out.metadata.finalizers, ['b.example/y']);
    });

    it('merges labels and deletes one with null', () => {
      const out = podPatch({ metadata: { labels: { tier: null, track: 'canary' } } });
      assert.deepEqual(out.metadata.labels, { app: 'demo', track: 'canary' });
    });

    it("switches a Deployment's strategy, clearing rollingUpdate through $retainKeys", () => {
      const deployment: JsonObject = {
        spec: {
          replicas: 3,
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx' }] },
          },
        },
      };
      const out = strategicMergePatch(
        deployment,
        { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
        deploymentSchema,
      );
      assert.deepEqual((out.spec as JsonObject).strategy, { type: 'Recreate' });
      // kubectl rollout restart and pause, as the traces show them.
      const restarted = strategicMergePatch(
        out,
        {
          spec: {
            template: {
              metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } },
            },
          },
        },
        deploymentSchema,
      );
      assert.deepEqual(
        (((restarted.spec as JsonObject).template as JsonObject).metadata as JsonObject).labels,
        { app: 'web' },
      );
      const paused = strategicMergePatch(restarted, { spec: { paused: true } }, deploymentSchema);
      assert.equal((paused.spec as JsonObject).paused, true);
      const resumed = strategicMergePatch(paused, { spec: { paused: null } }, deploymentSchema);
      assert.equal('paused' in (resumed.spec as JsonObject), false);
    });

    it('replaces lists and merges objects when the kind has no schema', () => {
      const widget: JsonObject = { spec: { items: [{ name: 'a', v: 1 }], nested: { keep: 1, drop: 2 } } };
      const out = strategicMergePatch(
        widget,
        { spec: { items: [{ name: 'b' }], nested: { drop: null, add: 3 } } },
        undefined,
      );
      assert.deepEqual(out, { spec: { items: [{ name: 'b' }], nested: { keep: 1, add: 3 } } });
    });

    it('leaves its inputs alone', () => {
      const pod = livePod();
      const patch: JsonObject = {
        spec: { containers: [{ name: 'c', env: [{ name: 'A', $patch: 'delete' }] }] },
      };
      const before = JSON.stringify([pod, patch]);
      strategicMergePatch(pod, patch, podSchema);
      assert.equal(JSON.stringify([pod, patch]), before);
    });
  });

  describe('errors', () => {
    it('answers a malformed directive with 400 and upstream message', () => {
      const cases: [JsonValue, string][] = [
        [
          { spec: { volumes: [{ $retainKeys: ['name'], name: 'data', hostPath: { path: '/x' } }] } },
          'invalid patch format of retainKeys',
        ],
        [{ spec: { $retainKeys: 'name' } }, 'invalid patch format of retainKeys'],
        [
          { metadata: { $deleteFromPrimitiveListfinalizers: ['a'] } },
          'invalid patch format of primitive list',
        ],
        [{ spec: { $setElementOrdercontainers: [] } }, 'invalid patch format of setElementOrder list'],
      ];
      for (const [patch, message] of cases) {
        const err = failure(() => strategicMergePatch(livePod(), patch, podSchema));
        assert.equal(err.code, 400, message);
        assert.equal(err.reason, 'BadRequest');
        assert.equal(err.statusMessage, message);
      }
    });

    it('answers a body that is not an object with 400, and treats null as no change', () => {
      const err = failure(() => strategicMergePatch(livePod(), [{ op: 'add' }], podSchema));
      assert.equal(err.code, 400);
      assert.equal(
        err.statusMessage,
        'json: cannot unmarshal array into Go value of type map[string]interface {}',
      );
      assert.deepEqual(strategicMergePatch(livePod(), null, podSchema), livePod());
    });

    it('answers lists of lists with the generic 422', () => {
      const err = failure(() =>
        strategicMergePatch({ mergingIntList: [[1]] }, { mergingIntList: [[2]] }, item),
      );
      assert.equal(err.message, 'lists of lists are not supported');
      assert.equal(err.code, 422);
      assert.equal(err.statusMessage, 'the server rejected our request due to an error in our request');
    });

    it('passes other failures on as upstream words them', () => {
      let err = failure(() =>
        strategicMergePatch(
          livePod(),
          { spec: { containers: [{ name: 'c', $patch: 'merge-please' }] } },
          podSchema,
        ),
      );
      assert.equal(err.message, 'unknown patch type: merge-please in map: map[$patch:merge-please name:c]');
      assert.equal(err.code, 500);
      assert.equal(err.reason, '');
      err = failure(() =>
        strategicMergePatch(livePod(), { spec: { containers: [{ image: 'x' }] } }, podSchema),
      );
      assert.equal(err.message, 'map: map[image:x] does not contain declared merge key: name');
      const withUnknown = livePod();
      (withUnknown.spec as JsonObject).bogus = { a: 1 };
      err = failure(() => strategicMergePatch(withUnknown, { spec: { bogus: { b: 2 } } }, podSchema));
      assert.equal(err.message, 'unable to find api field in struct PodSpec for the json field "bogus"');
      err = failure(() =>
        strategicMergePatch(
          { mergingList: [{ name: 'a' }] },
          { mergingList: [{ name: 'a', $patch: 'merge' }] },
          item,
        ),
      );
      assert.equal(err.message, 'merging lists cannot yet be specified in the patch');
    });
  });
});
