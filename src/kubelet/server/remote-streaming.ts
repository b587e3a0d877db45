// Streaming against a runtime reached over gRPC, upstream's way: CRI's Exec, Attach and PortForward answer a
// URL of the runtime's streaming server (ours, or containerd's), and the kubelet connects there as a CLIENT
// over SPDY/3.1: v4.channel.k8s.io for exec and attach, portforward.k8s.io for port-forward, which is what
// containerd 1.6's server speaks. The kubelet keeps terminating whatever protocol kubectl used (WebSocket v5,
// SPDY, ...) and copies between the two sessions, so every kubectl works against every runtime.
import type { Duplex, Readable, Writable } from 'node:stream';
import { portForwardProtocolV1, remoteCommandProtocol, streamHeader, streamType } from '../../apimachinery/httpstream/protocols.js';
import type { SpdyStream } from '../../apimachinery/httpstream/spdy.js';
import type { SpdyClientConnection } from '../../apimachinery/httpstream/spdy-client.js';
import { dialSpdy } from '../../apimachinery/httpstream/spdy-client.js';
import type * as cri from '../../cri/index.js';
import type { CriStreamingRuntime } from './cri-bridge.js';
import type { ExecResult, StreamingIO } from './streaming-runtime.js';

/** The protocols we offer a runtime's streaming server, most preferred first (client-go's list). */
const remoteCommandProtocols = [remoteCommandProtocol.v4, remoteCommandProtocol.v3, remoteCommandProtocol.v2, remoteCommandProtocol.v1];

/** The CRI-level streaming operations of a runtime behind `runtime` (its Exec, Attach and PortForward RPCs). */
export function remoteStreamingRuntime(runtime: Pick<cri.RuntimeService, 'exec' | 'attach' | 'portForward'>): CriStreamingRuntime {
  return {
    exec: async (containerId, cmd, io) => {
      const { url } = await runtime.exec({ containerId, cmd, ...wanted(io) });
      return remoteCommand(url ?? '', io);
    },
    attach: async (containerId, io) => {
      const { url } = await runtime.attach({ containerId, ...wanted(io) });
      await remoteCommand(url ?? '', io);
    },
    portForward: async (podSandboxId, port, stream, signal) => {
      const { url } = await runtime.portForward({ podSandboxId, port: [port] });
      await remotePortForward(url ?? '', port, stream, signal);
    },
  };
}

function wanted(io: StreamingIO): { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean } {
  return { tty: io.tty, stdin: io.stdin !== undefined, stdout: io.stdout !== undefined, stderr: !io.tty && io.stderr !== undefined };
}

/** Resolves with everything a stream carried once the peer ends it. */
function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    stream.on('data', (d: Buffer) => parts.push(d));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('close', () => resolve(Buffer.concat(parts)));
  });
}

/** Copies a stream into a writable we do not own (the kubelet ends it); resolves when the stream ends. */
function copyInto(from: Readable, to: Writable): Promise<void> {
  return new Promise((resolve) => {
    from.pipe(to, { end: false });
    from.once('end', () => resolve());
    from.once('close', () => resolve());
  });
}

/** Ends the connection when the kubelet's client goes away, and always at the end. */
function closeWith(c: SpdyClientConnection, signal: AbortSignal | undefined): () => void {
  const close = (): void => c.conn.close(1000);
  signal?.addEventListener('abort', close, { once: true });
  return () => {
    signal?.removeEventListener('abort', close);
    close();
  };
}

/** The exit code of an exec from what the error stream carried (a v4 Status, or text before v4). */
export function execOutcome(protocol: string, errorText: string): ExecResult {
  if (errorText.trim() === '') return { exitCode: 0 };
  if (protocol === remoteCommandProtocol.v4) {
    let status: { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
    try {
      status = JSON.parse(errorText) as typeof status;
    } catch {
      throw new Error(`error stream protocol error: ${errorText}`);
    }
    if (status.status === 'Success') return { exitCode: 0 };
    if (status.reason === 'NonZeroExitCode') {
      const code = Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
      if (Number.isInteger(code)) return { exitCode: code };
    }
    throw new Error(status.message ?? errorText);
  }
  const m = /non-zero exit code: .*exit code (\d+)/.exec(errorText) ?? /exit (?:code|status) (\d+)/.exec(errorText);
  if (m) return { exitCode: Number(m[1]) };
  throw new Error(errorText);
}

/** One exec or attach session at `url`, with the kubelet's client streams. */
async function remoteCommand(url: string, io: StreamingIO): Promise<ExecResult> {
  const c = await dialSpdy(url, remoteCommandProtocols);
  const done = closeWith(c, io.signal);
  try {
    const open = (type: string): Promise<SpdyStream> => c.conn.openStream({ [streamHeader.type]: type });
    // client-go's order: error first, then stdin, stdout, stderr, resize.
    const error = await open(streamType.error);
    error.end();
    const errorText = collect(error);
    const stdin = io.stdin ? await open(streamType.stdin) : undefined;
    const stdout = io.stdout ? await open(streamType.stdout) : undefined;
    const stderr = io.stderr && !io.tty ? await open(streamType.stderr) : undefined;
    const v1v2 = c.protocol === remoteCommandProtocol.v1 || c.protocol === remoteCommandProtocol.v2;
    const resize = io.tty && !v1v2 ? await open(streamType.resize) : undefined;
    if (stdin && io.stdin) {
      io.stdin.pipe(stdin);
      stdin.on('error', () => undefined);
    }
    if (resize && io.resize) {
      const sizes = io.resize;
      void (async () => {
        for await (const s of sizes) resize.write(JSON.stringify({ Width: s.width, Height: s.height }));
      })().catch(() => undefined);
    }
    const copies: Promise<void>[] = [];
    if (stdout && io.stdout) copies.push(copyInto(stdout, io.stdout));
    if (stderr && io.stderr) copies.push(copyInto(stderr, io.stderr));
    const text = (await errorText).toString('utf8');
    await Promise.all(copies);
    io.stdin?.unpipe();
    return execOutcome(c.protocol, text);
  } finally {
    done();
  }
}

/** One forwarded connection to `port` through the streaming server at `url`. */
async function remotePortForward(url: string, port: number, stream: Duplex, signal: AbortSignal | undefined): Promise<void> {
  const c = await dialSpdy(url, [portForwardProtocolV1]);
  const done = closeWith(c, signal);
  try {
    const headers = { [streamHeader.port]: String(port), [streamHeader.requestID]: '0' };
    const error = await c.conn.openStream({ ...headers, [streamHeader.type]: streamType.error });
    // Nothing is sent on the error stream: client-go closes its side at once.
    error.end();
    const errorText = collect(error);
    const data = await c.conn.openStream({ ...headers, [streamHeader.type]: streamType.data });
    data.on('error', () => undefined);
    stream.pipe(data);
    const received = copyInto(data, stream);
    // The pod's side ended (or the session did); an error message means the forward failed.
    await Promise.race([received, errorText.then((t) => (t.length > 0 ? undefined : new Promise(() => undefined)))]);
    const text = (await Promise.race([errorText, new Promise<Buffer>((r) => setTimeout(() => r(Buffer.alloc(0)), 1000).unref())])).toString('utf8');
    stream.unpipe(data);
    if (text !== '') throw new Error(text);
  } finally {
    done();
  }
}
