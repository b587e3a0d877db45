// The kubelet's SPDY client against the runtime's streaming server (both ours), over loopback: exec with
// stdin, stdout, stderr and the exit code, attach, port-forward to a TCP server, and the single-use tokens.
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { Duplex, PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { StreamingRuntime as CriStreamingRuntime } from '../../cri/streaming.js';
import { StreamingServer } from '../../cri/streaming-server/server.js';
import { execOutcome, remoteStreamingRuntime } from './remote-streaming.js';

/** A runtime's in-process streaming half: `cat` echoes stdin, `fail N` exits N after writing to stderr. */
const inProcess: CriStreamingRuntime = {
  exec: async (_id, cmd, io) => {
    if (cmd[0] === 'cat' && io.stdin) {
      for await (const chunk of io.stdin) io.stdout?.write(chunk as Buffer);
      return { exitCode: 0 };
    }
    io.stderr?.write(`failing with ${cmd[1]}\n`);
    return { exitCode: Number(cmd[1] ?? 1) };
  },
  attach: async (_id, io) => {
    io.stdout?.write('attached\n');
  },
  portForward: async (_sandbox, port, stream) => {
    await new Promise<void>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('error', reject);
      stream.pipe(sock);
      sock.pipe(stream);
      sock.once('close', () => resolve());
    });
  },
};

/** Asks a streaming URL for a SPDY upgrade; resolves with the answer's status. */
function upgrade(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' } });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function text(): { stream: PassThrough; value: () => string } {
  const stream = new PassThrough();
  const parts: Buffer[] = [];
  stream.on('data', (d: Buffer) => parts.push(d));
  return { stream, value: () => Buffer.concat(parts).toString('utf8') };
}

describe('the kubelet against a runtime streaming server', () => {
  const server = new StreamingServer();
  let echo: ReturnType<typeof createServer>;
  let echoPort = 0;
  const remote = remoteStreamingRuntime({
    exec: (r) => server.getExec(r),
    attach: (r) => server.getAttach(r),
    portForward: (r) => server.getPortForward(r),
  });

  before(async () => {
    await server.start(inProcess);
    echo = createServer((s) => s.once('data', (d: Buffer) => s.end(`echo:${d.toString()}`)));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    echoPort = (echo.address() as AddressInfo).port;
  });
  after(async () => {
    await server.stop();
    echo.close();
  });

  it('runs an exec with stdin and stdout', async () => {
    const out = text();
    const r = await remote.exec('c1', ['cat'], { stdin: Readable.from([Buffer.from('hello '), Buffer.from('world')]), stdout: out.stream, tty: false, signal: new AbortController().signal });
    assert.deepEqual(r, { exitCode: 0 });
    assert.equal(out.value(), 'hello world');
  });

  it('passes the exit code and stderr through', async () => {
    const out = text();
    const err = text();
    const r = await remote.exec('c1', ['fail', '7'], { stdout: out.stream, stderr: err.stream, tty: false, signal: new AbortController().signal });
    assert.deepEqual(r, { exitCode: 7 });
    assert.equal(err.value(), 'failing with 7\n');
  });

  it('attaches', async () => {
    const out = text();
    await remote.attach('c1', { stdout: out.stream, tty: false, signal: new AbortController().signal });
    assert.equal(out.value(), 'attached\n');
  });

  it('forwards a connection to a port', async () => {
    const local = new PassThrough();
    const back = text();
    // The kubelet's side of a forwarded connection: writes go in, what the pod answers comes out.
    const stream = Duplex.from({ readable: local, writable: back.stream });
    local.end('ping');
    await remote.portForward('sb1', echoPort, stream, new AbortController().signal);
    assert.equal(back.value(), 'echo:ping');
  });

  it('accepts a URL once, and refuses unknown ones', async () => {
    const { url } = await server.getExec({ containerId: 'c1', cmd: ['true'], stdout: true });
    assert.equal(await upgrade(url!), 101);
    assert.equal(await upgrade(url!), 404);
    await assert.rejects(server.getExec({ containerId: 'c1', cmd: ['true'] }), /one of stdin, stdout, or stderr must be set/);
  });

  it('lets a URL expire after a minute', async () => {
    let now = 1_000_000;
    const clocked = new StreamingServer({ now: () => now });
    await clocked.start(inProcess);
    try {
      const { url } = await clocked.getAttach({ containerId: 'c1', stdout: true });
      now += 61_000;
      const code = await upgrade(url!);
      assert.equal(code, 404);
    } finally {
      await clocked.stop();
    }
  });

  it('reads exit codes from every error-stream form', () => {
    assert.deepEqual(execOutcome('v4.channel.k8s.io', ''), { exitCode: 0 });
    assert.deepEqual(execOutcome('v4.channel.k8s.io', '{"metadata":{},"status":"Success"}'), { exitCode: 0 });
    const failure = { status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } };
    assert.deepEqual(execOutcome('v4.channel.k8s.io', JSON.stringify(failure)), { exitCode: 42 });
    assert.throws(() => execOutcome('v4.channel.k8s.io', '{"status":"Failure","message":"no such container"}'), /no such container/);
  });
});
