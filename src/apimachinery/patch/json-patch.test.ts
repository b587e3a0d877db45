import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJsonPatch, decodeJsonPatch, maxJsonPatchOperations } from './json-patch.js';
import { PatchError } from './patch-error.js';
import type { JsonValue } from './json-value.js';

/** Decodes and applies a patch given as JSON text, as the API server does with a request body. */
function patchDoc(doc: JsonValue, ops: JsonValue, maxCopyBytes?: number): JsonValue {
  const { operations } = decodeJsonPatch(ops);
  return applyJsonPatch(doc, operations, maxCopyBytes === undefined ? {} : { maxCopyBytes });
}

/** The PatchError a patch fails with. */
function failure(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PatchError, `not a PatchError: ${String(err)}`);
    return err;
  }
  assert.fail('expected the patch to fail');
}

interface Case {
  name: string;
  doc: JsonValue;
  patch: JsonValue;
  want?: JsonValue;
  error?: string;
}

// The examples of RFC 6902 appendix A, in our own table.
const rfcExamples: Case[] = [
  {
    name: 'add a member',
    doc: { foo: 'bar' },
    patch: [{ op: 'add', path: '/baz', value: 'qux' }],
    want: { baz: 'qux', foo: 'bar' },
  },
  {
    name: 'insert into an array',
    doc: { foo: ['bar', 'baz'] },
    patch: [{ op: 'add', path: '/foo/1', value: 'qux' }],
    want: { foo: ['bar', 'qux', 'baz'] },
  },
  {
    name: 'remove a member',
    doc: { baz: 'qux', foo: 'bar' },
    patch: [{ op: 'remove', path: '/baz' }],
    want: { foo: 'bar' },
  },
  {
    name: 'remove an element',
    doc: { foo: ['bar', 'qux', 'baz'] },
    patch: [{ op: 'remove', path: '/foo/1' }],
    want: { foo: ['bar', 'baz'] },
  },
  {
    name: 'replace a value',
    doc: { baz: 'qux', foo: 'bar' },
    patch: [{ op: 'replace', path: '/baz', value: 'boo' }],
    want: { baz: 'boo', foo: 'bar' },
  },
  {
    name: 'move a member',
    doc: { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
    patch: [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
    want: { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
  },
  {
    name: 'move an element',
    doc: { foo: ['all', 'grass', 'cows', 'eat'] },
    patch: [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
    want: { foo: ['all', 'cows', 'eat', 'grass'] },
  },
  {
    name: 'test that passes',
    doc: { baz: 'qux', foo: ['a', 2, 'c'] },
    patch: [
      { op: 'test', path: '/baz', value: 'qux' },
      { op: 'test', path: '/foo/1', value: 2 },
    ],
    want: { baz: 'qux', foo: ['a', 2, 'c'] },
  },
  {
    name: 'test that fails',
    doc: { baz: 'qux' },
    patch: [{ op: 'test', path: '/baz', value: 'bar' }],
    error: 'testing value /baz failed: test failed',
  },
  {
    name: 'add a nested object',
    doc: { foo: 'bar' },
    patch: [{ op: 'add', path: '/child', value: { grandchild: {} } }],
    want: { foo: 'bar', child: { grandchild: {} } },
  },
  {
    name: 'ignore unknown members of an operation',
    doc: { foo: 'bar' },
    patch: [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }],
    want: { foo: 'bar', baz: 'qux' },
  },
  {
    name: 'add below a missing member',
    doc: { foo: 'bar' },
    patch: [{ op: 'add', path: '/baz/bat', value: 'qux' }],
    error: 'add operation does not apply: doc is missing path: "/baz/bat": missing value',
  },
  {
    name: 'decode ~1 before ~0',
    doc: { '/': 9, '~1': 10 },
    patch: [{ op: 'test', path: '/~01', value: 10 }],
    want: { '/': 9, '~1': 10 },
  },
  {
    name: 'a string is not a number',
    doc: { '/': 9, '~1': 10 },
    patch: [{ op: 'test', path: '/~01', value: '10' }],
    error: 'testing value /~01 failed: test failed',
  },
  {
    name: 'add an array as a value',
    doc: { foo: ['bar'] },
    patch: [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }],
    want: { foo: ['bar', ['abc', 'def']] },
  },
];

// Where upstream's library (evanphx/json-patch v4) departs from the RFC, and how it words failures.
const upstreamBehaviour: Case[] = [
  {
    name: 'replace of a missing member adds it',
    doc: { a: 1 },
    patch: [{ op: 'replace', path: '/b', value: 2 }],
    want: { a: 1, b: 2 },
  },
  {
    name: 'replace beyond an array fails',
    doc: { a: [1] },
    patch: [{ op: 'replace', path: '/a/1', value: 2 }],
    error: 'replace operation does not apply: doc is missing key: /a/1: missing value',
  },
  {
    name: 'negative indices count from the end',
    doc: { a: [1, 2, 3] },
    patch: [{ op: 'remove', path: '/a/-1' }],
    want: { a: [1, 2] },
  },
  {
    name: 'add at -1 appends',
    doc: { a: [1, 2] },
    patch: [{ op: 'add', path: '/a/-1', value: 9 }],
    want: { a: [1, 2, 9] },
  },
  {
    name: 'add past the end fails',
    doc: { a: [1] },
    patch: [{ op: 'add', path: '/a/3', value: 9 }],
    error: "error in add for path: '/a/3': Unable to access invalid index: 3: invalid index referenced",
  },
  {
    name: 'add with a bad index',
    doc: { a: [1] },
    patch: [{ op: 'add', path: '/a/x', value: 9 }],
    error: `error in add for path: '/a/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax`,
  },
  {
    name: 'add at the root is refused',
    doc: { a: 1 },
    patch: [{ op: 'add', path: '', value: { b: 2 } }],
    error: 'add operation does not apply: doc is missing path: "": missing value',
  },
  {
    name: 'replace at the root swaps the document',
    doc: { a: 1 },
    patch: [{ op: 'replace', path: '', value: { b: 2 } }],
    want: { b: 2 },
  },
  {
    name: 'remove of a missing member',
    doc: { a: 1 },
    patch: [{ op: 'remove', path: '/b' }],
    error: "error in remove for path: '/b': Unable to remove nonexistent key: b: missing value",
  },
  {
    name: 'remove below a missing member',
    doc: { a: 1 },
    patch: [{ op: 'remove', path: '/b/c' }],
    error: 'remove operation does not apply: doc is missing path: "/b/c": missing value',
  },
  {
    name: 'copy from a missing member copies null',
    doc: { a: 1 },
    patch: [{ op: 'copy', from: '/x', path: '/b' }],
    want: { a: 1, b: null },
  },
  { name: 'add without a value adds null', doc: {}, patch: [{ op: 'add', path: '/a' }], want: { a: null } },
  {
    name: 'test of a missing member against null passes',
    doc: {},
    patch: [{ op: 'test', path: '/a', value: null }],
    want: {},
  },
  {
    name: 'move into its own child fails',
    doc: { a: { b: 1 } },
    patch: [{ op: 'move', from: '/a', path: '/a/c' }],
    error: 'move operation does not apply: doc is missing destination path: /a/c: missing value',
  },
  {
    name: 'move from a missing member',
    doc: { a: 1 },
    patch: [{ op: 'move', from: '/x', path: '/b' }],
    error: "error in move for path: 'x': Unable to remove nonexistent key: x: missing value",
  },
  {
    name: 'an operation without a path',
    doc: {},
    patch: [{ op: 'replace', value: 1 }],
    error: 'replace operation failed to decode path: operation missing path field: missing value',
  },
  {
    name: 'a copy without from',
    doc: {},
    patch: [{ op: 'copy', path: '/a' }],
    error: 'copy operation failed to decode from: operation, missing from field: missing value',
  },
  {
    name: 'an unknown op',
    doc: {},
    patch: [{ op: 'frobnicate', path: '/a' }],
    error: 'Unexpected kind: frobnicate',
  },
  { name: 'a null operation', doc: {}, patch: [null], error: 'Unexpected kind: unknown' },
  {
    name: 'operations apply in order and see earlier results',
    doc: { a: [] },
    patch: [
      { op: 'add', path: '/a/-', value: { n: 1 } },
      { op: 'copy', from: '/a/0', path: '/a/-' },
      { op: 'replace', path: '/a/1/n', value: 2 },
    ],
    want: { a: [{ n: 1 }, { n: 2 }] },
  },
  {
    name: 'a JSON null patch changes nothing',
    doc: { a: 1 },
    patch: null,
    want: { a: 1 },
  },
];

function runCases(cases: Case[]): void {
  for (const c of cases) {
    it(c.name, () => {
      if (c.error !== undefined) {
        const err = failure(() => patchDoc(c.doc, c.patch));
        assert.equal(err.message, c.error);
        assert.equal(err.code, 422);
      } else {
        assert.deepEqual(patchDoc(c.doc, c.patch), c.want);
      }
    });
  }
}

describe('JSON patch', () => {
  describe('RFC 6902 examples', () => runCases(rfcExamples));
  describe('upstream behaviour', () => runCases(upstreamBehaviour));

  it('leaves its inputs alone', () => {
    const doc = { a: { b: [1] } };
    const ops = [{ op: 'add', path: '/a/b/-', value: { c: 1 } }];
    const out = patchDoc(doc, ops) as { a: { b: JsonValue[] } };
    (out.a.b[1] as { c: number }).c = 2;
    assert.deepEqual(doc, { a: { b: [1] } });
    assert.deepEqual(ops[0]?.value, { c: 1 });
  });

  it('answers a failed operation with the generic 422 Status upstream sends', () => {
    const err = failure(() => patchDoc({ spec: {} }, [{ op: 'remove', path: '/spec/replicas' }]));
    assert.equal(err.code, 422);
    assert.equal(err.reason, 'Invalid');
    assert.equal(err.statusMessage, 'the server rejected our request due to an error in our request');
    assert.deepEqual(err.details, {});
  });

  it('answers a body of the wrong shape with 400 and the decoder message', () => {
    let err = failure(() => decodeJsonPatch({ op: 'add' }));
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.statusMessage, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    err = failure(() => decodeJsonPatch([['add']]));
    assert.equal(err.statusMessage, 'json: cannot unmarshal array into Go value of type jsonpatch.Operation');
  });

  it('refuses more than 10000 operations with 413', () => {
    const ops = Array.from({ length: maxJsonPatchOperations + 1 }, () => ({
      op: 'test',
      path: '/a',
      value: 1,
    }));
    const err = failure(() => decodeJsonPatch(ops));
    assert.equal(err.code, 413);
    assert.equal(err.reason, 'RequestEntityTooLarge');
    assert.equal(
      err.statusMessage,
      'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001',
    );
    assert.equal(decodeJsonPatch(ops.slice(1)).operations.length, maxJsonPatchOperations);
  });

  it('checks operations strictly when field validation asks for it', () => {
    const { strictErrors } = decodeJsonPatch([{ op: 'add', path: '/a', value: 1, Op: 'x', extra: true }], {
      strict: true,
    });
    assert.deepEqual(strictErrors, ['json patch unknown field "Op"', 'json patch unknown field "extra"']);
    assert.deepEqual(decodeJsonPatch([{ op: 'add', path: '/a', extra: 1 }]).strictErrors, []);
    const err = failure(() => decodeJsonPatch([{ op: 'add', path: 5 }], { strict: true }));
    assert.equal(err.code, 400);
    assert.equal(
      err.statusMessage,
      'error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string',
    );
    assert.equal(
      failure(() => decodeJsonPatch({}, { strict: true })).statusMessage,
      'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp',
    );
  });

  it('limits what copy operations may add', () => {
    const doc = { big: 'x'.repeat(100) };
    const copyTwice = [
      { op: 'copy', from: '/big', path: '/c1' },
      { op: 'copy', from: '/big', path: '/c2' },
    ];
    assert.deepEqual(Object.keys(patchDoc(doc, copyTwice, 300) as object), ['big', 'c1', 'c2']);
    const err = failure(() => patchDoc(doc, copyTwice, 150));
    assert.equal(
      err.message,
      'Unable to complete the copy, the accumulated size increase of copy is 204, exceeding the limit 150',
    );
  });

  it("applies kubectl rollout undo's patch to a Deployment", () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { 'deployment.kubernetes.io/revision': '3' } },
      spec: {
        replicas: 2,
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] },
        },
      },
    };
    // The body kubectl 1.33 sends (see the kubectl traces): whole template, then annotations.
    const body: JsonValue = [
      {
        op: 'replace',
        path: '/spec/template',
        value: {
          metadata: { creationTimestamp: null, labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.25', resources: {} }] },
        },
      },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '2' } },
    ];
    const out = patchDoc(deployment, body) as typeof deployment;
    assert.equal(out.spec.template.spec.containers[0]?.image, 'nginx:1.25');
    assert.equal(out.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    assert.equal(out.spec.replicas, 2);
  });
});
