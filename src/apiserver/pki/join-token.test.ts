import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority } from './certificate-authority.js';
import { formatJoinToken, hashCABundle, parseJoinToken, validateCABundle } from './join-token.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-pki-token-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The hex SHA-256 that openssl computes over `input` (after an optional conversion), independent of ours. */
function opensslSha256(file: string, toDer = false): string {
  const cmd = toDer
    ? `openssl x509 -in '${file}' -outform DER | openssl dgst -sha256 -r`
    : `openssl dgst -sha256 -r '${file}'`;
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`this test needs the openssl command: ${r.stderr}`);
  return r.stdout.split(' ')[0]!.trim();
}

describe('join tokens', () => {
  let ca: CertificateAuthority;
  let caFile: string;
  before(async () => {
    ca = await CertificateAuthority.create({ prefix: 'k8ts-server' });
    caFile = path.join(dir, 'server-ca.crt');
    writeFileSync(caFile, ca.certPem);
  });

  it('formats K10<sha256 of the CA file>::<user>:<password>', () => {
    const token = formatJoinToken(ca.certPem, {
      kind: 'password',
      username: 'server',
      password: 'p4ss:w0rd',
    });
    assert.equal(token, `K10${opensslSha256(caFile)}::server:p4ss:w0rd`);
    assert.deepEqual(parseJoinToken(token), {
      caHash: opensslSha256(caFile),
      credentials: { kind: 'password', username: 'server', password: 'p4ss:w0rd' },
    });
  });

  it('hashes a bundle of several certificates by the DER of its root, so that an intermediate can change', async () => {
    const leaf = await ca.issueServingCertificate({ commonName: 'x', dnsNames: ['x'], ipAddresses: [] });
    const bundle = leaf.certPem + ca.certPem;
    assert.equal(hashCABundle(bundle), opensslSha256(caFile, true));
    // Without a path to a root in the bundle, the bytes themselves are hashed.
    const other = await CertificateAuthority.create({ prefix: 'k8ts-other' });
    const unrelated = other.certPem + ca.certPem;
    const unrelatedFile = path.join(dir, 'unrelated.crt');
    writeFileSync(unrelatedFile, unrelated);
    assert.equal(hashCABundle(unrelated), opensslSha256(unrelatedFile));
    assert.throws(() => hashCABundle('not a certificate'), /no certificates found/);
  });

  it('parses bootstrap tokens and short tokens as k3s does', () => {
    const hash = 'a'.repeat(64);
    assert.deepEqual(parseJoinToken(`K10${hash}::abcdef.0123456789abcdef`), {
      caHash: hash,
      credentials: { kind: 'bootstrap', id: 'abcdef', secret: '0123456789abcdef' },
    });
    assert.deepEqual(parseJoinToken('abcdef.0123456789abcdef'), {
      caHash: '',
      credentials: { kind: 'bootstrap', id: 'abcdef', secret: '0123456789abcdef' },
    });
    assert.deepEqual(parseJoinToken('just-a-password'), {
      caHash: '',
      credentials: { kind: 'password', username: '', password: 'just-a-password' },
    });
    assert.deepEqual(parseJoinToken('K10::node:secret'), {
      caHash: '',
      credentials: { kind: 'password', username: 'node', password: 'secret' },
    });
    const formatted = formatJoinToken(ca.certPem, {
      kind: 'bootstrap',
      id: 'abcdef',
      secret: '0123456789abcdef',
    });
    assert.match(formatted, /^K10[0-9a-f]{64}::abcdef\.0123456789abcdef$/);
  });

  it("rejects malformed tokens with k3s's messages", () => {
    assert.throws(() => parseJoinToken(''), /^Error: token must not be empty$/);
    assert.throws(() => parseJoinToken('K10abc::node:secret'), /^Error: invalid token CA hash length$/);
    assert.throws(() => parseJoinToken(`K10${'b'.repeat(64)}::nopassword`), /^Error: invalid token format$/);
    assert.throws(() => parseJoinToken(`K10${'b'.repeat(64)}::node:`), /^Error: invalid token format$/);
  });

  it('accepts the CA bundle the token pins and refuses any other', async () => {
    const token = formatJoinToken(ca.certPem, { kind: 'password', username: 'node', password: 'x' });
    validateCABundle(token, ca.certPem);
    validateCABundle(parseJoinToken(token), Buffer.from(ca.certPem));
    const impostor = await CertificateAuthority.create({ prefix: 'k8ts-server' });
    assert.throws(
      () => validateCABundle(token, impostor.certPem),
      /^Error: token CA hash does not match the Cluster CA certificate hash: [0-9a-f]{64} != [0-9a-f]{64}$/,
    );
    // A short token pins nothing.
    validateCABundle('node:x', impostor.certPem);
  });
});
