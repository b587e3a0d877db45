// The cluster DNS server: UDP and TCP on one address and port (the cluster DNS service IP, port 53, in a
// cluster), answering the cluster zone and reverse zones from the informer caches and forwarding every
// other question to the host's resolvers (from /etc/resolv.conf), as CoreDNS's kubernetes and forward
// plugins do. A UDP answer larger than the client takes (512 bytes, or its EDNS size) keeps the records that
// fit, with TC set.
import { createSocket } from 'node:dgram';
import type { Socket as UDPSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server as TCPServer, Socket } from 'node:net';
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import type { KubernetesRecords } from './kubernetes.js';
import type { Message, ResourceRecord } from './wire.js';
import { decodeMessage, DNSFormatError, encodeMessage, RCode, RRType } from './wire.js';

/** An upstream resolver. */
export interface Upstream {
  host: string;
  port: number;
}

export interface DNSServerOptions {
  records: KubernetesRecords;
  /** Where to listen; port 0 picks a free one (the same for UDP and TCP). */
  address: string;
  port: number;
  /** Resolvers for names outside the cluster; with none, such names are REFUSED. */
  upstreams: Upstream[];
  /** Time to wait for an upstream answer. */
  forwardTimeoutMs?: number;
  log?: Logger;
}

/** The nameservers of a resolv.conf (port 53), leaving out loopback stub resolvers when asked. */
export function upstreamsFromResolvConf(path = '/etc/resolv.conf'): Upstream[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push({ host: m[1]!.replace(/%.*$/, ''), port: 53 });
  }
  return out;
}

const maxUDPDefault = 512;

/** The DNS server. */
export class DNSServer {
  private readonly options: DNSServerOptions;
  private readonly log: Logger;
  private udp4: UDPSocket | undefined;
  private tcp: TCPServer | undefined;
  private readonly conns = new Set<Socket>();
  /** Queries answered, by outcome (for logs and benchmarks). */
  readonly stats = { queries: 0, forwarded: 0, failures: 0 };

  constructor(options: DNSServerOptions) {
    this.options = options;
    this.log = options.log ?? logger('dns');
  }

  /** Listens on UDP and TCP; resolves with the port. */
  async start(): Promise<number> {
    const family = this.options.address.includes(':') ? 'udp6' : 'udp4';
    const udp = createSocket({ type: family, reuseAddr: false });
    this.udp4 = udp;
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.options.port, this.options.address, () => resolve());
    });
    const port = udp.address().port;
    udp.on('message', (msg, rinfo) => {
      this.handle(msg, 'udp')
        .then((out) => udp.send(out, rinfo.port, rinfo.address))
        // A query that fails (or an answer to a socket closed meanwhile) costs the client a retry, never the server.
        .catch((err: unknown) => this.log.warn('udp query failed', { error: err instanceof Error ? err.message : String(err) }));
    });
    udp.on('error', (err) => this.log.warn('udp socket error', { error: err.message }));
    const tcp = createServer((sock) => this.serveTCP(sock));
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, this.options.address, () => resolve());
    });
    this.log.info('cluster DNS listening', { address: this.options.address, port, upstreams: this.options.upstreams.map((u) => `${u.host}:${u.port}`).join(',') });
    return port;
  }

  async stop(): Promise<void> {
    this.udp4?.close();
    for (const c of this.conns) c.destroy();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }

  private serveTCP(sock: Socket): void {
    this.conns.add(sock);
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        this.handle(msg, 'tcp')
          .then((out) => {
            const head = Buffer.alloc(2);
            head.writeUInt16BE(out.length);
            if (!sock.destroyed) sock.write(Buffer.concat([head, out]));
          })
          .catch((err: unknown) => {
            this.log.warn('tcp query failed', { error: err instanceof Error ? err.message : String(err) });
            sock.destroy();
          });
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    sock.setTimeout(30_000, () => sock.destroy());
  }

  /** Answers one query message. */
  async handle(raw: Uint8Array, transport: 'udp' | 'tcp'): Promise<Uint8Array> {
    this.stats.queries++;
    let query: Message;
    try {
      query = decodeMessage(raw);
    } catch (err) {
      this.stats.failures++;
      // Too broken to echo: a bare FORMERR with the ID when there is one.
      const id = raw.length >= 2 ? (raw[0]! << 8) | raw[1]! : 0;
      if (!(err instanceof DNSFormatError)) this.log.warn('decode failed', { error: String(err) });
      return encodeMessage(reply({ id, rd: false } as Message, RCode.FORMERR));
    }
    const q = query.questions[0];
    if (query.qr || query.opcode !== 0 || query.questions.length !== 1 || !q) {
      return encodeMessage(reply(query, query.opcode !== 0 ? RCode.NOTIMP : RCode.FORMERR));
    }
    const opt = query.additionals.find((r) => r.type === RRType.OPT);
    const maxSize = transport === 'tcp' ? 65535 : Math.max(maxUDPDefault, opt?.class ?? 0);
    let answer;
    try {
      answer = this.options.records.resolve(q.name, q.type);
    } catch (err) {
      this.stats.failures++;
      this.log.warn('resolving failed', { name: q.name, type: q.type, error: err instanceof Error ? err.message : String(err) });
      return encodeMessage(reply(query, RCode.SERVFAIL));
    }
    if (answer === undefined) return this.forward(raw, query, transport);
    const out = reply(query, answer.rcode);
    out.aa = true;
    out.answers = answer.answers;
    out.authorities = answer.authorities;
    out.additionals = answer.additionals;
    return encodeTruncated(out, maxSize, opt ? ednsRecord() : undefined);
  }

  /** Sends the query as it came to the upstreams in turn; SERVFAIL when none answers. */
  private async forward(raw: Uint8Array, query: Message, transport: 'udp' | 'tcp'): Promise<Uint8Array> {
    this.stats.forwarded++;
    const timeout = this.options.forwardTimeoutMs ?? 2000;
    for (const up of this.options.upstreams) {
      try {
        let res = transport === 'udp' ? await udpExchange(up, raw, timeout) : await tcpExchange(up, raw, timeout);
        // A truncated UDP answer is fetched again over TCP only when the client asked over TCP; a UDP client
        // gets the TC bit and retries itself.
        if (res.length >= 4 && (res[2]! & 0x02) !== 0 && transport === 'tcp') res = await tcpExchange(up, raw, timeout);
        return res;
      } catch (err) {
        this.log.info('upstream failed', { upstream: `${up.host}:${up.port}`, error: err instanceof Error ? err.message : String(err) }, 2);
      }
    }
    this.stats.failures++;
    return encodeMessage(reply(query, this.options.upstreams.length === 0 ? RCode.REFUSED : RCode.SERVFAIL));
  }
}

/**
 * Encodes a response in at most `maxSize` bytes, as CoreDNS does (miekg/dns's Truncate): when the whole
 * message does not fit, it keeps as many records as fit in order (answers, then authorities, then
 * additionals) and sets TC when any was left out; the EDNS record always stays.
 */
export function encodeTruncated(m: Message, maxSize: number, edns?: ResourceRecord): Uint8Array {
  const records = [...m.answers, ...m.authorities, ...m.additionals];
  const withFirst = (n: number, tc: boolean): Message => ({
    ...m,
    tc: m.tc || tc,
    answers: records.slice(0, Math.min(n, m.answers.length)),
    authorities: records.slice(m.answers.length, Math.min(n, m.answers.length + m.authorities.length)),
    additionals: [...records.slice(m.answers.length + m.authorities.length, n), ...(edns ? [edns] : [])],
  });
  const whole = encodeMessage(withFirst(records.length, false));
  if (whole.length <= maxSize) return whole;
  // The encoded size grows with the number of records kept: the largest count that fits, by bisection.
  let lo = 0;
  let hi = records.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encodeMessage(withFirst(mid, true)).length <= maxSize) lo = mid;
    else hi = mid - 1;
  }
  return encodeMessage(withFirst(lo, true));
}

function ednsRecord(): ResourceRecord {
  return { name: '.', type: RRType.OPT, class: 1232, ttl: 0, data: { raw: new Uint8Array(0) } };
}

/** A response skeleton to a query. */
function reply(query: Message, rcode: number): Message {
  return {
    id: query.id,
    qr: true,
    opcode: query.opcode ?? 0,
    aa: false,
    tc: false,
    rd: query.rd,
    ra: true,
    rcode,
    questions: query.questions ?? [],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/** One UDP query and its answer (matched by ID). */
export function udpExchange(up: Upstream, query: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(up.host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('timeout'));
    }, timeoutMs);
    sock.on('message', (msg) => {
      if (msg.length < 2 || msg[0] !== query[0] || msg[1] !== query[1]) return;
      clearTimeout(timer);
      sock.close();
      resolve(new Uint8Array(msg));
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(err);
    });
    sock.send(query, up.port, up.host);
  });
}

/** One TCP query and its answer. */
export function tcpExchange(up: Upstream, query: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: up.host, port: up.port });
    let buf = Buffer.alloc(0);
    const fail = (err: Error): void => {
      sock.destroy();
      reject(err);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error('timeout')));
    sock.on('error', fail);
    sock.on('connect', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(query.length);
      sock.write(Buffer.concat([head, query]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
  });
}
