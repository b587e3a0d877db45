import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { inspectCertificate } from './certificate-authority.js';
import { ensureServerCerts, hostSubjectAltNames, serverCertFiles } from './server-certs.js';

const root = mkdtempSync(path.join(tmpdir(), 'k8ts-pki-server-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => path.join(root, `tls-${n++}`);
const dayMs = 24 * 60 * 60 * 1000;

function openssl(...args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('these tests need the openssl command (Debian package openssl)');
  }
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

const read = (file: string): string => readFileSync(file, 'utf8');
const mode = (file: string): number => statSync(file).mode & 0o777;

describe('ensureServerCerts', () => {
  it('makes two CAs, a serving certificate for every name asked, and an admin client certificate', async () => {
    const dir = freshDir();
    const certs = await ensureServerCerts(dir, {
      hostnames: ['Node-1', '10.1.2.3'],
      addresses: ['192.0.2.2', 'fd00::2'],
    });
    const f = serverCertFiles(dir);
    assert.deepEqual(certs.files, f);
    assert.deepEqual([...certs.written].sort(), Object.values(f).sort());
    for (const key of [f.serverCaKey, f.clientCaKey, f.servingKey, f.adminKey])
      assert.equal(mode(key), 0o600, key);
    for (const crt of [f.serverCaCert, f.clientCaCert, f.servingCert, f.adminCert])
      assert.equal(mode(crt), 0o644, crt);
    assert.equal(mode(dir), 0o700);

    assert.match(
      openssl('verify', '-CAfile', f.serverCaCert, '-purpose', 'sslserver', f.servingCert),
      /: OK/,
    );
    assert.match(openssl('verify', '-CAfile', f.clientCaCert, '-purpose', 'sslclient', f.adminCert), /: OK/);
    // Two CAs: the admin's identity does not come from the CA that clients trust for serving.
    assert.throws(
      () => openssl('verify', '-CAfile', f.serverCaCert, f.adminCert),
      /unable to get local issuer/,
    );
    assert.match(inspectCertificate(read(f.serverCaCert)).commonName, /^k8ts-server-ca@\d+$/);
    assert.match(inspectCertificate(read(f.clientCaCert)).commonName, /^k8ts-client-ca@\d+$/);

    const text = openssl('x509', '-in', f.servingCert, '-noout', '-text');
    assert.match(text, /Subject: CN ?= ?kube-apiserver\n/);
    const san = /Subject Alternative Name: \n\s+(.*)\n/.exec(text)?.[1] ?? '';
    for (const name of [
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      'DNS:node-1',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      'IP Address:10.1.2.3',
      'IP Address:192.0.2.2',
      'IP Address:FD00:0:0:0:0:0:0:2',
    ]) {
      assert.ok(san.split(', ').includes(name), `${name} missing from ${san}`);
    }
    const admin = openssl('x509', '-in', f.adminCert, '-noout', '-subject', '-nameopt', 'RFC2253');
    assert.equal(admin.trim(), 'subject=CN=system:admin,O=system:masters');
    assert.deepEqual(certs.clientCA.verifyClientCertificate(certs.admin.certPem), {
      user: 'system:admin',
      groups: ['system:masters'],
    });
  });

  it('loads everything on the next start, then re-issues only the serving certificate when a name is added', async () => {
    const dir = freshDir();
    const f = serverCertFiles(dir);
    const options = { hostnames: ['node-1'], addresses: ['192.0.2.2'] };
    const first = await ensureServerCerts(dir, options);
    const all = [
      f.serverCaCert,
      f.serverCaKey,
      f.clientCaCert,
      f.clientCaKey,
      f.servingCert,
      f.servingKey,
      f.adminCert,
      f.adminKey,
    ];
    const snapshot = Object.fromEntries(all.map((file) => [file, read(file)]));

    const second = await ensureServerCerts(dir, options);
    assert.deepEqual(second.written, []);
    for (const file of all) assert.equal(read(file), snapshot[file], `${file} changed`);
    assert.equal(second.serverCA.certPem, first.serverCA.certPem);
    assert.equal(second.serving.certPem, first.serving.certPem);

    const third = await ensureServerCerts(dir, {
      hostnames: ['node-1', 'api.example'],
      addresses: ['192.0.2.2'],
    });
    assert.deepEqual([...third.written].sort(), [f.servingCert, f.servingKey].sort());
    assert.notEqual(read(f.servingCert), snapshot[f.servingCert]);
    assert.ok(third.servingNames.dnsNames.includes('api.example'));
    for (const file of [
      f.serverCaCert,
      f.serverCaKey,
      f.clientCaCert,
      f.clientCaKey,
      f.adminCert,
      f.adminKey,
    ]) {
      assert.equal(read(file), snapshot[file], `${file} changed`);
    }
    assert.match(openssl('verify', '-CAfile', f.serverCaCert, f.servingCert), /: OK/);
    // Dropping a name is no reason to re-issue: the certificate still covers what is asked.
    assert.deepEqual((await ensureServerCerts(dir, options)).written, []);
  });

  it('re-issues leaves that expire within 90 days, keeping the CAs', async () => {
    const dir = freshDir();
    const f = serverCertFiles(dir);
    const first = await ensureServerCerts(dir, { hostnames: [], addresses: [] });
    const notAfter = inspectCertificate(first.serving.certPem).notAfter.getTime();
    const at91 = await ensureServerCerts(dir, {
      hostnames: [],
      addresses: [],
      now: new Date(notAfter - 91 * dayMs),
    });
    assert.deepEqual(at91.written, []);
    const at89 = new Date(notAfter - 89 * dayMs);
    const renewed = await ensureServerCerts(dir, { hostnames: [], addresses: [], now: at89 });
    assert.deepEqual(
      [...renewed.written].sort(),
      [f.servingCert, f.servingKey, f.adminCert, f.adminKey, f.kubeletClientCert, f.kubeletClientKey].sort(),
    );
    assert.equal(renewed.serverCA.certPem, first.serverCA.certPem);
    assert.equal(renewed.clientCA.certPem, first.clientCA.certPem);
    assert.ok(inspectCertificate(renewed.serving.certPem).notAfter.getTime() > notAfter + 200 * dayMs);
  });

  it('replaces leaves signed by a CA that is no longer ours, or whose key was lost', async () => {
    const dir = freshDir();
    const f = serverCertFiles(dir);
    await ensureServerCerts(dir, { hostnames: [], addresses: [] });
    const elsewhere = freshDir();
    await ensureServerCerts(elsewhere, { hostnames: [], addresses: [] });
    const foreign = serverCertFiles(elsewhere);
    writeFileSync(f.servingCert, read(foreign.servingCert));
    writeFileSync(f.servingKey, read(foreign.servingKey));
    unlinkSync(f.adminKey);
    const again = await ensureServerCerts(dir, { hostnames: [], addresses: [] });
    assert.deepEqual(
      [...again.written].sort(),
      [f.servingCert, f.servingKey, f.adminCert, f.adminKey].sort(),
    );
    assert.match(openssl('verify', '-CAfile', f.serverCaCert, f.servingCert), /: OK/);
    assert.match(openssl('verify', '-CAfile', f.clientCaCert, f.adminCert), /: OK/);
  });

  it('refuses to go on when a CA certificate lost its key, and starts over from a key without certificate', async () => {
    const dir = freshDir();
    const f = serverCertFiles(dir);
    await ensureServerCerts(dir, { hostnames: [], addresses: [] });
    const clientCa = read(f.clientCaCert);
    unlinkSync(f.clientCaKey);
    await assert.rejects(
      ensureServerCerts(dir, { hostnames: [], addresses: [] }),
      /client-ca\.key is missing/,
    );
    unlinkSync(f.clientCaCert);
    writeFileSync(f.clientCaKey, 'half-written');
    const again = await ensureServerCerts(dir, { hostnames: [], addresses: [] });
    assert.notEqual(read(f.clientCaCert), clientCa);
    assert.ok(again.written.includes(f.clientCaCert) && again.written.includes(f.adminCert));
    assert.ok(existsSync(f.clientCaKey) && mode(f.clientCaKey) === 0o600);
  });

  it('collects this host name and its addresses, without link-local ones', () => {
    const { hostnames, addresses } = hostSubjectAltNames();
    assert.equal(hostnames.length, 1);
    assert.ok(addresses.includes('127.0.0.1'), `loopback missing from ${addresses.join(' ')}`);
    assert.ok(!addresses.some((a) => /^fe[89ab]/i.test(a) || a.startsWith('169.254.')));
  });
});
