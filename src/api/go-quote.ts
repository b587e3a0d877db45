// Upstream's error messages print values with Go's fmt verbs (%q for strings, %#v for slices). kubectl users
// read those texts, so we render values the same way.

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** True for what Go's unicode.IsPrint accepts: letters, marks, numbers, punctuation, symbols and ASCII space. */
export function isGoPrintable(ch: string): boolean {
  return ch === ' ' || printable.test(ch);
}

const shortEscapes: Record<number, string> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
};

/** A string as Go's strconv.Quote (and so fmt's %q) writes it: double-quoted, non-printable runes escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate cannot reach Go (its JSON decoder turns it into U+FFFD, which Go prints as is).
      out += '\ufffd';
    } else if (isGoPrintable(ch)) {
      out += ch;
    } else if (shortEscapes[cp] !== undefined) {
      out += shortEscapes[cp];
    } else if (cp < 0x20 || cp === 0x7f) {
      out += '\\x' + cp.toString(16).padStart(2, '0');
    } else if (cp < 0x10000) {
      out += '\\u' + cp.toString(16).padStart(4, '0');
    } else {
      out += '\\U' + cp.toString(16).padStart(8, '0');
    }
  }
  return out + '"';
}

/** A []string as Go's %#v writes it; `nil` selects the form of a nil slice. */
export function goStringSlice(values: readonly string[] | null): string {
  if (values === null) return '[]string(nil)';
  return `[]string{${values.map(goQuote).join(', ')}}`;
}

/** The number of bytes of `s` in UTF-8, which is what Go's len() counts in the length limits. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
