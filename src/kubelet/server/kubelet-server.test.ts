import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority } from '../../apiserver/pki/certificate-authority.js';
import { dialSpdy } from '../../apimachinery/httpstream/spdy-client.js';
import { KubeletServer } from './kubelet-server.js';
import type { StreamingRuntime } from './streaming-runtime.js';
import { RuntimeNotFoundError } from './streaming-runtime.js';

const resizes: { width: number; height: number }[] = [];

/** A runtime whose exec echoes its command, or with a tty records resizes and answers one line of input. */
const runtime: StreamingRuntime = {
  exec: async (_c, command, io) => {
    if (io.tty && io.stdin && io.resize) {
      const resize = io.resize;
      void (async () => {
        for await (const size of resize) resizes.push(size);
      })();
      const line = await new Promise<string>((resolve) => io.stdin!.once('data', (d: Buffer) => resolve(d.toString())));
      io.stdout?.write(`tty got ${line}`);
      return { exitCode: 0 };
    }
    io.stdout?.write(`ran ${command.join(' ')}\n`);
    return { exitCode: command[0] === 'false' ? 1 : 0 };
  },
  attach: async () => undefined,
  portForward: async () => undefined,
  containerLog: async (c) => {
    throw new RuntimeNotFoundError(`no log for ${c.container}`);
  },
};

const pod = {
  metadata: { namespace: 'default', name: 'web', uid: 'u1' },
  spec: { containers: [{ name: 'main' }, { name: 'sidecar' }] },
  status: {
    containerStatuses: [
      { name: 'main', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } },
      { name: 'sidecar', state: { waiting: { reason: 'ContainerCreating' } } },
    ],
  },
};

interface Answer {
  code: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

describe('kubelet server', () => {
  let server: KubeletServer;
  let port = 0;
  let ca: string;
  let client: { cert: string; key: string };

  before(async () => {
    const serverCA = await CertificateAuthority.create({ prefix: 'test-server' });
    const clientCA = await CertificateAuthority.create({ prefix: 'test-client' });
    const serving = await serverCA.issueServingCertificate({ commonName: 'node', dnsNames: [], ipAddresses: ['127.0.0.1'] });
    const issued = await clientCA.issueClientCertificate({ user: 'system:apiserver', groups: ['system:masters'] });
    client = { cert: issued.certPem, key: issued.keyPem };
    ca = serverCA.certPem;
    server = new KubeletServer({
      runtime,
      pods: { pods: async () => [pod] },
      stats: { summary: async () => ({ node: { nodeName: 'node' } }), metrics: async () => 'kubelet_up 1\n' },
      tls: { cert: serving.certPem, key: serving.keyPem, clientCA: clientCA.certPem },
      address: '127.0.0.1',
      port: 0,
      streamingIdleTimeoutMs: 1500,
    });
    port = await server.start();
  });
  after(() => server.stop());

  const call = (method: string, path: string, opts: { anonymous?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method, path, ca, agent: false, ...(opts.anonymous ? {} : client), headers: opts.headers ?? {} },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('refuses callers without a client certificate', async () => {
    const r = await call('GET', '/healthz', { anonymous: true });
    assert.equal(r.code, 401);
    assert.equal(r.body, 'Unauthorized\n');
  });

  it('serves /healthz, /pods, /stats/summary and /metrics', async () => {
    assert.deepEqual(await call('GET', '/healthz').then((r) => [r.code, r.body]), [200, 'ok']);
    const pods = JSON.parse((await call('GET', '/pods')).body) as { kind: string; items: unknown[] };
    assert.equal(pods.kind, 'PodList');
    assert.equal(pods.items.length, 1);
    assert.deepEqual(JSON.parse((await call('GET', '/stats/summary')).body), { node: { nodeName: 'node' } });
    assert.equal((await call('GET', '/metrics')).body, 'kubelet_up 1\n');
    assert.equal((await call('GET', '/nothing')).code, 404);
  });

  it('runs a command with /run and reports a failing one', async () => {
    const ok = await call('POST', '/run/default/web/main?cmd=echo+hi');
    assert.equal(ok.code, 200);
    assert.equal(ok.body, 'ran echo hi\n');
    assert.equal((await call('POST', '/run/default/web/main?cmd=false')).code, 500);
    assert.equal((await call('POST', '/run/default/ghost/main?cmd=true')).code, 404);
  });

  it('checks logs against the pod: missing pod, missing container, waiting container', async () => {
    assert.deepEqual(await call('GET', '/containerLogs/default/ghost/main').then((r) => [r.code, r.body]), [404, 'pod does not exist\n']);
    assert.deepEqual(await call('GET', '/containerLogs/default/web/nope').then((r) => [r.code, r.body]), [404, 'container "nope" not found in pod "web"\n']);
    assert.deepEqual(await call('GET', '/containerLogs/default/web/sidecar').then((r) => [r.code, r.body]), [
      400,
      'container "sidecar" in pod "web" is waiting to start: ContainerCreating\n',
    ]);
    assert.equal((await call('GET', '/containerLogs/default/web/main?previous=true')).code, 400);
  });

  it('serves a tty exec over SPDY: resize events, stdin, stdout, and the v4 status', async () => {
    const { conn, protocol } = await dialSpdy(`https://127.0.0.1:${port}/exec/default/web/main?command=sh&input=1&output=1&tty=1`, ['v4.channel.k8s.io', 'v3.channel.k8s.io'], {
      tls: { ca, ...client },
    });
    try {
      assert.equal(protocol, 'v4.channel.k8s.io');
      const goAway = new Promise<void>((resolve) => conn.once('goaway', () => resolve()));
      // openStream resolves once the server has replied.
      const error = await conn.openStream({ streamType: 'error' });
      const stdin = await conn.openStream({ streamType: 'stdin' });
      const stdout = await conn.openStream({ streamType: 'stdout' });
      const resize = await conn.openStream({ streamType: 'resize' });
      const errorText = readAll(error);
      const stdoutText = readAll(stdout);
      resize.write('{"Width":100,"Height":30}\n{"Width":120,');
      resize.write('"Height":40}\n');
      await until(() => resizes.length === 2, 'two resizes');
      assert.deepEqual(resizes, [
        { width: 100, height: 30 },
        { width: 120, height: 40 },
      ]);
      stdin.write('hello\n');
      assert.equal(await stdoutText, 'tty got hello\n');
      assert.deepEqual(JSON.parse(await errorText), { metadata: {}, status: 'Success' });
      await goAway;
    } finally {
      conn.close(0);
    }
  });

  it('closes a streaming connection that stays idle', async () => {
    const { conn } = await dialSpdy(`https://127.0.0.1:${port}/portForward/default/web`, ['portforward.k8s.io'], { tls: { ca, ...client } });
    await until(() => conn.isClosed, 'the idle connection to be closed');
  });

  it('answers streaming requests that cannot upgrade as upstream does', async () => {
    assert.equal((await call('POST', '/exec/default/web/main?command=ls&output=1')).body, 'unable to upgrade: missing upgrade headers in request\n');
    const spdy = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' };
    const missing = await call('POST', '/exec/default/web/main?command=ls&output=1', { headers: spdy });
    assert.deepEqual([missing.code, missing.body], [400, 'unable to upgrade: X-Stream-Protocol-Version is required\n']);
    const wrong = await call('POST', '/exec/default/web/main?command=ls&output=1', { headers: { ...spdy, 'X-Stream-Protocol-Version': 'v9.channel.k8s.io' } });
    assert.equal(wrong.code, 403);
    assert.match(wrong.body, /unable to negotiate protocol: client supports \[v9\.channel\.k8s\.io\], server accepts \[v4\.channel\.k8s\.io v3/);
    assert.ok(String(wrong.headers['x-accepted-stream-protocol-versions']).includes('v4.channel.k8s.io'));
    const none = await call('POST', '/exec/default/web/main?command=ls', { headers: { ...spdy, 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' } });
    assert.deepEqual([none.code, none.body], [400, 'you must specify at least 1 of stdin, stdout, stderr\n']);
    const notRunning = await call('POST', '/exec/default/web/sidecar?command=ls&output=1', { headers: { ...spdy, 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' } });
    assert.deepEqual([notRunning.code, notRunning.body], [500, 'container not found ("sidecar")\n']);
    const ghost = await call('POST', '/portForward/default/ghost', { headers: { ...spdy, 'X-Stream-Protocol-Version': 'portforward.k8s.io' } });
    assert.deepEqual([ghost.code, ghost.body], [404, 'pod does not exist\n']);
  });
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    stream.once('end', () => resolve(text));
  });
}
