// A minimal SPDY/3.1 client for tests that need what kubectl cannot do without a terminal (a tty session with
// resize events): it upgrades a connection as client-go does, opens streams with headers, and collects what
// the server sends on each. Header blocks are compressed as Go's spdystream does (zlib with the SPDY/3
// dictionary, one context, a sync flush per frame), so the server's decompressor is exercised for real.
import { request } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { constants, createDeflate } from 'node:zlib';
import { encodeControlFrame, encodeDataFrame, encodeHeaderBlock, SpdyFrameReader, spdyFrameType } from '../../src/apimachinery/httpstream/spdy.js';
import { spdyDictionary } from '../../src/apimachinery/httpstream/spdy-dictionary.js';

/** What the server sent on one stream. */
export interface ClientStream {
  id: number;
  data: Buffer[];
  finished: boolean;
  replied: boolean;
}

/** One upgraded connection. */
export class SpdyTestClient {
  readonly protocol: string;
  private readonly socket: Duplex;
  private readonly deflate = createDeflate({ dictionary: spdyDictionary(), level: 9 });
  private readonly deflated: Buffer[] = [];
  private readonly reader = new SpdyFrameReader();
  private readonly streams = new Map<number, ClientStream>();
  private nextId = 1;
  goAway = false;
  /** The server closed the connection. */
  ended = false;

  private constructor(socket: Duplex, protocol: string, head: Buffer) {
    this.socket = socket;
    this.protocol = protocol;
    this.deflate.on('data', (d: Buffer) => this.deflated.push(d));
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('close', () => (this.ended = true));
    if (head.length > 0) this.receive(head);
  }

  /** Upgrades `path` with the protocols offered; rejects with the status and body when the server refuses. */
  static connect(options: RequestOptions, protocols: string[]): Promise<SpdyTestClient> {
    return new Promise((resolve, reject) => {
      const req = request({
        ...options,
        method: 'POST',
        agent: false,
        headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols.join(', ') },
      });
      req.on('upgrade', (res, socket, head) => resolve(new SpdyTestClient(socket, String(res.headers['x-stream-protocol-version'] ?? ''), head)));
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => reject(new Error(`${res.statusCode}: ${body}`)));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Opens a stream with the given headers. */
  async open(headers: Record<string, string>): Promise<ClientStream> {
    const id = this.nextId;
    this.nextId += 2;
    const stream: ClientStream = { id, data: [], finished: false, replied: false };
    this.streams.set(id, stream);
    const block = encodeHeaderBlock(new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), [v]])));
    const compressed = await new Promise<Buffer>((resolve) => {
      this.deflate.write(block);
      this.deflate.flush(constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(this.deflated.splice(0))));
    });
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id, 0);
    this.socket.write(encodeControlFrame(spdyFrameType.synStream, 0, Buffer.concat([head, compressed])));
    return stream;
  }

  write(stream: ClientStream, data: string | Buffer, fin = false): void {
    this.socket.write(encodeDataFrame(stream.id, fin ? 1 : 0, typeof data === 'string' ? Buffer.from(data) : data));
  }

  text(stream: ClientStream): string {
    return Buffer.concat(stream.data).toString('utf8');
  }

  close(): void {
    this.socket.destroy();
    this.deflate.destroy();
  }

  private receive(chunk: Buffer): void {
    for (const f of this.reader.push(chunk)) {
      if (f.kind === 'data') {
        const s = this.streams.get(f.streamId);
        if (!s) continue;
        if (f.data.length > 0) s.data.push(f.data);
        if (f.flags & 1) s.finished = true;
      } else if (f.type === spdyFrameType.synReply) {
        const s = this.streams.get(f.payload.readUInt32BE(0) & 0x7fffffff);
        if (s) s.replied = true;
      } else if (f.type === spdyFrameType.goAway) {
        this.goAway = true;
      }
    }
  }
}
