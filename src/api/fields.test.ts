import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FieldSelector,
  FieldSelectorError,
  defaultMetaV1FieldSelectorConversion,
  escapeValue,
  fieldLabelConversionFunc,
  unescapeValue,
} from './fields.js';

const parseError = (s: string) => {
  try {
    FieldSelector.parse(s);
  } catch (err) {
    assert.ok(err instanceof FieldSelectorError, s);
    return err.message;
  }
  return assert.fail(`${JSON.stringify(s)} parsed`);
};

describe('FieldSelector.parse', () => {
  it("round-trips upstream's good selectors", () => {
    for (const s of ['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=a||y\\=b', 'x=a\\=\\=b']) {
      assert.equal(FieldSelector.parse(s).toString(), s, s);
    }
  });

  it('sorts terms, reads == as =, and drops empty terms', () => {
    assert.equal(FieldSelector.parse('x=a,a=x').toString(), 'a=x,x=a');
    assert.equal(FieldSelector.parse('metadata.name==web').toString(), 'metadata.name=web');
    assert.equal(FieldSelector.parse('a=a,').toString(), 'a=a');
    assert.equal(FieldSelector.parse(',a=a').toString(), 'a=a');
    assert.equal(FieldSelector.parse('=').empty(), true);
    assert.equal(FieldSelector.parse('!=').empty(), true);
    assert.equal(FieldSelector.parse('k=\\,,k2=v2').toString(), 'k2=v2,k=\\,');
    assert.equal(FieldSelector.parse('k=\\\\,k2=v2').toString(), 'k2=v2,k=\\\\');
    assert.equal(FieldSelector.parse('함=수,목=록').toString(), '목=록,함=수');
    assert.deepEqual(FieldSelector.parse('spec.nodeName!=,metadata.name=a').requirements(), [
      { field: 'metadata.name', operator: '=', value: 'a' },
      { field: 'spec.nodeName', operator: '!=', value: '' },
    ]);
  });

  it("answers bad selectors with upstream's messages", () => {
    const table: [string, string][] = [
      ['x=a||y=b', 'invalid field selector: unescaped character in value: 61'],
      ['x==a==b', 'invalid field selector: unescaped character in value: 61'],
      ['x=a,b', "invalid selector: 'x=a,b'; can't understand 'b'"],
      ['x in (a)', "invalid selector: 'x in (a)'; can't understand 'x in (a)'"],
      ['x in (a,b,c)', "invalid selector: 'x in (a,b,c)'; can't understand 'b'"],
      ['x', "invalid selector: 'x'; can't understand 'x'"],
      ['k=\\a', 'invalid field selector: invalid escape sequence: \\a'],
      ['k=\\', 'invalid field selector: invalid escape sequence: \\'],
    ];
    for (const [input, message] of table) assert.equal(parseError(input), message, input);
  });
});

describe('escaping', () => {
  it('escapes and unescapes values (upstream TestEscapeValue)', () => {
    const table: [string, string][] = [
      ['', ''],
      ['a', 'a'],
      ['=', '\\='],
      [',', '\\,'],
      ['\\', '\\\\'],
      ['\\=\\,\\', '\\\\\\=\\\\\\,\\\\'],
    ];
    for (const [plain, escaped] of table) {
      assert.equal(escapeValue(plain), escaped);
      assert.equal(unescapeValue(escaped), plain);
    }
    for (const bad of ['\\', '\\\\\\', '\\a'])
      assert.throws(() => unescapeValue(bad), /invalid escape sequence/);
    assert.throws(() => unescapeValue('a,b'), {
      message: 'invalid field selector: unescaped character in value: 44',
    });
  });
});

describe('matching', () => {
  it('matches flat field maps (upstream TestSelectorMatches)', () => {
    const fields = { foo: 'bar', baz: 'blah', complex: '=value\\,\\' };
    const yes: [string, Record<string, string>][] = [
      ['', { x: 'y' }],
      ['x=y', { x: 'y' }],
      ['x=y,z=w', { x: 'y', z: 'w' }],
      ['x!=y,z!=w', { x: 'z', z: 'a' }],
      ['notin=in', { notin: 'in' }],
      ['foo=bar,baz=blah', fields],
      ['foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\', fields],
      ['spec.nodeName=', {}],
      ['spec.nodeName!=n1', {}],
    ];
    const no: [string, Record<string, string>][] = [
      ['x=y', { x: 'z' }],
      ['x=y,z=w', { x: 'w', z: 'w' }],
      ['x!=y,z!=w', { x: 'z', z: 'w' }],
      ['foo=blah', fields],
      ['foo=bar,foobar=bar,baz=blah', fields],
      ['spec.nodeName!=', {}],
    ];
    for (const [s, f] of yes) assert.equal(FieldSelector.parse(s).matches(f), true, s);
    for (const [s, f] of no) assert.equal(FieldSelector.parse(s).matches(f), false, s);
  });

  it('has everything, nothing, sets and single terms', () => {
    assert.equal(FieldSelector.everything().matches({ x: 'y' }), true);
    assert.equal(FieldSelector.everything().empty(), true);
    assert.equal(FieldSelector.nothing().matches({}), false);
    assert.equal(FieldSelector.nothing().empty(), false);
    assert.equal(FieldSelector.fromSet({ foo: 'bar' }).matches({ foo: 'bar', baz: 'x' }), true);
    assert.equal(FieldSelector.fromSet({ foo: '=blah' }).matches({ foo: 'bar' }), false);
    assert.equal(FieldSelector.fromSet(null).empty(), true);
    assert.equal(FieldSelector.oneTermEqual('x', 'y').matches({ x: 'y' }), true);
    assert.equal(FieldSelector.oneTermNotEqual('x', 'y').matches({ x: 'y' }), false);
    assert.equal(
      FieldSelector.and(
        FieldSelector.oneTermEqual('a', '1'),
        FieldSelector.oneTermEqual('b', '2'),
      ).toString(),
      'a=1,b=2',
    );
    assert.equal(FieldSelector.and(FieldSelector.everything(), FieldSelector.nothing()).isNothing(), true);
  });

  it('reports the value a selector pins (upstream TestRequiresExactMatch)', () => {
    assert.equal(FieldSelector.fromSet({}).requiresExactMatch('test'), undefined);
    assert.equal(FieldSelector.oneTermEqual('a', 'b').requiresExactMatch('test'), undefined);
    assert.equal(FieldSelector.oneTermEqual('test', 'b').requiresExactMatch('test'), 'b');
    assert.equal(FieldSelector.oneTermEqual('test', '').requiresExactMatch('test'), '');
    assert.equal(FieldSelector.oneTermNotEqual('test', 'b').requiresExactMatch('test'), undefined);
    assert.equal(FieldSelector.parse('a=,test=b').requiresExactMatch('test'), 'b');
  });
});

describe('field label conversion', () => {
  const pods = fieldLabelConversionFunc(
    ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase'],
    { 'spec.host': 'spec.nodeName' },
  );

  it('keeps supported fields and renames old ones', () => {
    const s = FieldSelector.parse('spec.host=n1,status.phase!=Running').transform(pods);
    assert.equal(s.toString(), 'spec.nodeName=n1,status.phase!=Running');
    assert.equal(s.matches({ 'spec.nodeName': 'n1', 'status.phase': 'Pending' }), true);
  });

  it("rejects other fields with upstream's messages", () => {
    assert.throws(() => FieldSelector.parse('spec.foo=x').transform(pods), {
      name: 'FieldSelectorError',
      message: 'field label not supported: spec.foo',
    });
    assert.throws(() => FieldSelector.parse('spec.foo=x').transform(defaultMetaV1FieldSelectorConversion), {
      message: '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"',
    });
    assert.equal(
      FieldSelector.parse('metadata.name=a').transform(defaultMetaV1FieldSelectorConversion).toString(),
      'metadata.name=a',
    );
  });

  it('drops terms that a transform empties (upstream TestTransform)', () => {
    const s = FieldSelector.parse('a=b,c=d').transform((f, v) => (f === 'a' ? ['', ''] : [f, v]));
    assert.equal(s.toString(), 'c=d');
    assert.equal(
      FieldSelector.parse('a=b')
        .transform(() => ['', ''])
        .empty(),
      true,
    );
  });
});
