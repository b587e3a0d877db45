import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { configMapStrategy } from './configmaps.js';
import { secretStrategy } from './secrets.js';
import { StrategyHarness } from './testing/strategy-harness.js';

const cms = new StrategyHarness(configMapStrategy);
const secrets = new StrategyHarness(secretStrategy);
after(() => {
  cms.close();
  secrets.close();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('configmaps', () => {
  it('refuses bad keys and keys in both data and binaryData', async () => {
    const { causes } = await cms.invalid(
      cms.create({ metadata: { name: 'k' }, data: { 'a/b': 'x', dup: 'y' }, binaryData: { dup: b64('z') } }),
    );
    assert.deepEqual(causes, [
      "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      'data[dup]: Invalid value: "dup": duplicate of key present in binaryData',
    ]);
  });

  it('limits data and binaryData together to 1 MiB', async () => {
    const half = 'x'.repeat(512 * 1024);
    const { message } = await cms.invalid(
      cms.create({ metadata: { name: 'big' }, data: { a: half }, binaryData: { b: b64(half + 'y') } }),
    );
    assert.equal(message, 'ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes');
    await cms.create({ metadata: { name: 'fits' }, data: { a: half, b: half } });
  });

  it('freezes data and the flag itself once immutable is set', async () => {
    const stored = await cms.create({ metadata: { name: 'frozen' }, immutable: true, data: { KEY: 'v1' } });
    const changed = structuredClone(stored);
    changed.data = { KEY: 'v2' };
    changed.immutable = false;
    const { message } = await cms.invalid(cms.update(changed));
    assert.equal(
      message,
      'ConfigMap "frozen" is invalid: [immutable: Forbidden: field is immutable when `immutable` is set, data: Forbidden: field is immutable when `immutable` is set]',
    );
    stored.metadata!.labels = { still: 'editable' };
    const relabelled = await cms.update(stored);
    assert.deepEqual(relabelled.metadata?.labels, { still: 'editable' });
  });
});

describe('secrets', () => {
  it('defaults the type to Opaque and folds stringData into data', async () => {
    const s = await secrets.create({
      metadata: { name: 'creds' },
      data: { a: b64('old'), b: b64('keep') },
      stringData: { a: 'new' },
    });
    assert.equal(s.type, 'Opaque');
    assert.equal(s.stringData, undefined);
    assert.deepEqual(s.data, { a: b64('new'), b: b64('keep') });
  });

  it('requires tls.crt and tls.key for kubernetes.io/tls', async () => {
    const { causes } = await secrets.invalid(
      secrets.create({ metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: {} }),
    );
    assert.deepEqual(causes, ['data[tls.crt]: Required value', 'data[tls.key]: Required value']);
  });

  it('requires well-formed JSON in a dockerconfigjson secret', async () => {
    const missing = await secrets.invalid(
      secrets.create({ metadata: { name: 'd1' }, type: 'kubernetes.io/dockerconfigjson' }),
    );
    assert.deepEqual(missing.causes, ['data[.dockerconfigjson]: Required value']);
    const bad = await secrets.invalid(
      secrets.create({
        metadata: { name: 'd2' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': b64('not json') },
      }),
    );
    assert.deepEqual(bad.causes, [
      "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": invalid character 'o' in literal null (expecting 'u')",
    ]);
    await secrets.create({
      metadata: { name: 'd3' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64('{"auths":{}}') },
    });
  });

  it('requires the service account annotation on token secrets', async () => {
    const { causes } = await secrets.invalid(
      secrets.create({ metadata: { name: 'tok' }, type: 'kubernetes.io/service-account-token' }),
    );
    assert.deepEqual(causes, ['metadata.annotations[kubernetes.io/service-account.name]: Required value']);
  });

  it('keeps the type and, once immutable, the data', async () => {
    const stored = await secrets.create({
      metadata: { name: 'fixed' },
      immutable: true,
      data: { k: b64('v') },
    });
    const changed = structuredClone(stored);
    changed.type = 'kubernetes.io/basic-auth';
    changed.data = { username: b64('u') };
    const { causes } = await secrets.invalid(secrets.update(changed));
    assert.deepEqual(causes, [
      'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
      'data: Forbidden: field is immutable when `immutable` is set',
    ]);
  });
});
