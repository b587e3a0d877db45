import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyMergePatch, createMergePatch } from './merge-patch.js';
import { PatchError } from './patch-error.js';
import type { JsonValue } from './json-value.js';

function failure(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PatchError, `not a PatchError: ${String(err)}`);
    return err;
  }
  assert.fail('expected the patch to fail');
}

// RFC 7386 appendix A, as target, patch, result; the two examples where upstream's library refuses what the
// RFC allows (a null or scalar patch) are in the next test.
const rfcExamples: [JsonValue, JsonValue, JsonValue][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [
    ['a', 'b'],
    ['c', 'd'],
    ['c', 'd'],
  ],
  [{ a: 'b' }, ['c'], ['c']],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe('JSON merge patch', () => {
  it('gives the results of the RFC 7386 examples', () => {
    for (const [target, patch, result] of rfcExamples) {
      assert.deepEqual(applyMergePatch(target, patch), result, JSON.stringify([target, patch]));
    }
  });

  it('refuses a null or scalar patch with 400 as upstream does', () => {
    for (const patch of [null, 'bar', 1, true]) {
      const err = failure(() => applyMergePatch({ a: 'foo' }, patch));
      assert.equal(err.code, 400);
      assert.equal(err.statusMessage, 'Invalid JSON Patch');
    }
    assert.equal(failure(() => applyMergePatch(null, {})).code, 500);
  });

  it('insists on an object patch under strict field validation', () => {
    const err = failure(() => applyMergePatch({ a: 1 }, ['x'], { strict: true }));
    assert.equal(err.code, 400);
    assert.equal(
      err.statusMessage,
      'error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}',
    );
    assert.equal(
      failure(() => applyMergePatch({ a: 1 }, null, { strict: true })).statusMessage,
      'Invalid JSON Patch',
    );
  });

  it('prunes nulls from what it brings in, inside arrays too, but not from an array replacing an object', () => {
    assert.deepEqual(applyMergePatch({}, { a: [{ b: null, c: 1 }, null] }), { a: [{ c: 1 }, null] });
    assert.deepEqual(applyMergePatch({ a: 'x' }, { a: { b: null, c: 1 } }), { a: { c: 1 } });
    assert.deepEqual(applyMergePatch({ a: { x: 1 } }, { a: [{ b: null }] }), { a: [{ b: null }] });
  });

  it('merges kubectl scale and rollout bodies into objects', () => {
    const deployment = {
      metadata: { name: 'web' },
      spec: { replicas: 1, paused: true, template: { spec: {} } },
    };
    assert.deepEqual(applyMergePatch(deployment, { spec: { replicas: 3, paused: null } }), {
      metadata: { name: 'web' },
      spec: { replicas: 3, template: { spec: {} } },
    });
    assert.deepEqual(
      deployment.spec,
      { replicas: 1, paused: true, template: { spec: {} } },
      'input unchanged',
    );
  });

  it('keeps a member named __proto__ a plain member', () => {
    const out = applyMergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}') as JsonValue);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    assert.deepEqual(Object.keys(out as object), ['__proto__']);
  });
});

describe('createMergePatch', () => {
  it('sends changes and additions as they are and removals as null', () => {
    const original = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], same: { x: [1] } };
    const modified = { a: 1, b: { c: 2, e: 4 }, list: [1, 2, 3], same: { x: [1] }, f: 'new' };
    assert.deepEqual(createMergePatch(original, modified), {
      b: { d: null, e: 4 },
      list: [1, 2, 3],
      f: 'new',
    });
  });

  it('replaces a member whose type changed', () => {
    assert.deepEqual(createMergePatch({ a: { b: 1 } }, { a: [1] }), { a: [1] });
    assert.deepEqual(createMergePatch({ a: '1' }, { a: 1 }), { a: 1 });
  });

  it('gives a patch that turns the original into the modified document', () => {
    const original = {
      metadata: { labels: { a: '1', b: '2' } },
      spec: { replicas: 1, ports: [{ port: 80 }] },
    };
    const modified = {
      metadata: { labels: { a: '1', c: '3' } },
      spec: { ports: [{ port: 8080 }] },
      status: {},
    };
    assert.deepEqual(applyMergePatch(original, createMergePatch(original, modified)), modified);
  });

  it('diffs arrays of documents element by element, and refuses mismatched shapes', () => {
    assert.deepEqual(createMergePatch([{ a: 1 }, { b: 1 }], [{ a: 2 }, { b: 1 }]), [{ a: 2 }, {}]);
    assert.equal(failure(() => createMergePatch([{ a: 1 }], [])).message, 'Invalid JSON Document');
    assert.equal(failure(() => createMergePatch({ a: 1 }, [])).message, 'Mismatched JSON Documents');
  });
});
