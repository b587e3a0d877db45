// The work queue with a stepped clock: de-duplication, re-queue after done, delayed adds, per-item
// exponential backoff under an overall bucket, shutdown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from './fake-clock.js';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
} from './rate-limiters.js';
import { RateLimitingQueue } from './workqueue.js';

describe('RateLimitingQueue', () => {
  it('holds an item once however often it is added, in first-added order', async () => {
    const q = new RateLimitingQueue<string>({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(q.len(), 0);
  });

  it('re-queues an item added while it was processed only after done, and never hands it out twice at once', async () => {
    const q = new RateLimitingQueue<string>({ clock: new FakeClock() });
    q.add('k');
    const item = await q.get();
    assert.equal(item, 'k');
    q.add('k');
    q.add('k');
    assert.equal(q.len(), 0, 'not handed to a second worker while in process');
    let second: string | undefined;
    void q.get().then((v) => (second = v));
    await Promise.resolve();
    assert.equal(second, undefined);
    q.done('k');
    await Promise.resolve();
    assert.equal(second, 'k');
    q.done('k');
    assert.equal(q.len(), 0);
  });

  it('wakes a waiting get when an item arrives', async () => {
    const q = new RateLimitingQueue<string>({ clock: new FakeClock() });
    const p = q.get();
    q.add('x');
    assert.equal(await p, 'x');
  });

  it('adds after a delay, keeping the earliest of several delayed adds', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 2000);
    await clock.step(299);
    assert.equal(q.len(), 0);
    await clock.step(1);
    assert.equal(q.len(), 1);
    await clock.step(5000);
    assert.equal(q.len(), 1, 'the later delayed adds were dropped');
  });

  it('backs off per item exponentially from 5 ms and forget resets it', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.now();
      q.addRateLimited('a');
      while (q.len() === 0) await clock.step(1);
      delays.push(clock.now() - start);
      assert.equal(await q.get(), 'a');
      q.done('a');
    }
    assert.deepEqual(delays, [5, 10, 20, 40]);
    assert.equal(q.numRequeues('a'), 4);
    q.forget('a');
    assert.equal(q.numRequeues('a'), 0);
    q.addRateLimited('a');
    await clock.step(4);
    assert.equal(q.len(), 0);
    await clock.step(1);
    assert.equal(q.len(), 1);
  });

  it('caps the per-item backoff at 1000 s', () => {
    const l = new ItemExponentialFailureRateLimiter<string>();
    let last = 0;
    for (let i = 0; i < 40; i++) last = l.when('x');
    assert.equal(last, 1000_000);
  });

  it('limits all items together through the bucket once the burst is spent', () => {
    const clock = new FakeClock();
    const bucket = new BucketRateLimiter<string>(10, 3, clock);
    assert.deepEqual([bucket.when('a'), bucket.when('b'), bucket.when('c')], [0, 0, 0]);
    assert.equal(bucket.when('d'), 100);
    assert.equal(bucket.when('e'), 200);
    const def = defaultControllerRateLimiter<string>(clock);
    for (let i = 0; i < 100; i++) def.when(`k${i}`);
    assert.equal(
      def.when('fresh'),
      100,
      'the bucket wins over a fresh item 5 ms backoff after the burst of 100',
    );
  });

  it('shuts down: waiting gets resolve undefined, queued items still drain, adds are ignored', async () => {
    const q = new RateLimitingQueue<string>({ clock: new FakeClock() });
    q.add('a');
    assert.equal(await q.get(), 'a');
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
    q.add('b');
    assert.equal(await q.get(), undefined);
    assert.equal(q.shuttingDown(), true);
  });
});
