import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Milli,
  Nano,
  Quantity,
  QuantityParseError,
  mustParseQuantity,
  newMilliQuantity,
  newQuantity,
  newScaledQuantity,
  parseQuantity,
} from './quantity.js';

const formatWrong =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const numeric = 'unable to parse numeric part of quantity';
const suffix = "unable to parse quantity's suffix";
const q = (s: string) => Quantity.parse(s);

describe('Quantity.parse and toString', () => {
  it('writes the canonical form', () => {
    const table: [string, string][] = [
      ['1.5Gi', '1536Mi'],
      ['1000m', '1'],
      ['0.1', '100m'],
      ['1.5', '1500m'],
      ['2000000', '2M'],
      ['1000M', '1G'],
      ['1024Mi', '1Gi'],
      ['1048576Ki', '1Gi'],
      ['1000Ki', '1000Ki'],
      ['1025Ki', '1025Ki'],
      ['0.5Mi', '512Ki'],
      ['0.05Gi', '53687091200m'],
      ['.001Ki', '1024m'],
      ['.000001Ki', '1024u'],
      ['.000000001Ki', '1024n'],
      ['1.1Ki', '1126400m'],
      ['.5Ki', '512'],
      ['1.01E', '1010P'],
      ['50k', '50k'],
      ['300T', '300T'],
      ['0.0005k', '500m'],
      ['1.2e3', '1200'],
      ['1.3E+6', '1300e3'],
      ['1.40e9', '1400e6'],
      ['1e13', '10e12'],
      ['1e-10', '1e-9'],
      ['0.001', '1m'],
      ['.001', '1m'],
      ['0n', '0'],
      ['0Ki', '0'],
      ['-0', '0'],
    ];
    for (const [input, canonical] of table) assert.equal(q(input).toString(), canonical, input);
  });

  it('keeps the spelling of input that is canonical already, as upstream does', () => {
    for (const s of [
      '100m',
      '1Gi',
      '1e3',
      '1Ki',
      '5n',
      '1024n',
      '+1',
      '01',
      '1E3',
      '1e-0',
      '-1Ki',
      '1e-3',
      '300M',
      '1.',
      '1.G',
      '100.035k',
      '10.035M',
    ]) {
      assert.equal(q(s).toString(), s);
    }
    // Non-canonical spellings are rewritten.
    assert.equal(q('1000').toString(), '1k');
    assert.equal(q('0.5e0').toString(), '500e-3');
  });

  it('rounds sub-nano values up, never to zero', () => {
    assert.equal(q('0.1n').toString(), '1n');
    assert.equal(q('3.001n').toString(), '4n');
    assert.equal(q('0.0000000001').toString(), '1n');
    assert.equal(q('0.00000012345').toString(), '124n');
    assert.equal(q('0.00000012354').toString(), '124n');
    assert.equal(q('1.1E-9').toString(), '2e-9');
    assert.equal(q('-0.1n').toString(), '-1n');
    assert.equal(q('.000000000001Ki').toString(), '2n');
  });

  it('caps binary quantities at 2^63-1 and switches sub-unit binary values to decimal', () => {
    assert.equal(q('8Ei').toString(), '9223372036854775807');
    assert.equal(q('9223372036854775807Ki').toString(), '9223372036854775807');
    assert.equal(q('-8Ei').toString(), '-9223372036854775807');
    assert.equal(q('0.000000000001Ki').format, 'DecimalSI');
    assert.equal(q('.5Ki').format, 'BinarySI');
  });

  it('does not cap decimal quantities, and drops a decimal-SI suffix beyond E as upstream does', () => {
    assert.equal(q('12E').toString(), '12E');
    assert.equal(q('123456789012345678901234567890').toString(), '123456789012345678901234567890');
    // 10^21 has no decimal-SI suffix: upstream prints the mantissa alone.
    assert.equal(q('1000E').toString(), '1');
  });

  it('remembers the format it was written in', () => {
    assert.equal(q('1k').format, 'DecimalSI');
    assert.equal(q('1Ki').format, 'BinarySI');
    assert.equal(q('1e3').format, 'DecimalExponent');
    assert.equal(q('1').format, 'DecimalSI');
  });

  it('accepts what upstream accepts beyond its documented grammar', () => {
    assert.equal(q('m').toString(), '0');
    assert.equal(q('-').toString(), '0');
    assert.equal(q('.').toString(), '0');
    assert.equal(q('Ki').toString(), '0');
  });

  it("rejects malformed input with upstream's messages", () => {
    const table: [string, string][] = [
      ['', formatWrong],
      ['abc', formatWrong],
      ['aoeu', formatWrong],
      [' 1', formatWrong],
      ['1 ', formatWrong],
      ['1.1.M', formatWrong],
      ['1+1.0M', formatWrong],
      ['0.1am', formatWrong],
      ['1i', suffix],
      ['.5i', suffix],
      ['-3.01i', suffix],
      ['-3.01e-', suffix],
      ['0.1mi', suffix],
      ['1Gi5', suffix],
      ['1ee', suffix],
      ['1e', suffix],
      ['--1', suffix],
      ['1e9223372036854775808', suffix],
      ['e-20', numeric],
      ['-e-20', numeric],
      ['.e-20', numeric],
    ];
    for (const [input, message] of table) {
      assert.throws(
        () => q(input),
        (err: unknown) => err instanceof QuantityParseError && err.message === message,
        input,
      );
    }
  });

  it('parses every canonical string back to the same value and string', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const suffixes = ['', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'P', 'Ki', 'Mi', 'Gi', 'Ti', 'e3', 'e-6', 'E2'];
    for (let i = 0; i < 2000; i++) {
      const digits = String(rnd(1_000_000));
      const frac = rnd(3) === 0 ? '.' + String(rnd(1000)).padStart(3, '0') : '';
      const input = (rnd(4) === 0 ? '-' : '') + digits + frac + suffixes[rnd(suffixes.length)]!;
      const first = q(input);
      const text = first.toString();
      const again = q(text);
      assert.equal(again.cmp(first), 0, `${input} -> ${text}`);
      assert.equal(again.toString(), text, `${input} -> ${text}`);
    }
  });

  it("reads JSON strings and numbers like upstream's UnmarshalJSON", () => {
    assert.equal(Quantity.fromJSON(' 1').toString(), '1');
    assert.equal(Quantity.fromJSON('1 ').toString(), '1');
    assert.equal(Quantity.fromJSON(1).toString(), '1');
    assert.equal(Quantity.fromJSON(-1).toString(), '-1');
    assert.equal(Quantity.fromJSON(0.5).toString(), '500m');
    assert.equal(Quantity.fromJSON(null).toString(), '0');
    assert.throws(() => Quantity.fromJSON(true), QuantityParseError);
    assert.equal(JSON.stringify({ cpu: q('0.1') }), '{"cpu":"100m"}');
  });

  it("mustParseQuantity words the failure as upstream's MustParse", () => {
    assert.equal(mustParseQuantity('1Gi').toString(), '1Gi');
    assert.throws(() => mustParseQuantity('x'), { message: `cannot parse 'x': ${formatWrong}` });
    assert.equal(parseQuantity('2k').toString(), '2k');
  });
});

describe('Quantity values', () => {
  it('value and milliValue round away from zero', () => {
    assert.equal(q('1.5').value(), 2n);
    assert.equal(q('-1.5').value(), -2n);
    assert.equal(q('100m').value(), 1n);
    assert.equal(q('100m').milliValue(), 100n);
    assert.equal(q('1n').milliValue(), 1n);
    assert.equal(q('1.5Gi').value(), 1610612736n);
    assert.equal(q('2').milliValue(), 2000n);
    assert.equal(q('0').value(), 0n);
  });

  it('scaledValue converts between scales (upstream TestScaledValue)', () => {
    const table: [number, number, bigint][] = [
      [Nano, Nano, 1n],
      [Nano, -6, 1n],
      [Nano, Milli, 1n],
      [Nano, 0, 1n],
      [-6, Nano, 1000n],
      [Milli, Nano, 1_000_000n],
      [Milli, -6, 1000n],
      [0, Nano, 1_000_000_000n],
      [0, Milli, 1000n],
      [2, -2, 10000n],
    ];
    for (const [from, to, want] of table)
      assert.equal(newScaledQuantity(1, from).scaledValue(to), want, `${from}->${to}`);
  });

  it('saturates at the int64 bounds instead of overflowing', () => {
    assert.equal(q('1e30').value(), 9223372036854775807n);
    assert.equal(q('-1e30').milliValue(), -9223372036854775808n);
    assert.equal(q('1e1000000000').value(), 9223372036854775807n);
  });

  it('asApproximateFloat64 gives the same float as upstream', () => {
    assert.equal(q('1.5Gi').asApproximateFloat64(), 1610612736);
    assert.equal(q('100m').asApproximateFloat64(), 0.1);
    // Upstream holds these at nano scale, which shows in the last digit.
    assert.equal(q('100.035Ki').asApproximateFloat64(), 102435.84000000001);
    assert.equal(q('1000000000000000000').asApproximateFloat64(), 1000000000000000100);
  });
});

describe('Quantity arithmetic', () => {
  it('compares exactly across formats (upstream TestQuantityCmp)', () => {
    const table: [string, string, number][] = [
      ['0', '0', 0],
      ['100m', '50m', 1],
      ['50m', '100m', -1],
      ['10000T', '100Gi', 1],
      ['1Gi', '1073741824', 0],
      ['1k', '1Ki', -1],
      ['-1', '1n', -1],
      ['1e-9', '1n', 0],
      ['1e1000000000', '9Ei', 1],
      ['-2', '-1', -1],
    ];
    for (const [a, b, want] of table) {
      assert.equal(q(a).cmp(q(b)), want, `${a} vs ${b}`);
      assert.equal(q(b).cmp(q(a)), want === 0 ? 0 : -want, `${b} vs ${a}`);
    }
    assert.equal(q('1500m').cmpInt64(1), 1);
    assert.equal(q('1').equal(q('1000m')), true);
  });

  it('adds and subtracts, a zero receiver taking the other format (upstream preserve-suffix tests)', () => {
    for (const s of ['100m', '1Gi']) {
      assert.equal(q(s).add(q('0')).toString(), s);
      assert.equal(q('0').add(q(s)).toString(), s);
      assert.equal(q(s).sub(q('0')).toString(), s);
      assert.equal(q('0').sub(q(s)).toString(), q(s).neg().toString());
    }
    assert.equal(q('1').add(q('500m')).toString(), '1500m');
    assert.equal(q('1Gi').add(q('512Mi')).toString(), '1536Mi');
    assert.equal(q('1').sub(q('1500m')).toString(), '-500m');
    assert.equal(q('10').sub(q('1')).format, 'DecimalSI');
    assert.equal(q('10Ki').sub(q('1')).format, 'BinarySI');
    assert.throws(() => q('1').add(q('1e1000000000')), RangeError);
  });

  it('sums many requests without drift', () => {
    let total = q('0');
    for (let i = 0; i < 1000; i++) total = total.add(q('100m'));
    assert.equal(total.toString(), '100');
    assert.equal(total.milliValue(), 100_000n);
  });

  it('negates and multiplies', () => {
    assert.equal(q('9.01').neg().toString(), '-9010m');
    assert.equal(q('-9.01').neg().toString(), '9010m');
    assert.equal(q('10').mul(10).toString(), '100');
    assert.equal(q('1Gi').mul(2).toString(), '2Gi');
    assert.equal(q('50').mul(0).isZero(), true);
  });

  it('rounds up to a scale and says whether that was exact (upstream TestQuantityRoundUp)', () => {
    const table: [string, number, string, boolean][] = [
      ['9.01', -3, '9010m', true],
      ['9.01', -2, '9010m', true],
      ['9.01', -1, '9100m', false],
      ['9.01', 0, '10', false],
      ['9.01', 1, '10', false],
      ['9.01', 2, '100', false],
      ['-9.01', -1, '-9100m', false],
      ['-9.01', 0, '-10', false],
      ['-9.01', 2, '-100', false],
      ['1n', Milli, '1m', false],
    ];
    for (const [input, scale, want, exact] of table) {
      const r = q(input).roundUp(scale);
      assert.equal(r.quantity.toString(), want, `${input} at ${scale}`);
      assert.equal(r.exact, exact, `${input} at ${scale}`);
    }
  });

  it("constructs quantities as upstream's New*Quantity do", () => {
    assert.equal(newQuantity(1000, 'DecimalSI').toString(), '1k');
    assert.equal(newQuantity(1024, 'BinarySI').toString(), '1Ki');
    assert.equal(newQuantity(1234000, 'DecimalSI').toString(), '1234k');
    assert.equal(newQuantity(1_000_000, 'DecimalExponent').toString(), '1e6');
    assert.equal(newMilliQuantity(1, 'DecimalSI').toString(), '1m');
    assert.equal(newMilliQuantity(1000, 'DecimalSI').toString(), '1');
    // Binary cannot show a fraction, so these fall back to decimal.
    assert.equal(newMilliQuantity(1024, 'BinarySI').toString(), '1024m');
    assert.equal(newMilliQuantity(1024 * 1024, 'BinarySI').toString(), '1048576m');
    assert.equal(newScaledQuantity(1000, Nano).toString(), '1u');
    assert.equal(newScaledQuantity(0, Milli).toString(), '0');
    assert.equal(Quantity.of(5, 0, 'BinarySI').toString(), '5');
  });
});
