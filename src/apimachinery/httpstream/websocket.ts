// The server side of RFC 6455 WebSockets, enough for Kubernetes' streaming protocols: the opening handshake
// with subprotocol choice, framing (client frames masked, ours not), fragmented messages, ping/pong and the
// closing handshake. Works over any Duplex positioned after the HTTP request head.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { requestedProtocols } from './protocols.js';

/** The GUID RFC 6455 appends to the client's key. */
const acceptGuid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Messages larger than this close the connection (1009), as a guard against unbounded buffering. */
const maxMessageBytes = 64 * 1024 * 1024;

export const wsOpcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(key + acceptGuid).digest('base64');
}

/** True when the request asks to upgrade to a WebSocket (Connection: upgrade, Upgrade: websocket). */
export function isWebSocketRequest(req: IncomingMessage): boolean {
  const connection = String(req.headers.connection ?? '').toLowerCase();
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  return connection.split(',').some((t) => t.trim() === 'upgrade') && upgrade.split(',').some((t) => t.trim() === 'websocket');
}

/** The subprotocols the client offered, in its order. */
export function offeredSubprotocols(req: IncomingMessage): string[] {
  return requestedProtocols(req, 'Sec-WebSocket-Protocol');
}

/** Encodes one unmasked frame (FIN set). */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let head: Buffer;
  if (len < 126) {
    head = Buffer.from([0x80 | opcode, len]);
  } else if (len < 0x10000) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** One frame as parsed. */
export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Splits bytes into frames, unmasking as it goes. */
export class WsFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): WsFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: WsFrame[] = [];
    for (;;) {
      const b = this.buffered;
      if (b.length < 2) break;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(maxMessageBytes)) throw new Error('websocket: frame too large');
        len = Number(big);
        off = 10;
      }
      const maskLen = masked ? 4 : 0;
      if (b.length < off + maskLen + len) break;
      const payload = Buffer.from(b.subarray(off + maskLen, off + maskLen + len));
      if (masked) {
        const mask = b.subarray(off, off + 4);
        for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
      }
      frames.push({ fin, opcode, payload });
      this.buffered = b.subarray(off + maskLen + len);
    }
    return frames;
  }
}

/**
 * A WebSocket connection after the handshake. Emits 'message' (data, isBinary) for each whole message and
 * 'close' once when the connection ends for any reason.
 */
export class WebSocketConnection extends EventEmitter {
  readonly protocol: string;
  private readonly socket: Duplex;
  private readonly reader = new WsFrameReader();
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private closeSent = false;
  private ended = false;

  constructor(socket: Duplex, protocol: string, head?: Buffer) {
    super();
    this.socket = socket;
    this.protocol = protocol;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
    if (head && head.length > 0) queueMicrotask(() => this.receive(head));
  }

  /** Sends one message. Returns false when the socket asks the writer to wait for 'drain'. */
  send(data: Buffer | string, binary = true): boolean {
    if (this.closeSent || this.ended) return true;
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.socket.write(encodeFrame(binary ? wsOpcode.binary : wsOpcode.text, payload));
  }

  /** Calls back when the socket can take more, or at once when the connection is gone. */
  onDrain(cb: () => void): void {
    if (this.ended) return cb();
    const done = (): void => {
      this.socket.off('drain', done);
      this.off('close', done);
      cb();
    };
    this.socket.once('drain', done);
    this.once('close', done);
  }

  /** Starts the closing handshake and half-closes the socket. */
  close(code = 1000, reason = ''): void {
    if (this.ended) return;
    if (!this.closeSent) {
      this.closeSent = true;
      const r = Buffer.from(reason, 'utf8');
      const payload = Buffer.alloc(2 + r.length);
      payload.writeUInt16BE(code, 0);
      r.copy(payload, 2);
      this.socket.write(encodeFrame(wsOpcode.close, payload));
    }
    this.socket.end();
    // A peer that never answers the close is cut off.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Stops reading the peer (its sends then slow down through TCP) until resume(). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.ended) this.socket.resume();
  }

  private receive(chunk: Buffer): void {
    let frames: WsFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch {
      this.close(1009);
      return;
    }
    for (const f of frames) {
      switch (f.opcode) {
        case wsOpcode.ping:
          if (!this.closeSent) this.socket.write(encodeFrame(wsOpcode.pong, f.payload));
          break;
        case wsOpcode.pong:
          break;
        case wsOpcode.close:
          this.close(f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1000);
          this.finish();
          return;
        case wsOpcode.continuation:
          this.fragments.push(f.payload);
          if (f.fin) this.deliver(this.fragmentOpcode, Buffer.concat(this.fragments.splice(0)));
          break;
        case wsOpcode.text:
        case wsOpcode.binary:
          if (f.fin) this.deliver(f.opcode, f.payload);
          else {
            this.fragmentOpcode = f.opcode;
            this.fragments = [f.payload];
          }
          break;
        default:
          this.close(1002);
          return;
      }
    }
  }

  private deliver(opcode: number, data: Buffer): void {
    this.emit('message', data, opcode === wsOpcode.binary);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('close');
  }
}

/**
 * Answers a WebSocket upgrade request with 101 and returns the connection; `protocol` is the chosen
 * subprotocol ('' for none). Throws when the request is not a valid WebSocket handshake.
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): WebSocketConnection {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || key === '') throw new Error('websocket: missing Sec-WebSocket-Key');
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${websocketAccept(key)}`,
    ...(protocol !== '' ? [`Sec-WebSocket-Protocol: ${protocol}`] : []),
  ];
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  return new WebSocketConnection(socket, protocol, head);
}
