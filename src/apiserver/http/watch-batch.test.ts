import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { Turns } from './turns.js';
import { WatchBatcher } from './watch-batch.js';

/** A stand-in for a watch response that records each socket write. */
function recorder(): { res: ServerResponse; writes: string[]; destroy: () => void } {
  const writes: string[] = [];
  const state = { destroyed: false };
  const res = {
    get destroyed() {
      return state.destroyed;
    },
    write(text: string) {
      writes.push(text);
      return true;
    },
  } as unknown as ServerResponse;
  return { res, writes, destroy: () => (state.destroyed = true) };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WatchBatcher', () => {
  it('writes the lines of one iteration together when no write waits for a turn', async () => {
    const batcher = new WatchBatcher(new Turns());
    const { res, writes } = recorder();
    const out = batcher.output(res);
    out.write('a\n');
    out.write('b\n');
    assert.deepEqual(writes, [], 'nothing goes out before the check phase');
    await tick();
    assert.deepEqual(writes, ['a\nb\n']);
  });

  it('holds lines while writes wait for turns, for at most maxTurns turns, then writes them in one go', async () => {
    const turns = new Turns(1);
    const batcher = new WatchBatcher(turns, 3);
    const { res, writes } = recorder();
    const out = batcher.output(res);
    // Seven writers, one turn each; each change reaches the watcher as its own line.
    await Promise.all(
      [1, 2, 3, 4, 5, 6, 7].map(async (i) => {
        await turns.next();
        out.write(`e${i}\n`);
      }),
    );
    while (writes.join('').split('\n').length < 8) await tick();
    assert.equal(writes.join(''), 'e1\ne2\ne3\ne4\ne5\ne6\ne7\n', 'every line, in order');
    assert.ok(writes.length < 7, `batched: ${JSON.stringify(writes)}`);
    for (const w of writes) assert.ok(w.split('\n').length - 1 <= 4, `a batch spans at most 3 turns after its first line: ${JSON.stringify(writes)}`);
    assert.ok(writes.length >= 2, `held no longer than maxTurns turns: ${JSON.stringify(writes)}`);
  });

  it('writeNow sends what is queued first, then its own text, at once', () => {
    const batcher = new WatchBatcher(new Turns());
    const { res, writes } = recorder();
    const out = batcher.output(res);
    out.write('event\n');
    out.writeNow('bookmark\n');
    assert.deepEqual(writes, ['event\nbookmark\n']);
  });

  it('close writes what is queued and nothing after; a gone connection gets no write', async () => {
    const batcher = new WatchBatcher(new Turns());
    const open = recorder();
    const a = batcher.output(open.res);
    a.write('last\n');
    a.close();
    a.write('late\n');
    await tick();
    assert.deepEqual(open.writes, ['last\n']);

    const gone = recorder();
    const b = batcher.output(gone.res);
    b.write('lost\n');
    gone.destroy();
    b.close();
    await tick();
    assert.deepEqual(gone.writes, []);
  });
});
