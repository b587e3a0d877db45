import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onAbort, whenAborted } from './abort.js';

describe('abort helpers', () => {
  it('run the callback on a later abort, once', () => {
    const ac = new AbortController();
    let calls = 0;
    onAbort(ac.signal, () => calls++);
    assert.equal(calls, 0);
    ac.abort();
    ac.abort();
    assert.equal(calls, 1);
  });

  it('run the callback at once when the signal already aborted (a listener added now would never fire)', async () => {
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    onAbort(ac.signal, () => calls++);
    assert.equal(calls, 1);
    await whenAborted(ac.signal);
  });
});
