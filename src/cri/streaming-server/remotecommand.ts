// exec and attach at the kubelet (upstream's cri/streaming/remotecommand): the client's stdin, stdout,
// stderr, error and resize streams arrive either as SPDY streams (named by their streamType header, all of
// them opened before the session starts) or as channels of a WebSocket (0 stdin, 1 stdout, 2 stderr,
// 3 error, 4 resize). When the command ends, the error stream carries the outcome: for v4 and later a
// Status JSON with the exit code, for older protocols a text message on failure only.
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import { ChannelConnection, channelProtocols } from '../../apimachinery/httpstream/channels.js';
import { exitStatus, internalErrorStatus, remoteCommandProtocol, streamHeader, streamType } from '../../apimachinery/httpstream/protocols.js';
import type { SpdyStream } from '../../apimachinery/httpstream/spdy.js';
import { acceptWebSocket, isWebSocketRequest, offeredSubprotocols } from '../../apimachinery/httpstream/websocket.js';
import type { StreamingIO } from '../streaming.js';
import { AsyncQueue, isSpdyRequest, upgradeToSpdy, writeRawResponse } from './upgrade.js';

/** Which streams the client asked for (query stdin, stdout, stderr, tty). */
export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The SPDY remotecommand protocols the kubelet serves, most preferred first (upstream's list). */
export const spdyRemoteCommandProtocols = [remoteCommandProtocol.v4, remoteCommandProtocol.v3, remoteCommandProtocol.v2, remoteCommandProtocol.v1];

/** How long a SPDY client has to open its streams (upstream's default stream creation timeout). */
const streamCreationTimeoutMs = 30_000;

const flag = (q: URLSearchParams, name: string): boolean => q.get(name) === '1' || q.get(name) === 'true';

/** Parses the stream options; a tty never has a separate stderr. Throws the upstream message when none is asked for. */
export function parseRemoteCommandOptions(q: URLSearchParams): RemoteCommandOptions {
  const tty = flag(q, 'tty');
  const opts = { stdin: flag(q, 'input') || flag(q, 'stdin'), stdout: flag(q, 'output') || flag(q, 'stdout'), stderr: flag(q, 'error') || flag(q, 'stderr'), tty };
  if (tty) opts.stderr = false;
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw new Error('you must specify at least 1 of stdin, stdout, stderr');
  return opts;
}

/** What a session reports at its end: an exit code (exec), or nothing (attach), or a failure to run. */
export type SessionOutcome = { exitCode: number; description: string } | { error: string } | undefined;

/** Runs a session: gets the client's streams, returns how it ended. */
export type SessionRunner = (io: StreamingIO) => Promise<SessionOutcome>;

/** Parses terminal sizes out of a resize stream: JSON objects, one per message or newline-separated. */
function resizeQueue(input: Readable): AsyncQueue<{ width: number; height: number }> {
  const queue = new AsyncQueue<{ width: number; height: number }>();
  let text = '';
  input.on('data', (d: Buffer) => {
    text += d.toString('utf8');
    let m: RegExpExecArray | null;
    const re = /\{[^{}]*\}/g;
    let consumed = 0;
    while ((m = re.exec(text)) !== null) {
      consumed = re.lastIndex;
      try {
        const size = JSON.parse(m[0]) as { Width?: number; Height?: number; width?: number; height?: number };
        queue.push({ width: Number(size.Width ?? size.width ?? 0), height: Number(size.Height ?? size.height ?? 0) });
      } catch {
        // a malformed size is skipped, as upstream stops at the first decode error only for its own stream
      }
    }
    text = text.slice(consumed);
  });
  input.on('end', () => queue.end());
  input.on('close', () => queue.end());
  return queue;
}

/** Ends a writable and waits until it has flushed (or a deadline passes). */
async function endAndFlush(w: Writable | undefined): Promise<void> {
  if (!w || w.writableFinished || w.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    w.once('finish', done);
    w.once('error', done);
    w.once('close', done);
    if (!w.writableEnded) w.end();
  });
}

function statusBytes(outcome: SessionOutcome, structured: boolean): Buffer | undefined {
  if (structured) {
    const status =
      outcome === undefined ? exitStatus(0, '') : 'error' in outcome ? internalErrorStatus(outcome.error) : exitStatus(outcome.exitCode, outcome.description);
    return Buffer.from(JSON.stringify(status));
  }
  // v1-v3: only failures are written, as their message.
  if (outcome === undefined) return undefined;
  if ('error' in outcome) return Buffer.from(`Internal error occurred: ${outcome.error}`);
  return outcome.exitCode === 0 ? undefined : Buffer.from(`command terminated with non-zero exit code: ${outcome.description}`);
}

/** How a streaming session was set up: the transport and the negotiated protocol. */
export type Negotiated = (transport: 'spdy' | 'websocket' | 'spdy-over-websocket', protocol: string) => void;

/** Serves an exec or attach upgrade request on the raw socket. */
export function serveRemoteCommand(req: IncomingMessage, socket: Duplex, head: Buffer, opts: RemoteCommandOptions, run: SessionRunner, negotiated?: Negotiated): void {
  if (isWebSocketRequest(req)) return serveWebSocket(req, socket, head, opts, run, negotiated);
  if (isSpdyRequest(req)) return serveSpdy(req, socket, head, opts, run, negotiated);
  writeRawResponse(socket, 400, 'unable to upgrade: missing upgrade headers in request\n');
}

function serveSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, opts: RemoteCommandOptions, run: SessionRunner, negotiated?: Negotiated): void {
  const streams = new Map<string, SpdyStream>();
  let expected = 1 + Number(opts.stdin) + Number(opts.stdout) + Number(opts.stderr);
  let started = false;
  let onAll: (() => void) | undefined;
  const up = upgradeToSpdy(req, socket, head, spdyRemoteCommandProtocols, (stream) => {
    const type = stream.header(streamHeader.type) ?? '';
    if (!Object.values(streamType).includes(type as never) || type === streamType.data) {
      stream.reset();
      return;
    }
    streams.set(type, stream);
    if (!started && streams.size >= expected) onAll?.();
  });
  if (!up) return;
  const { conn, protocol } = up;
  negotiated?.('spdy', protocol);
  // Protocols before v3 have no resize stream.
  if (opts.tty && protocol !== remoteCommandProtocol.v1 && protocol !== remoteCommandProtocol.v2) expected += 1;
  const ready = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), streamCreationTimeoutMs);
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      resolve(ok);
    };
    onAll = () => finish(true);
    conn.once('closed', () => finish(false));
    if (streams.size >= expected) finish(true);
  });
  void ready.then(async (ok) => {
    started = true;
    if (!ok) {
      conn.close();
      return;
    }
    const ac = new AbortController();
    conn.once('closed', () => ac.abort());
    const stdout = streams.get(streamType.stdout);
    const stderr = streams.get(streamType.stderr);
    const resize = streams.get(streamType.resize);
    const stdin = streams.get(streamType.stdin);
    // Protocol v1 closes stdin at once (what 1.0 kubelets did).
    if (protocol === remoteCommandProtocol.v1) stdin?.push(null);
    const io: StreamingIO = {
      ...(stdin ? { stdin } : {}),
      ...(stdout ? { stdout } : {}),
      ...(stderr ? { stderr } : {}),
      tty: opts.tty,
      ...(resize && opts.tty ? { resize: resizeQueue(resize) } : {}),
      signal: ac.signal,
    };
    const outcome = await runSafely(run, io);
    await Promise.all([endAndFlush(stdout), endAndFlush(stderr)]);
    const errorStream = streams.get(streamType.error);
    const bytes = statusBytes(outcome, protocol === remoteCommandProtocol.v4);
    if (errorStream && bytes) errorStream.write(bytes);
    await endAndFlush(errorStream);
    conn.close();
  });
}

async function runSafely(run: SessionRunner, io: StreamingIO): Promise<SessionOutcome> {
  try {
    return await run(io);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function serveWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, opts: RemoteCommandOptions, run: SessionRunner, negotiated?: Negotiated): void {
  const offered = offeredSubprotocols(req);
  const protocol = offered.length === 0 ? '' : (offered.find((p) => channelProtocols.has(p)) ?? undefined);
  if (protocol === undefined) {
    writeRawResponse(socket, 400, `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${[...channelProtocols.keys()].filter((p) => p !== '').join(' ')}]\n`);
    return;
  }
  let ws;
  try {
    ws = acceptWebSocket(req, socket, head, protocol);
  } catch (err) {
    writeRawResponse(socket, 400, `${(err as Error).message}\n`);
    return;
  }
  negotiated?.('websocket', protocol);
  const channels = new ChannelConnection(ws, channelProtocols.get(protocol)!);
  // An empty message on the lowest writable channel tells the client the session is up.
  channels.send(opts.stdout ? 1 : opts.stderr ? 2 : 3, Buffer.alloc(0));
  const ac = new AbortController();
  ws.once('close', () => ac.abort());
  const stdout = opts.stdout ? channels.output(1) : undefined;
  const stderr = opts.stderr ? channels.output(2) : undefined;
  const io: StreamingIO = {
    ...(opts.stdin ? { stdin: channels.input(0) } : {}),
    ...(stdout ? { stdout } : {}),
    ...(stderr ? { stderr } : {}),
    tty: opts.tty,
    ...(opts.tty ? { resize: resizeQueue(channels.input(4)) } : {}),
    signal: ac.signal,
  };
  void (async () => {
    const outcome = await runSafely(run, io);
    await Promise.all([endAndFlush(stdout), endAndFlush(stderr)]);
    const structured = protocol === remoteCommandProtocol.v4 || protocol === remoteCommandProtocol.v5 || protocol.startsWith('v4.');
    const bytes = statusBytes(outcome, structured);
    if (bytes) channels.send(3, bytes);
    channels.close();
    channels.input(0).push(null);
    channels.input(4).push(null);
  })();
}
