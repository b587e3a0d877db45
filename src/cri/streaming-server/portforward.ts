// port-forward at the kubelet (upstream's cri/streaming/portforward), in its three transports:
// - SPDY (portforward.k8s.io): per forwarded connection the client opens an error stream and a data stream
//   with the same requestID header and a port header; we connect to the port and copy both ways;
// - SPDY tunnelled in a WebSocket (subprotocol SPDY/3.1+portforward.k8s.io, kubectl 1.31+): the same SPDY
//   session carried in binary messages;
// - WebSocket channels (client-node): ports from the query; per port a data channel 2i and an error channel
//   2i+1, each starting with the port as two little-endian bytes.
import { setMaxListeners } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import { ChannelConnection, channelProtocols } from '../../apimachinery/httpstream/channels.js';
import { portForwardProtocolV1, spdyTunnelPrefix, streamHeader, streamType } from '../../apimachinery/httpstream/protocols.js';
import type { SpdyStream } from '../../apimachinery/httpstream/spdy.js';
import { SpdyConnection } from '../../apimachinery/httpstream/spdy.js';
import { websocketByteStream } from '../../apimachinery/httpstream/tunnel.js';
import { acceptWebSocket, isWebSocketRequest, offeredSubprotocols } from '../../apimachinery/httpstream/websocket.js';
/** The pod a port-forward goes to, for error messages. */
export interface PodRef {
  name: string;
  uid?: string;
}
import type { Negotiated } from './remotecommand.js';
import { isSpdyRequest, upgradeToSpdy, writeRawResponse } from './upgrade.js';

/** Forwards one connection to a port of the pod (the runtime's portForward). */
export type PortForwarder = (port: number, stream: Duplex, signal: AbortSignal) => Promise<void>;

const spdyPortForwardProtocols = [portForwardProtocolV1];

/** Upstream's message on the error stream when forwarding fails. */
function forwardError(port: number, pod: PodRef, err: unknown): string {
  return `error forwarding port ${port} to pod ${pod.name}, uid ${pod.uid ?? ''}: ${err instanceof Error ? err.message : String(err)}`;
}

/** Parses the ports query of a WebSocket port-forward ("ports=8080,9090", repeatable). */
export function parsePorts(q: URLSearchParams): number[] {
  const raw = q.getAll('ports').concat(q.getAll('port'));
  if (raw.length === 0) throw new Error(`query parameter "port" is required`);
  const ports: number[] = [];
  for (const s of raw) {
    if (s === '') throw new Error(`query parameter "port" cannot be empty`);
    for (const p of s.split(',')) {
      const n = Number(p);
      if (!/^\d+$/.test(p) || n > 65535) throw new Error(`unable to parse "${s}" as a port: invalid syntax`);
      if (n < 1) throw new Error(`port "${s}" must be > 0`);
      ports.push(n);
    }
  }
  return ports;
}

/** Serves a port-forward upgrade request. */
export function servePortForward(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  pod: PodRef,
  query: URLSearchParams,
  forward: PortForwarder,
  negotiated?: Negotiated,
): void {
  if (isWebSocketRequest(req)) {
    const offered = offeredSubprotocols(req);
    const tunnel = offered.find((p) => p.startsWith(spdyTunnelPrefix) && spdyPortForwardProtocols.includes(p.slice(spdyTunnelPrefix.length)));
    if (tunnel) {
      const ws = acceptWebSocket(req, socket, head, tunnel);
      negotiated?.('spdy-over-websocket', tunnel);
      const session = spdySession(pod, forward);
      session.bind(new SpdyConnection(websocketByteStream(ws), session.onStream));
      return;
    }
    return serveChannels(req, socket, head, offered, pod, query, forward, negotiated);
  }
  if (!isSpdyRequest(req)) {
    writeRawResponse(socket, 400, 'unable to upgrade: missing upgrade headers in request\n');
    return;
  }
  const session = spdySession(pod, forward);
  const up = upgradeToSpdy(req, socket, head, spdyPortForwardProtocols, session.onStream);
  if (!up) return;
  negotiated?.('spdy', up.protocol);
  session.bind(up.conn);
}

/** Pairs error and data streams by requestID and forwards each pair. */
function spdySession(pod: PodRef, forward: PortForwarder): { onStream: (s: SpdyStream) => void; bind: (conn: SpdyConnection) => void } {
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream; started?: boolean }>();
  const ac = new AbortController();
  // One listener per forwarded connection in flight: a busy session has many, legitimately.
  setMaxListeners(0, ac.signal);
  const bind = (conn: SpdyConnection): void => void conn.once('closed', () => ac.abort());
  const onStream = (stream: SpdyStream): void => {
    const type = stream.header(streamHeader.type);
    // Clients before requestID existed sent one pair at a time: the stream id pairs them then.
    const requestID = stream.header(streamHeader.requestID) ?? String(type === streamType.error ? stream.id + 2 : stream.id);
    if (type !== streamType.data && type !== streamType.error) {
      stream.reset();
      return;
    }
    const pair = pairs.get(requestID) ?? {};
    pairs.set(requestID, pair);
    if (type === streamType.data) pair.data = stream;
    else pair.error = stream;
    if (!pair.data || !pair.error || pair.started) return;
    pair.started = true;
    const { data, error } = pair;
    const portText = data.header(streamHeader.port) ?? '';
    const port = Number(portText);
    // Each forwarded connection gets its own signal, ended with it, so a long session does not pile up
    // listeners on the session's.
    const pairAc = new AbortController();
    const onSessionEnd = (): void => pairAc.abort();
    ac.signal.addEventListener('abort', onSessionEnd, { once: true });
    void (async () => {
      try {
        if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new Error(`invalid port header: "${portText}"`);
        await forward(port, data, pairAc.signal);
      } catch (err) {
        error.write(Buffer.from(forwardError(port, pod, err)));
      } finally {
        ac.signal.removeEventListener('abort', onSessionEnd);
        pairAc.abort();
        error.end();
        if (!data.writableEnded) data.end();
        pairs.delete(requestID);
      }
    })();
  };
  return { onStream, bind };
}

function serveChannels(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  offered: string[],
  pod: PodRef,
  query: URLSearchParams,
  forward: PortForwarder,
  negotiated?: Negotiated,
): void {
  let ports: number[];
  try {
    ports = parsePorts(query);
  } catch (err) {
    writeRawResponse(socket, 400, `${(err as Error).message}\n`);
    return;
  }
  // Port-forward speaks the binary and base64 v4 protocols (and none at all), not v5.
  const allowed = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];
  const protocol = offered.length === 0 ? '' : offered.find((p) => allowed.includes(p));
  if (protocol === undefined) {
    writeRawResponse(socket, 400, `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${allowed.join(' ')}]\n`);
    return;
  }
  const ws = acceptWebSocket(req, socket, head, protocol);
  negotiated?.('websocket', protocol);
  const channels = new ChannelConnection(ws, channelProtocols.get(protocol)!);
  const ac = new AbortController();
  ws.once('close', () => ac.abort());
  const portBytes = (p: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(p);
    return b;
  };
  let running = ports.length;
  ports.forEach((port, i) => {
    channels.send(2 * i, portBytes(port));
    channels.send(2 * i + 1, portBytes(port));
    const input = channels.input(2 * i);
    const output = channels.output(2 * i);
    // One Duplex per port: reads what the client sends on the data channel, writes to it.
    const stream = Duplex.from({ readable: input, writable: output });
    void forward(port, stream, ac.signal)
      .catch((err: unknown) => {
        channels.send(2 * i + 1, Buffer.from(forwardError(port, pod, err)));
      })
      .finally(() => {
        running -= 1;
        if (running === 0) channels.close();
      });
  });
}
