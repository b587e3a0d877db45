import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { before, describe, it } from 'node:test';
import { CertificateAuthority, inspectCertificate } from './certificate-authority.js';
import { clientCACertPath, kubeletServingCertPath, nodeJoinHandlers } from './node-join.js';

/** Calls a join handler with the given headers; returns the status and body. */
async function call(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>, headers: Record<string, string>): Promise<{ code: number; body: string }> {
  let code = 0;
  let body = '';
  const res = {
    writeHead: (c: number) => {
      code = c;
      return res;
    },
    end: (b: string) => {
      body = b;
    },
  };
  await handler({ headers } as unknown as IncomingMessage, res as unknown as ServerResponse);
  return { code, body };
}

describe('the kubelet serving certificate endpoint', () => {
  let serverCA: CertificateAuthority;
  let clientCA: CertificateAuthority;
  let handlers: ReturnType<typeof nodeJoinHandlers>;
  const auth = { authorization: `Basic ${Buffer.from('server:s3cret').toString('base64')}`, 'k8ts-node-name': 'worker-1' };

  before(async () => {
    serverCA = await CertificateAuthority.create({ prefix: 'test-server' });
    clientCA = await CertificateAuthority.create({ prefix: 'test-client' });
    handlers = nodeJoinHandlers({ serverCAPem: serverCA.certPem, serverCA, clientCA, secret: 's3cret' });
  });

  it("issues a serving certificate for the node's name and addresses, signed by the server CA", async () => {
    const r = await call(handlers.get(kubeletServingCertPath)!, { ...auth, 'k8ts-node-ip': '10.1.2.3,fd00:1::3' });
    assert.equal(r.code, 200);
    const cert = r.body.slice(0, r.body.indexOf('-----END CERTIFICATE-----') + 25);
    assert.ok(serverCA.signed(cert));
    const info = inspectCertificate(cert);
    assert.deepEqual(info.extKeyUsages, ['serverAuth']);
    assert.deepEqual(info.dnsNames, ['worker-1', 'localhost']);
    for (const ip of ['10.1.2.3', 'fd00:1::3', '127.0.0.1']) assert.ok(info.ipAddresses.includes(ip), `${ip} in ${info.ipAddresses.join(',')}`);
    assert.match(r.body, /-----BEGIN (EC )?PRIVATE KEY-----/);
  });

  it('answers the client CA, and refuses wrong credentials or addresses', async () => {
    assert.deepEqual(await call(handlers.get(clientCACertPath)!, auth), { code: 200, body: clientCA.certPem });
    const wrong = { ...auth, authorization: `Basic ${Buffer.from('server:nope').toString('base64')}` };
    assert.equal((await call(handlers.get(kubeletServingCertPath)!, wrong)).code, 401);
    assert.equal((await call(handlers.get(clientCACertPath)!, wrong)).code, 401);
    assert.equal((await call(handlers.get(kubeletServingCertPath)!, { ...auth, 'k8ts-node-ip': 'not-an-ip' })).code, 400);
  });
});
