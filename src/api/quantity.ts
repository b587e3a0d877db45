// resource.Quantity: the fixed-point numbers of resource requests, limits and capacities ("100m", "1.5Gi",
// "1e3"). Values are exact (a bigint mantissa and a power of ten), never floats. Parsing, the canonical
// string form and rounding follow k8s.io/apimachinery/pkg/api/resource, quirks included: an input already in
// canonical form keeps its spelling (so "+1" stays "+1"), and a decimal-SI value outside n..E prints without
// its suffix.

/** How a quantity is written: "12e6", "12Mi" or "12M". */
export type Format = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

/** A power of ten, for scaledValue and newScaledQuantity (Milli = -3: thousandths). */
export type Scale = number;
export const Nano: Scale = -9;
export const Micro: Scale = -6;
export const Milli: Scale = -3;
export const Kilo: Scale = 3;
export const Mega: Scale = 6;
export const Giga: Scale = 9;
export const Tera: Scale = 12;
export const Peta: Scale = 15;
export const Exa: Scale = 18;

const maxInt64 = (1n << 63n) - 1n;
const minInt64 = -(1n << 63n);

/** The largest value whose milli-value still fits an int64. */
export const maxMilliValue = maxInt64 / 1000n;

const splitREString = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';

/** Upstream's parse errors, word for word (kubectl shows them when a manifest holds a bad quantity). */
export const quantityErrorMessages = {
  formatWrong: `quantities must match the regular expression '${splitREString}'`,
  numeric: 'unable to parse numeric part of quantity',
  suffix: "unable to parse quantity's suffix",
} as const;

/** Why a quantity string did not parse. */
export class QuantityParseError extends Error {
  override readonly name = 'QuantityParseError';
  readonly code: keyof typeof quantityErrorMessages;
  constructor(code: keyof typeof quantityErrorMessages) {
    super(quantityErrorMessages[code]);
    this.code = code;
  }
}

// The widest gap between exponents that add() and sub() bridge exactly.
const maxExponentGap = 10_000;

const pow10Cache: bigint[] = [];
function pow10(n: number): bigint {
  if (n < 64) return (pow10Cache[n] ??= 10n ** BigInt(n));
  return 10n ** BigInt(n);
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** v / 10^n rounded away from zero; `exact` says whether nothing was lost. */
function divPow10AwayFromZero(v: bigint, n: number): { value: bigint; exact: boolean } {
  if (n <= 0) return { value: v * pow10(-n), exact: true };
  const a = abs(v);
  // Past its own digit count the quotient is below one: any non-zero value rounds to one unit.
  if (n > a.toString().length) return { value: a === 0n ? 0n : v < 0n ? -1n : 1n, exact: a === 0n };
  const d = pow10(n);
  let q = a / d;
  const exact = a % d === 0n;
  if (!exact) q += 1n;
  return { value: v < 0n ? -q : q, exact };
}

/** Compares two non-negative values m1*10^e1 and m2*10^e2 without building huge powers. */
function cmpMagnitude(m1: bigint, e1: number, m2: bigint, e2: number): number {
  if (m1 === 0n || m2 === 0n) return m1 === m2 ? 0 : m1 === 0n ? -1 : 1;
  const l1 = m1.toString().length + e1;
  const l2 = m2.toString().length + e2;
  if (l1 !== l2) return l1 < l2 ? -1 : 1;
  const a = e1 >= e2 ? m1 * pow10(e1 - e2) : m1;
  const b = e2 >= e1 ? m2 * pow10(e2 - e1) : m2;
  return a === b ? 0 : a < b ? -1 : 1;
}

const decimalSuffixes = new Map<number, string>([
  [-9, 'n'],
  [-6, 'u'],
  [-3, 'm'],
  [0, ''],
  [3, 'k'],
  [6, 'M'],
  [9, 'G'],
  [12, 'T'],
  [15, 'P'],
  [18, 'E'],
]);
const binarySuffixes = new Map<number, string>([
  [10, 'Ki'],
  [20, 'Mi'],
  [30, 'Gi'],
  [40, 'Ti'],
  [50, 'Pi'],
  [60, 'Ei'],
]);
const suffixToDecimal = new Map<string, number>([...decimalSuffixes].map(([e, s]) => [s, e]));
const suffixToBinary = new Map<string, number>([...binarySuffixes].map(([e, s]) => [s, e]));

interface SuffixMeaning {
  base: 2 | 10;
  exponent: number;
  format: Format;
}

function interpretSuffix(s: string): SuffixMeaning | undefined {
  const dec = suffixToDecimal.get(s);
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = suffixToBinary.get(s);
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E')) {
    const rest = s.slice(1);
    if (!/^[+-]?[0-9]+$/.test(rest)) return undefined;
    const parsed = BigInt(rest);
    if (parsed > maxInt64 || parsed < minInt64) return undefined;
    // Upstream narrows the int64 exponent to int32, wrapping around.
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)), format: 'DecimalExponent' };
  }
  return undefined;
}

interface ScannedQuantity {
  positive: boolean;
  /** The numeric part as written (sign, digits, point), for the exact path. */
  value: string;
  /** Integer digits without leading zeros ("0" when none). */
  num: string;
  /** Fraction digits. */
  denom: string;
  suffix: string;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const suffixChars = 'eEinumkKMGTP';

// A scanner that accepts exactly what upstream's accepts: looser than the regular expression quoted in the
// error (a bare "m" or "-" parses as zero), and it checks the suffix only later.
function scanQuantity(str: string): ScannedQuantity | undefined {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') {
    pos++;
  }
  for (;;) {
    if (pos >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };
    if (str[pos] !== '0') break;
    pos++;
  }
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i);
  if (i >= end) return { positive, value: str, num, denom: '', suffix: '' };
  pos = i;
  if (num.length === 0) num = '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, value: str, num, denom, suffix: '' };
    pos = i;
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  while (pos < end && suffixChars.includes(str[pos]!)) pos++;
  if (pos >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
  return undefined;
}

/** A resource quantity: an exact decimal number with the format it is written in. Immutable. */
export class Quantity {
  /** The value is unscaled × 10^exponent. */
  private readonly unscaled: bigint;
  private readonly exponent: number;
  readonly format: Format;
  // The input spelling, kept when it was already canonical (upstream serializes it back unchanged).
  private readonly cached: string | undefined;

  private constructor(unscaled: bigint, exponent: number, format: Format, cached?: string) {
    this.unscaled = unscaled;
    this.exponent = exponent;
    this.format = format;
    this.cached = cached;
  }

  /** Parses a quantity string as upstream's ParseQuantity does; throws QuantityParseError. */
  static parse(str: string): Quantity {
    if (str.length === 0) throw new QuantityParseError('formatWrong');
    if (str === '0') return new Quantity(0n, 0, 'DecimalSI', str);
    const scanned = scanQuantity(str);
    if (scanned === undefined) throw new QuantityParseError('formatWrong');
    const { positive, value, num, denom, suffix } = scanned;
    const meaning = interpretSuffix(suffix);
    if (meaning === undefined) throw new QuantityParseError('suffix');
    const { base, exponent, format } = meaning;

    // The fast path: values that fit an int64 mantissa at a scale of nano or coarser, unrounded.
    let precision: number;
    let scale = 0;
    let multiplier = 1n;
    if (format === 'BinarySI') {
      if (exponent >= 0 && denom.length === 0) {
        multiplier = 1n << BigInt(exponent);
        precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
      } else {
        precision = -1;
      }
    } else {
      scale = exponent;
      precision = 18 - (num.length + denom.length);
    }
    if (precision >= 0) {
      scale -= denom.length;
      if (scale >= Nano) {
        const shifted = num + denom;
        const digits = BigInt(shifted);
        if (digits > maxInt64) throw new QuantityParseError('numeric');
        const product = digits * multiplier;
        if (product <= maxInt64) {
          const result = positive ? product : -product;
          const canonical =
            format === 'BinarySI'
              ? exponent % 10 === 0 && (digits & 7n) !== 0n
              : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
          return new Quantity(result, scale, format, canonical ? str : undefined);
        }
      }
    }

    // The exact path: any size, rounded up to nano, binary values capped at 2^63-1.
    const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/.exec(value);
    if (m === null || (m[2]! + (m[3] ?? '')).length === 0) throw new QuantityParseError('numeric');
    let magnitude = BigInt((m[2] || '0') + (m[3] ?? ''));
    let exp = -(m[3]?.length ?? 0);
    const negative = m[1] === '-' && magnitude !== 0n;
    if (base === 10) exp += exponent;
    else magnitude *= 1n << BigInt(exponent);
    if (magnitude !== 0n && exp < Nano) {
      // Rounding up, not to nearest: whoever asks for a little of a resource should get some.
      magnitude = divPow10AwayFromZero(magnitude, Nano - exp).value;
      exp = Nano;
    }
    if (magnitude !== 0n && exp > Nano && exp - Nano <= 400) {
      // Upstream holds such values at exactly nano scale; asApproximateFloat64 works from that mantissa.
      magnitude *= pow10(exp - Nano);
      exp = Nano;
    }
    let fmt = format;
    if (fmt === 'BinarySI') {
      if (cmpMagnitude(magnitude, exp, maxInt64, 0) > 0) {
        magnitude = maxInt64;
        exp = 0;
      }
      if (magnitude !== 0n && cmpMagnitude(magnitude, exp, 1n, 0) < 0) fmt = 'DecimalSI';
    }
    return new Quantity(negative ? -magnitude : magnitude, exp, fmt);
  }

  /**
   * Reads a quantity from decoded JSON: a string (surrounding spaces ignored, as upstream does) or a number.
   * null reads as zero. A number arrives here already converted by JSON.parse, so 1e3 reads as "1000"; pass
   * the raw token to parse() where the exact spelling matters.
   */
  static fromJSON(value: unknown): Quantity {
    if (value === null) return new Quantity(0n, 0, 'DecimalSI');
    if (typeof value === 'string') return Quantity.parse(value.trim());
    if (typeof value === 'number' && Number.isFinite(value)) return Quantity.parse(String(value));
    throw new QuantityParseError('formatWrong');
  }

  /** Creates unscaled × 10^exponent in the given format (upstream's NewScaledQuantity, with a format). */
  static of(unscaled: bigint | number, exponent: Scale, format: Format): Quantity {
    return new Quantity(BigInt(unscaled), exponent, format);
  }

  /** True for the value zero. */
  isZero(): boolean {
    return this.unscaled === 0n;
  }

  /** -1, 0 or 1. */
  sign(): number {
    return this.unscaled === 0n ? 0 : this.unscaled < 0n ? -1 : 1;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than y. */
  cmp(y: Quantity): number {
    const s1 = this.sign();
    const s2 = y.sign();
    if (s1 !== s2) return s1 < s2 ? -1 : 1;
    const c = cmpMagnitude(abs(this.unscaled), this.exponent, abs(y.unscaled), y.exponent);
    return s1 < 0 && c !== 0 ? -c : c;
  }

  /** Compares with an integer. */
  cmpInt64(y: bigint | number): number {
    return this.cmp(new Quantity(BigInt(y), 0, 'DecimalSI'));
  }

  /** Equal in value (whatever the format). */
  equal(y: Quantity): boolean {
    return this.cmp(y) === 0;
  }

  /** this + y; a zero receiver takes y's format, as upstream's Add does. */
  add(y: Quantity): Quantity {
    const format = this.isZero() ? y.format : this.format;
    if (y.isZero()) return new Quantity(this.unscaled, this.exponent, format);
    if (this.isZero()) return new Quantity(y.unscaled, y.exponent, format);
    const e = Math.min(this.exponent, y.exponent);
    // An exact sum of 1 and 1e1000000000 needs a billion digits; upstream spends them, we refuse.
    if (Math.max(this.exponent, y.exponent) - e > maxExponentGap) {
      throw new RangeError(
        `quantities ${this.toString()} and ${y.toString()} are too far apart in scale to add exactly`,
      );
    }
    const sum = this.unscaled * pow10(this.exponent - e) + y.unscaled * pow10(y.exponent - e);
    return new Quantity(sum, e, format);
  }

  /** this - y; a zero receiver takes y's format. */
  sub(y: Quantity): Quantity {
    return this.add(y.neg());
  }

  /** -this, in the same format. */
  neg(): Quantity {
    return new Quantity(-this.unscaled, this.exponent, this.format);
  }

  /** this × y. */
  mul(y: bigint | number): Quantity {
    const factor = BigInt(y);
    return new Quantity(this.unscaled * factor, factor === 0n ? 0 : this.exponent, this.format);
  }

  /**
   * The value rounded away from zero to a multiple of 10^scale (upstream's RoundUp/AsScale); `exact` is false
   * when that lost precision. A value already that coarse comes back unchanged, spelling included.
   */
  roundUp(scale: Scale): { quantity: Quantity; exact: boolean } {
    if (this.exponent >= scale) return { quantity: this, exact: true };
    const { value, exact } = divPow10AwayFromZero(this.unscaled, scale - this.exponent);
    return { quantity: new Quantity(value, scale, this.format), exact };
  }

  /**
   * The value counted in units of 10^scale, rounded away from zero (upstream's ScaledValue). Where upstream's
   * int64 overflows (and returns 0 or a wrapped number) this saturates at the int64 bounds instead.
   */
  scaledValue(scale: Scale): bigint {
    if (this.unscaled === 0n) return 0n;
    const shift = scale - this.exponent;
    // 10^19 exceeds int64: decide saturation from the digit count before building a huge number.
    if (shift < 0 && abs(this.unscaled).toString().length - shift > 19)
      return this.unscaled < 0n ? minInt64 : maxInt64;
    const v = divPow10AwayFromZero(this.unscaled, shift).value;
    return v > maxInt64 ? maxInt64 : v < minInt64 ? minInt64 : v;
  }

  /** The value rounded away from zero to an integer (upstream's Value()), saturating at the int64 bounds. */
  value(): bigint {
    return this.scaledValue(0);
  }

  /** The value in thousandths rounded away from zero (upstream's MilliValue()), saturating likewise. */
  milliValue(): bigint {
    return this.scaledValue(Milli);
  }

  /** The value as a float64, computed as upstream's AsApproximateFloat64 does. */
  asApproximateFloat64(): number {
    const base = Number(this.unscaled);
    if (this.exponent === 0) return base;
    return base * goPow10(this.exponent);
  }

  /** The same value in another format; the kept input spelling is dropped. */
  withFormat(format: Format): Quantity {
    return format === this.format ? this : new Quantity(this.unscaled, this.exponent, format);
  }

  /** The canonical form, e.g. "1536Mi", "100m", "1e3"; an input that was canonical already keeps its spelling. */
  toString(): string {
    return this.cached ?? this.canonical();
  }

  /** Quantities serialize as JSON strings. */
  toJSON(): string {
    return this.toString();
  }

  private canonical(): string {
    if (this.unscaled === 0n) return '0';
    let format = this.format;
    let integer = 0n;
    if (format === 'BinarySI') {
      if (this.cmpInt64(-1024) > 0 && this.cmpInt64(1024) < 0) {
        format = 'DecimalSI';
      } else {
        const { quantity, exact } = this.roundUp(0);
        // Binary suffixes cannot show a fraction: such values fall back to decimal rather than lose it.
        if (!exact) format = 'DecimalSI';
        else integer = quantity.unscaled * pow10(quantity.exponent);
      }
    }
    if (format === 'BinarySI') {
      let times = 0;
      while (abs(integer) >= 1024n && integer % 1024n === 0n) {
        integer /= 1024n;
        times++;
      }
      // Past Ei upstream has no suffix and prints the mantissa alone.
      return integer.toString() + (binarySuffixes.get(times * 10) ?? '');
    }
    let mantissa = this.unscaled;
    let exp = this.exponent;
    while (mantissa % 10n === 0n) {
      mantissa /= 10n;
      exp++;
    }
    const r = ((exp % 3) + 3) % 3;
    if (r !== 0) {
      mantissa *= pow10(r);
      exp -= r;
    }
    const suffix = format === 'DecimalSI' ? (decimalSuffixes.get(exp) ?? '') : exp === 0 ? '' : `e${exp}`;
    return mantissa.toString() + suffix;
  }
}

/** Parses a quantity (upstream's ParseQuantity); throws QuantityParseError. */
export function parseQuantity(str: string): Quantity {
  return Quantity.parse(str);
}

/** Parses a quantity known to be valid (constants, tests); throws with upstream's MustParse wording. */
export function mustParseQuantity(str: string): Quantity {
  try {
    return Quantity.parse(str);
  } catch (err) {
    throw new Error(`cannot parse '${str}': ${(err as Error).message}`);
  }
}

/** An integer quantity (upstream's NewQuantity). */
export function newQuantity(value: bigint | number, format: Format): Quantity {
  return Quantity.of(value, 0, format);
}

/** value thousandths (upstream's NewMilliQuantity). */
export function newMilliQuantity(value: bigint | number, format: Format): Quantity {
  return Quantity.of(value, Milli, format);
}

/** value × 10^scale in decimal SI (upstream's NewScaledQuantity). */
export function newScaledQuantity(value: bigint | number, scale: Scale): Quantity {
  return Quantity.of(value, scale, 'DecimalSI');
}

// Go's math.Pow10, table for table, so that asApproximateFloat64 gives the same float.
const pow10tab = Array.from({ length: 32 }, (_, i) => Number(`1e${i}`));
const pow10postab32 = Array.from({ length: 10 }, (_, i) => Number(`1e${i * 32}`));
const pow10negtab32 = Array.from({ length: 11 }, (_, i) => Number(`1e-${i * 32}`));
function goPow10(n: number): number {
  if (n >= 0 && n <= 308) return pow10postab32[Math.floor(n / 32)]! * pow10tab[n % 32]!;
  if (n < 0 && n >= -323) return pow10negtab32[Math.floor(-n / 32)]! / pow10tab[-n % 32]!;
  return n > 0 ? Infinity : 0;
}
