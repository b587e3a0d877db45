import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldError } from './field-errors.js';
import { newPath } from './field-errors.js';
import type { ObjectMeta } from './names.js';
import {
  isDNS1123Label,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  totalAnnotationSizeLimitB,
  validateAnnotations,
  validateFieldManager,
  validateLabelSelector,
  validateLabels,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validatePathSegmentName,
} from './names.js';

const subdomainMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const labelMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const namePartMsg =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const labelValueMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const texts = (errs: FieldError[]) => errs.map((e) => e.toString());
const meta = newPath('metadata');

describe('name validators', () => {
  it("let a generateName prefix end in a dash, as upstream's masking does", () => {
    assert.deepEqual(nameIsDNSSubdomain('foo-', true), []);
    assert.deepEqual(nameIsDNSSubdomain('foo-', false), [subdomainMsg]);
    assert.deepEqual(nameIsDNSSubdomain('a-', true), []);
    assert.deepEqual(nameIsDNSSubdomain('ab--', true), []);
    assert.deepEqual(nameIsDNSSubdomain('-', true), [subdomainMsg]);
    assert.deepEqual(nameIsDNSSubdomain('Foo-', true), [subdomainMsg]);
    // Upstream replaces the last two characters with 'a', so a dot before the dash slips through.
    assert.deepEqual(nameIsDNSSubdomain('a.-', true), []);
    assert.deepEqual(nameIsDNSLabel('web-', true), []);
    assert.deepEqual(nameIsDNSLabel('a.b-', true), ['must not contain dots']);
    assert.deepEqual(nameIsDNS1035Label('1web-', true).length, 1);
    assert.deepEqual(nameIsDNSSubdomain('é-', true), [subdomainMsg]);
    // The stand-in is one byte shorter than the prefix, so a 254-byte prefix passes the 253 limit.
    assert.deepEqual(nameIsDNSSubdomain('a'.repeat(253) + '-', true), []);
    assert.deepEqual(nameIsDNSSubdomain('a'.repeat(254) + '-', true), [
      'must be no more than 253 characters',
    ]);
    assert.deepEqual(isDNS1123Label('ok'), []);
  });

  it("checks path segments, the rule for every object's name", () => {
    assert.deepEqual(validatePathSegmentName('.', false), ["may not be '.'"]);
    assert.deepEqual(validatePathSegmentName('..', false), ["may not be '..'"]);
    assert.deepEqual(validatePathSegmentName('a/b%c', false), ["may not contain '/'", "may not contain '%'"]);
    assert.deepEqual(validatePathSegmentName('..', true), []);
    assert.deepEqual(validatePathSegmentName('a/', true), ["may not contain '/'"]);
    assert.deepEqual(validatePathSegmentName('Any_Name', false), []);
  });
});

describe('validateObjectMeta', () => {
  it('requires a name or generateName, and a namespace by scope', () => {
    assert.deepEqual(texts(validateObjectMeta({}, true, nameIsDNSSubdomain, meta)), [
      'metadata.name: Required value: name or generateName is required',
      'metadata.namespace: Required value',
    ]);
    assert.deepEqual(
      texts(validateObjectMeta({ name: 'n', namespace: 'default' }, false, nameIsDNSSubdomain, meta)),
      ['metadata.namespace: Forbidden: not allowed on this type'],
    );
    assert.deepEqual(
      validateObjectMeta({ name: 'test', generateName: 'foo-' }, false, nameIsDNSSubdomain, newPath('field')),
      [],
    );
    assert.deepEqual(
      validateObjectMeta({ name: 'n', namespace: 'default' }, true, nameIsDNSSubdomain, meta),
      [],
    );
  });

  it('checks names through the given function and namespaces as DNS labels', () => {
    assert.deepEqual(
      texts(validateObjectMeta({ name: 'Bad_Name', namespace: 'foo.bar' }, true, nameIsDNSSubdomain, meta)),
      [
        `metadata.name: Invalid value: "Bad_Name": ${subdomainMsg}`,
        'metadata.namespace: Invalid value: "foo.bar": must not contain dots',
      ],
    );
    assert.deepEqual(
      texts(validateObjectMeta({ generateName: 'Foo-', name: 'x' }, false, nameIsDNSSubdomain, meta)),
      [`metadata.generateName: Invalid value: "Foo-": ${subdomainMsg}`],
    );
    assert.deepEqual(
      texts(validateObjectMeta({ name: 'n', namespace: 'N'.repeat(64) }, true, nameIsDNSSubdomain, meta)),
      [
        `metadata.namespace: Invalid value: "${'N'.repeat(64)}": must be no more than 63 characters`,
        `metadata.namespace: Invalid value: "${'N'.repeat(64)}": ${labelMsg}`,
      ],
    );
  });

  it('checks generation, labels, annotations, owners, finalizers and managed fields', () => {
    const m: ObjectMeta = {
      name: 'n',
      generation: -1,
      labels: { 'bad key': 'ok', app: 'bad value' },
      annotations: { 'Example.com/UpperCase': 'fine', '-bad': 'x' },
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Event', name: 'e', uid: 'u' },
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: 'u1', controller: true },
        { apiVersion: '', kind: '', name: '', uid: '', controller: true },
      ],
      finalizers: ['orphan', 'foregroundDeletion', 'Bad Finalizer'],
      managedFields: [
        {
          manager: 'kube\u0007ctl',
          operation: 'Patch',
          fieldsType: 'FieldsV2',
          subresource: 's'.repeat(257),
        },
      ],
    };
    const errs = validateObjectMeta(m, false, nameIsDNSSubdomain, meta);
    assert.deepEqual(texts(errs), [
      'metadata.generation: Invalid value: -1: must be greater than or equal to 0',
      `metadata.labels: Invalid value: "bad value": ${labelValueMsg}`,
      `metadata.labels: Invalid value: "bad key": ${namePartMsg}`,
      `metadata.annotations: Invalid value: "-bad": ${namePartMsg}`,
      'metadata.ownerReferences: Invalid value: v1.OwnerReference{APIVersion:"v1", Kind:"Event", Name:"e", UID:"u", Controller:(*bool)(nil), BlockOwnerDeletion:(*bool)(nil)}: /v1, Kind=Event is disallowed from being an owner',
      'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
      'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
      'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
      'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
      'metadata.ownerReferences: Invalid value: []v1.OwnerReference{v1.OwnerReference{APIVersion:"v1", Kind:"Event", Name:"e", UID:"u", Controller:(*bool)(nil), BlockOwnerDeletion:(*bool)(nil)}, v1.OwnerReference{APIVersion:"apps/v1", Kind:"ReplicaSet", Name:"a", UID:"u1", Controller:(*bool)(0xc000010000), BlockOwnerDeletion:(*bool)(nil)}, v1.OwnerReference{APIVersion:"", Kind:"", Name:"", UID:"", Controller:(*bool)(0xc000010000), BlockOwnerDeletion:(*bool)(nil)}}: Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and /',
      `metadata.finalizers: Invalid value: "Bad Finalizer": ${namePartMsg}`,
      'metadata.finalizers: Invalid value: []string{"orphan", "foregroundDeletion", "Bad Finalizer"}: finalizer orphan and foregroundDeletion cannot be both set',
      'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
      'metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
      'metadata.managedFields[0].manager: Invalid value: "kube\\actl": invalid character U+0007 (at position 4)',
      'metadata.managedFields[0].subresource: Too long: may not be more than 256 bytes',
    ]);
    assert.equal(errs[0]!.origin, 'minimum');
    assert.equal(errs[2]!.origin, 'labelKey');
  });

  it('limits annotations to 256 KiB in all', () => {
    assert.deepEqual(
      validateAnnotations({ a: 'b'.repeat(totalAnnotationSizeLimitB - 1) }, newPath('field')),
      [],
    );
    assert.deepEqual(
      validateAnnotations(
        {
          a: 'b'.repeat(totalAnnotationSizeLimitB / 2 - 1),
          c: 'd'.repeat(totalAnnotationSizeLimitB / 2 - 1),
        },
        newPath('f'),
      ),
      [],
    );
    assert.deepEqual(
      texts(validateAnnotations({ a: 'b'.repeat(totalAnnotationSizeLimitB) }, meta.child('annotations'))),
      ['metadata.annotations: Too long: may not be more than 262144 bytes'],
    );
    // Bytes count, not characters.
    assert.equal(
      validateAnnotations({ a: 'é'.repeat(totalAnnotationSizeLimitB / 2) }, newPath('f')).length,
      1,
    );
    assert.deepEqual(texts(validateAnnotations({ ['a'.repeat(254)]: 'bar' }, newPath('f'))), [
      `f: Invalid value: "${'a'.repeat(254)}": name part must be no more than 63 characters`,
    ]);
    assert.deepEqual(validateLabels(null, newPath('l')), []);
  });

  it('checks field manager names', () => {
    assert.deepEqual(validateFieldManager('kubectl', newPath('fieldManager')), []);
    assert.deepEqual(texts(validateFieldManager('m'.repeat(129), newPath('fieldManager'))), [
      'fieldManager: Too long: may not be more than 128 bytes',
    ]);
    assert.deepEqual(texts(validateFieldManager('é\u00a0', newPath('fieldManager'))), [
      'fieldManager: Invalid value: "é\\u00a0": invalid character U+00A0 (at position 2)',
    ]);
  });
});

describe('validateObjectMetaUpdate', () => {
  const old: ObjectMeta = {
    name: 'a',
    namespace: 'ns',
    uid: 'u1',
    resourceVersion: '5',
    generation: 3,
    creationTimestamp: '2024-01-01T00:00:00Z',
  };

  it('accepts an unchanged identity, even with the timestamp written another way', () => {
    assert.deepEqual(
      validateObjectMetaUpdate({ ...old, creationTimestamp: '2024-01-01T01:00:00+01:00' }, old, meta),
      [],
    );
  });

  it("rejects changes to what may not change, with upstream's messages", () => {
    const errs = validateObjectMetaUpdate(
      {
        ...old,
        name: 'b',
        uid: 'u2',
        resourceVersion: '',
        generation: 2,
        creationTimestamp: '2024-01-02T03:04:05Z',
        deletionTimestamp: '2024-02-01T00:00:00.5Z',
        deletionGracePeriodSeconds: 10,
      },
      old,
      meta,
    );
    assert.deepEqual(texts(errs), [
      'metadata.resourceVersion: Invalid value: "": must be specified for an update',
      'metadata.generation: Invalid value: 2: must not be decremented',
      'metadata.name: Invalid value: "b": field is immutable',
      'metadata.uid: Invalid value: "u2": field is immutable',
      'metadata.creationTimestamp: Invalid value: 2024-01-02 03:04:05 +0000 UTC: field is immutable',
      'metadata.deletionTimestamp: Invalid value: 2024-02-01 00:00:00.5 +0000 UTC: field is immutable',
      'metadata.deletionGracePeriodSeconds: Invalid value: 10: field is immutable',
    ]);
    const deleting: ObjectMeta = {
      ...old,
      deletionTimestamp: '2024-02-01T00:00:00Z',
      deletionGracePeriodSeconds: 30,
      finalizers: ['a'],
    };
    assert.deepEqual(
      texts(validateObjectMetaUpdate({ ...deleting, finalizers: ['a', 'z', 'b'] }, deleting, meta)),
      [
        'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b", "z"}',
      ],
    );
    assert.deepEqual(
      texts(
        validateObjectMetaUpdate(
          { ...deleting, deletionTimestamp: null, deletionGracePeriodSeconds: null },
          deleting,
          meta,
        ),
      ),
      [
        'metadata.deletionTimestamp: Invalid value: null: field is immutable',
        'metadata.deletionGracePeriodSeconds: Invalid value: null: field is immutable',
      ],
    );
  });
});

describe('validateLabelSelector', () => {
  const sel = newPath('spec', 'selector');

  it("reports match expressions with upstream's messages", () => {
    const errs = validateLabelSelector(
      {
        matchLabels: { app: 'bad value' },
        matchExpressions: [
          { key: 'a', operator: 'In' },
          { key: 'b', operator: 'Exists', values: ['x'] },
          { key: 'c', operator: 'Gt', values: ['1'] },
          { key: '-d', operator: 'NotIn', values: ['ok', 'not ok'] },
        ],
      },
      {},
      sel,
    );
    assert.deepEqual(texts(errs), [
      `spec.selector.matchLabels: Invalid value: "bad value": ${labelValueMsg}`,
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      'spec.selector.matchExpressions[2].operator: Invalid value: "Gt": not a valid selector operator',
      `spec.selector.matchExpressions[3].key: Invalid value: "-d": ${namePartMsg}`,
      `spec.selector.matchExpressions[3].values[1]: Invalid value: "not ok": ${labelValueMsg}`,
    ]);
  });

  it('honours the compatibility options', () => {
    const ps = { matchExpressions: [{ key: 'a', operator: 'Foo', values: ['not ok'] }] };
    assert.deepEqual(
      validateLabelSelector(
        ps,
        { allowUnknownOperatorInRequirement: true, allowInvalidLabelValueInSelector: true },
        sel,
      ),
      [],
    );
    assert.deepEqual(validateLabelSelector(null, {}, sel), []);
  });
});
