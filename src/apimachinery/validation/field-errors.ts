// Field paths and field errors (k8s.io/apimachinery/pkg/util/validation/field), and the parts of a 422
// Invalid Status that come from them (k8s.io/apimachinery/pkg/api/errors NewInvalid): the aggregated message
// and the causes, which the errors catalogue puts into the Status. The texts are what kubectl prints, so
// values are rendered as Go's fmt renders them.
import { goQuote, goStringSlice } from '../../api/go-quote.js';
import type { StatusCause } from '../errors/status-error.js';

/** A path to a field: spec.containers[0].image, metadata.labels[app]. Immutable; build with newPath. */
export class Path {
  readonly #name: string;
  readonly #index: string;
  readonly #parent: Path | undefined;

  private constructor(name: string, index: string, parent: Path | undefined) {
    this.#name = name;
    this.#index = index;
    this.#parent = parent;
  }

  /** A path of named fields from the root (upstream's NewPath). */
  static of(name: string, ...moreNames: string[]): Path {
    return moreNames.reduce((p, n) => new Path(n, '', p), new Path(name, '', undefined));
  }

  /** The field `name` (and further names) below this one. */
  child(name: string, ...moreNames: string[]): Path {
    // Validation builds a path for every field it visits, error or not: the one-name case allocates only the
    // new node.
    let p = new Path(name, '', this);
    for (const n of moreNames) p = new Path(n, '', p);
    return p;
  }

  /** The i-th element of this list: [i]. */
  index(i: number): Path {
    return new Path('', String(i), this);
  }

  /** The entry `key` of this map: [key]. */
  key(key: string): Path {
    return new Path('', key, this);
  }

  /** The first element of the path. */
  root(): Path {
    return this.#parent === undefined ? this : this.#parent.root();
  }

  /** "spec.containers[0].image"; an element without a name prints as a subscript, even at the root. */
  toString(): string {
    const prefix = this.#parent === undefined ? '' : this.#parent.toString();
    if (this.#name.length === 0) return `${prefix}[${this.#index}]`;
    return this.#parent === undefined ? this.#name : `${prefix}.${this.#name}`;
  }
}

/** A path from the root through the named fields (upstream's field.NewPath). */
export function newPath(name: string, ...moreNames: string[]): Path {
  return Path.of(name, ...moreNames);
}

/** The machine-readable kind of a field error; it is also the `reason` of the Status cause. */
export type ErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid';

/** How each error type reads in a message. */
export const errorTypeText: Readonly<Record<ErrorType, string>> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
};

/** A bad value that is left out of the message ("Too many: has too many items"). */
export const omitValue: unique symbol = Symbol('omitValue');

/**
 * A value printed exactly as given: what upstream shows for a Go value with a String() method, or a Go
 * struct literal we spell out ourselves.
 */
export class GoValue {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** One validation failure at one field. */
export class FieldError {
  readonly type: ErrorType;
  /** The rendered path, e.g. "spec.replicas"; "<nil>" for no path. */
  readonly field: string;
  readonly badValue: unknown;
  readonly detail: string;
  /** Which check produced the error ("minimum", "format=dns-label"), for tests; never shown to users. */
  origin: string | undefined;
  coveredByDeclarative = false;

  constructor(type: ErrorType, path: Path | null | undefined, badValue: unknown, detail: string) {
    this.type = type;
    this.field = path === null || path === undefined ? '<nil>' : path.toString();
    this.badValue = badValue;
    this.detail = detail;
  }

  /** The message without the field (the Status cause's message), e.g. `Invalid value: "x": must be ...`. */
  errorBody(): string {
    let s = errorTypeText[this.type];
    const valueless =
      this.type === 'FieldValueRequired' ||
      this.type === 'FieldValueForbidden' ||
      this.type === 'FieldValueTooLong' ||
      this.type === 'InternalError' ||
      this.badValue === omitValue;
    if (!valueless) s += ': ' + renderBadValue(this.badValue);
    if (this.detail.length > 0) s += ': ' + this.detail;
    return s;
  }

  /** `field: body`, the form in ErrorList texts and the Status message. */
  toString(): string {
    return `${this.field}: ${this.errorBody()}`;
  }

  /** Records the check that produced this error; returns this error. */
  withOrigin(origin: string): this {
    this.origin = origin;
    return this;
  }

  /** Marks the error as one declarative validation also reports; returns this error. */
  markCoveredByDeclarative(): this {
    this.coveredByDeclarative = true;
    return this;
  }
}

/** The errors of one validation, in the order found. */
export type ErrorList = FieldError[];

/**
 * A bad value as upstream prints it: strings quoted (%q), numbers and booleans plain, null and undefined as
 * "null", GoValue verbatim, arrays and objects in Go's %#v syntax for the slices and maps JSON decodes to.
 */
export function renderBadValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return goSyntax(value);
}

function goNumber(v: number): string {
  // Integers print as Go prints an int64; other numbers as a float64 under %v.
  if (Number.isInteger(v) && Math.abs(v) < 2 ** 63) return BigInt(v).toString();
  return goFloat(v);
}

/** A float64 as Go's %v prints it: shortest digits, exponent form below 1e-4 and from 1e6 (e.g. "1e+06"). */
export function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, expText] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  const sign = v < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e}`;
  }
  const point = exp + 1;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

// Top-level arrays and maps of strings print as the typed []string and map[string]string of typed validation;
// anything inside a mixed container prints as the interface {} values of decoded JSON.
function goSyntax(value: unknown, nested = false): string {
  if (value instanceof GoValue) return value.text;
  if (value === null || value === undefined) return 'interface {}(nil)';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (!nested && value.every((v) => typeof v === 'string')) return goStringSlice(value);
    return `[]interface {}{${value.map((v) => goSyntax(v, true)).join(', ')}}`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    const typed = !nested && entries.every(([, v]) => typeof v === 'string');
    const body = entries.map(([k, v]) => `${goQuote(k)}:${goSyntax(v, true)}`).join(', ');
    return typed ? `map[string]string{${body}}` : `map[string]interface {}{${body}}`;
  }
  return goQuote(typeof value === 'symbol' ? value.toString() : '');
}

/** Upstream's constructors, used as `field.invalid(path, value, detail)` like Go's field.Invalid. */
export const field = {
  newPath,
  /** "Required value" (an empty string, null or empty list where one is needed). */
  required: (path: Path | null | undefined, detail: string) =>
    new FieldError('FieldValueRequired', path, '', detail),
  /** "Invalid value: <value>: <detail>" (a malformed value). */
  invalid: (path: Path | null | undefined, value: unknown, detail: string) =>
    new FieldError('FieldValueInvalid', path, value, detail),
  /** "Unsupported value: <value>: supported values: "a", "b"" (a value outside an enumeration). */
  notSupported: (path: Path | null | undefined, value: unknown, validValues: readonly string[]) =>
    new FieldError(
      'FieldValueNotSupported',
      path,
      value,
      validValues.length > 0 ? 'supported values: ' + validValues.map((v) => goQuote(v)).join(', ') : '',
    ),
  /** "Duplicate value: <value>" (a value that must be unique). */
  duplicate: (path: Path | null | undefined, value: unknown) =>
    new FieldError('FieldValueDuplicate', path, value, ''),
  /** "Not found: <value>" (a reference to something missing). */
  notFound: (path: Path | null | undefined, value: unknown) =>
    new FieldError('FieldValueNotFound', path, value, ''),
  /** "Forbidden: <detail>" (a valid value that is not allowed here). */
  forbidden: (path: Path | null | undefined, detail: string) =>
    new FieldError('FieldValueForbidden', path, '', detail),
  /** "Too long: may not be more than <n> bytes"; the value itself is never shown. A negative max omits it. */
  tooLong: (path: Path | null | undefined, _value: unknown, maxLength: number) =>
    new FieldError(
      'FieldValueTooLong',
      path,
      '<value omitted>',
      maxLength >= 0 ? `may not be more than ${maxLength} bytes` : 'value is too long',
    ),
  /** "Too many: <actual>: must have at most <max> items"; a negative count or max is left out. */
  tooMany: (path: Path | null | undefined, actualQuantity: number, maxQuantity: number) =>
    new FieldError(
      'FieldValueTooMany',
      path,
      actualQuantity >= 0 ? actualQuantity : omitValue,
      maxQuantity >= 0 ? `must have at most ${maxQuantity} items` : 'has too many items',
    ),
  /** "Internal error: <message>" (a failure not caused by the input). */
  internalError: (path: Path | null | undefined, err: Error | string) =>
    new FieldError('InternalError', path, null, typeof err === 'string' ? err : err.message),
  /** "Invalid value: <value>: <detail>" for a value of the wrong schema type. */
  typeInvalid: (path: Path | null | undefined, value: unknown, detail: string) =>
    new FieldError('FieldValueTypeInvalid', path, value, detail),
};

/**
 * The aggregated message of a list (upstream's ToAggregate().Error()): duplicates dropped, one error as is,
 * several as "[a, b]"; undefined for an empty list.
 */
export function aggregateMessage(errs: readonly FieldError[]): string | undefined {
  const unique = [...new Set(errs.map((e) => e.toString()))];
  if (unique.length === 0) return undefined;
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

/** The causes of a 422 Status, one per error (duplicates kept); empty parts omitted as Go's omitempty does. */
export function statusCauses(errs: readonly FieldError[]): StatusCause[] {
  return errs.map((e) => {
    const cause: StatusCause = { reason: e.type };
    const message = e.errorBody();
    if (message.length > 0) cause.message = message;
    if (e.field.length > 0) cause.field = e.field;
    return cause;
  });
}

/** A kind with its API group ('' for the core group). */
export interface GroupKind {
  group: string;
  kind: string;
}

/** "Deployment.apps", or "Pod" for the core group (upstream's GroupKind.String()). */
export function groupKindString(gk: GroupKind): string {
  return gk.group.length === 0 ? gk.kind : `${gk.kind}.${gk.group}`;
}

/** The Status message of an invalid object: `Deployment.apps "x" is invalid: [a: ..., b: ...]`. */
export function invalidMessage(gk: GroupKind, name: string, errs: readonly FieldError[]): string {
  const agg = aggregateMessage(errs);
  const head = `${groupKindString(gk)} ${goQuote(name)} is invalid`;
  return agg === undefined ? head : `${head}: ${agg}`;
}
