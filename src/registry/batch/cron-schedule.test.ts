import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cronScheduleError, loadLocationError } from './cron-schedule.js';

// Expected errors are robfig/cron v3's ParseStandard texts, which upstream's CronJob validation reports.
describe('cron schedules', () => {
  it('accepts what ParseStandard accepts', () => {
    for (const spec of ['*/5 * * * *', '0 0 * * MON-FRI', '0 12 1 JAN,jul ?', '15 3 */2 * sun', '0-59/15 0-23 1-31 1-12 0-6', '@hourly', '@yearly', '@every 1h30m', '@every 90s']) {
      assert.equal(cronScheduleError(spec), undefined, spec);
    }
  });

  it('rejects with robfig/cron\'s wording', () => {
    const cases: [string, string][] = [
      ['', 'empty spec string'],
      ['foo', 'expected exactly 5 fields, found 1: [foo]'],
      ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
      ['0 0 0 * * *', 'expected exactly 5 fields, found 6: [0 0 0 * * *]'],
      ['60 * * * *', 'end of range (60) above maximum (59): 60'],
      ['* 24 * * *', 'end of range (24) above maximum (23): 24'],
      ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
      ['* * * 13 *', 'end of range (13) above maximum (12): 13'],
      ['* * * * 7', 'end of range (7) above maximum (6): 7'],
      ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
      ['*/0 * * * *', 'step of range should be a positive number: */0'],
      ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
      ['-1 * * * *', 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'],
      ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
      ['*/2/3 * * * *', 'too many slashes: */2/3'],
      ['@often', 'unrecognized descriptor: @often'],
      ['@every 5x', 'failed to parse duration @every 5x: time: unknown unit "x" in duration "5x"'],
      ['@every 5', 'failed to parse duration @every 5: time: missing unit in duration "5"'],
      ['TZ=Mars/Olympus * * * * *', 'provided bad location Mars/Olympus: unknown time zone Mars/Olympus'],
    ];
    for (const [spec, message] of cases) assert.equal(cronScheduleError(spec), message, spec);
  });

  it('finds time zones as Go\'s LoadLocation does', () => {
    assert.equal(loadLocationError('Europe/Berlin'), undefined);
    assert.equal(loadLocationError('UTC'), undefined);
    assert.equal(loadLocationError('utc'), 'unknown time zone utc');
    assert.equal(loadLocationError('Nowhere/Town'), 'unknown time zone Nowhere/Town');
  });
});
