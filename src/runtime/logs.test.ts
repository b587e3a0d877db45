import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { criLogLine, LineSplitter, maxLineBytes, rfc3339Nano } from './logs.js';

describe('CRI log format', () => {
  it('prints timestamps as Go RFC3339Nano', () => {
    assert.equal(rfc3339Nano(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
    assert.equal(rfc3339Nano(1_700_000_000_120_000_000n), '2023-11-14T22:13:20.12Z');
    assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
    assert.equal(
      criLogLine('stderr', true, Buffer.from('x'), 1_700_000_000_000_000_001n).toString(),
      '2023-11-14T22:13:20.000000001Z stderr P x\n',
    );
  });

  it('splits lines across chunks, and over-long lines into P parts', () => {
    const entries: [boolean, string][] = [];
    const split = new LineSplitter((partial, text) => entries.push([partial, text.toString()]));
    split.push(Buffer.from('ab'));
    split.push(Buffer.from('c\nde\n\nf'));
    split.push(Buffer.from('x'.repeat(maxLineBytes * 2 + 5) + '\n'));
    split.push(Buffer.from('tail'));
    split.end();
    assert.deepEqual(
      entries.map(([p, t]) => [p, t.length > 20 ? `${t[0]}*${t.length}` : t]),
      [
        [false, 'abc'],
        [false, 'de'],
        [false, ''],
        [true, `f*${maxLineBytes}`],
        [true, `x*${maxLineBytes}`],
        [false, 'xxxxxx'],
        [false, 'tail'],
      ],
    );
  });
});
