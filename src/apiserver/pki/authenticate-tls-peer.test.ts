import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { CertificateAndKey } from './certificate-authority.js';
import { CertificateAuthority } from './certificate-authority.js';
import type { TlsPeerAuthentication } from './authenticate-tls-peer.js';
import { authenticateTlsPeer } from './authenticate-tls-peer.js';

const dayMs = 24 * 60 * 60 * 1000;

/** GETs / over TLS, trusting `ca`, presenting `client` if given; resolves with the JSON the server answered. */
async function ask(
  host: string,
  port: number,
  ca: string,
  client?: CertificateAndKey,
): Promise<TlsPeerAuthentication> {
  const req = request({
    host,
    port,
    path: '/',
    ca,
    cert: client?.certPem,
    key: client?.keyPem,
    agent: false,
  });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return JSON.parse(body) as TlsPeerAuthentication;
}

describe('client-certificate authentication over a real TLS handshake', () => {
  let serverCA: CertificateAuthority;
  let clientCA: CertificateAuthority;
  let otherCA: CertificateAuthority;
  const servers: Server[] = [];
  let port = 0;
  let port6 = 0;

  before(async () => {
    serverCA = await CertificateAuthority.create({ prefix: 'k8ts-server' });
    // Made three years ago, so that a client certificate can have expired while the CA has not.
    clientCA = await CertificateAuthority.create({
      prefix: 'k8ts-client',
      now: new Date(Date.now() - 3 * 365 * dayMs),
    });
    otherCA = await CertificateAuthority.create({ prefix: 'k8ts-client' });
    const serving = await serverCA.issueServingCertificate({
      commonName: 'kube-apiserver',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
    });
    const options = {
      cert: serving.certPem,
      key: serving.keyPem,
      ca: [clientCA.certPem],
      requestCert: true,
      rejectUnauthorized: false,
    };
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(authenticateTlsPeer(req.socket as TLSSocket)));
    };
    const v4 = createServer(options, handler);
    servers.push(v4);
    v4.listen(0, '127.0.0.1');
    await once(v4, 'listening');
    port = (v4.address() as AddressInfo).port;
    const v6 = createServer(options, handler);
    servers.push(v6);
    v6.listen(0, '::1');
    await once(v6, 'listening');
    port6 = (v6.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  it('sees the user and every group of a client certificate from the client CA', async () => {
    const admin = await clientCA.issueClientCertificate({
      user: 'system:admin',
      groups: ['system:masters', 'ops'],
    });
    assert.deepEqual(await ask('127.0.0.1', port, serverCA.certPem, admin), {
      kind: 'user',
      user: { user: 'system:admin', groups: ['system:masters', 'ops'] },
    });
    const node = await clientCA.issueClientCertificate({ user: 'system:node:n1', groups: ['system:nodes'] });
    assert.deepEqual(await ask('127.0.0.1', port, serverCA.certPem, node), {
      kind: 'user',
      user: { user: 'system:node:n1', groups: ['system:nodes'] },
    });
  });

  it('serves a certificate that clients verify by its IPv6 loopback name too', async () => {
    const admin = await clientCA.issueClientCertificate({ user: 'alice' });
    assert.deepEqual(await ask('::1', port6, serverCA.certPem, admin), {
      kind: 'user',
      user: { user: 'alice', groups: [] },
    });
  });

  it('sees a client without a certificate as nobody, leaving it to anonymous', async () => {
    assert.deepEqual(await ask('127.0.0.1', port, serverCA.certPem), { kind: 'none' });
  });

  it('does not authorize a certificate from another CA', async () => {
    const foreign = await otherCA.issueClientCertificate({
      user: 'system:admin',
      groups: ['system:masters'],
    });
    const seen = await ask('127.0.0.1', port, serverCA.certPem, foreign);
    assert.equal(seen.kind, 'invalid');
    assert.match(
      seen.kind === 'invalid' ? seen.message : '',
      /^verifying certificate SN=\d+, SKID=[0-9A-F:]+, AKID=[0-9A-F:]+ failed: x509: certificate signed by unknown authority$/,
    );
  });

  it('does not authorize an expired certificate from the right CA', async () => {
    const old = await clientCA.issueClientCertificate({
      user: 'bob',
      now: new Date(Date.now() - 2 * 365 * dayMs),
    });
    const seen = await ask('127.0.0.1', port, serverCA.certPem, old);
    assert.equal(seen.kind, 'invalid');
    assert.match(
      seen.kind === 'invalid' ? seen.message : '',
      /x509: certificate has expired or is not yet valid$/,
    );
  });

  it('does not authorize a serving certificate presented as a client identity', async () => {
    const serving = await clientCA.issueServingCertificate({
      commonName: 'bob',
      dnsNames: ['bob'],
      ipAddresses: [],
    });
    const seen = await ask('127.0.0.1', port, serverCA.certPem, serving);
    assert.equal(seen.kind, 'invalid');
    assert.match(seen.kind === 'invalid' ? seen.message : '', /incompatible key usage$/);
  });

  it('is itself refused by a client that trusts only the client CA', async () => {
    await assert.rejects(ask('127.0.0.1', port, clientCA.certPem), /unable to verify the first certificate/);
  });
});
