// SPDY/3.1 as Kubernetes uses it for exec, attach and port-forward (k8s.io/apimachinery/pkg/util/httpstream/spdy
// over moby/spdystream), both ends: the client opens streams with SYN_STREAM, the server answers each with
// SYN_REPLY, both sides send DATA and half-close with FIN. The kubelet is the server towards kubectl and a
// client towards a runtime's streaming server (spdy-client.ts dials one). The
// framing (SPDY/3 draft, section 2) and header compression (zlib with the SPDY/3 dictionary, one compression
// context per direction for the whole connection) are written here. There are no flow-control windows,
// because spdystream (kubectl's side) neither sends WINDOW_UPDATE nor honours them; instead a stream whose
// reader falls behind stops the connection's reads, and TCP slows the peer.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type { Inflate } from 'node:zlib';
import { constants as zlibConstants, createInflate } from 'node:zlib';
import { spdyDictionary } from './spdy-dictionary.js';

/** The value of the Upgrade header for SPDY/3.1. */
export const spdy31 = 'SPDY/3.1';

/** Control frame types (SPDY/3 section 2.6). */
export const spdyFrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** RST_STREAM status codes. */
export const spdyRstStatus = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6 } as const;

const flagFin = 0x01;
const spdyVersion = 3;
/** DATA frames we send carry at most this much, so one stream cannot hold the socket for long. */
const maxDataChunk = 128 * 1024;

/** Headers of a stream: lower-case names, each with one or more values. */
export type SpdyHeaders = Map<string, string[]>;

/** One frame as read off the wire. */
export type SpdyFrame =
  | { kind: 'data'; streamId: number; flags: number; data: Buffer }
  | { kind: 'control'; type: number; version: number; flags: number; payload: Buffer };

/** Splits a byte stream into SPDY frames. */
export class SpdyFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** Adds bytes and returns the frames completed by them. */
  push(chunk: Buffer): SpdyFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: SpdyFrame[] = [];
    while (this.buffered.length >= 8) {
      const length = this.buffered.readUInt32BE(4) & 0xffffff;
      if (this.buffered.length < 8 + length) break;
      const first = this.buffered.readUInt32BE(0);
      const flags = this.buffered[4]!;
      const payload = this.buffered.subarray(8, 8 + length);
      if (first & 0x80000000) {
        frames.push({ kind: 'control', version: (first >>> 16) & 0x7fff, type: first & 0xffff, flags, payload });
      } else {
        frames.push({ kind: 'data', streamId: first & 0x7fffffff, flags, data: payload });
      }
      this.buffered = this.buffered.subarray(8 + length);
    }
    return frames;
  }
}

/** Encodes a control frame. */
export function encodeControlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE((0x8000 | spdyVersion) * 0x10000 + type, 0);
  head.writeUInt32BE(flags * 0x1000000 + payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** Encodes a DATA frame. */
export function encodeDataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(flags * 0x1000000 + data.length, 4);
  return Buffer.concat([head, data]);
}

/** The uncompressed name/value block of SYN_STREAM, SYN_REPLY and HEADERS (values of one name joined by NUL). */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  parts.push(u32(headers.size));
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed name/value block. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = new Map();
  let off = 0;
  const need = (n: number): void => {
    if (off + n > block.length) throw new Error('spdy: truncated header block');
  };
  need(4);
  const count = block.readUInt32BE(off);
  off += 4;
  for (let i = 0; i < count; i++) {
    need(4);
    const nl = block.readUInt32BE(off);
    off += 4;
    need(nl);
    const name = block.subarray(off, off + nl).toString('utf8').toLowerCase();
    off += nl;
    need(4);
    const vl = block.readUInt32BE(off);
    off += 4;
    need(vl);
    const values = block.subarray(off, off + vl).toString('utf8').split('\0');
    off += vl;
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return headers;
}

/**
 * Compresses header blocks as one zlib stream made of stored (uncompressed) deflate blocks, each followed
 * by the empty block of a sync flush, so a peer's inflater returns every block whole and consumes exactly
 * the frame's bytes. Valid zlib, synchronous, and header blocks are small enough that compressing them
 * would buy nothing.
 */
export class SpdyHeaderCompressor {
  private started = false;

  compress(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      // CMF 0x78 (deflate, 32 KiB window), FLG 0x01: no preset dictionary, check bits make it a multiple of 31.
      parts.push(Buffer.from([0x78, 0x01]));
      this.started = true;
    }
    for (let off = 0; off < block.length || off === 0; off += 0xffff) {
      const piece = block.subarray(off, off + 0xffff);
      const head = Buffer.alloc(5);
      head[0] = 0x00; // BFINAL 0, BTYPE 00 (stored), padded to the byte
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
      if (block.length === 0) break;
    }
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

/** Inflates the peer's header blocks: one zlib context for the connection, with the SPDY/3 dictionary. */
export class SpdyHeaderDecompressor {
  private readonly inflate: Inflate = createInflate({ dictionary: spdyDictionary() });
  private readonly out: Buffer[] = [];
  private failure: Error | undefined;

  constructor() {
    this.inflate.on('data', (d: Buffer) => this.out.push(d));
    this.inflate.on('error', (err: Error) => (this.failure = err));
  }

  /** Inflates one frame's block; calls must not overlap (the connection processes frames in order). */
  decompress(compressed: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.inflate.write(compressed);
      this.inflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        if (this.failure) return reject(this.failure);
        resolve(Buffer.concat(this.out.splice(0)));
      });
    });
  }

  close(): void {
    this.inflate.destroy();
  }
}

/** One SPDY stream, as a Duplex: reads what the peer sends on it, writes DATA frames; end() sends FIN. */
export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: SpdyHeaders;
  private readonly conn: SpdyConnection;
  /** Our half is finished (FIN sent or stream reset). */
  private localDone = false;
  private remoteDone = false;
  /** A stream we opened: settles when the peer answers SYN_REPLY (or resets it, or the connection ends). */
  private replyWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(conn: SpdyConnection, id: number, headers: SpdyHeaders) {
    super({ allowHalfOpen: true });
    this.conn = conn;
    this.id = id;
    this.headers = headers;
  }

  /** The first value of a header. */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  override _read(): void {
    // The reader wants more: let the connection read the peer again if this stream had stopped it.
    this.conn.streamDrained(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.localDone) return cb();
    let waitFor = false;
    for (let off = 0; off < chunk.length; off += maxDataChunk) {
      waitFor = !this.conn.sendFrame(encodeDataFrame(this.id, 0, chunk.subarray(off, off + maxDataChunk))) || waitFor;
    }
    if (waitFor) this.conn.onDrain(() => cb());
    else cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.finish();
    cb();
  }

  /** Half-closes our side (an empty DATA frame with FIN), as spdystream's Close does. */
  finish(): void {
    if (this.localDone) return;
    this.localDone = true;
    this.conn.sendFrame(encodeDataFrame(this.id, flagFin, Buffer.alloc(0)));
    this.conn.streamMaybeDone(this);
  }

  /** Resets the stream (RST_STREAM CANCEL): neither side uses it any more. */
  reset(): void {
    if (!this.localDone) {
      const payload = Buffer.alloc(8);
      payload.writeUInt32BE(this.id & 0x7fffffff, 0);
      payload.writeUInt32BE(spdyRstStatus.cancel, 4);
      this.conn.sendFrame(encodeControlFrame(spdyFrameType.rstStream, 0, payload));
    }
    this.localDone = true;
    this.remoteEnd();
  }

  /** @internal a stream we opened waits for its SYN_REPLY. */
  awaitReply(): Promise<void> {
    return new Promise((resolve, reject) => (this.replyWaiter = { resolve, reject }));
  }

  /** @internal the peer answered (or refused) a stream we opened. */
  replied(err?: Error): void {
    const w = this.replyWaiter;
    this.replyWaiter = undefined;
    if (err) w?.reject(err);
    else w?.resolve();
  }

  /** @internal data from the peer. */
  remoteData(data: Buffer): void {
    // SPDY as spdystream speaks it has no windows, so a stream whose reader falls behind stops the
    // connection's reads (TCP then slows the peer), as spdystream's unbuffered stream channels do.
    if (!this.remoteDone && data.length > 0 && !this.push(data)) this.conn.streamFull(this);
  }

  /** @internal the peer half-closed, reset, or the connection ended. */
  remoteEnd(): void {
    if (this.remoteDone) return;
    this.remoteDone = true;
    this.push(null);
    this.conn.streamDrained(this);
    this.conn.streamMaybeDone(this);
  }

  /** @internal the connection is gone: nothing more can be written. */
  connectionGone(): void {
    this.replied(new Error(`spdy: stream ${this.id} was reset or its connection closed`));
    this.localDone = true;
    this.remoteEnd();
  }

  get finished(): boolean {
    return this.localDone && this.remoteDone;
  }
}

/** Options of a SpdyConnection. */
export interface SpdyConnectionOptions {
  /** The client end: our streams get odd IDs (the server's even ones), as SPDY assigns them. */
  client?: boolean;
}

/**
 * One end of a SPDY/3.1 connection over any Duplex (a socket after the 101 answer, or a WebSocket tunnel).
 * Each stream the peer opens is answered with SYN_REPLY and handed to `onStream`; `openStream` opens ours.
 */
export class SpdyConnection extends EventEmitter {
  private readonly transport: Duplex;
  private readonly reader = new SpdyFrameReader();
  private readonly compressor = new SpdyHeaderCompressor();
  private readonly decompressor = new SpdyHeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  /** Streams whose readers are behind; while any is, the transport is not read. */
  private readonly stalled = new Set<SpdyStream>();
  private readonly onStream: (stream: SpdyStream) => void;
  private queue: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  private nextStreamId: number;
  private closed = false;
  /** GOAWAY sent; the transport ends when the open streams finish. */
  private closing = false;
  private whenIdle: (() => void) | undefined;

  constructor(transport: Duplex, onStream: (stream: SpdyStream) => void, options: SpdyConnectionOptions = {}) {
    super();
    this.transport = transport;
    this.onStream = onStream;
    this.nextStreamId = options.client ? 1 : 2;
    transport.on('data', (chunk: Buffer) => {
      let frames: SpdyFrame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const frame of frames) {
        // Header blocks share one zlib context, so frames are handled strictly in order.
        this.queue = this.queue.then(() => this.handleFrame(frame)).catch((err: unknown) => this.fail(err as Error));
      }
    });
    // The peer finished the connection: finish ours too, or a half-open socket would stay forever. Frames
    // already read are handled first (a header block may still be inflating ahead of the last DATA frames).
    const gone = (): void => void (this.queue = this.queue.then(() => this.teardown()));
    transport.on('end', () => {
      if (!transport.writableEnded) transport.end();
      gone();
    });
    transport.on('close', gone);
    transport.on('error', gone);
  }

  /** @internal writes a frame; false when the transport wants the writer to wait for drain. */
  sendFrame(frame: Buffer): boolean {
    if (this.closed || this.transport.destroyed || this.transport.writableEnded) return true;
    return this.transport.write(frame);
  }

  /** @internal */
  onDrain(cb: () => void): void {
    if (this.closed) return cb();
    const done = (): void => {
      this.transport.off('drain', done);
      this.off('closed', done);
      cb();
    };
    this.transport.once('drain', done);
    this.once('closed', done);
  }

  /** @internal a stream's buffer is full: stop reading the peer. */
  streamFull(stream: SpdyStream): void {
    if (this.stalled.has(stream)) return;
    this.stalled.add(stream);
    // A reader that gives up (destroys the stream) must not hold the connection.
    stream.once('close', () => this.streamDrained(stream));
    this.transport.pause();
  }

  /** @internal a stream's reader caught up (or the stream ended): read again once no stream is behind. */
  streamDrained(stream: SpdyStream): void {
    if (this.stalled.delete(stream) && this.stalled.size === 0 && !this.closed) this.transport.resume();
  }

  /** @internal */
  streamMaybeDone(stream: SpdyStream): void {
    if (stream.finished) this.streams.delete(stream.id);
    if (this.streams.size === 0) this.whenIdle?.();
  }

  /**
   * Sends GOAWAY, then ends the transport once the peer has finished the open streams (or closed the
   * connection, or `graceMs` passed), as spdystream's Close waits for its streams. Ending at once could
   * drop what the peer has not read yet: kubectl reads the exec status from the error stream after the
   * output streams ended, and a connection torn down under it loses that status.
   */
  close(graceMs = 5000): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(this.lastStreamId, 0);
    payload.writeUInt32BE(0, 4);
    this.sendFrame(encodeControlFrame(spdyFrameType.goAway, 0, payload));
    const end = (): void => {
      clearTimeout(timer);
      this.whenIdle = undefined;
      this.transport.end();
      // A peer that never finishes its half does not hold the socket open.
      setTimeout(() => this.transport.destroy(), graceMs).unref();
      this.teardown();
    };
    const timer = setTimeout(end, graceMs);
    this.whenIdle = end;
    if (this.streams.size === 0) end();
  }

  /**
   * Opens a stream with the given headers (SYN_STREAM) and resolves once the peer has answered it, as
   * client-go's CreateStream waits for the reply; rejects when the peer resets it or the connection ends.
   */
  async openStream(headers: Record<string, string>): Promise<SpdyStream> {
    if (this.closed || this.closing) throw new Error('spdy: connection closed');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const block = new Map(Object.entries(headers).map(([k, v]): [string, string[]] => [k.toLowerCase(), [v]]));
    const stream = new SpdyStream(this, id, block);
    this.streams.set(id, stream);
    const reply = stream.awaitReply();
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id & 0x7fffffff, 0);
    // Bytes 4-7: associated stream ID 0; bytes 8-9: priority 0, unused slot.
    this.sendFrame(encodeControlFrame(spdyFrameType.synStream, 0, Buffer.concat([head, this.compressor.compress(encodeHeaderBlock(block))])));
    await reply;
    return stream;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private fail(err: Error): void {
    this.emit('protocolError', err);
    this.transport.destroy();
    this.teardown();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    const idle = this.whenIdle;
    this.whenIdle = undefined;
    idle?.();
    for (const s of this.streams.values()) s.connectionGone();
    this.streams.clear();
    this.decompressor.close();
    this.emit('closed');
  }

  private async handleFrame(frame: SpdyFrame): Promise<void> {
    if (frame.kind === 'data') {
      const stream = this.streams.get(frame.streamId);
      if (!stream) return;
      stream.remoteData(frame.data);
      if (frame.flags & flagFin) stream.remoteEnd();
      return;
    }
    const p = frame.payload;
    switch (frame.type) {
      case spdyFrameType.synStream: {
        if (p.length < 10) throw new Error('spdy: short SYN_STREAM');
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.decompressor.decompress(p.subarray(10)));
        if (this.closed) return;
        this.lastStreamId = Math.max(this.lastStreamId, id);
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        const reply = Buffer.alloc(4);
        reply.writeUInt32BE(id, 0);
        this.sendFrame(encodeControlFrame(spdyFrameType.synReply, 0, Buffer.concat([reply, this.compressor.compress(encodeHeaderBlock(new Map()))])));
        if (frame.flags & flagFin) stream.remoteEnd();
        this.onStream(stream);
        return;
      }
      case spdyFrameType.synReply:
      case spdyFrameType.headers: {
        // The headers are inflated to keep the shared zlib context in step; nobody needs their values.
        if (p.length < 4) return;
        await this.decompressor.decompress(p.subarray(4));
        const stream = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        if (frame.type === spdyFrameType.synReply) {
          stream?.replied();
          if (stream && frame.flags & flagFin) stream.remoteEnd();
        }
        return;
      }
      case spdyFrameType.rstStream: {
        if (p.length < 8) return;
        const stream = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        stream?.connectionGone();
        if (stream) this.streams.delete(stream.id);
        if (this.streams.size === 0) this.whenIdle?.();
        return;
      }
      case spdyFrameType.ping:
        // A ping is answered with the same frame.
        this.sendFrame(encodeControlFrame(spdyFrameType.ping, 0, p));
        return;
      case spdyFrameType.goAway:
        this.emit('goaway');
        return;
      default:
        // SETTINGS and WINDOW_UPDATE: nothing to do without flow control.
        return;
    }
  }
}
