import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { logger } from '../../base/log.js';
import { durationMs } from './server.js';
import { kubernetesServiceIPs, serviceAccountOptions } from './service-account-flags.js';

describe("k8ts server's service account flags", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const tlsDir = async (): Promise<string> => {
    const d = await mkdtemp(path.join(tmpdir(), 'k8ts-sa-flags-'));
    dirs.push(d);
    return d;
  };
  const log = logger('test');
  const defaults = { 'service-account-issuer': 'https://kubernetes.default.svc.cluster.local' };

  it('makes tls/service.key on the first start (mode 600) and reads the same key later', async () => {
    const dir = await tlsDir();
    const first = await serviceAccountOptions(defaults, dir, log, durationMs);
    const pem = await first.serviceAccounts!.signingKeyPem;
    assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.equal((await stat(path.join(dir, 'service.key'))).mode & 0o777, 0o600);
    const again = await serviceAccountOptions(defaults, dir, log, durationMs);
    assert.equal(await again.serviceAccounts!.signingKeyPem, pem);
    assert.deepEqual(again.serviceAccounts!.issuers, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(again.serviceAccounts!.audiences, undefined);
    assert.equal(again.disabledAdmissionPlugins, undefined);
  });

  it('reads issuers, audiences, the longest lifetime and the admission plugins to turn off', async () => {
    const o = await serviceAccountOptions(
      {
        'service-account-issuer': 'https://a.example,https://b.example',
        'api-audiences': 'api,vault',
        'service-account-max-token-expiration': '48h',
        'disable-admission-plugins': 'ServiceAccount',
      },
      await tlsDir(),
      log,
      durationMs,
    );
    assert.deepEqual(o.serviceAccounts!.issuers, ['https://a.example', 'https://b.example']);
    assert.deepEqual(o.serviceAccounts!.audiences, ['api', 'vault']);
    assert.equal(o.serviceAccounts!.maxExpirationSeconds, 48 * 3600);
    assert.deepEqual(o.disabledAdmissionPlugins, ['ServiceAccount']);
  });

  it('refuses unknown admission plugins, non-https issuer URLs and too short lifetimes', async () => {
    const dir = await tlsDir();
    await assert.rejects(serviceAccountOptions({ ...defaults, 'disable-admission-plugins': 'Bogus' }, dir, log, durationMs), /admission plugin "Bogus" is unknown/);
    await assert.rejects(serviceAccountOptions({ 'service-account-issuer': 'http://x' }, dir, log, durationMs), /must use the https scheme/);
    await assert.rejects(serviceAccountOptions({ ...defaults, 'service-account-max-token-expiration': '10m' }, dir, log, durationMs), /at least 1 hour/);
  });

  it("names the kubernetes Service's first address of each service CIDR", () => {
    assert.deepEqual(kubernetesServiceIPs(['10.43.0.0/16', 'fd43::/112']), ['10.43.0.1', 'fd43::1']);
  });
});
