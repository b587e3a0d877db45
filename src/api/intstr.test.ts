import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  IntOrStringError,
  getScaledValueFromIntOrPercent,
  getValueFromIntOrPercent,
  intOrStringToString,
  intOrStringValue,
  parseIntOrString,
  valueOrDefault,
} from './intstr.js';

describe('getScaledValueFromIntOrPercent', () => {
  it('scales percentages of the total, rounding as asked (upstream TestGetIntFromIntOrPercent)', () => {
    const table: [number | string, number, boolean, number][] = [
      [123, 0, false, 123],
      ['90%', 100, true, 90],
      ['90%', 95, true, 86],
      ['90%', 95, false, 85],
      ['25%', 10, true, 3],
      ['25%', 10, false, 2],
      ['33%', 3, true, 1],
      ['0%', 10, true, 0],
      ['100%', 7, false, 7],
      ['+5%', 100, false, 5],
      ['-10%', 15, true, -1],
      ['-10%', 15, false, -2],
    ];
    for (const [input, total, roundUp, want] of table) {
      assert.equal(getScaledValueFromIntOrPercent(input, total, roundUp), want, `${input} of ${total}`);
    }
  });

  it('words every failure as upstream does', () => {
    const table: [number | string | null | undefined, string][] = [
      [null, 'nil value for IntOrString'],
      [undefined, 'nil value for IntOrString'],
      ['90', 'invalid value for IntOrString: invalid type: string is not a percentage'],
      ['90#', 'invalid value for IntOrString: invalid type: string is not a percentage'],
      ['%', 'invalid value for IntOrString: invalid value "%": strconv.Atoi: parsing "": invalid syntax'],
      ['#%', 'invalid value for IntOrString: invalid value "#%": strconv.Atoi: parsing "#": invalid syntax'],
      [
        '1.5%',
        'invalid value for IntOrString: invalid value "1.5%": strconv.Atoi: parsing "1.5": invalid syntax',
      ],
      [
        '99999999999999999999%',
        'invalid value for IntOrString: invalid value "99999999999999999999%": strconv.Atoi: parsing "99999999999999999999": value out of range',
      ],
    ];
    for (const [input, message] of table) {
      assert.throws(
        () => getScaledValueFromIntOrPercent(input, 10, true),
        (err: unknown) => err instanceof IntOrStringError && err.message === message,
        String(input),
      );
    }
  });
});

describe('getValueFromIntOrPercent', () => {
  it('treats every string as a percentage and ignores each %', () => {
    assert.equal(getValueFromIntOrPercent('25', 200, true), 50);
    assert.equal(getValueFromIntOrPercent('%1%', 200, true), 2);
    assert.equal(getValueFromIntOrPercent(4, 200, true), 4);
    assert.throws(() => getValueFromIntOrPercent('x%', 200, true), {
      message: 'invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x": invalid syntax',
    });
  });
});

describe('IntOrString helpers', () => {
  it('parses an int32 when the string is one (upstream Parse)', () => {
    assert.equal(parseIntOrString('5'), 5);
    assert.equal(parseIntOrString('+5'), 5);
    assert.equal(parseIntOrString('007'), 7);
    assert.equal(parseIntOrString('-2147483648'), -2147483648);
    assert.equal(parseIntOrString('2147483648'), '2147483648');
    assert.equal(parseIntOrString('http'), 'http');
    assert.equal(parseIntOrString('25%'), '25%');
    assert.equal(parseIntOrString(''), '');
  });

  it('reads the integer value of either form', () => {
    assert.equal(intOrStringValue(8080), 8080);
    assert.equal(intOrStringValue('42'), 42);
    assert.equal(intOrStringValue('http'), 0);
    assert.equal(intOrStringValue('99999999999999999999'), Number(9223372036854775807n));
    assert.equal(intOrStringToString(8080), '8080');
    assert.equal(intOrStringToString('http'), 'http');
    assert.equal(valueOrDefault(undefined, '25%'), '25%');
    assert.equal(valueOrDefault(0, '25%'), 0);
  });
});
