import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { constants, createDeflate, inflateSync } from 'node:zlib';
import { ChannelConnection, channelProtocols } from './channels.js';
import { exitStatus, negotiateProtocol, negotiationFailure } from './protocols.js';
import type { SpdyFrame, SpdyStream } from './spdy.js';
import {
  decodeHeaderBlock,
  encodeControlFrame,
  encodeDataFrame,
  encodeHeaderBlock,
  SpdyConnection,
  SpdyFrameReader,
  spdyFrameType,
  SpdyHeaderCompressor,
  SpdyHeaderDecompressor,
} from './spdy.js';
import { spdyDictionary } from './spdy-dictionary.js';
import { encodeFrame, WebSocketConnection, websocketAccept, WsFrameReader, wsOpcode } from './websocket.js';

/** Adler-32, to pin the dictionary's bytes. */
function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return (b * 65536 + a) >>> 0;
}

/** A client-side header compressor as Go's spdystream has one: zlib with the dictionary, sync-flushed per frame. */
function goLikeCompressor(): (block: Buffer) => Promise<Buffer> {
  const deflate = createDeflate({ dictionary: spdyDictionary(), level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (d: Buffer) => out.push(d));
  return (block) =>
    new Promise((resolve) => {
      deflate.write(block);
      deflate.flush(constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(out.splice(0))));
    });
}

/** Two connected Duplexes, like a socket pair. */
function pipePair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = Duplex.from({ readable: bToA, writable: aToB });
  const b = Duplex.from({ readable: aToB, writable: bToA });
  return [a, b];
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('SPDY/3.1', () => {
  it('has the SPDY/3 dictionary', () => {
    const d = spdyDictionary();
    assert.equal(d.length, 1423);
    assert.equal(adler32(d), 3821447106);
  });

  it('round-trips header blocks, values of one name joined by NUL', () => {
    const h = new Map([
      ['streamtype', ['stdout']],
      ['x-multi', ['a', 'b']],
    ]);
    assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock(h)), h);
    assert.throws(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 1])), /truncated/);
  });

  it('compresses as one zlib stream whose frames each inflate whole', () => {
    const c = new SpdyHeaderCompressor();
    const one = encodeHeaderBlock(new Map([['a', ['1']]]));
    const two = encodeHeaderBlock(new Map());
    const f1 = c.compress(one);
    const f2 = c.compress(two);
    assert.deepEqual(f1.subarray(0, 2), Buffer.from([0x78, 0x01]));
    assert.deepEqual(inflateSync(f1, { finishFlush: constants.Z_SYNC_FLUSH }), one);
    assert.deepEqual(inflateSync(Buffer.concat([f1, f2]), { finishFlush: constants.Z_SYNC_FLUSH }), Buffer.concat([one, two]));
    // Blocks over 64 KiB need several stored blocks.
    const big = Buffer.alloc(70_000, 7);
    assert.deepEqual(inflateSync(new SpdyHeaderCompressor().compress(big), { finishFlush: constants.Z_SYNC_FLUSH }), big);
  });

  it('inflates a peer that compresses with the dictionary, keeping context across frames', async () => {
    const compress = goLikeCompressor();
    const d = new SpdyHeaderDecompressor();
    const b1 = encodeHeaderBlock(new Map([['streamtype', ['error']]]));
    const b2 = encodeHeaderBlock(new Map([['streamtype', ['stdout']]]));
    assert.deepEqual(await d.decompress(await compress(b1)), b1);
    assert.deepEqual(await d.decompress(await compress(b2)), b2);
    d.close();
  });

  it('splits frames at any chunk boundary', () => {
    const frames = Buffer.concat([encodeDataFrame(3, 1, Buffer.from('hello')), encodeControlFrame(spdyFrameType.ping, 0, Buffer.from([0, 0, 0, 1]))]);
    const r = new SpdyFrameReader();
    const got: SpdyFrame[] = [];
    for (const byte of frames) got.push(...r.push(Buffer.from([byte])));
    assert.equal(got.length, 2);
    assert.deepEqual(got[0], { kind: 'data', streamId: 3, flags: 1, data: Buffer.from('hello') });
    assert.equal(got[1]!.kind === 'control' && got[1]!.type, spdyFrameType.ping);
  });

  it('serves streams: SYN_REPLY, data both ways, FIN, RST, PING and GOAWAY', async () => {
    const [client, server] = pipePair();
    const streams: SpdyStream[] = [];
    const conn = new SpdyConnection(server, (s) => {
      streams.push(s);
      s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
      s.on('end', () => s.end());
    });
    const compress = goLikeCompressor();
    const fromServer = new SpdyFrameReader();
    const received: SpdyFrame[] = [];
    client.on('data', (d: Buffer) => received.push(...fromServer.push(d)));
    const syn = async (id: number, headers: Map<string, string[]>): Promise<void> => {
      const head = Buffer.alloc(10);
      head.writeUInt32BE(id, 0);
      client.write(encodeControlFrame(spdyFrameType.synStream, 0, Buffer.concat([head, await compress(encodeHeaderBlock(headers))])));
    };
    await syn(1, new Map([['streamtype', ['error']]]));
    await syn(3, new Map([['streamtype', ['stdin']]]));
    await until(() => streams.length === 2, 'two streams');
    assert.equal(streams[1]!.header('streamType'), 'stdin');
    const replies = received.filter((f) => f.kind === 'control' && f.type === spdyFrameType.synReply);
    assert.equal(replies.length, 2);
    client.write(encodeDataFrame(3, 0, Buffer.from('hi')));
    await until(() => received.some((f) => f.kind === 'data' && f.data.toString() === 'echo:hi'), 'the echo');
    client.write(encodeDataFrame(3, 1, Buffer.alloc(0)));
    await until(() => received.some((f) => f.kind === 'data' && f.streamId === 3 && (f.flags & 1) === 1), 'our FIN');
    client.write(encodeControlFrame(spdyFrameType.ping, 0, Buffer.from([0, 0, 0, 7])));
    await until(() => received.some((f) => f.kind === 'control' && f.type === spdyFrameType.ping), 'the ping answer');
    const rst = Buffer.alloc(8);
    rst.writeUInt32BE(1, 0);
    rst.writeUInt32BE(5, 4);
    client.write(encodeControlFrame(spdyFrameType.rstStream, 0, rst));
    await until(() => streams[0]!.readableEnded, 'the reset to end the stream');
    conn.close();
    await until(() => received.some((f) => f.kind === 'control' && f.type === spdyFrameType.goAway), 'GOAWAY');
    assert.ok(conn.isClosed);
  });
});

describe('backpressure', () => {
  it('stops reading the peer while a SPDY stream’s reader is behind, and resumes when it catches up', async () => {
    const [client, server] = pipePair();
    let stream: SpdyStream | undefined;
    new SpdyConnection(server, (s) => (stream = s));
    const compress = goLikeCompressor();
    const head = Buffer.alloc(10);
    head.writeUInt32BE(1, 0);
    client.write(encodeControlFrame(spdyFrameType.synStream, 0, Buffer.concat([head, await compress(encodeHeaderBlock(new Map([['streamtype', ['stdin']]])))])));
    await until(() => stream !== undefined, 'the stream');
    // Nobody reads the stream: once its buffer is full the connection stops reading.
    client.write(encodeDataFrame(1, 0, Buffer.alloc(64 * 1024)));
    await until(() => server.isPaused(), 'the connection to pause');
    let got = 0;
    stream!.on('data', (d: Buffer) => (got += d.length));
    client.write(encodeDataFrame(1, 0, Buffer.alloc(1000)));
    await until(() => got === 64 * 1024 + 1000, 'everything to arrive after the reader started');
    assert.equal(server.isPaused(), false);
  });

  it('stops reading a WebSocket while a channel’s reader is behind', async () => {
    const [client, server] = pipePair();
    const ws = new WebSocketConnection(server, 'v4.channel.k8s.io');
    const channels = new ChannelConnection(ws, channelProtocols.get('v4.channel.k8s.io')!);
    const stdin = channels.input(0);
    const mask = Buffer.from([0, 0, 0, 0]);
    const frame = (payload: Buffer): Buffer => {
      const h = Buffer.alloc(4);
      h[0] = 0x82;
      h[1] = 0x80 | 126;
      h.writeUInt16BE(payload.length, 2);
      return Buffer.concat([h, mask, payload]);
    };
    client.write(frame(Buffer.concat([Buffer.from([0]), Buffer.alloc(40_000)])));
    await until(() => server.isPaused(), 'the WebSocket to pause');
    let got = 0;
    stdin.on('data', (d: Buffer) => (got += d.length));
    await until(() => got === 40_000 && !server.isPaused(), 'the reader to drain it');
  });
});

describe('WebSocket', () => {
  it('computes the accept key (RFC 6455 section 1.3)', () => {
    assert.equal(websocketAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  const masked = (opcode: number, payload: Buffer, fin = true): Buffer => {
    const mask = Buffer.from([1, 2, 3, 4]);
    const body = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!));
    const len = payload.length;
    const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
    return Buffer.concat([head, mask, body]);
  };

  it('reads masked frames of every length form, in pieces', () => {
    const r = new WsFrameReader();
    const big = Buffer.alloc(300, 9);
    const bytes = Buffer.concat([masked(wsOpcode.binary, Buffer.from('abc')), masked(wsOpcode.text, big)]);
    const frames = [...r.push(bytes.subarray(0, 5)), ...r.push(bytes.subarray(5))];
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0]!.payload, Buffer.from('abc'));
    assert.deepEqual(frames[1]!.payload, big);
    assert.deepEqual(new WsFrameReader().push(encodeFrame(wsOpcode.binary, Buffer.alloc(70_000)))[0]!.payload.length, 70_000);
  });

  it('joins fragments, answers pings, and closes on a close frame', async () => {
    const [client, server] = pipePair();
    const ws = new WebSocketConnection(server, 'v5.channel.k8s.io');
    const messages: string[] = [];
    ws.on('message', (d: Buffer) => messages.push(d.toString()));
    const out: Buffer[] = [];
    client.on('data', (d: Buffer) => out.push(d));
    client.write(masked(wsOpcode.binary, Buffer.from('hel'), false));
    client.write(masked(wsOpcode.continuation, Buffer.from('lo')));
    client.write(masked(wsOpcode.ping, Buffer.from('p')));
    await until(() => messages.length === 1 && out.length > 0, 'the message and the pong');
    assert.deepEqual(messages, ['hello']);
    assert.equal(new WsFrameReader().push(Buffer.concat(out))[0]!.opcode, wsOpcode.pong);
    let closed = false;
    ws.on('close', () => (closed = true));
    client.write(masked(wsOpcode.close, Buffer.from([0x03, 0xe8])));
    await until(() => closed, 'close');
  });

  it('multiplexes channels, binary and base64, with v5 close signals', async () => {
    const [client, server] = pipePair();
    const out: Buffer[] = [];
    client.on('data', (d: Buffer) => out.push(d));
    const v5 = new ChannelConnection(new WebSocketConnection(server, 'v5.channel.k8s.io'), channelProtocols.get('v5.channel.k8s.io')!);
    const stdin = v5.input(0);
    const got: string[] = [];
    stdin.on('data', (d: Buffer) => got.push(d.toString()));
    let ended = false;
    stdin.on('end', () => (ended = true));
    client.write(masked(wsOpcode.binary, Buffer.from([0, ...Buffer.from('typed')])));
    client.write(masked(wsOpcode.binary, Buffer.from([255, 0])));
    await until(() => ended, 'stdin to end');
    assert.deepEqual(got, ['typed']);
    v5.send(1, Buffer.from('out'));
    await until(() => out.length > 0, 'output');
    assert.deepEqual(new WsFrameReader().push(Buffer.concat(out))[0]!.payload, Buffer.from([1, ...Buffer.from('out')]));

    const [c2, s2] = pipePair();
    const out2: Buffer[] = [];
    c2.on('data', (d: Buffer) => out2.push(d));
    const b64 = new ChannelConnection(new WebSocketConnection(s2, 'v4.base64.channel.k8s.io'), channelProtocols.get('v4.base64.channel.k8s.io')!);
    const in2: string[] = [];
    b64.input(0).on('data', (d: Buffer) => in2.push(d.toString()));
    c2.write(masked(wsOpcode.text, Buffer.from('0' + Buffer.from('hi').toString('base64'))));
    b64.send(2, Buffer.from('err'));
    await until(() => in2.length === 1 && out2.length > 0, 'base64 both ways');
    assert.deepEqual(in2, ['hi']);
    const frame = new WsFrameReader().push(Buffer.concat(out2))[0]!;
    assert.equal(frame.opcode, wsOpcode.text);
    assert.equal(frame.payload.toString(), '2' + Buffer.from('err').toString('base64'));
  });
});

describe('protocol negotiation and status', () => {
  it('picks the first of the client’s protocols the server has', () => {
    assert.equal(negotiateProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io'], ['v4.channel.k8s.io', 'v3.channel.k8s.io']), 'v4.channel.k8s.io');
    assert.equal(negotiateProtocol(['x'], ['y']), '');
    assert.equal(negotiationFailure(['x'], ['y', 'z']), 'unable to upgrade: unable to negotiate protocol: client supports [x], server accepts [y z]');
  });

  it('reports exit codes as upstream’s v4 Status', () => {
    assert.deepEqual(exitStatus(0, ''), { metadata: {}, status: 'Success' });
    assert.deepEqual(exitStatus(3, 'x'), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: x',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });
});
