// The completedIndexes text form and the pod failure backoff arithmetic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIndexes, parseIndexes } from './indexes.js';
import { backoffRemainingMs } from './job-controller.js';

describe('completion indexes', () => {
  it('collapses three or more consecutive indexes into a range, as upstream writes completedIndexes', () => {
    assert.equal(formatIndexes([7, 1, 3, 4, 5]), '1,3-5,7');
    assert.equal(formatIndexes([0, 1]), '0,1');
    assert.equal(formatIndexes([]), '');
    assert.equal(formatIndexes([0, 1, 2, 4, 5, 6, 9]), '0-2,4-6,9');
  });

  it('parses the text form back, dropping indexes at or above completions', () => {
    assert.deepEqual([...parseIndexes('1,3-5,7', 6)].sort(), [1, 3, 4, 5]);
    assert.deepEqual([...parseIndexes('', 3)], []);
    assert.deepEqual([...parseIndexes('x,2', 3)], [2]);
  });
});

describe('pod failure backoff', () => {
  it('waits 10 s after the first failure, doubling per failure since the last success, capped at 10 min', () => {
    const at = 1_000_000;
    assert.equal(backoffRemainingMs({ failuresAfterLastSuccess: 0 }, 10_000, at), 0);
    assert.equal(backoffRemainingMs({ failuresAfterLastSuccess: 1, lastFailureMs: at }, 10_000, at), 10_000);
    assert.equal(backoffRemainingMs({ failuresAfterLastSuccess: 3, lastFailureMs: at }, 10_000, at + 5_000), 35_000);
    assert.equal(backoffRemainingMs({ failuresAfterLastSuccess: 7, lastFailureMs: at }, 10_000, at), 600_000);
    assert.equal(backoffRemainingMs({ failuresAfterLastSuccess: 30, lastFailureMs: at }, 10_000, at + 600_001), 0);
  });
});
