import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import {
  CertificateAuthority,
  CertificateVerificationError,
  canonicalIp,
  certificateIdentifier,
  certificatesFromPem,
  certificateToPem,
  inspectCertificate,
  keyMatchesCertificate,
} from './certificate-authority.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-pki-ca-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs openssl, the independent reader of what we wrote; returns what it printed on stdout and stderr. */
function openssl(...args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('these tests need the openssl command (Debian package openssl)');
  }
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

const dayMs = 24 * 60 * 60 * 1000;

describe('CertificateAuthority', () => {
  let ca: CertificateAuthority;
  let other: CertificateAuthority;
  const created = new Date();
  before(async () => {
    ca = await CertificateAuthority.create({ prefix: 'k8ts-server', now: created });
    other = await CertificateAuthority.create({ prefix: 'k8ts-other' });
  });

  it('makes a self-signed P-256 CA named <prefix>-ca@<unix time>, valid ten years, for signing', () => {
    const caFile = file('ca.crt', ca.certPem);
    const text = openssl('x509', '-in', caFile, '-noout', '-text');
    const unix = Math.floor(created.getTime() / 1000);
    assert.match(text, new RegExp(`Issuer: CN ?= ?k8ts-server-ca@${unix}\\n`));
    assert.match(text, new RegExp(`Subject: CN ?= ?k8ts-server-ca@${unix}\\n`));
    assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /NIST CURVE: P-256/);
    // Self-signed: it verifies against itself.
    assert.match(openssl('verify', '-CAfile', caFile, caFile), /: OK/);
    const info = inspectCertificate(ca.certPem);
    assert.equal(info.isCA, true);
    assert.equal(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / dayMs), 3650);
    assert.equal(ca.commonName, `k8ts-server-ca@${unix}`);
    assert.match(ca.keyPem, /^-----BEGIN EC PRIVATE KEY-----\n/);
    assert.match(openssl('ec', '-in', file('ca.key', ca.keyPem), '-noout', '-check'), /EC Key valid/);
  });

  it('issues a serving certificate with DNS and IP (v4 and v6) names for serverAuth, valid one year', async () => {
    const serving = await ca.issueServingCertificate({
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'node-1.example'],
      ipAddresses: ['127.0.0.1', '::1', 'FD00:0:0:0::10'],
    });
    const caFile = file('ca.crt', ca.certPem);
    const certFile = file('serving.crt', serving.certPem);
    assert.match(openssl('verify', '-CAfile', caFile, '-purpose', 'sslserver', certFile), /serving.crt: OK/);
    const text = openssl('x509', '-in', certFile, '-noout', '-text');
    assert.match(text, /Subject: CN ?= ?kube-apiserver\n/);
    assert.match(text, /Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    const san = /Subject Alternative Name: \n\s+(.*)\n/.exec(text)?.[1];
    assert.equal(
      san,
      'DNS:localhost, DNS:node-1.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FD00:0:0:0:0:0:0:10',
    );
    // It does not serve as a client identity.
    assert.throws(
      () => openssl('verify', '-CAfile', caFile, '-purpose', 'sslclient', certFile),
      /unsuitable certificate purpose/,
    );
    const info = inspectCertificate(serving.certPem);
    assert.deepEqual(info.ipAddresses, ['127.0.0.1', '::1', 'fd00::10']);
    assert.deepEqual(info.extKeyUsages, ['serverAuth']);
    assert.equal(Math.round((info.notAfter.getTime() - Date.now()) / dayMs), 365);
    assert.ok(keyMatchesCertificate(serving.keyPem, serving.certPem));
    assert.ok(ca.signed(serving.certPem));
    assert.ok(!other.signed(serving.certPem));
  });

  it('writes certificates that node reads and that carry key ids linking each leaf to its CA', async () => {
    const serving = await ca.issueServingCertificate({ commonName: 'kube-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
    const leaf = new X509Certificate(serving.certPem);
    const root = new X509Certificate(ca.certPem);
    assert.equal(leaf.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(leaf.checkIssued(root) && leaf.verify(root.publicKey), true);
    assert.equal(root.ca, true);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.checkHost('localhost'), 'localhost');
    assert.equal(leaf.checkIP('::1'), '::1');
    const skid = /Subject Key Identifier: \n\s+(\S+)/.exec(openssl('x509', '-in', file('ca-ids.crt', ca.certPem), '-noout', '-text'))?.[1];
    const akid = /Authority Key Identifier: \n\s+(?:keyid:)?(\S+)/.exec(openssl('x509', '-in', file('leaf-ids.crt', serving.certPem), '-noout', '-text'))?.[1];
    assert.ok(skid && skid.length === 59, `subject key id ${skid}`); // 20 bytes as AA:BB:...
    assert.equal(akid, skid);
    assert.match(certificateIdentifier(leaf.raw), new RegExp(`^SN=\\d+, SKID=[0-9A-F:]{59}, AKID=${skid}$`));
  });

  it('serves TLS with its certificates: the client and the server of node:tls accept them both ways', async () => {
    const serving = await ca.issueServingCertificate({ commonName: 'kube-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const client = await ca.issueClientCertificate({ user: 'alice', groups: ['devs'] });
    const server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (socket) =>
      socket.end(`hello ${String(socket.getPeerCertificate().subject.CN)}`),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.certPem, cert: client.certPem, key: client.keyPem });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      await once(socket, 'end');
      assert.equal(socket.authorized, true);
      assert.equal(text, 'hello alice');
    } finally {
      server.close();
    }
  });

  it('issues a client certificate with CN the user and one O per group, for clientAuth', async () => {
    const client = await ca.issueClientCertificate({
      user: 'system:admin',
      groups: ['system:masters', 'team-a'],
    });
    const certFile = file('client.crt', client.certPem);
    assert.match(
      openssl('verify', '-CAfile', file('ca.crt', ca.certPem), '-purpose', 'sslclient', certFile),
      /client.crt: OK/,
    );
    const subject = openssl('x509', '-in', certFile, '-noout', '-subject', '-nameopt', 'RFC2253');
    assert.equal(subject.trim(), 'subject=CN=system:admin,O=team-a,O=system:masters');
    assert.match(
      openssl('x509', '-in', certFile, '-noout', '-ext', 'extendedKeyUsage'),
      /TLS Web Client Authentication/,
    );
    assert.deepEqual(ca.verifyClientCertificate(client.certPem), {
      user: 'system:admin',
      groups: ['system:masters', 'team-a'],
    });
  });

  it('refuses client certificates from another CA, out of their validity, or not for clientAuth', async () => {
    const now = new Date();
    const foreign = await other.issueClientCertificate({ user: 'mallory', groups: ['system:masters'] });
    assert.throws(
      () => ca.verifyClientCertificate(foreign.certPem),
      (err: unknown) =>
        err instanceof CertificateVerificationError &&
        /^verifying certificate SN=\d+, SKID=[0-9A-F:]+, AKID=[0-9A-F:]+ failed: x509: certificate signed by unknown authority$/.test(
          err.message,
        ),
    );
    const own = await ca.issueClientCertificate({ user: 'alice', now });
    const later = new Date(now.getTime() + 366 * dayMs);
    assert.throws(
      () => ca.verifyClientCertificate(own.certPem, later),
      /certificate has expired or is not yet valid: current time .* is after /,
    );
    const earlier = new Date(now.getTime() - 1 * dayMs);
    assert.throws(() => ca.verifyClientCertificate(own.certPem, earlier), /is before/);
    const serving = await ca.issueServingCertificate({
      commonName: 'alice',
      dnsNames: ['a'],
      ipAddresses: [],
    });
    assert.throws(() => ca.verifyClientCertificate(serving.certPem), /incompatible key usage/);
    // A chain given as DER works as PEM does; an empty one is refused.
    assert.equal(ca.verifyClientCertificate(certificatesFromPem(own.certPem))?.user, 'alice');
    assert.throws(() => ca.verifyClientCertificate([]), /no client certificate/);
  });

  it('gives no user for a certificate without a CN, as upstream leaves it to other authenticators', async () => {
    const client = await ca.issueClientCertificate({ user: '', groups: ['g'] });
    assert.equal(ca.verifyClientCertificate(client.certPem), undefined);
  });

  it('loads itself back from PEM and keeps issuing certificates the original verifies', async () => {
    const loaded = await CertificateAuthority.load(ca.certPem, ca.keyPem);
    assert.equal(loaded.certPem, ca.certPem);
    const client = await loaded.issueClientCertificate({ user: 'bob' });
    assert.equal(ca.verifyClientCertificate(client.certPem)?.user, 'bob');
    assert.match(
      openssl('verify', '-CAfile', file('ca.crt', ca.certPem), file('bob.crt', client.certPem)),
      /OK/,
    );
  });

  it('refuses to load a CA whose key does not match, or a certificate that is not a CA', async () => {
    await assert.rejects(CertificateAuthority.load(ca.certPem, other.keyPem), /does not match/);
    const leaf = await ca.issueClientCertificate({ user: 'x' });
    await assert.rejects(CertificateAuthority.load(leaf.certPem, leaf.keyPem), /is not a CA certificate/);
  });

  it('loads a CA made by openssl with a P-384 key and issues certificates openssl verifies', async () => {
    const keyFile = path.join(dir, 'p384.key');
    const certFile = path.join(dir, 'p384.crt');
    openssl('ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', keyFile);
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      keyFile,
      '-subj',
      '/CN=custom-root',
      '-days',
      '30',
      '-out',
      certFile,
    );
    const custom = await CertificateAuthority.load(
      readFileSync(certFile, 'utf8'),
      readFileSync(keyFile, 'utf8'),
    );
    const serving = await custom.issueServingCertificate({
      commonName: 's',
      dnsNames: ['s'],
      ipAddresses: [],
    });
    assert.match(openssl('verify', '-CAfile', certFile, file('custom-leaf.crt', serving.certPem)), /OK/);
    assert.match(
      openssl('x509', '-in', file('custom-leaf.crt', serving.certPem), '-noout', '-text'),
      /ecdsa-with-SHA384/,
    );
  });

  it('round-trips PEM and canonicalises IP addresses', () => {
    const [der] = certificatesFromPem(ca.certPem);
    assert.ok(der);
    assert.equal(certificateToPem(der), ca.certPem);
    assert.equal(canonicalIp('::FFFF:10.0.0.1'), '::ffff:a00:1');
    assert.equal(canonicalIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
    assert.throws(() => canonicalIp('example.com'), /not an IP address/);
  });
});
