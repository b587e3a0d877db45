import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goQuote, goStringSlice, isGoPrintable, utf8Length } from './go-quote.js';

describe('goQuote', () => {
  it("quotes as Go's strconv.Quote", () => {
    const table: [string, string][] = [
      ['', '""'],
      ['abc', '"abc"'],
      ['a"b', '"a\\"b"'],
      ['a\\b', '"a\\\\b"'],
      ['tab\there', '"tab\\there"'],
      ['\n\r\x07\b\f\v', '"\\n\\r\\a\\b\\f\\v"'],
      ['\x00\x1f\x7f', '"\\x00\\x1f\\x7f"'],
      ['Māori 日本 😀', '"Māori 日本 😀"'],
      ['\u00a0', '"\\u00a0"'],
      ['\u200b', '"\\u200b"'],
      ['\u{e0001}', '"\\U000e0001"'],
    ];
    for (const [input, quoted] of table) assert.equal(goQuote(input), quoted, JSON.stringify(input));
  });

  it('writes []string as %#v does', () => {
    assert.equal(goStringSlice([]), '[]string{}');
    assert.equal(goStringSlice(null), '[]string(nil)');
    assert.equal(goStringSlice(['a', 'b"']), '[]string{"a", "b\\""}');
  });

  it('knows printable characters and UTF-8 lengths', () => {
    assert.equal(isGoPrintable(' '), true);
    assert.equal(isGoPrintable('\u3000'), false);
    assert.equal(utf8Length('aé日😀'), 1 + 2 + 3 + 4);
  });
});
