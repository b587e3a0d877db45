// Expectations: creates count down, each awaited deletion counts once however often it is reported, and
// unmet expectations expire after five minutes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../client/index.js';
import { ControllerExpectations, expectationsTimeoutMs } from './controller-expectations.js';

describe('ControllerExpectations', () => {
  it('is satisfied for an owner without expectations and once all creates are seen', () => {
    const e = new ControllerExpectations(new FakeClock());
    assert.equal(e.satisfied('ns/rs'), true);
    e.expectCreations('ns/rs', 2);
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), true);
  });

  it('counts each awaited deletion once, and ignores pods it does not await', () => {
    const e = new ControllerExpectations(new FakeClock());
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    // A graceful delete is reported as an update setting deletionTimestamp and again as the delete.
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/other');
    assert.deepEqual(e.pending('ns/rs'), { add: 0, del: 1 });
    assert.equal(e.satisfied('ns/rs'), false);
    e.deletionObserved('ns/rs', 'ns/b');
    assert.equal(e.satisfied('ns/rs'), true);
  });

  it('expires after five minutes and can be forgotten', async () => {
    const clock = new FakeClock();
    const e = new ControllerExpectations(clock);
    e.expectCreations('ns/rs', 1);
    await clock.step(expectationsTimeoutMs);
    assert.equal(e.satisfied('ns/rs'), false);
    await clock.step(1);
    assert.equal(e.satisfied('ns/rs'), true);
    e.expectCreations('ns/rs', 1);
    e.delete('ns/rs');
    assert.equal(e.satisfied('ns/rs'), true);
    assert.equal(e.pending('ns/rs'), undefined);
  });
});
