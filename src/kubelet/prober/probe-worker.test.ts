import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../client/index.js';
import { ProbeState, ProbeWorker, probeSettings } from './probe-worker.js';

describe('probe state machine', () => {
  it('starts readiness at failure, liveness at success, startup unknown', () => {
    assert.equal(new ProbeState('readiness', 1, 3).result, false);
    assert.equal(new ProbeState('liveness', 1, 3).result, true);
    assert.equal(new ProbeState('startup', 1, 3).result, undefined);
  });

  it('flips only after the thresholds in a row', () => {
    const s = new ProbeState('readiness', 2, 3);
    assert.equal(s.observe(true), false);
    assert.equal(s.observe(true), true);
    assert.equal(s.result, true);
    assert.equal(s.observe(false), false);
    assert.equal(s.observe(false), false);
    assert.equal(s.observe(true), false);
    assert.equal(s.result, true);
    s.observe(false);
    s.observe(false);
    assert.equal(s.observe(false), true);
    assert.equal(s.result, false);
  });

  it('has upstream defaults', () => {
    assert.deepEqual(probeSettings({}), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  });

  it('waits initialDelaySeconds, then probes every periodSeconds', async () => {
    const clock = new FakeClock(0);
    const runs: number[] = [];
    const changes: boolean[] = [];
    let ok = true;
    const w = new ProbeWorker({
      type: 'liveness',
      probe: { initialDelaySeconds: 5, periodSeconds: 2, failureThreshold: 2 },
      clock,
      run: () => {
        runs.push(clock.now());
        return Promise.resolve({ ok, output: ok ? '' : 'boom' });
      },
      onChange: (v) => changes.push(v),
      onFailure: () => undefined,
    });
    w.start();
    const step = (ms: number): Promise<void> => clock.step(ms);
    await step(4999);
    assert.deepEqual(runs, []);
    await step(1);
    await step(2000);
    assert.deepEqual(runs, [5000, 7000]);
    ok = false;
    await step(2000);
    assert.deepEqual(changes, []);
    await step(2000);
    assert.deepEqual(changes, [false]);
    w.stop();
    await step(10_000);
    assert.equal(runs.length, 4);
  });
});
