// The cron schedule parser and next-activation search, including zones and their DST changes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCron } from './cron.js';

const at = (iso: string): number => Date.parse(iso);
const next = (spec: string, after: string, zone = 'UTC'): string | undefined => {
  const n = parseCron(spec, zone).next(at(after));
  return n === undefined ? undefined : new Date(n).toISOString();
};

describe('cron schedules', () => {
  it('finds the next minute of plain, list, range and step fields', () => {
    assert.equal(next('* * * * *', '2026-03-01T10:00:30Z'), '2026-03-01T10:01:00.000Z');
    assert.equal(next('*/15 * * * *', '2026-03-01T10:00:00Z'), '2026-03-01T10:15:00.000Z');
    assert.equal(next('5,35 9-17 * * *', '2026-03-01T17:40:00Z'), '2026-03-02T09:05:00.000Z');
    assert.equal(next('10/20 * * * *', '2026-03-01T10:31:00Z'), '2026-03-01T10:50:00.000Z');
    assert.equal(next('0 0 29 2 *', '2026-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  });

  it('reads month and weekday names, and ORs restricted day fields as cron does', () => {
    assert.equal(next('0 12 * JAN-MAR mon', '2026-03-01T00:00:00Z'), '2026-03-02T12:00:00.000Z');
    // 2026-03-01 is a Sunday: "13th or Friday" fires on Friday the 6th first.
    assert.equal(next('0 0 13 * fri', '2026-03-01T00:00:00Z'), '2026-03-06T00:00:00.000Z');
    // With day-of-month '*', the weekday alone decides.
    assert.equal(next('0 0 * * 5', '2026-03-01T00:00:00Z'), '2026-03-06T00:00:00.000Z');
  });

  it('knows the @ descriptors and @every', () => {
    assert.equal(next('@hourly', '2026-03-01T10:00:00Z'), '2026-03-01T11:00:00.000Z');
    assert.equal(next('@daily', '2026-03-01T10:00:00Z'), '2026-03-02T00:00:00.000Z');
    assert.equal(next('@midnight', '2026-03-01T10:00:00Z'), '2026-03-02T00:00:00.000Z');
    assert.equal(next('@weekly', '2026-03-01T10:00:00Z'), '2026-03-08T00:00:00.000Z');
    assert.equal(next('@monthly', '2026-03-01T10:00:00Z'), '2026-04-01T00:00:00.000Z');
    assert.equal(next('@yearly', '2026-03-01T10:00:00Z'), '2027-01-01T00:00:00.000Z');
    assert.equal(next('@annually', '2026-03-01T10:00:00Z'), '2027-01-01T00:00:00.000Z');
    assert.equal(next('@every 90s', '2026-03-01T10:00:00.500Z'), '2026-03-01T10:01:30.000Z');
  });

  it('reads the fields in a time zone, across daylight saving changes', () => {
    assert.equal(next('0 9 * * *', '2026-03-01T00:00:00Z', 'Europe/Berlin'), '2026-03-01T08:00:00.000Z');
    assert.equal(next('0 9 * * *', '2026-07-01T00:00:00Z', 'Europe/Berlin'), '2026-07-01T07:00:00.000Z');
    assert.equal(next('TZ=America/New_York 30 6 * * *', '2026-03-01T00:00:00Z'), '2026-03-01T11:30:00.000Z');
    // 02:30 does not exist in Berlin on 2026-03-29; the next activation is the day after.
    assert.equal(next('30 2 * * *', '2026-03-28T12:00:00Z', 'Europe/Berlin'), '2026-03-30T00:30:00.000Z');
  });

  it('gives up on dates that never come, and refuses malformed fields with robfig-style messages', () => {
    assert.equal(next('0 0 31 2 *', '2026-03-01T00:00:00Z'), undefined);
    assert.throws(() => parseCron('* * * *'), /expected exactly 5 fields, found 4: \[\* \* \* \*\]/);
    assert.throws(() => parseCron('61 * * * *'), /end of range \(61\) above maximum \(59\): 61/);
    assert.throws(() => parseCron('@fortnightly'), /unrecognized descriptor: @fortnightly/);
    assert.throws(() => parseCron('TZ=Mars/Olympus * * * * *'), /provided bad location Mars\/Olympus/);
    assert.throws(() => parseCron('*/0 * * * *'), /step of range should be a positive number/);
  });
});
