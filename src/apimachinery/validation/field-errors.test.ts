import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldError } from './field-errors.js';
import {
  GoValue,
  aggregateMessage,
  field,
  goFloat,
  groupKindString,
  invalidMessage,
  newPath,
  statusCauses,
} from './field-errors.js';

const subdomainMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('Path', () => {
  it("formats children, indexes and keys as upstream's field.Path", () => {
    assert.equal(
      newPath('spec', 'containers').index(0).child('image').toString(),
      'spec.containers[0].image',
    );
    assert.equal(newPath('metadata', 'labels').key('app').toString(), 'metadata.labels[app]');
    assert.equal(
      newPath('metadata').child('annotations').key('example.com/x').toString(),
      'metadata.annotations[example.com/x]',
    );
    assert.equal(
      newPath('spec').child('template', 'spec').child('volumes').index(2).key('k').index(1).toString(),
      'spec.template.spec.volumes[2][k][1]',
    );
    assert.equal(newPath('a').index(0).index(1).toString(), 'a[0][1]');
    // A root without a name prints as an empty subscript, as upstream's does.
    assert.equal(newPath('').toString(), '[]');
    assert.equal(newPath('spec', 'replicas').root().toString(), 'spec');
  });

  it('never changes a path it derives from', () => {
    const spec = newPath('spec');
    spec.child('a');
    spec.index(3);
    assert.equal(spec.toString(), 'spec');
  });
});

describe('FieldError texts', () => {
  const p = newPath('spec', 'x');
  it("renders every error type as upstream's ErrorList items", () => {
    const table: [FieldError, string][] = [
      [
        field.required(newPath('spec', 'containers').index(0).child('image'), ''),
        'spec.containers[0].image: Required value',
      ],
      [
        field.required(newPath('metadata', 'name'), 'name or generateName is required'),
        'metadata.name: Required value: name or generateName is required',
      ],
      [
        field.invalid(newPath('metadata', 'name'), 'Bad_Name', subdomainMsg),
        `metadata.name: Invalid value: "Bad_Name": ${subdomainMsg}`,
      ],
      [
        field.notSupported(newPath('spec', 'restartPolicy'), 'Sometimes', ['Always', 'Never', 'OnFailure']),
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
      ],
      [field.notSupported(p, 'v', []), 'spec.x: Unsupported value: "v"'],
      [
        field.duplicate(newPath('spec', 'containers').index(1).child('name'), 'web'),
        'spec.containers[1].name: Duplicate value: "web"',
      ],
      [field.notFound(p, 'y'), 'spec.x: Not found: "y"'],
      [field.forbidden(p, 'may not be set'), 'spec.x: Forbidden: may not be set'],
      [field.forbidden(p, ''), 'spec.x: Forbidden'],
      [
        field.tooLong(newPath('metadata', 'annotations'), '', 262144),
        'metadata.annotations: Too long: may not be more than 262144 bytes',
      ],
      [field.tooLong(p, 'xxxx', -1), 'spec.x: Too long: value is too long'],
      [field.tooMany(p, 5, 3), 'spec.x: Too many: 5: must have at most 3 items'],
      [field.tooMany(p, -1, 3), 'spec.x: Too many: must have at most 3 items'],
      [field.tooMany(p, 5, -1), 'spec.x: Too many: 5: has too many items'],
      [field.internalError(newPath('spec'), new Error('boom')), 'spec: Internal error: boom'],
      [
        field.typeInvalid(newPath('spec', 'replicas'), 'two', 'must be of type integer'),
        'spec.replicas: Invalid value: "two": must be of type integer',
      ],
      [field.invalid(null, null, ''), '<nil>: Invalid value: null'],
    ];
    for (const [err, text] of table) assert.equal(err.toString(), text);
    assert.equal(field.required(p, '').type, 'FieldValueRequired');
    assert.equal(field.typeInvalid(p, 1, '').type, 'FieldValueTypeInvalid');
    assert.equal(field.internalError(p, 'x').type, 'InternalError');
  });

  it('renders bad values as Go prints them', () => {
    const body = (v: unknown) => field.invalid(p, v, '').errorBody();
    assert.equal(body(-1), 'Invalid value: -1');
    assert.equal(body(3n), 'Invalid value: 3');
    assert.equal(body(0.5), 'Invalid value: 0.5');
    assert.equal(body(1e-7), 'Invalid value: 1e-07');
    assert.equal(body(true), 'Invalid value: true');
    assert.equal(body(undefined), 'Invalid value: null');
    assert.equal(body('a\nb'), 'Invalid value: "a\\nb"');
    assert.equal(body(['a', 'b']), 'Invalid value: []string{"a", "b"}');
    assert.equal(body([]), 'Invalid value: []string{}');
    assert.equal(body({ b: 'x', a: 'y' }), 'Invalid value: map[string]string{"a":"y", "b":"x"}');
    assert.equal(
      body({ b: 'x', a: 1, c: ['s', 2, null, true], d: { k: 'v' } }),
      'Invalid value: map[string]interface {}{"a":1, "b":"x", "c":[]interface {}{"s", 2, interface {}(nil), true}, "d":map[string]interface {}{"k":"v"}}',
    );
    assert.equal(body(['a', 1.5, 3]), 'Invalid value: []interface {}{"a", 1.5, 3}');
    assert.equal(
      body(new GoValue('2024-01-01 00:00:00 +0000 UTC')),
      'Invalid value: 2024-01-01 00:00:00 +0000 UTC',
    );
  });

  it("prints floats as Go's %v", () => {
    const table: [number, string][] = [
      [0.5, '0.5'],
      [1e6, '1e+06'],
      [1234567.5, '1.2345675e+06'],
      [999999.5, '999999.5'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1e21, '1e+21'],
      [1e100, '1e+100'],
      [-2.5, '-2.5'],
      [0.1 + 0.2, '0.30000000000000004'],
      [5e-324, '5e-324'],
      [NaN, 'NaN'],
      [Infinity, '+Inf'],
      [-0, '-0'],
    ];
    for (const [v, text] of table) assert.equal(goFloat(v), text, String(v));
  });

  it('records origins without changing the text', () => {
    const err = field
      .invalid(p, -1, 'must be greater than or equal to 0')
      .withOrigin('minimum')
      .markCoveredByDeclarative();
    assert.equal(err.origin, 'minimum');
    assert.equal(err.coveredByDeclarative, true);
    assert.equal(err.toString(), 'spec.x: Invalid value: -1: must be greater than or equal to 0');
  });
});

describe('the 422 Status', () => {
  const a = field.required(newPath('spec', 'selector'), '');
  const b = field.invalid(newPath('spec', 'replicas'), -1, 'must be greater than or equal to 0');

  it('aggregates one error as is and several in brackets, without duplicates', () => {
    assert.equal(aggregateMessage([]), undefined);
    assert.equal(aggregateMessage([a]), 'spec.selector: Required value');
    assert.equal(aggregateMessage([a, a]), 'spec.selector: Required value');
    assert.equal(
      aggregateMessage([a, b, a]),
      '[spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]',
    );
  });

  it('words the message as NewInvalid', () => {
    assert.equal(groupKindString({ group: 'apps', kind: 'Deployment' }), 'Deployment.apps');
    assert.equal(groupKindString({ group: '', kind: 'Pod' }), 'Pod');
    assert.equal(
      invalidMessage({ group: 'apps', kind: 'Deployment' }, 'x', [a, b]),
      'Deployment.apps "x" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]',
    );
    assert.equal(
      invalidMessage({ group: '', kind: 'Pod' }, 'p', [a]),
      'Pod "p" is invalid: spec.selector: Required value',
    );
    assert.equal(invalidMessage({ group: '', kind: 'Pod' }, 'p', []), 'Pod "p" is invalid');
  });

  it('gives one Status cause per error', () => {
    assert.deepEqual(statusCauses([a, a]), [
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' },
    ]);
    assert.deepEqual(statusCauses([a, b, field.internalError(null, 'x')]), [
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' },
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: -1: must be greater than or equal to 0',
        field: 'spec.replicas',
      },
      { reason: 'InternalError', message: 'Internal error: x', field: '<nil>' },
    ]);
  });
});
