// logs, exec, attach and port-forward end to end: real kubectl (1.27 and 1.29 speak SPDY, 1.33 WebSockets
// and SPDY tunnelled in a WebSocket) and client-node against `k8ts server`, which routes to a kubelet
// server started here. The kubelet's runtime is a TEST DOUBLE (test/helpers/host-streaming-runtime.ts):
// commands run on this host, port-forward reaches a loopback HTTP server, logs are files written here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { CertificateAuthority } from '../../src/apiserver/pki/certificate-authority.js';
import type { HostStreamingRuntime } from '../helpers/host-streaming-runtime.js';
import { criLine } from '../helpers/host-streaming-runtime.js';
import type { StreamingCluster } from '../helpers/streaming-cluster.js';
import { startStreamingCluster } from '../helpers/streaming-cluster.js';
import { kubectl, kubectlPath } from '../helpers/kubectl.js';

const versions = [27, 29, 33];
/** The transport each kubectl uses: SPDY up to 1.29 (1.30 turned WebSockets on for exec, 1.31 the tunnel for port-forward). */
const expectedTransport: Record<number, { exec: string; portforward: string }> = {
  27: { exec: 'spdy v4.channel.k8s.io', portforward: 'spdy portforward.k8s.io' },
  29: { exec: 'spdy v4.channel.k8s.io', portforward: 'spdy portforward.k8s.io' },
  33: { exec: 'websocket v5.channel.k8s.io', portforward: 'spdy-over-websocket SPDY/3.1+portforward.k8s.io' },
};

describe('streaming: logs, exec, attach, port-forward through the API server to the kubelet', () => {
  let cluster: StreamingCluster;
  let kubeconfig = '';
  let runtime: HostStreamingRuntime;
  let http: Server | undefined;
  let httpPort = 0;
  const main = { namespace: 'default', name: 'web', container: 'main' };
  const lastSession = (): string => `${cluster.sessions.at(-1)?.transport} ${cluster.sessions.at(-1)?.protocol}`;

  before(async () => {
    cluster = await startStreamingCluster();
    kubeconfig = cluster.kubeconfig;
    runtime = cluster.runtime;
    http = createServer((req, res) => {
      let received = 0;
      req.on('data', (d: Buffer) => (received += d.length));
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(req.method === 'POST' ? `received ${received} bytes\n` : `hello from the pod, you asked for ${req.url}\n`);
      });
    });
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', () => r()));
    httpPort = (http.address() as AddressInfo).port;
    await cluster.createPod('web', ['main'], 'running');
    await cluster.createPod('two', ['a', 'b'], 'running');
    await cluster.createPod('creating', ['main'], 'creating');
    await cluster.createPod('unbound', ['main'], 'creating', null);
    // A kubelet whose serving certificate the API server cannot verify.
    await cluster.addNode('foreign-node', await CertificateAuthority.create({ prefix: 'elsewhere' }));
    await cluster.createPod('elsewhere', ['main'], 'running', 'foreign-node');
    runtime.appendLog({ namespace: 'default', name: 'elsewhere', container: 'main' }, criLine('2026-01-01T10:00:00Z', 'stdout', 'from elsewhere'));
    runtime.appendLog(
      main,
      criLine('2026-01-01T10:00:00.000000001Z', 'stdout', 'line one') +
        criLine('2026-01-01T10:00:01.5Z', 'stderr', 'line two') +
        criLine('2026-01-01T10:00:02.000000003Z', 'stdout', 'line ', true) +
        criLine('2026-01-01T10:00:02.000000004Z', 'stdout', 'three'),
    );
    runtime.appendLog(main, criLine('2025-12-31T09:00:00Z', 'stdout', 'from the previous instance'), true);
  });

  after(async () => {
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    await cluster?.stop();
  });

  for (const minor of versions) {
    describe(`kubectl 1.${minor}`, () => {
      const k = (args: string[], stdin?: string): ReturnType<typeof kubectl> => kubectl(kubectlPath(minor), kubeconfig, args, stdin);

      it('exec passes stdout, stderr and the exit code through', async () => {
        const ok = await k(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2']);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, 'out\n');
        assert.equal(ok.stderr, 'err\n');
        assert.equal(lastSession(), expectedTransport[minor]!.exec);
        const failed = await k(['exec', 'web', '-c', 'main', '--', 'sh', '-c', 'echo before; exit 3']);
        assert.equal(failed.code, 3, failed.stderr);
        assert.equal(failed.stdout, 'before\n');
        assert.match(failed.stderr, /command terminated with exit code 3/);
      });

      it('exec -i sends stdin and ends it', async () => {
        const r = await k(['exec', '-i', 'web', '--', 'sh', '-c', 'tr a-z A-Z; echo done'], 'hello\nworld\n');
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'HELLO\nWORLD\ndone\n');
        // Large enough to span many frames and messages both ways.
        const big = 'x'.repeat(3 * 1024 * 1024);
        const echoed = await k(['exec', '-i', 'web', '--', 'sh', '-c', 'cat; echo; wc -c < /dev/null'], big);
        assert.equal(echoed.code, 0, echoed.stderr);
        assert.equal(echoed.stdout.length, big.length + 3);
        assert.ok(echoed.stdout.startsWith(big));
      });

      it('exec -t without a terminal falls back to no tty, as kubectl does', async () => {
        const r = await k(['exec', '-it', 'web', '--', 'sh', '-c', 'cat; echo end'], 'typed\n');
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Unable to use a TTY/);
        assert.equal(r.stdout, 'typed\nend\n');
      });

      it('exec answers upstream errors for an unknown container, pod, node or binary', async () => {
        const noContainer = await k(['exec', 'web', '-c', 'nope', '--', 'true']);
        assert.notEqual(noContainer.code, 0);
        assert.match(noContainer.stderr, /container nope is not valid for pod web/);
        const which = await k(['exec', 'two', '--', 'true']);
        // kubectl picks the first container itself (with a notice), so this succeeds.
        assert.equal(which.code, 0, which.stderr);
        const unbound = await k(['exec', 'unbound', '--', 'true']);
        assert.notEqual(unbound.code, 0);
        assert.equal(unbound.stderr, 'Error from server (BadRequest): pod unbound does not have a host assigned\n');
        const creating = await k(['exec', 'creating', '--', 'true']);
        assert.notEqual(creating.code, 0);
        assert.equal(creating.stderr, 'error: unable to upgrade connection: container not found ("main")\n');
        const missing = await k(['exec', 'ghost', '--', 'true']);
        assert.equal(missing.stderr, 'Error from server (NotFound): pods "ghost" not found\n');
        const bad = await k(['exec', 'web', '--', '/no/such/binary']);
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /error: Internal error occurred: error executing command in container: exec: "\/no\/such\/binary"/);
      });

      it('logs with --tail, --timestamps, --since-time, --previous and --limit-bytes', async () => {
        const all = await k(['logs', 'web']);
        assert.equal(all.code, 0, all.stderr);
        assert.equal(all.stdout, 'line one\nline two\nline three\n');
        const tail = await k(['logs', 'web', '--tail=1']);
        assert.equal(tail.stdout, 'three\n');
        const ts = await k(['logs', 'web', '--timestamps', '--tail=3']);
        assert.equal(ts.stdout, '2026-01-01T10:00:01.500000000Z line two\n2026-01-01T10:00:02.000000003Z line 2026-01-01T10:00:02.000000004Z three\n');
        const since = await k(['logs', 'web', '--since-time=2026-01-01T10:00:01Z']);
        assert.equal(since.stdout, 'line two\nline three\n');
        const recent = await k(['logs', 'web', '--since=1h']);
        assert.equal(recent.stdout, '');
        const prev = await k(['logs', 'web', '--previous']);
        assert.equal(prev.stdout, 'from the previous instance\n');
        const limited = await k(['logs', 'web', '--limit-bytes=6']);
        assert.equal(limited.stdout, 'line o');
        const creating = await k(['logs', 'creating']);
        assert.notEqual(creating.code, 0);
        assert.match(creating.stderr, /container "main" in pod "creating" is waiting to start: ContainerCreating/);
        const invalid = await k(['get', '--raw', '/api/v1/namespaces/default/pods/web/log?tailLines=-1&limitBytes=0']);
        assert.equal(
          invalid.stderr,
          'The PodLogOptions "web" is invalid: \n* tailLines: Invalid value: -1: must be greater than or equal to 0\n* limitBytes: Invalid value: 0: must be greater than 0\n',
        );
        const unverified = await k(['logs', 'elsewhere']);
        assert.notEqual(unverified.code, 0);
        assert.match(unverified.stderr, /error dialing backend: .*(self-signed|unable to verify|issuer)/);
        const skipped = await k(['logs', 'elsewhere', '--insecure-skip-tls-verify-backend']);
        assert.deepEqual([skipped.code, skipped.stdout], [0, 'from elsewhere\n']);
        // kubectl picks a container itself; the API server's own answer shows without it.
        const two = await k(['get', '--raw', '/api/v1/namespaces/default/pods/two/log']);
        assert.notEqual(two.code, 0);
        assert.match(two.stderr, /a container name must be specified for pod two, choose one of: \[a b\]/);
      });

      it('logs -f follows what the container appends until it stops', async () => {
        const ref = { namespace: 'default', name: 'two', container: 'a' };
        runtime.appendLog(ref, criLine(new Date(), 'stdout', `first ${minor}`));
        runtime.running.add('default/two/a');
        const child = spawn(kubectlPath(minor), ['logs', '-f', 'two', '-c', 'a'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
        try {
          await waitFor(() => out.includes(`first ${minor}\n`), 'the first line');
          runtime.appendLog(ref, criLine(new Date(), 'stdout', `second ${minor}`));
          await waitFor(() => out.includes(`second ${minor}\n`), 'the appended line');
          runtime.running.delete('default/two/a');
          assert.equal(await withDeadline(exited, 'kubectl logs -f to end'), 0);
        } finally {
          runtime.running.delete('default/two/a');
          if (child.exitCode === null) child.kill('SIGKILL');
        }
      });

      it('attach connects stdin and stdout to the container', async () => {
        const r = await k(['attach', '-i', 'web', '-c', 'main'], 'hi there\nbye\n');
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /echo: hi there/);
      });

      it('cp copies a file into the pod and back (tar through exec)', async () => {
        const local = path.join(runtime.dir, `local-${minor}.bin`);
        const content = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256));
        writeFileSync(local, content);
        const inPod = path.join(runtime.dir, `in-pod-${minor}`);
        mkdirSync(inPod);
        const up = await k(['cp', local, `web:${inPod}/copied.bin`]);
        assert.equal(up.code, 0, up.stderr);
        assert.deepEqual(readFileSync(path.join(inPod, 'copied.bin')), content);
        const back = path.join(runtime.dir, `back-${minor}.bin`);
        const down = await k(['cp', `web:${inPod}/copied.bin`, back]);
        assert.equal(down.code, 0, down.stderr);
        assert.deepEqual(readFileSync(back), content);
      });

      it('port-forward carries an HTTP request to a port of the pod', async () => {
        const child = spawn(kubectlPath(minor), ['port-forward', 'pod/web', `:${httpPort}`], { env: { ...process.env, KUBECONFIG: kubeconfig } });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        try {
          await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.test(out), `kubectl to listen (${err})`);
          const local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)![1]);
          for (const p of ['/first', '/second']) {
            const res = await fetch(`http://127.0.0.1:${local}${p}`);
            assert.equal(res.status, 200);
            assert.equal(await res.text(), `hello from the pod, you asked for ${p}\n`);
          }
          // Connections at once, each its own pair of streams (or channel pair) in the one session.
          const many = await Promise.all(Array.from({ length: 12 }, (_, i) => fetch(`http://127.0.0.1:${local}/c${i}`).then((r) => r.text())));
          assert.deepEqual(many, Array.from({ length: 12 }, (_, i) => `hello from the pod, you asked for /c${i}\n`));
          // An upload large enough to need backpressure on the way in.
          const upload = await fetch(`http://127.0.0.1:${local}/upload`, { method: 'POST', body: Buffer.alloc(4 * 1024 * 1024, 1) });
          assert.equal(await upload.text(), `received ${4 * 1024 * 1024} bytes\n`);
          assert.equal(lastSession(), expectedTransport[minor]!.portforward);
        } finally {
          child.kill('SIGTERM');
        }
      });

      it('port-forward reports a refused connection on the error stream', async () => {
        // A port nothing listens on: bind one, note it, close it.
        const probe = createServer();
        await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
        const dead = (probe.address() as AddressInfo).port;
        await new Promise<void>((r) => probe.close(() => r()));
        const child = spawn(kubectlPath(minor), ['port-forward', 'pod/web', `:${dead}`], { env: { ...process.env, KUBECONFIG: kubeconfig } });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        try {
          await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.test(out), `kubectl to listen (${err})`);
          const local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)![1]);
          await fetch(`http://127.0.0.1:${local}/`).then(
            () => assert.fail('the request should fail'),
            () => undefined,
          );
          await waitFor(() => err.includes(`error forwarding port ${dead} to pod web, uid : dial tcp4 127.0.0.1:${dead}: connect: connection refused`), `the error (${err})`);
        } finally {
          child.kill('SIGTERM');
        }
      });
    });
  }

  describe('the kubectl minors between, where the transports change', () => {
    const transitions = [
      { minor: 28, exec: 'spdy v4.channel.k8s.io', portforward: 'spdy portforward.k8s.io' },
      { minor: 30, exec: 'websocket v5.channel.k8s.io', portforward: 'spdy portforward.k8s.io' },
      { minor: 31, exec: 'websocket v5.channel.k8s.io', portforward: 'spdy-over-websocket SPDY/3.1+portforward.k8s.io' },
      { minor: 32, exec: 'websocket v5.channel.k8s.io', portforward: 'spdy-over-websocket SPDY/3.1+portforward.k8s.io' },
    ];
    for (const t of transitions) {
      it(`kubectl 1.${t.minor}: exec with stdin and exit code, and a port-forwarded request`, async () => {
        const r = await kubectl(kubectlPath(t.minor), kubeconfig, ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 4'], 'in\n');
        assert.deepEqual([r.code, r.stdout, r.stderr], [4, 'in\n', 'command terminated with exit code 4\n']);
        assert.equal(lastSession(), t.exec);
        const child = spawn(kubectlPath(t.minor), ['port-forward', 'pod/web', `:${httpPort}`], { env: { ...process.env, KUBECONFIG: kubeconfig } });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        try {
          await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.test(out), 'kubectl to listen');
          const res = await fetch(`http://127.0.0.1:${/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)![1]}/minor`);
          assert.equal(await res.text(), 'hello from the pod, you asked for /minor\n');
          assert.equal(lastSession(), t.portforward);
        } finally {
          child.kill('SIGTERM');
        }
      });
    }
  });

  describe('@kubernetes/client-node', () => {
    const kc = (): k8s.KubeConfig => {
      const c = new k8s.KubeConfig();
      c.loadFromFile(kubeconfig);
      return c;
    };

    it('Exec gives the output and the exit status (v5 WebSocket)', async () => {
      const out = collect();
      const errOut = collect();
      const status = await new Promise<k8s.V1Status>((resolve, reject) => {
        new k8s.Exec(kc())
          .exec('default', 'web', 'main', ['sh', '-c', 'echo hi; echo oops >&2; exit 7'], out.stream, errOut.stream, null, false, (s) => resolve(s))
          .catch(reject);
      });
      assert.equal(status.status, 'Failure');
      assert.equal(status.reason, 'NonZeroExitCode');
      assert.deepEqual(status.details?.causes, [{ reason: 'ExitCode', message: '7' }]);
      assert.equal(out.text(), 'hi\n');
      assert.equal(errOut.text(), 'oops\n');
      assert.equal(lastSession(), 'websocket v5.channel.k8s.io');
    });

    it('Exec with a tty sends terminal sizes to the runtime and stdin through', async () => {
      const out = collect();
      const stdin = new PassThrough();
      // A stdout that looks like a terminal makes client-node send resize messages.
      const tty = Object.assign(out.stream, { rows: 40, columns: 120, isTTY: true });
      const before = runtime.resizes.length;
      const done = new Promise<k8s.V1Status>((resolve, reject) => {
        new k8s.Exec(kc()).exec('default', 'web', 'main', ['sh', '-c', 'head -n1'], tty, null, stdin, true, (s) => resolve(s)).catch(reject);
      });
      await waitFor(() => runtime.resizes.length > before && runtime.resizes.at(-1)!.length > 0, 'a resize');
      assert.deepEqual(runtime.resizes.at(-1)![0], { width: 120, height: 40 });
      stdin.write('typed line\n');
      const status = await withDeadline(done, 'exec with tty to end');
      assert.equal(status.status, 'Success');
      assert.equal(out.text(), 'typed line\n');
    });

    it('PortForward reaches the port over WebSocket channels', async () => {
      const out = collect();
      const input = new PassThrough();
      const ws = await new k8s.PortForward(kc()).portForward('default', 'web', [httpPort], out.stream, null, input);
      input.write(`GET /via-client-node HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      await waitFor(() => out.text().includes('you asked for /via-client-node'), 'the HTTP answer');
      assert.match(out.text(), /^HTTP\/1\.1 200 OK/);
      assert.equal(lastSession(), 'websocket v4.channel.k8s.io');
      (ws as { close(): void }).close();
    });

    it('Attach connects stdin and stdout', async () => {
      const out = collect();
      const stdin = new PassThrough();
      const ws = await new k8s.Attach(kc()).attach('default', 'web', 'main', out.stream, null, stdin, false);
      stdin.write('from client-node\n');
      await waitFor(() => out.text().includes('echo: from client-node'), 'the echo');
      assert.match(out.text(), /^attached to main\n/);
      stdin.write('bye\n');
      await waitFor(() => (ws as { readyState: number }).readyState === 3, 'the session to close');
    });

    it('Log streams a container log with options', async () => {
      const out = collect();
      await new Promise<void>((resolve, reject) => {
        void new k8s.Log(kc())
          .log('default', 'web', 'main', out.stream, { timestamps: true, tailLines: 1 })
          .then((req) => req)
          .catch(reject);
        out.stream.on('finish', () => resolve());
      });
      // The last entry only: a partial line counts as a line of the file, as the kubelet counts them.
      assert.equal(out.text(), '2026-01-01T10:00:02.000000004Z three\n');
    });
  });
});

function collect(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withDeadline<T>(p: Promise<T>, what: string, timeoutMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}
