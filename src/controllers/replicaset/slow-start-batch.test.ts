// Slow start: batches of 1, 2, 4, ... run concurrently, capped by what remains; a failing batch ends it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slowStartBatch } from './slow-start-batch.js';

/** Runs slowStartBatch recording how many calls ran together in each batch. */
async function record(count: number, failOnCall?: number): Promise<{ batches: number[]; successes: number; error?: Error }> {
  const batches: number[] = [];
  let inFlight = 0;
  let calls = 0;
  const result = await slowStartBatch(count, 1, async () => {
    const n = ++calls;
    // A call that starts with none in flight opens a new batch.
    if (inFlight === 0) batches.push(0);
    batches[batches.length - 1]!++;
    inFlight++;
    await new Promise((r) => setImmediate(r));
    inFlight--;
    if (n === failOnCall) throw new Error(`call ${n} failed`);
  });
  return { batches, ...result };
}

describe('slowStartBatch', () => {
  it('doubles the batch after each full success, capped by the remainder', async () => {
    const r = await record(10);
    assert.deepEqual(r.batches, [1, 2, 4, 3]);
    assert.equal(r.successes, 10);
    assert.equal(r.error, undefined);
  });

  it('stops after the batch with a failure and reports the successes', async () => {
    const first = await record(500, 1);
    assert.deepEqual(first.batches, [1]);
    assert.equal(first.successes, 0);
    assert.match(first.error?.message ?? '', /call 1 failed/);
    // Calls 4 to 7 form the third batch; one failure there leaves 3 + 3 successes and no fourth batch.
    const later = await record(500, 5);
    assert.deepEqual(later.batches, [1, 2, 4]);
    assert.equal(later.successes, 6);
  });

  it('does nothing for zero', async () => {
    const r = await record(0);
    assert.deepEqual(r.batches, []);
    assert.equal(r.successes, 0);
  });
});
