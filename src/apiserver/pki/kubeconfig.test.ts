import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { authenticateTlsPeer } from './authenticate-tls-peer.js';
import { readKubeconfig, resolveKubeconfig, writeKubeconfig } from './kubeconfig.js';
import { ensureServerCerts } from './server-certs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-pki-kubeconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const kubectl = '/usr/bin/kubectl';

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: 30_000, env: { ...process.env, KUBECONFIG: '' } },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (e?.code === 'ENOENT') reject(new Error(`this test needs ${cmd} (kubectl)`));
        else resolve({ code: typeof e?.code === 'number' ? e.code : e ? 1 : 0, stdout, stderr });
      },
    );
  });
}

describe('kubeconfig', () => {
  it('writes the admin kubeconfig as k3s does: "default" everywhere, credentials embedded, mode 0600', async () => {
    const certs = await ensureServerCerts(path.join(dir, 'tls-a'), { hostnames: [], addresses: [] });
    const file = path.join(dir, 'a', 'k8ts.yaml');
    const written = await writeKubeconfig(file, {
      server: 'https://127.0.0.1:6443',
      certificateAuthorityPem: certs.serverCA.certPem,
      clientCertificatePem: certs.admin.certPem,
      clientKeyPem: certs.admin.keyPem,
    });
    assert.equal(written, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(doc), [
      'apiVersion',
      'clusters',
      'contexts',
      'current-context',
      'kind',
      'preferences',
      'users',
    ]);
    assert.equal(doc.kind, 'Config');
    assert.equal(doc['current-context'], 'default');
    assert.deepEqual(doc.contexts, [{ context: { cluster: 'default', user: 'default' }, name: 'default' }]);

    const back = await readKubeconfig(file);
    assert.equal(back.server, 'https://127.0.0.1:6443');
    assert.equal(back.namespace, 'default');
    assert.equal(back.certificateAuthorityPem, certs.serverCA.certPem);
    assert.equal(back.clientCertificatePem, certs.admin.certPem);
    assert.equal(back.clientKeyPem, certs.admin.keyPem);
    // Written by hand, the text is what the yaml package writes for the same document, names that need
    // quoting included.
    assert.equal(readFileSync(file, 'utf8'), stringify(doc, { lineWidth: 0 }));
    for (const [name, server] of [['true', 'https://[::1]:6443'], ['my cluster: x', 'https://h:1'], ['a-b.c', 'https://10.0.0.1:6443']] as const) {
      const other = path.join(dir, 'a', `k-${name.length}.yaml`);
      await writeKubeconfig(other, { server, name, certificateAuthorityPem: 'ca', clientCertificatePem: 'c', clientKeyPem: 'k' });
      const text = readFileSync(other, 'utf8');
      const parsed = parse(text) as { 'current-context': string; clusters: { cluster: { server: string } }[] };
      assert.equal(parsed['current-context'], name);
      assert.equal(parsed.clusters[0]!.cluster.server, server);
    }
  });

  it('reads file references relative to the kubeconfig, tokens, and a chosen context', async () => {
    const sub = path.join(dir, 'b');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'ca.crt'), 'CA PEM');
    writeFileSync(path.join(sub, 'token'), 'secret-token\n');
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'current-context: one',
      'clusters:',
      '- name: c1',
      '  cluster: {server: "https://10.0.0.1:6443", certificate-authority: ca.crt, tls-server-name: api}',
      '- name: c2',
      '  cluster: {server: "https://10.0.0.2:6443", insecure-skip-tls-verify: true}',
      'contexts:',
      '- {name: one, context: {cluster: c1, user: u1, namespace: kube-system}}',
      '- {name: two, context: {cluster: c2, user: u2}}',
      '- {name: broken, context: {cluster: nope, user: u2}}',
      'users:',
      '- {name: u1, user: {tokenFile: token}}',
      '- {name: u2, user: {token: abc}}',
    ].join('\n');
    const one = await resolveKubeconfig(text, sub);
    assert.equal(one.context, 'one');
    assert.equal(one.server, 'https://10.0.0.1:6443');
    assert.equal(one.certificateAuthorityPem, 'CA PEM');
    assert.equal(one.tlsServerName, 'api');
    assert.equal(one.token, 'secret-token');
    assert.equal(one.namespace, 'kube-system');
    const two = await resolveKubeconfig(text, sub, { context: 'two' });
    assert.equal(two.insecureSkipTlsVerify, true);
    assert.equal(two.token, 'abc');
    assert.equal(two.namespace, 'default');
    await assert.rejects(
      resolveKubeconfig(text, sub, { context: 'three' }),
      /context was not found for specified context: three/,
    );
    await assert.rejects(resolveKubeconfig(text, sub, { context: 'broken' }), /cluster "nope" not found/);
    await assert.rejects(resolveKubeconfig('kind: Config', sub), /no configuration has been provided/);
  });

  it('lets real kubectl reach a TLS server with our certificates and be seen as system:admin', async () => {
    const certs = await ensureServerCerts(path.join(dir, 'tls-k'), { hostnames: [], addresses: [] });
    const server = createServer(
      {
        cert: certs.serving.certPem,
        key: certs.serving.keyPem,
        ca: [certs.clientCA.certPem],
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req: IncomingMessage, res: ServerResponse) => {
        const seen = authenticateTlsPeer(req.socket as TLSSocket);
        res.setHeader('content-type', 'application/json');
        if (req.url !== '/x') {
          res.statusCode = 404;
          res.end('{}');
          return;
        }
        res.end(JSON.stringify({ path: req.url, seen }));
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      for (const host of ['127.0.0.1', 'localhost']) {
        const file = await writeKubeconfig(path.join(dir, `kubectl-${host}.yaml`), {
          server: `https://${host}:${port}`,
          certificateAuthorityPem: certs.serverCA.certPem,
          clientCertificatePem: certs.admin.certPem,
          clientKeyPem: certs.admin.keyPem,
        });
        const r = await run(kubectl, ['--kubeconfig', file, 'get', '--raw', '/x']);
        assert.equal(r.code, 0, `kubectl failed: ${r.stderr}`);
        assert.deepEqual(JSON.parse(r.stdout), {
          path: '/x',
          seen: { kind: 'user', user: { user: 'system:admin', groups: ['system:masters'] } },
        });
      }
      // kubectl refuses the server when it trusts only the client CA: the serving certificate is checked.
      const wrongCa = await writeKubeconfig(path.join(dir, 'kubectl-wrong-ca.yaml'), {
        server: `https://127.0.0.1:${port}`,
        certificateAuthorityPem: certs.clientCA.certPem,
        clientCertificatePem: certs.admin.certPem,
        clientKeyPem: certs.admin.keyPem,
      });
      const refused = await run(kubectl, ['--kubeconfig', wrongCa, 'get', '--raw', '/x']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /certificate signed by unknown authority/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
