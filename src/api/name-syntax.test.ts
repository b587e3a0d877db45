import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isCIdentifier,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDNS1123SubdomainWithUnderscore,
  isEnvVarName,
  isHTTPHeaderName,
  isInRange,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidGroupID,
  isValidLabelValue,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  isValidUserID,
  isWildcardDNS1123Subdomain,
  regexError,
} from './name-syntax.js';

const a = (n: number) => 'a'.repeat(n);
function check(fn: (v: string) => string[], good: string[], bad: string[]) {
  for (const v of good)
    assert.deepEqual(fn(v), [], `expected ${JSON.stringify(v)} to be valid for ${fn.name}`);
  for (const v of bad)
    assert.notDeepEqual(fn(v), [], `expected ${JSON.stringify(v)} to be invalid for ${fn.name}`);
}

const labelMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const subdomainMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const dns1035Msg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const namePartMsg =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const labelValueMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('DNS names', () => {
  it('isDNS1123Label accepts and rejects as upstream', () => {
    check(
      isDNS1123Label,
      ['a', 'ab', 'abc', 'a1', 'a-1', 'a--1--2--b', '0', '01', '012', '1a', '1-a', '1--a--b--2', a(63)],
      [
        '',
        'A',
        'ABC',
        'aBc',
        'A1',
        '-',
        'a-',
        '-a',
        '1-',
        '_',
        'a_b',
        '.',
        'a.',
        '.a',
        'a.b',
        ' ',
        'a b',
        a(64),
      ],
    );
    assert.deepEqual(isDNS1123Label('Bad_Name'), [labelMsg]);
    assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
    assert.deepEqual(isDNS1123Label(a(64)), ['must be no more than 63 characters']);
    assert.deepEqual(isDNS1123Label('A'.repeat(64)), ['must be no more than 63 characters', labelMsg]);
  });

  it('isDNS1123Subdomain accepts and rejects as upstream', () => {
    check(
      isDNS1123Subdomain,
      ['a', 'a-1', '1--a--b--2', 'a.a', 'a--1--2--b.1', '0.1', 'a.b.c.d.e', '1.2.3.4.5', a(253)],
      [
        '',
        'A',
        'a-',
        '-a',
        '_',
        'a_b',
        '.',
        'a.',
        '.a',
        'a..b',
        'a b',
        'A.a',
        'a.B.c.d.e',
        'a@b',
        'a,b',
        'a:b',
        a(254),
      ],
    );
    assert.deepEqual(isDNS1123Subdomain('Bad_Name'), [subdomainMsg]);
    assert.deepEqual(isDNS1123Subdomain(a(254)), ['must be no more than 253 characters']);
    // Lengths count UTF-8 bytes, as Go's len() does.
    assert.deepEqual(isDNS1123Subdomain('é'.repeat(127)), [
      'must be no more than 253 characters',
      subdomainMsg,
    ]);
    assert.deepEqual(isDNS1123SubdomainWithUnderscore('_a.b_c'), []);
  });

  it('isDNS1035Label and wildcard subdomains', () => {
    check(
      isDNS1035Label,
      ['a', 'ab', 'a-1', 'a--1--2--b', a(63)],
      ['0', '1a', '', 'A', '-', 'a-', 'a_b', 'a.b', a(64)],
    );
    assert.deepEqual(isDNS1035Label('1abc'), [dns1035Msg]);
    check(
      isWildcardDNS1123Subdomain,
      ['*.example.com', '*.bar.com', '*.foo.bar.com'],
      ['*.*.bar.com', '*.foo.*.com', '*bar.com', 'f*.bar.com', '*'],
    );
  });
});

describe('qualified names and label values', () => {
  it('isQualifiedName accepts and rejects as upstream', () => {
    check(
      isQualifiedName,
      [
        'simple',
        'now-with-dashes',
        '1-starts-with-num',
        '1234',
        'simple/simple',
        'now.with.dots/simple',
        '1.2.3.4/5678',
        'Uppercase_Is_OK_123',
        'example.com/Uppercase_Is_OK_123',
        'requests.storage-foo',
        a(63),
        `${a(253)}/${'b'.repeat(63)}`,
      ],
      [
        'nospecialchars%^=@',
        'cantendwithadash-',
        '-cantstartwithadash-',
        'only/one/slash',
        'Example.com/abc',
        'example_com/abc',
        'example.com/',
        '/simple',
        a(64),
        `${a(254)}/abc`,
      ],
    );
    assert.deepEqual(isQualifiedName('-a'), [namePartMsg]);
    assert.deepEqual(isQualifiedName('/a'), ['prefix part must be non-empty']);
    assert.deepEqual(isQualifiedName('a/'), ['name part must be non-empty', namePartMsg]);
    assert.deepEqual(isQualifiedName('Example.com/a'), ['prefix part ' + subdomainMsg]);
    assert.deepEqual(isQualifiedName(a(64)), ['name part must be no more than 63 characters']);
    assert.deepEqual(isQualifiedName('a/b/c'), [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]);
  });

  it('isValidLabelValue accepts and rejects as upstream', () => {
    check(
      isValidLabelValue,
      ['simple', 'now-with-dashes', '1-starts-with-num', 'end-with-num-1', '1234', a(63), ''],
      [
        'nospecialchars%^=@',
        'Tama-nui-te-rā.is.Māori.sun',
        '\\backslashes\\are\\bad',
        '-starts-with-dash',
        'ends-with-dash-',
        '.starts.with.dot',
        'ends.with.dot.',
        a(64),
      ],
    );
    assert.deepEqual(isValidLabelValue('a b'), [labelValueMsg]);
    assert.deepEqual(isValidLabelValue(a(64)), ['must be no more than 63 characters']);
  });
});

describe('other identifiers', () => {
  it('isCIdentifier', () => {
    check(
      isCIdentifier,
      ['a', '_a', 'a_1', '__abc_123', 'A', 'A__1__2__B'],
      ['', '1', '1a', '-', 'a-', 'a.b', 'a b', '#a#'],
    );
    assert.deepEqual(isCIdentifier('1a'), [
      "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')",
    ]);
  });

  it('env var names, strict and relaxed', () => {
    check(
      isEnvVarName,
      ['MY_ENV.NAME', 'my.env-name', 'MyEnvName1', '_a', '-a', '.a'],
      ['', '1env', 'a=b', 'a b', '.', '..', '..a'],
    );
    assert.deepEqual(isEnvVarName('..'), ["must not be '..'"]);
    assert.deepEqual(isEnvVarName('..a'), ["must not start with '..'"]);
    assert.deepEqual(isEnvVarName('1env'), [
      "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
    ]);
    check(isRelaxedEnvVarName, ['1env', 'a b', 'a:b', '~!@#$%^&*()'], ['', 'a=b', 'é', 'a\tb']);
    assert.deepEqual(isRelaxedEnvVarName(''), ['environment variable name must be non-empty']);
    assert.deepEqual(isRelaxedEnvVarName('a=b'), [
      "a valid environment variable name must consist only of printable ASCII characters other than '='",
    ]);
  });

  it('ports', () => {
    for (const p of [1, 2, 1000, 16384, 32768, 65535]) assert.deepEqual(isValidPortNum(p), []);
    for (const p of [0, -1, 65536, 100000])
      assert.deepEqual(isValidPortNum(p), ['must be between 1 and 65535, inclusive']);
    check(
      isValidPortName,
      ['telnet', 're-mail-ck', 'pop3', 'a', 'a-1', '1-a', 'a-1-b-2-c', '1-a-2-b-3'],
      ['longerthan15characters', '', a(16), '12345', '1-2-3-4', '-begin', 'end-', 'two--hyphens', 'whois++'],
    );
    assert.deepEqual(isValidPortName('-Http--'), [
      'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'must not contain consecutive hyphens',
      'must not begin or end with a hyphen',
    ]);
    assert.deepEqual(isValidPortName('12345'), ['must contain at least one letter (a-z)']);
    assert.deepEqual(isValidPortName(a(16)), ['must be no more than 15 characters']);
  });

  it('ranges, IDs, percents, headers and ConfigMap keys', () => {
    assert.deepEqual(isInRange(5, 1, 10), []);
    assert.deepEqual(isInRange(11, 1, 10), ['must be between 1 and 10, inclusive']);
    assert.deepEqual(isValidUserID(2147483647), []);
    assert.deepEqual(isValidUserID(-1), ['must be between 0 and 2147483647, inclusive']);
    assert.deepEqual(isValidGroupID(2147483648n), ['must be between 0 and 2147483647, inclusive']);
    check(
      isValidPercent,
      ['0%', '00000%', '1%', '93%', '100%'],
      ['', '0', '100', '0.0%', '99.9%', 'hundred', ' 1%', '1% ', '-0%', '-1%', '+1%'],
    );
    assert.deepEqual(isValidPercent('1.5%'), [
      "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ]);
    check(
      isHTTPHeaderName,
      ['Accept-Encoding', 'X-Forwarded-For', 'a', '-a', '--abc-123'],
      ['', 'a,b', 'a b', 'a:b', 'a@b'],
    );
    check(
      isConfigMapKey,
      ['a', 'key.name', 'KEY_NAME', 'key-name', '.a', a(253)],
      ['', '.', '..', '..a', 'a b', 'a/b', a(254)],
    );
    assert.equal(regexError('msg', 'x+'), "msg (regex used for validation is 'x+')");
  });
});
