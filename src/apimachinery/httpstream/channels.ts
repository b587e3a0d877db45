// Kubernetes' channel protocols over a WebSocket (k8s.io/apimachinery/pkg/util/httpstream/wsstream): every
// message starts with a channel number; in the binary protocols (channel.k8s.io, v4.channel.k8s.io,
// v5.channel.k8s.io) that is one byte before raw data, in the base64 ones (base64.channel.k8s.io,
// v4.base64.channel.k8s.io) an ASCII digit before base64 text. v5 adds channel 255: a client message
// [255, n] half-closes channel n (the end of stdin).
import { Readable, Writable } from 'node:stream';
import { base64ChannelProtocol, closeChannel, remoteCommandProtocol } from './protocols.js';
import type { WebSocketConnection } from './websocket.js';

/** How a channel protocol encodes messages. */
export interface ChannelProtocolInfo {
  binary: boolean;
  /** v5: the client can half-close a channel. */
  closeSignal: boolean;
}

/** The channel subprotocols we speak, and how each encodes. '' is a client that named none (binary). */
export const channelProtocols: ReadonlyMap<string, ChannelProtocolInfo> = new Map([
  [remoteCommandProtocol.v5, { binary: true, closeSignal: true }],
  [remoteCommandProtocol.v4, { binary: true, closeSignal: false }],
  [`v4.${base64ChannelProtocol}`, { binary: false, closeSignal: false }],
  [remoteCommandProtocol.v1, { binary: true, closeSignal: false }],
  [base64ChannelProtocol, { binary: false, closeSignal: false }],
  ['', { binary: true, closeSignal: false }],
]);

/**
 * Channels multiplexed over one WebSocket. Incoming data of a channel goes to its Readable (`input(n)`),
 * `output(n)` is a Writable that sends on a channel.
 */
export class ChannelConnection {
  readonly ws: WebSocketConnection;
  readonly info: ChannelProtocolInfo;
  private readonly inputs = new Map<number, Readable>();
  /** Channels whose readers are behind; while any is, the WebSocket is not read. */
  private readonly stalled = new Set<number>();

  constructor(ws: WebSocketConnection, info: ChannelProtocolInfo) {
    this.ws = ws;
    this.info = info;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', () => {
      for (const r of this.inputs.values()) if (!r.readableEnded) r.push(null);
    });
  }

  /** The stream of what the client sends on channel `n`. */
  input(n: number): Readable {
    let r = this.inputs.get(n);
    if (!r) {
      r = new Readable({ read: () => this.drained(n) });
      r.once('close', () => this.drained(n));
      this.inputs.set(n, r);
      if (this.ws.isClosed) r.push(null);
    }
    return r;
  }

  /** A Writable sending on channel `n`; ending it sends nothing (channels have no end marker before v5). */
  output(n: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (this.send(n, chunk)) cb();
        else this.ws.onDrain(() => cb());
      },
    });
  }

  /** Sends one message on channel `n` (an empty one is allowed: it tells the client the stream is up). */
  send(n: number, data: Buffer): boolean {
    if (this.info.binary) return this.ws.send(Buffer.concat([Buffer.from([n]), data]), true);
    return this.ws.send(String.fromCharCode(48 + n) + data.toString('base64'), false);
  }

  close(): void {
    this.ws.close(1000);
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (data.length === 0) return;
    let channel: number;
    let payload: Buffer;
    if (this.info.binary) {
      if (!isBinary) return;
      channel = data[0]!;
      payload = data.subarray(1);
    } else {
      channel = data[0]! - 48;
      payload = Buffer.from(data.subarray(1).toString('latin1'), 'base64');
    }
    if (channel === closeChannel && this.info.closeSignal) {
      const target = payload[0];
      if (target !== undefined) {
        const r = this.input(target);
        if (!r.readableEnded) r.push(null);
        this.drained(target);
      }
      return;
    }
    const r = this.input(channel);
    if (payload.length > 0 && !r.readableEnded && !r.push(payload)) {
      this.stalled.add(channel);
      this.ws.pause();
    }
  }

  private drained(n: number): void {
    if (this.stalled.delete(n) && this.stalled.size === 0) this.ws.resume();
  }
}
