import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LabelRequirement,
  LabelSelector,
  LabelSelectorError,
  formatLabelSelector,
  labelSelectorAsSelector,
  newRequirement,
} from './labels.js';

const namePartMsg =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const labelValueMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const parse = (s: string) => LabelSelector.parse(s);
const parseError = (s: string) => {
  try {
    parse(s);
  } catch (err) {
    assert.ok(err instanceof LabelSelectorError, s);
    return err.message;
  }
  return assert.fail(`${JSON.stringify(s)} parsed`);
};

describe('LabelSelector.parse', () => {
  it("round-trips upstream's good selectors (spaces dropped)", () => {
    for (const s of [
      'x=a,y=b,z=c',
      '',
      'x!=a,y=b',
      'x=',
      'x= ',
      'x=,z= ',
      'x= ,z= ',
      '!x',
      'x>1',
      'x>1,z<5',
    ]) {
      assert.equal(parse(s).toString(), s.replaceAll(' ', ''), s);
    }
  });

  it('writes the canonical form: sorted by key, values sorted', () => {
    const table: [string, string][] = [
      ['app=web,tier!=db,env in (b,a),!canary,track', 'app=web,!canary,env in (a,b),tier!=db,track'],
      ['x=a,a=x', 'a=x,x=a'],
      ['x notin (abc,,def),bar,z in (),w', 'bar,w,x notin (,abc,def),z in ()'],
      ['a in (x,y,notin, z,in)', 'a in (in,notin,x,y,z)'],
      ['x in (abc,)', 'x in (,abc)'],
      ['x notin ( )', 'x notin ()'],
      ['x notin (, a)', 'x notin (,a)'],
      ['foo  in\t (abc)', 'foo in (abc)'],
      ['x notin\n (abc)', 'x notin (abc)'],
      ['\rx', 'x'],
      ['a ', 'a'],
      ['x==a', 'x==a'],
      ['notin=in', 'notin=in'],
      ['this-is-a-dns.domain.com/key-with-dash', 'this-is-a-dns.domain.com/key-with-dash'],
      [
        '0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)',
        '0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)',
      ],
      ['b=1,a=2,b!=3', 'a=2,b=1,b!=3'],
    ];
    for (const [input, canonical] of table) assert.equal(parse(input).toString(), canonical, input);
  });

  it("stops at a NUL character as upstream's lexer does", () => {
    assert.equal(parse('a \0b').toString(), 'a');
  });

  it("answers bad selectors with upstream's messages", () => {
    const table: [string, string][] = [
      ['x=a||y=b', 'unable to parse requirement: values[0][x]: Invalid value: "a||y": ' + labelValueMsg],
      ['x==a==b', "found '==', expected: ',' or 'end of string'"],
      ['!x=a', "found '=', expected: ',' or 'end of string'"],
      [
        'x<a',
        "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer",
      ],
      [
        'x>9223372036854775808',
        "unable to parse requirement: values[0]: Invalid value: \"9223372036854775808\": for 'Gt', 'Lt' operators, the value must be an integer",
      ],
      ['x in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
      ['a in (xyz abc)', "unable to parse requirement: found 'abc', expected: ',' or ')'"],
      ['x in a', "unable to parse requirement: found 'a' expected: '('"],
      ['x in (a,=)', "unable to parse requirement: found '=', expected: ',', or identifier"],
      ['a notin(', "unable to parse requirement: found '', expected: ',', ')' or identifier"],
      ['x=(a)', "unable to parse requirement: found '(', expected: identifier"],
      ['x exists', "unable to parse requirement: found 'exists', expected: in, notin, =, ==, !=, gt, lt"],
      ['x nott in (y)', "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"],
      ['x=a b', "found 'b', expected: ',' or 'end of string'"],
      ['a in (xyz)b notin ()', "found 'b', expected: ',' or 'end of string'"],
      ['x=a,', "found '', expected: identifier after ','"],
      ['x,,y', "found ',', expected: identifier after ','"],
      [',x,y', "found ',', expected: !, identifier, or 'end of string'"],
      ['(', "found '(', expected: !, identifier, or 'end of string'"],
      ['a (', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
      ['-a', `unable to parse requirement: <nil>: Invalid value: "-a": ${namePartMsg}`],
      ['/a', 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'],
      ['x=a_', `unable to parse requirement: values[0][x]: Invalid value: "a_": ${labelValueMsg}`],
      [
        'a/b/c',
        "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
      [
        `x=${'a'.repeat(64)}`,
        `unable to parse requirement: values[0][x]: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
      ],
    ];
    for (const [input, message] of table) assert.equal(parseError(input), message, input);
  });

  it('prefixes validation errors with a given field path', () => {
    assert.equal(
      (() => {
        try {
          LabelSelector.parse('x=a_', 'spec.selector');
        } catch (err) {
          return (err as Error).message;
        }
        return '';
      })(),
      `unable to parse requirement: spec.selector.values[0][x]: Invalid value: "a_": ${labelValueMsg}`,
    );
  });
});

describe('matching', () => {
  it('matches label sets as upstream (TestSelectorMatches)', () => {
    const yes: [string, Record<string, string>][] = [
      ['', { x: 'y' }],
      ['x=y', { x: 'y' }],
      ['x=y,z=w', { x: 'y', z: 'w' }],
      ['x!=y,z!=w', { x: 'z', z: 'a' }],
      ['notin=in', { notin: 'in' }],
      ['x', { x: 'z' }],
      ['!x', { y: 'z' }],
      ['x>1', { x: '2' }],
      ['x<1', { x: '0' }],
      ['x notin (a)', {}],
      ['x!=a', {}],
      ['x in (a,b)', { x: 'b' }],
      ['x=', { x: '' }],
      ['foo=bar,baz=blah', { foo: 'bar', baz: 'blah' }],
    ];
    const no: [string, Record<string, string>][] = [
      ['x=z', {}],
      ['x=y', { x: 'z' }],
      ['x=y,z=w', { x: 'w', z: 'w' }],
      ['x!=y,z!=w', { x: 'z', z: 'w' }],
      ['x', { y: 'z' }],
      ['!x', { x: 'z' }],
      ['x>1', { x: '0' }],
      ['x<1', { x: '2' }],
      ['x>1', { x: 'v2' }],
      ['x>1', {}],
      ['x in (a,b)', { x: 'c' }],
      ['x=', {}],
      ['foo=bar,foobar=bar,baz=blah', { foo: 'bar', baz: 'blah' }],
    ];
    for (const [s, labels] of yes)
      assert.equal(parse(s).matches(labels), true, `${s} ${JSON.stringify(labels)}`);
    for (const [s, labels] of no)
      assert.equal(parse(s).matches(labels), false, `${s} ${JSON.stringify(labels)}`);
    // Negative bounds cannot be parsed (they are no valid label values) but compare numerically when built.
    assert.equal(new LabelRequirement('x', 'gt', ['-5']).matches({ x: '-4' }), true);
    assert.equal(new LabelRequirement('x', 'lt', ['10']).matches({ x: '9' }), true);
    assert.equal(new LabelRequirement('x', 'lt', ['10']).matches({ x: '10' }), false);
    assert.equal(parse('!x').matches(null), true);
    assert.equal(parse('x').matches(undefined), false);
    // Inherited properties are not labels.
    assert.equal(parse('constructor').matches({}), false);
  });

  it('has everything and nothing', () => {
    assert.equal(LabelSelector.everything().matches({ x: 'y' }), true);
    assert.equal(LabelSelector.everything().empty(), true);
    assert.equal(LabelSelector.everything().toString(), '');
    assert.equal(LabelSelector.nothing().matches({ x: 'y' }), false);
    assert.equal(LabelSelector.nothing().matches({}), false);
    assert.equal(LabelSelector.nothing().empty(), false);
    assert.equal(LabelSelector.nothing().toString(), '');
    assert.equal(LabelSelector.nothing().requirements().selectable, false);
    assert.equal(
      LabelSelector.nothing()
        .add(new LabelRequirement('a', 'exists', []))
        .isNothing(),
      true,
    );
    assert.equal(parse('').empty(), true);
  });

  it('builds selectors from sets and adds requirements in key order', () => {
    assert.equal(LabelSelector.fromSet({ b: '2', a: '1' }).toString(), 'a=1,b=2');
    assert.equal(LabelSelector.fromSet({}).empty(), true);
    assert.equal(LabelSelector.fromSet(null).matches({ a: 'b' }), true);
    assert.throws(() => LabelSelector.fromValidatedSet({ a: 'b c' }), LabelSelectorError);
    const added = parse('key in (value)').add(
      newRequirement('key2', '=', ['value2']),
      newRequirement('a', 'exists', []),
    );
    assert.equal(added.toString(), 'a,key in (value),key2=value2');
  });

  it('reports the value a selector pins for a key', () => {
    const s = parse('a=1,b in (2),c in (3,4),d!=5,e==6');
    assert.equal(s.requiresExactMatch('a'), '1');
    assert.equal(s.requiresExactMatch('b'), '2');
    assert.equal(s.requiresExactMatch('c'), undefined);
    assert.equal(s.requiresExactMatch('d'), undefined);
    assert.equal(s.requiresExactMatch('e'), '6');
    assert.equal(s.requiresExactMatch('z'), undefined);
  });
});

describe('newRequirement', () => {
  const error = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  };

  it("validates with upstream's aggregated field errors", () => {
    assert.equal(
      error(() => newRequirement('x', 'in', [])),
      "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
    );
    assert.equal(
      error(() => newRequirement('x', 'in', null)),
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    );
    assert.equal(
      error(() => newRequirement('x', 'exists', ['a'])),
      'values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist',
    );
    assert.equal(
      error(() => newRequirement('x', 'bogus' as 'in', [])),
      'operator: Unsupported value: "bogus": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"',
    );
    assert.equal(
      error(() => newRequirement('Bad Key', '=', ['a b', 'c'])),
      `[key: Invalid value: "Bad Key": ${namePartMsg}, values: Invalid value: []string{"a b", "c"}: exact-match compatibility requires one single value, values[0][Bad Key]: Invalid value: "a b": ${labelValueMsg}]`,
    );
    assert.equal(
      error(() => newRequirement('x', 'gt', ['a', '-1'])),
      `[values: Invalid value: []string{"a", "-1"}: for 'Gt', 'Lt' operators, exactly one value is required, values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer, values[1][x]: Invalid value: "-1": ${labelValueMsg}]`,
    );
    assert.equal(
      error(() => newRequirement('k'.repeat(64), 'exists', [])),
      `key: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`,
    );
    assert.equal(
      error(() => newRequirement('x', '=', ['a'], 'spec')),
      '',
    );
  });

  it('prints each operator as upstream (TestToString)', () => {
    const s = LabelSelector.everything().add(
      newRequirement('x', 'in', ['def', 'abc']),
      newRequirement('y', 'notin', ['jkl']),
      newRequirement('z', 'exists', []),
    );
    assert.equal(s.toString(), 'x in (abc,def),y notin (jkl),z');
    const t = LabelSelector.everything().add(
      newRequirement('x', 'gt', ['2']),
      newRequirement('y', 'lt', ['8']),
      newRequirement('z', '!', []),
    );
    assert.equal(t.toString(), 'x>2,y<8,!z');
    assert.equal(newRequirement('z', 'notin', ['']).toString(), 'z notin ()');
    assert.equal(newRequirement('x', '=', ['a']).equal(newRequirement('x', '=', ['a'])), true);
    assert.equal(newRequirement('x', '=', ['a']).equal(newRequirement('x', '==', ['a'])), false);
  });
});

describe('labelSelectorAsSelector', () => {
  it('converts matchLabels and matchExpressions', () => {
    const s = labelSelectorAsSelector({
      matchLabels: { app: 'web', tier: 'fe' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'track', operator: 'Exists' },
        { key: 'zone', operator: 'NotIn', values: ['b'] },
      ],
    });
    assert.equal(s.toString(), 'app=web,!canary,env in (dev,prod),tier=fe,track,zone notin (b)');
    assert.equal(s.matches({ app: 'web', tier: 'fe', env: 'prod', track: '1', zone: 'a' }), true);
    assert.equal(s.matches({ app: 'web', tier: 'fe', env: 'prod', track: '1', canary: 'x' }), false);
  });

  it('turns nil into nothing and empty into everything', () => {
    assert.equal(labelSelectorAsSelector(null).isNothing(), true);
    assert.equal(labelSelectorAsSelector(undefined).matches({}), false);
    assert.equal(labelSelectorAsSelector({}).empty(), true);
    assert.equal(
      labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] }).matches({ a: 'b' }),
      true,
    );
  });

  it("fails with upstream's messages", () => {
    const error = (ps: Parameters<typeof labelSelectorAsSelector>[0]) => {
      try {
        labelSelectorAsSelector(ps);
      } catch (err) {
        assert.ok(err instanceof LabelSelectorError);
        return err.message;
      }
      return '';
    };
    assert.equal(
      error({ matchExpressions: [{ key: 'a', operator: 'In' }] }),
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    );
    assert.equal(
      error({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] }),
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    );
    assert.equal(
      error({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
    );
    assert.equal(
      error({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }),
      '"Gt" is not a valid label selector operator',
    );
    assert.equal(error({ matchLabels: { 'bad key': 'v' } }), `key: Invalid value: "bad key": ${namePartMsg}`);
    assert.equal(
      error({ matchLabels: { app: 'bad value' } }),
      `values[0][app]: Invalid value: "bad value": ${labelValueMsg}`,
    );
  });

  it('formats selectors for humans', () => {
    assert.equal(formatLabelSelector({ matchLabels: { a: 'b' } }), 'a=b');
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(formatLabelSelector(null), '<none>');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Foo' }] }), '<error>');
  });
});
