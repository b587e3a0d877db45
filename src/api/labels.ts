// Label selectors (k8s.io/apimachinery/pkg/labels): the `?labelSelector=` string form with its parser and
// upstream's error texts, the conversion from a metav1.LabelSelector, matching, and the canonical string.
import { goQuote, goStringSlice } from './go-quote.js';
import { isQualifiedName, isValidLabelValue } from './name-syntax.js';

/** A requirement's operator, spelled as upstream's selection.Operator values. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'gt' | 'lt' | 'exists' | '!';

/** An object's labels. */
export type Labels = Readonly<Record<string, string>>;

/** metav1.LabelSelector, as it appears in specs (Deployment.spec.selector, ...). */
export interface MetaLabelSelector {
  matchLabels?: Readonly<Record<string, string>> | null;
  matchExpressions?: readonly MetaLabelSelectorRequirement[] | null;
}

/** metav1.LabelSelectorRequirement; the operator is In, NotIn, Exists or DoesNotExist. */
export interface MetaLabelSelectorRequirement {
  key: string;
  operator: string;
  values?: readonly string[] | null;
}

/** A selector that did not parse or a requirement that is not valid; the message is upstream's. */
export class LabelSelectorError extends Error {
  override readonly name = 'LabelSelectorError';
}

const binaryOperators: readonly LabelOperator[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const validOperators: readonly LabelOperator[] = [...binaryOperators, 'exists', '!'];

// Field paths in these messages are rendered as upstream's field.Path would render them; `undefined` stands
// for the nil path that the API server's own parsing uses.
const child = (path: string | undefined, name: string) => (path === undefined ? name : `${path}.${name}`);
const invalid = (field: string, value: string, detail: string) =>
  `${field}: Invalid value: ${value}: ${detail}`;

/** Go's strconv.ParseInt(s, 10, 64), or undefined when that fails. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(1n << 63n) && n < 1n << 63n ? n : undefined;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function aggregate(errs: string[]): string | undefined {
  const unique = [...new Set(errs)];
  if (unique.length === 0) return undefined;
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

function labelKeyError(key: string, field: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length === 0 ? undefined : invalid(field, goQuote(key), errs.join('; '));
}

/** One requirement of a selector: a key, an operator and its values. */
export class LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];

  /** Unchecked; use newRequirement() for input from users. */
  constructor(key: string, operator: LabelOperator, values: readonly string[]) {
    this.key = key;
    this.operator = operator;
    this.values = values;
  }

  /** Whether the labels satisfy this requirement (an absent key satisfies notin, != and !). */
  matches(labels: Labels | null | undefined): boolean {
    const has = labels !== null && labels !== undefined && Object.hasOwn(labels, this.key);
    const value = has ? labels[this.key] : undefined;
    switch (this.operator) {
      case 'in':
      case '=':
      case '==':
        return has && this.values.includes(value!);
      case 'notin':
      case '!=':
        return !has || !this.values.includes(value!);
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'gt':
      case 'lt': {
        if (!has) return false;
        const actual = parseInt64(value!);
        if (actual === undefined || this.values.length !== 1) return false;
        const bound = parseInt64(this.values[0]!);
        if (bound === undefined) return false;
        return this.operator === 'gt' ? actual > bound : actual < bound;
      }
    }
  }

  /** The string form, e.g. "env in (a,b)", "!canary", "tier!=db"; several values are sorted. */
  toString(): string {
    const prefix = this.operator === '!' ? '!' : '';
    const op = operatorText[this.operator];
    if (op === undefined) return prefix + this.key;
    const values = this.values.length === 1 ? this.values[0]! : safeSort(this.values).join(',');
    return this.operator === 'in' || this.operator === 'notin'
      ? `${this.key}${op}(${values})`
      : `${this.key}${op}${values}`;
  }

  /** Same key, operator and values in the same order. */
  equal(x: LabelRequirement): boolean {
    return (
      this.key === x.key &&
      this.operator === x.operator &&
      this.values.length === x.values.length &&
      this.values.every((v, i) => v === x.values[i])
    );
  }
}

const operatorText: Partial<Record<LabelOperator, string>> = {
  '=': '=',
  '==': '==',
  '!=': '!=',
  in: ' in ',
  notin: ' notin ',
  gt: '>',
  lt: '<',
};

function safeSort(values: readonly string[]): readonly string[] {
  for (let i = 1; i < values.length; i++) {
    if (values[i - 1]! > values[i]!) return [...values].sort(byteOrder);
  }
  return values;
}

/**
 * A validated requirement (upstream's NewRequirement); throws LabelSelectorError with upstream's aggregated
 * field errors. `values` null is Go's nil slice, which only changes how an empty list is printed. `path` is
 * a field path that prefixes the errors' fields.
 */
export function newRequirement(
  key: string,
  operator: LabelOperator,
  values: readonly string[] | null,
  path?: string,
): LabelRequirement {
  const errs: string[] = [];
  const keyErr = labelKeyError(key, child(path, 'key'));
  if (keyErr !== undefined) errs.push(keyErr);
  const vals = values ?? [];
  const valuePath = child(path, 'values');
  const shown = goStringSlice(values);
  switch (operator) {
    case 'in':
    case 'notin':
      if (vals.length === 0)
        errs.push(invalid(valuePath, shown, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (vals.length !== 1)
        errs.push(invalid(valuePath, shown, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (vals.length !== 0)
        errs.push(invalid(valuePath, shown, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (vals.length !== 1)
        errs.push(invalid(valuePath, shown, "for 'Gt', 'Lt' operators, exactly one value is required"));
      vals.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(
            invalid(
              `${valuePath}[${i}]`,
              goQuote(v),
              "for 'Gt', 'Lt' operators, the value must be an integer",
            ),
          );
        }
      });
      break;
    default: {
      const supported = validOperators.map((o) => goQuote(o)).join(', ');
      errs.push(
        `${child(path, 'operator')}: Unsupported value: ${goQuote(operator)}: supported values: ${supported}`,
      );
    }
  }
  vals.forEach((v, i) => {
    const valueErrs = isValidLabelValue(v);
    if (valueErrs.length > 0)
      errs.push(invalid(`${valuePath}[${i}][${key}]`, goQuote(v), valueErrs.join('; ')));
  });
  const message = aggregate(errs);
  if (message !== undefined) throw new LabelSelectorError(message);
  return new LabelRequirement(key, operator, vals);
}

function sortByKey(reqs: LabelRequirement[]): LabelRequirement[] {
  // Upstream's sort is stable for the few requirements a selector has; ours is stable always.
  return reqs.sort((a, b) => byteOrder(a.key, b.key));
}

/** A parsed label selector: requirements that must all hold, sorted by key. Immutable. */
export class LabelSelector {
  readonly #requirements: readonly LabelRequirement[];
  readonly #nothing: boolean;

  private constructor(requirements: readonly LabelRequirement[], nothing = false) {
    this.#requirements = requirements;
    this.#nothing = nothing;
  }

  static readonly #everything = new LabelSelector([]);
  static readonly #nothingSelector = new LabelSelector([], true);

  /** The selector that matches every object (an empty selector). */
  static everything(): LabelSelector {
    return LabelSelector.#everything;
  }

  /** The selector that matches nothing (what a nil metav1.LabelSelector converts to). */
  static nothing(): LabelSelector {
    return LabelSelector.#nothingSelector;
  }

  /**
   * Parses the string form, e.g. "app=web,tier!=db,env in (a,b),!canary,track"; throws LabelSelectorError
   * with upstream's message (what the API server answers to a bad `?labelSelector=`). `path` prefixes the
   * fields of validation errors, as upstream's field.WithPath option does.
   */
  static parse(selector: string, path?: string): LabelSelector {
    return new LabelSelector(sortByKey(new Parser(selector, path).parse()));
  }

  /** key=value for each entry, unvalidated (upstream's SelectorFromSet / SelectorFromValidatedSet). */
  static fromSet(set: Labels | null | undefined): LabelSelector {
    if (set === null || set === undefined) return LabelSelector.everything();
    return new LabelSelector(
      sortByKey(Object.entries(set).map(([k, v]) => new LabelRequirement(k, '=', [v]))),
    );
  }

  /** key=value for each entry, each checked as newRequirement does (upstream's ValidatedSelectorFromSet). */
  static fromValidatedSet(set: Labels | null | undefined): LabelSelector {
    if (set === null || set === undefined) return LabelSelector.everything();
    const keys = Object.keys(set).sort(byteOrder);
    return new LabelSelector(keys.map((k) => newRequirement(k, '=', [set[k]!])));
  }

  /** Whether the labels satisfy every requirement. */
  matches(labels: Labels | null | undefined): boolean {
    if (this.#nothing) return false;
    return this.#requirements.every((r) => r.matches(labels));
  }

  /** True when the selector has no requirements (it selects everything); false for nothing(). */
  empty(): boolean {
    return !this.#nothing && this.#requirements.length === 0;
  }

  /** True for the selector that selects nothing. */
  isNothing(): boolean {
    return this.#nothing;
  }

  /** The requirements, and whether the selector can be expressed by them (false for nothing()). */
  requirements(): { requirements: readonly LabelRequirement[]; selectable: boolean } {
    return { requirements: this.#requirements, selectable: !this.#nothing };
  }

  /** A selector with the extra requirements, re-sorted by key; nothing() stays nothing. */
  add(...reqs: LabelRequirement[]): LabelSelector {
    if (this.#nothing) return this;
    return new LabelSelector(sortByKey([...this.#requirements, ...reqs]));
  }

  /**
   * The value `label` must have, when the first requirement on that key pins one value (=, == or a
   * single-valued in); undefined otherwise. Indexes use it to narrow a list.
   */
  requiresExactMatch(label: string): string | undefined {
    const r = this.#requirements.find((x) => x.key === label);
    if (r === undefined) return undefined;
    if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1)
      return r.values[0];
    return undefined;
  }

  /** The canonical string: requirements sorted by key, joined by ','; "" for everything() and nothing(). */
  toString(): string {
    return this.#requirements.map((r) => r.toString()).join(',');
  }
}

const metaOperators: Record<string, LabelOperator> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * Converts a metav1.LabelSelector (upstream's LabelSelectorAsSelector): null or undefined selects nothing,
 * an empty one everything. Throws LabelSelectorError with upstream's messages for bad keys, values and
 * operators.
 */
export function labelSelectorAsSelector(ps: MetaLabelSelector | null | undefined): LabelSelector {
  if (ps === null || ps === undefined) return LabelSelector.nothing();
  const matchLabels = ps.matchLabels ?? {};
  const expressions = ps.matchExpressions ?? [];
  const labelKeys = Object.keys(matchLabels).sort(byteOrder);
  if (labelKeys.length + expressions.length === 0) return LabelSelector.everything();
  const reqs = labelKeys.map((k) => newRequirement(k, '=', [matchLabels[k]!]));
  for (const expr of expressions) {
    const op = Object.hasOwn(metaOperators, expr.operator) ? metaOperators[expr.operator] : undefined;
    if (op === undefined)
      throw new LabelSelectorError(`${goQuote(expr.operator)} is not a valid label selector operator`);
    // Upstream copies the values by appending to a nil slice, so an empty list is a nil one.
    const values = expr.values && expr.values.length > 0 ? [...expr.values] : null;
    reqs.push(newRequirement(expr.key, op, values));
  }
  return LabelSelector.everything().add(...reqs);
}

/** The selector's string for humans (upstream's FormatLabelSelector): "<none>" when empty, "<error>" if bad. */
export function formatLabelSelector(ps: MetaLabelSelector | null | undefined): string {
  let s: string;
  try {
    s = labelSelectorAsSelector(ps).toString();
  } catch {
    return '<error>';
  }
  return s.length === 0 ? '<none>' : s;
}

type Token = 'error' | 'eos' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';
interface Item {
  token: Token;
  literal: string;
}

const keywordTokens: Record<string, Token> = {
  ')': ')',
  ',': ',',
  '!': '!',
  '==': '==',
  '=': '=',
  '>': '>',
  in: 'in',
  '<': '<',
  '!=': '!=',
  notin: 'notin',
  '(': '(',
};
const tokenOf = (s: string): Token | undefined =>
  Object.hasOwn(keywordTokens, s) ? keywordTokens[s] : undefined;
const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecialSymbol = (ch: string) => '=!(),><'.includes(ch) && ch.length === 1;

// The lexer reads the string as upstream's does, including a NUL character acting as an end of input.
class Lexer {
  private pos = 0;
  private readonly s: string;
  constructor(s: string) {
    this.s = s;
  }

  private read(): string {
    if (this.pos < this.s.length) return this.s[this.pos++]!;
    return '\0';
  }

  private unread(): void {
    this.pos--;
  }

  private scanIdOrKeyword(): Item {
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === '\0') break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
    }
    return { token: tokenOf(buffer) ?? 'id', literal: buffer };
  }

  private scanSpecialSymbol(): Item {
    let last: Item | undefined;
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === '\0') break;
      if (!isSpecialSymbol(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
      const token = tokenOf(buffer);
      if (token !== undefined) {
        last = { token, literal: buffer };
      } else if (last !== undefined) {
        // The longest operator wins: "!=" rather than "!" then "=".
        this.unread();
        break;
      }
    }
    return last ?? { token: 'error', literal: `error expected: keyword found '${buffer}'` };
  }

  lex(): Item {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === '\0') return { token: 'eos', literal: '' };
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIdOrKeyword();
  }
}

type Context = 'keyAndOperator' | 'values';

const operatorTokens: Partial<Record<Token, LabelOperator>> = {
  in: 'in',
  '=': '=',
  '==': '==',
  '>': 'gt',
  '<': 'lt',
  notin: 'notin',
  '!=': '!=',
};

class Parser {
  private readonly items: Item[] = [];
  private position = 0;
  private readonly path: string | undefined;

  constructor(selector: string, path: string | undefined) {
    this.path = path;
    const lexer = new Lexer(selector);
    for (;;) {
      const item = lexer.lex();
      this.items.push(item);
      if (item.token === 'eos') break;
    }
  }

  // Inside a value list "in" and "notin" are plain identifiers.
  private lookahead(context: Context): Item {
    const item = this.items[this.position]!;
    if (context === 'values' && (item.token === 'in' || item.token === 'notin'))
      return { token: 'id', literal: item.literal };
    return item;
  }

  private consume(context: Context): Item {
    const item = this.lookahead(context);
    this.position++;
    return item;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { token, literal } = this.lookahead('values');
      if (token === 'eos') return reqs;
      if (token !== 'id' && token !== '!') {
        throw new LabelSelectorError(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
      try {
        reqs.push(this.parseRequirement());
      } catch (err) {
        throw new LabelSelectorError(`unable to parse requirement: ${(err as Error).message}`);
      }
      const next = this.consume('values');
      if (next.token === 'eos') return reqs;
      if (next.token !== ',')
        throw new LabelSelectorError(`found '${next.literal}', expected: ',' or 'end of string'`);
      const after = this.lookahead('values');
      if (after.token !== 'id' && after.token !== '!') {
        throw new LabelSelectorError(`found '${after.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    const { key, operator } = this.parseKeyAndInferOperator();
    if (operator === 'exists' || operator === '!') return newRequirement(key, operator, [], this.path);
    const op = this.parseOperator();
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, op, [...values].sort(byteOrder), this.path);
  }

  private parseKeyAndInferOperator(): { key: string; operator: LabelOperator | undefined } {
    let operator: LabelOperator | undefined;
    let item = this.consume('values');
    if (item.token === '!') {
      operator = '!';
      item = this.consume('values');
    }
    if (item.token !== 'id') throw new LabelSelectorError(`found '${item.literal}', expected: identifier`);
    // The parser checks keys with no path of its own: upstream prints the nil path as "<nil>".
    const keyErr = labelKeyError(item.literal, this.path ?? '<nil>');
    if (keyErr !== undefined) throw new LabelSelectorError(keyErr);
    const next = this.lookahead('values').token;
    if ((next === 'eos' || next === ',') && operator !== '!') operator = 'exists';
    return { key: item.literal, operator };
  }

  private parseOperator(): LabelOperator {
    const { token, literal } = this.consume('keyAndOperator');
    const op = Object.hasOwn(operatorTokens, token) ? operatorTokens[token] : undefined;
    if (op === undefined)
      throw new LabelSelectorError(`found '${literal}', expected: ${binaryOperators.join(', ')}`);
    return op;
  }

  private parseValues(): Set<string> {
    const open = this.consume('values');
    if (open.token !== '(') throw new LabelSelectorError(`found '${open.literal}' expected: '('`);
    const { token, literal } = this.lookahead('values');
    if (token === ')') {
      this.consume('values');
      return new Set(['']);
    }
    if (token !== 'id' && token !== ',') {
      throw new LabelSelectorError(`found '${literal}', expected: ',', ')' or identifier`);
    }
    const s = this.parseIdentifiersList();
    if (this.consume('values').token !== ')')
      throw new LabelSelectorError(`found '${literal}', expected: ')'`);
    return s;
  }

  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const { token, literal } = this.consume('values');
      if (token === 'id') {
        s.add(literal);
        const next = this.lookahead('values');
        if (next.token === ',') continue;
        if (next.token === ')') return s;
        throw new LabelSelectorError(`found '${next.literal}', expected: ',' or ')'`);
      } else if (token === ',') {
        // Empty entries ("(,a)", "(a,)", "(a,,b)") stand for the empty value.
        if (s.size === 0) s.add('');
        const next = this.lookahead('values').token;
        if (next === ')') {
          s.add('');
          return s;
        }
        if (next === ',') {
          this.consume('values');
          s.add('');
        }
      } else {
        throw new LabelSelectorError(`found '${literal}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead('values').token;
    if (next === 'eos' || next === ',') return new Set(['']);
    const { token, literal } = this.consume('values');
    if (token === 'id') return new Set([literal]);
    throw new LabelSelectorError(`found '${literal}', expected: identifier`);
  }
}
