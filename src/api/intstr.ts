// intstr.IntOrString: fields such as a Deployment's maxSurge or a Service's targetPort that hold either an
// integer or a string ("25%", "http"). In JSON it is a number or a string, and so it is here.
import { goQuote } from './go-quote.js';

/** An int32 or a string, as the JSON of an IntOrString field holds it. */
export type IntOrString = number | string;

/** An error from reading an IntOrString, worded as upstream words it. */
export class IntOrStringError extends Error {
  override readonly name = 'IntOrStringError';
}

const minInt64 = -(1n << 63n);
const maxInt64 = (1n << 63n) - 1n;
const maxUint64 = (1n << 64n) - 1n;

/** The outcome of Go's strconv.Atoi on a 64-bit machine: the value, and the error text Go would give. */
function goAtoi(s: string): { value: bigint; error?: string } {
  const syntax = { value: 0n, error: `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax` };
  const range = (v: bigint) => ({
    value: v,
    error: `strconv.Atoi: parsing ${goQuote(s)}: value out of range`,
  });
  let i = 0;
  let negative = false;
  if (s[0] === '+' || s[0] === '-') {
    negative = s[0] === '-';
    i = 1;
  }
  if (i >= s.length) return syntax;
  let n = 0n;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return syntax;
    n = n * 10n + BigInt(c - 48);
    // Go stops at the first digit that overflows 64 bits and clamps, before it looks at later characters.
    if (n > maxUint64) return range(negative ? minInt64 : maxInt64);
  }
  if (!negative && n > maxInt64) return range(maxInt64);
  if (negative && n > -minInt64) return range(minInt64);
  return { value: negative ? -n : n };
}

/** Reads a string as upstream's intstr.Parse: an int32 when it is one, else the string itself. */
export function parseIntOrString(val: string): IntOrString {
  if (!/^[+-]?[0-9]+$/.test(val)) return val;
  const n = BigInt(val);
  if (n < -(1n << 31n) || n >= 1n << 31n) return val;
  return Number(n);
}

/** The integer value (upstream's IntValue): a string reads through Atoi, 0 when it is not a number. */
export function intOrStringValue(v: IntOrString): number {
  if (typeof v === 'number') return v;
  return Number(goAtoi(v).value);
}

/** The string form (upstream's String()). */
export function intOrStringToString(v: IntOrString): string {
  return typeof v === 'number' ? String(v) : v;
}

/** `v` when set, else the default (upstream's ValueOrDefault). */
export function valueOrDefault(v: IntOrString | null | undefined, defaultValue: IntOrString): IntOrString {
  return v ?? defaultValue;
}

function scalePercent(value: number, total: number, roundUp: boolean): number {
  // Upstream computes in float64 in this order; JavaScript numbers are the same doubles.
  const scaled = (value * total) / 100;
  const rounded = roundUp ? Math.ceil(scaled) : Math.floor(scaled);
  // Go converts a float beyond int64 (or NaN) to the most negative int64 on amd64.
  return rounded >= 2 ** 63 || rounded < -(2 ** 63) || Number.isNaN(rounded) ? -(2 ** 63) : rounded;
}

/**
 * An absolute number from an integer or a percentage of `total` (upstream's GetScaledValueFromIntOrPercent,
 * used for maxSurge, maxUnavailable, minAvailable): "25%" of 10 is 3 rounding up, 2 rounding down. A string
 * without a trailing '%' is an error.
 */
export function getScaledValueFromIntOrPercent(
  intOrPercent: IntOrString | null | undefined,
  total: number,
  roundUp: boolean,
): number {
  if (intOrPercent === null || intOrPercent === undefined)
    throw new IntOrStringError('nil value for IntOrString');
  if (typeof intOrPercent === 'number') return intOrPercent;
  if (!intOrPercent.endsWith('%')) {
    throw new IntOrStringError('invalid value for IntOrString: invalid type: string is not a percentage');
  }
  const parsed = goAtoi(intOrPercent.slice(0, -1));
  if (parsed.error !== undefined) {
    throw new IntOrStringError(
      `invalid value for IntOrString: invalid value ${goQuote(intOrPercent)}: ${parsed.error}`,
    );
  }
  return scalePercent(Number(parsed.value), total, roundUp);
}

/**
 * The older, looser variant (upstream's deprecated GetValueFromIntOrPercent): every string is a percentage
 * and each '%' in it is dropped before reading the number.
 */
export function getValueFromIntOrPercent(
  intOrPercent: IntOrString | null | undefined,
  total: number,
  roundUp: boolean,
): number {
  if (intOrPercent === null || intOrPercent === undefined)
    throw new IntOrStringError('nil value for IntOrString');
  if (typeof intOrPercent === 'number') return intOrPercent;
  const parsed = goAtoi(intOrPercent.replaceAll('%', ''));
  if (parsed.error !== undefined) {
    throw new IntOrStringError(
      `invalid value for IntOrString: invalid value ${goQuote(intOrPercent)}: ${parsed.error}`,
    );
  }
  return scalePercent(Number(parsed.value), total, roundUp);
}
