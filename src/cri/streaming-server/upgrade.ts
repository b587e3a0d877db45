// The two ways a streaming request becomes a connection at the kubelet: a SPDY/3.1 upgrade with
// X-Stream-Protocol-Version negotiation, or a WebSocket with a channel subprotocol. Both work on the raw
// socket of Node's 'upgrade' event; failures before the switch are answered as plain HTTP.
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  headerAcceptedProtocolVersions,
  headerProtocolVersion,
  negotiateProtocol,
  negotiationFailure,
  requestedProtocols,
} from '../../apimachinery/httpstream/protocols.js';
import type { SpdyStream } from '../../apimachinery/httpstream/spdy.js';
import { SpdyConnection, spdy31 } from '../../apimachinery/httpstream/spdy.js';

/** Writes a complete HTTP/1.1 answer on a raw socket and closes it. */
export function writeRawResponse(socket: Duplex, code: number, body: string, headers: Record<string, string | string[]> = {}, contentType = 'text/plain; charset=utf-8'): void {
  if (socket.destroyed || socket.writableEnded) return;
  const lines = [`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}`, `Content-Type: ${contentType}`, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
}

/** True when the request asks for SPDY/3.1 (Connection: Upgrade, Upgrade: SPDY/3.1). */
export function isSpdyRequest(req: IncomingMessage): boolean {
  const connection = String(req.headers.connection ?? '').toLowerCase();
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  return connection.includes('upgrade') && upgrade.includes(spdy31.toLowerCase());
}

/**
 * Negotiates the stream protocol and switches to SPDY. Returns the connection and the protocol, or
 * undefined after answering the failure (400 without the header, 403 with the accepted list on no match).
 */
export function upgradeToSpdy(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  serverProtocols: readonly string[],
  onStream: (stream: SpdyStream) => void,
): { conn: SpdyConnection; protocol: string } | undefined {
  const client = requestedProtocols(req);
  if (client.length === 0) {
    writeRawResponse(socket, 400, `unable to upgrade: ${headerProtocolVersion} is required\n`);
    return undefined;
  }
  const protocol = negotiateProtocol(client, serverProtocols);
  if (protocol === '') {
    writeRawResponse(socket, 403, negotiationFailure(client, serverProtocols) + '\n', { [headerAcceptedProtocolVersions]: [...serverProtocols] });
    return undefined;
  }
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', `Upgrade: ${spdy31}`, `${headerProtocolVersion}: ${protocol}`].join('\r\n') + '\r\n\r\n');
  if (head.length > 0) socket.unshift(head);
  return { conn: new SpdyConnection(socket, onStream), protocol };
}

/** A queue that one consumer reads as an async iterable; push after end is ignored. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}
