import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, parseTime, translateTimestampSince } from './human-duration.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('humanDuration', () => {
  it('follows upstream thresholds', () => {
    const cases: [number, string][] = [
      [-2 * s, '<invalid>'],
      [-1.5 * s, '0s'],
      [-999, '0s'],
      [0, '0s'],
      [999, '0s'],
      [1 * s, '1s'],
      [59 * s, '59s'],
      [119 * s, '119s'],
      [120 * s, '2m'],
      [121 * s, '2m1s'],
      [150 * s, '2m30s'],
      [9 * m + 59 * s, '9m59s'],
      [10 * m, '10m'],
      [10 * m + 30 * s, '10m'],
      [179 * m + 59 * s, '179m'],
      [3 * h, '3h'],
      [3 * h + 1 * m, '3h1m'],
      [7 * h + 59 * m, '7h59m'],
      [8 * h, '8h'],
      [47 * h + 59 * m, '47h'],
      [48 * h, '2d'],
      [49 * h, '2d1h'],
      [7 * d + 23 * h, '7d23h'],
      [8 * d, '8d'],
      [729 * d, '729d'],
      [730 * d, '2y'],
      [731 * d, '2y1d'],
      [8 * 365 * d - 1 * d, '7y364d'],
      [8 * 365 * d, '8y'],
      [20 * 365 * d + 100 * d, '20y'],
    ];
    for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
  });

  it('reads RFC 3339 times and treats absent or zero times as unknown', () => {
    const now = Date.parse('2026-01-10T12:00:00Z');
    assert.equal(translateTimestampSince('2026-01-10T11:55:00Z', now), '5m');
    assert.equal(translateTimestampSince('2026-01-10T13:54:30+02:00', now), '5m30s');
    assert.equal(translateTimestampSince('2026-01-10T11:59:58.123456Z', now), '1s');
    assert.equal(translateTimestampSince(undefined, now), '<unknown>');
    assert.equal(translateTimestampSince(null, now), '<unknown>');
    assert.equal(translateTimestampSince('0001-01-01T00:00:00Z', now), '<unknown>');
    assert.equal(parseTime('2026-01-10T11:59:58.123456Z'), Date.parse('2026-01-10T11:59:58.123Z'));
    assert.equal(parseTime('not a time'), undefined);
  });
});
