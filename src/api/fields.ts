// Field selectors (k8s.io/apimachinery/pkg/fields): "metadata.name=x,spec.nodeName!=" with '\' escaping,
// matched against a flat map of an object's selectable fields. Each resource states which field names it
// supports through a FieldLabelConversion, and the API server answers upstream's error for any other.
import { goQuote } from './go-quote.js';

/** An object's selectable fields, flattened: { "metadata.name": "web-0", "status.phase": "Running" }. */
export type Fields = Readonly<Record<string, string>>;

/** A selector that did not parse, or a field a resource does not support; the message is upstream's. */
export class FieldSelectorError extends Error {
  override readonly name = 'FieldSelectorError';
}

/** One term: the field must equal (=, ==) or differ from (!=) the value; a missing field reads as "". */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/**
 * Maps a field label and value to the ones the resource stores (e.g. the old "spec.host" to "spec.nodeName"),
 * or throws FieldSelectorError for a field the resource does not support.
 */
export type FieldLabelConversion = (label: string, value: string) => [label: string, value: string];

const escapes: Record<string, string> = { '\\': '\\\\', ',': '\\,', '=': '\\=' };

/** Escapes '\', ',' and '=' in a value for the string form. */
export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => escapes[c]!);
}

/** Undoes escapeValue; throws FieldSelectorError for a bad escape or a bare ',' or '='. */
export function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === '\\') {
      inSlash = true;
    } else if (c === ',' || c === '=') {
      // Upstream prints the character's code point as a number here ("61" for '=').
      throw new FieldSelectorError(
        `invalid field selector: unescaped character in value: ${c.codePointAt(0)}`,
      );
    } else {
      out += c;
    }
  }
  if (inSlash) throw new FieldSelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

// Splits on the commas that no backslash escapes.
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

const termOperators = ['!=', '==', '='] as const;

function splitTerm(
  term: string,
): { lhs: string; op: (typeof termOperators)[number]; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A parsed field selector: terms that must all hold. Immutable. */
export class FieldSelector {
  readonly #terms: readonly FieldRequirement[];
  readonly #nothing: boolean;

  private constructor(terms: readonly FieldRequirement[], nothing = false) {
    this.#terms = terms;
    this.#nothing = nothing;
  }

  static readonly #everything = new FieldSelector([]);
  static readonly #nothingSelector = new FieldSelector([], true);

  /** The selector that matches everything. */
  static everything(): FieldSelector {
    return FieldSelector.#everything;
  }

  /** The selector that matches nothing. */
  static nothing(): FieldSelector {
    return FieldSelector.#nothingSelector;
  }

  /**
   * Parses "a=b,c!=d" (upstream's ParseSelector): terms are sorted before they are read, '==' means '=',
   * and a term with neither field nor value ("=") drops out. Throws FieldSelectorError with upstream's text.
   */
  static parse(selector: string): FieldSelector {
    const terms: FieldRequirement[] = [];
    for (const part of splitTerms(selector).sort(byteOrder)) {
      if (part === '') continue;
      const split = splitTerm(part);
      if (split === undefined)
        throw new FieldSelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
      terms.push({
        field: split.lhs,
        operator: split.op === '!=' ? '!=' : '=',
        value: unescapeValue(split.rhs),
      });
    }
    return new FieldSelector(terms).transform((label, value) => [label, value]);
  }

  /** field=value for each entry (upstream's SelectorFromSet); the terms keep the entries' order. */
  static fromSet(set: Fields | null | undefined): FieldSelector {
    if (set === null || set === undefined) return FieldSelector.everything();
    return new FieldSelector(Object.entries(set).map(([field, value]) => ({ field, operator: '=', value })));
  }

  /** The selector of the one term field=value. */
  static oneTermEqual(field: string, value: string): FieldSelector {
    return new FieldSelector([{ field, operator: '=', value }]);
  }

  /** The selector of the one term field!=value. */
  static oneTermNotEqual(field: string, value: string): FieldSelector {
    return new FieldSelector([{ field, operator: '!=', value }]);
  }

  /** All of the selectors' terms together; nothing() among them makes the whole select nothing. */
  static and(...selectors: FieldSelector[]): FieldSelector {
    if (selectors.some((s) => s.#nothing)) return FieldSelector.nothing();
    return new FieldSelector(selectors.flatMap((s) => s.#terms));
  }

  /** Whether the fields satisfy every term. */
  matches(fields: Fields | null | undefined): boolean {
    if (this.#nothing) return false;
    return this.#terms.every((t) => {
      const actual =
        fields !== null && fields !== undefined && Object.hasOwn(fields, t.field) ? fields[t.field] : '';
      return t.operator === '=' ? actual === t.value : actual !== t.value;
    });
  }

  /** True when there are no terms (it selects everything); false for nothing(). */
  empty(): boolean {
    return !this.#nothing && this.#terms.length === 0;
  }

  /** True for the selector that selects nothing. */
  isNothing(): boolean {
    return this.#nothing;
  }

  /** The terms, in order. */
  requirements(): readonly FieldRequirement[] {
    return this.#terms;
  }

  /** The value `field` must equal, from the first '=' term on it; undefined when none pins it. */
  requiresExactMatch(field: string): string | undefined {
    return this.#terms.find((t) => t.field === field && t.operator === '=')?.value;
  }

  /**
   * Rewrites each term's field and value (upstream's Transform); a term rewritten to an empty field and value
   * drops out. The API server passes the resource's FieldLabelConversion here, whose errors are 400s.
   */
  transform(fn: FieldLabelConversion): FieldSelector {
    if (this.#nothing) return this;
    const terms: FieldRequirement[] = [];
    for (const t of this.#terms) {
      const [field, value] = fn(t.field, t.value);
      if (field.length === 0 && value.length === 0) continue;
      terms.push({ field, operator: t.operator, value });
    }
    return new FieldSelector(terms);
  }

  /** The string form, values escaped: "metadata.name=a\,b,status.phase!=Running". */
  toString(): string {
    return this.#terms.map((t) => `${t.field}${t.operator}${escapeValue(t.value)}`).join(',');
  }
}

/**
 * The conversion for a resource whose selectable fields are `supported` (plus old names in `aliases`, mapped
 * to their current ones): any other field fails with upstream's "field label not supported: <field>".
 */
export function fieldLabelConversionFunc(
  supported: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): FieldLabelConversion {
  const known = new Set(supported);
  return (label, value) => {
    if (known.has(label)) return [label, value];
    if (Object.hasOwn(aliases, label)) return [aliases[label]!, value];
    throw new FieldSelectorError(`field label not supported: ${label}`);
  };
}

/**
 * The conversion upstream applies to kinds that registered none: metadata.name and metadata.namespace only,
 * with its own wording for anything else.
 */
export const defaultMetaV1FieldSelectorConversion: FieldLabelConversion = (label, value) => {
  if (label === 'metadata.name' || label === 'metadata.namespace') return [label, value];
  throw new FieldSelectorError(
    `${goQuote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
  );
};
