import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { ProbeContext } from './probe-runner.js';
import { resolvePort, runAction } from './probe-runner.js';

describe('probe actions', () => {
  const http = createServer((req, res) => {
    res.writeHead(req.url === '/healthz' && req.headers['user-agent']?.startsWith('kube-probe/') && req.headers['x-probe'] === 'yes' ? 200 : 500);
    res.end('body');
  });
  const health = new grpc.Server();
  let serving = 1;
  let httpPort = 0;
  let grpcPort = 0;
  let closedPort = 0;
  before(async () => {
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as AddressInfo).port;
    health.register(
      '/grpc.health.v1.Health/Check',
      (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from([0x08, serving])),
      (b: Buffer) => b,
      (b: Buffer) => b,
      'unary',
    );
    grpcPort = await new Promise<number>((r, j) => health.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    closedPort = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
  });
  after(async () => {
    http.close();
    health.forceShutdown();
  });
  const ctx = (extra: Partial<ProbeContext> = {}): ProbeContext => ({
    pod: {},
    container: { name: 'c', ports: [{ name: 'web', containerPort: httpPort }] },
    containerId: 'id',
    podIP: '127.0.0.1',
    runtime: { execSync: ({ cmd }) => Promise.resolve({ exitCode: cmd?.[0] === 'true' ? 0 : 2, stdout: Buffer.from('out'), stderr: Buffer.alloc(0) }) },
    timeoutMs: 1000,
    ...extra,
  });

  it('httpGet: 2xx/3xx succeed, others fail with the status code; named ports resolve', async () => {
    assert.equal(resolvePort('web', ctx().container), httpPort);
    const ok = await runAction({ httpGet: { path: '/healthz', port: 'web', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } }, ctx());
    assert.deepEqual(ok, { ok: true, output: 'body' });
    const bad = await runAction({ httpGet: { path: '/other', port: httpPort } }, ctx());
    assert.deepEqual(bad, { ok: false, output: 'HTTP probe failed with statuscode: 500' });
  });

  it('tcpSocket: a listening port succeeds, a closed one is refused', async () => {
    assert.equal((await runAction({ tcpSocket: { port: httpPort } }, ctx())).ok, true);
    const r = await runAction({ tcpSocket: { port: closedPort } }, ctx());
    assert.deepEqual(r, { ok: false, output: `dial tcp 127.0.0.1:${closedPort}: connect: connection refused` });
  });

  it('grpc: SERVING succeeds, NOT_SERVING fails', async () => {
    assert.equal((await runAction({ grpc: { port: grpcPort } }, ctx())).ok, true);
    serving = 2;
    assert.deepEqual(await runAction({ grpc: { port: grpcPort } }, ctx()), { ok: false, output: 'service unhealthy (responded with "NOT_SERVING")' });
  });

  it('exec: exit code 0 succeeds; network probes on simulated nodes always do', async () => {
    assert.equal((await runAction({ exec: { command: ['true'] } }, ctx())).ok, true);
    assert.deepEqual(await runAction({ exec: { command: ['false'] } }, ctx()), { ok: false, output: 'out' });
    assert.equal((await runAction({ tcpSocket: { port: closedPort } }, ctx({ simulated: true }))).ok, true);
  });
});
