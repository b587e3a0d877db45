import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { field, newPath } from '../validation/field-errors.js';
import { apiErrors, isStatusError, qualifiedResource } from './status-error.js';

const pods = { group: '', resource: 'pods' };
const deployments = { group: 'apps', resource: 'deployments' };

describe('API status errors', () => {
  it('qualifies resources outside the core group with the group', () => {
    assert.equal(qualifiedResource(pods), 'pods');
    assert.equal(qualifiedResource(deployments), 'deployments.apps');
  });

  it('words NotFound, AlreadyExists and Conflict as upstream', () => {
    const nf = apiErrors.notFound(deployments, 'web');
    assert.deepEqual(nf.status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'deployments.apps "web" not found',
      reason: 'NotFound',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
      code: 404,
    });
    assert.equal(apiErrors.alreadyExists(pods, 'p').status.message, 'pods "p" already exists');
    assert.equal(apiErrors.alreadyExists(pods, 'p').code, 409);
    const c = apiErrors.conflict(pods, 'p', 'the object has been modified; please apply your changes to the latest version and try again');
    assert.equal(
      c.status.message,
      'Operation cannot be fulfilled on pods "p": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.equal(c.reason, 'Conflict');
    assert.ok(isStatusError(c, 'Conflict'));
    assert.ok(!isStatusError(c, 'NotFound'));
  });

  it('names the kind with its group in Invalid and carries the causes', () => {
    const inv = apiErrors.invalid('apps', 'Deployment', 'web', [
      field.invalid(newPath('spec', 'replicas'), -1, 'must be greater than or equal to 0'),
    ]);
    assert.equal(inv.code, 422);
    assert.equal(inv.status.message, 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    assert.equal(inv.status.details?.kind, 'Deployment');
    assert.deepEqual(inv.status.details?.causes, [
      { reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'spec.replicas' },
    ]);
    const two = apiErrors.invalid('', 'Pod', 'p', [field.required(newPath('spec', 'containers'), ''), field.required(newPath('metadata', 'name'), '')]);
    assert.equal(two.status.message, 'Pod "p" is invalid: [spec.containers: Required value, metadata.name: Required value]');
    assert.equal(apiErrors.invalid('', 'Pod', 'p', []).status.message, 'Pod "p" is invalid');
  });

  it('gives the other reasons their codes', () => {
    const cases: [ReturnType<typeof apiErrors.badRequest>, number, string][] = [
      [apiErrors.badRequest('bad'), 400, 'BadRequest'],
      [apiErrors.unauthorized(), 401, 'Unauthorized'],
      [apiErrors.forbidden(pods, 'p', 'no'), 403, 'Forbidden'],
      [apiErrors.methodNotSupported(pods, 'patch'), 405, 'MethodNotAllowed'],
      [apiErrors.notAcceptable('x'), 406, 'NotAcceptable'],
      [apiErrors.resourceExpired('too old resource version: 1 (5)'), 410, 'Expired'],
      [apiErrors.gone('x'), 410, 'Gone'],
      [apiErrors.requestEntityTooLarge('limit is 3145728'), 413, 'RequestEntityTooLarge'],
      [apiErrors.unsupportedMediaType('x'), 415, 'UnsupportedMediaType'],
      [apiErrors.tooManyRequests('too many requests, please try again later', 1), 429, 'TooManyRequests'],
      [apiErrors.internal(new Error('boom')), 500, 'InternalError'],
      [apiErrors.serviceUnavailable('x'), 503, 'ServiceUnavailable'],
      [apiErrors.timeout('x'), 504, 'Timeout'],
    ];
    for (const [err, code, reason] of cases) {
      assert.equal(err.code, code, reason);
      assert.equal(err.reason, reason);
    }
    assert.equal(apiErrors.forbidden(pods, 'p', 'no').status.message, 'pods "p" is forbidden: no');
    assert.equal(apiErrors.forbidden(pods, '', 'no').status.message, 'pods is forbidden: no');
    assert.equal(apiErrors.methodNotSupported(pods, 'patch').status.message, 'patch is not supported on resources of kind "pods"');
    assert.equal(apiErrors.internal(new Error('boom')).status.message, 'Internal error occurred: boom');
    assert.equal(apiErrors.tooManyRequests('slow down', 1).status.details?.retryAfterSeconds, 1);
    assert.equal(apiErrors.requestEntityTooLarge('limit is 3145728').status.message, 'Request entity too large: limit is 3145728');
  });
});
