// Renders JSON values the way Go's fmt and encoding/json render the interface{} values upstream decodes JSON
// into, so that our error messages read exactly like the API server's: `map[name:a value:1]`,
// `expected a []interface {}, but received a string`, `json: cannot unmarshal array into ...`.
import { isJsonObject, type JsonValue } from './json-value.js';

function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  // %v of a float64 is strconv's shortest %g: exponent form below 1e-4 and from 1e6 on.
  const [mantissa = '0', exp = '0'] = n.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(n);
}

/** Go's %v of the value JSON decodes to (integers are int64 upstream, other numbers float64). */
export function goFormat(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number')
    return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? BigInt(v).toString() : goFloat(v);
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  const keys = Object.keys(v).sort();
  return `map[${keys.map((k) => `${k}:${goFormat(v[k])}`).join(' ')}]`;
}

/** Go's reflect type name of the value JSON decodes to, as %s prints a reflect.Type. */
export function goTypeName(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}';
}

/** Go's %s of a decoded value: strings as they are, anything else flagged as fmt does. */
export function goStringVerb(v: JsonValue | undefined): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '%!s(<nil>)';
  return `%!s(${goTypeName(v)}=${goFormat(v)})`;
}

/** The JSON kind encoding/json names in "json: cannot unmarshal <kind> into Go value of type ...". */
export function jsonKind(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (isJsonObject(v)) return 'object';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

/** The length of encoding/json's encoding of a value (it escapes <, >, & and U+2028/9 where JSON.stringify does not). */
export function goJsonLength(v: JsonValue): number {
  const text = JSON.stringify(v);
  let extra = 0;
  for (const ch of text) {
    if (ch === '<' || ch === '>' || ch === '&') extra += 5;
    else if (ch === '\u2028' || ch === '\u2029') extra += 3;
  }
  return Buffer.byteLength(text) + extra;
}
