// A lean HTTP/1.1 client for load generators: one keep-alive TLS connection, one request at a time, the
// request head written by hand and the answer read by Content-Length. Node's https client spends several
// times the CPU per request, and on a 2-core machine the load generator's CPU is taken from the server it
// measures; this one leaves more of the machine to the server. It speaks only what our API server answers
// (a Content-Length on every non-streaming answer) and fails loudly on anything else.
import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';

export interface LeanAnswer {
  code: number;
  text: string;
}

const headEnd = Buffer.from('\r\n\r\n');

/** One keep-alive connection to 127.0.0.1:port with a client certificate. */
export class LeanConnection {
  private readonly socket: TLSSocket;
  private readonly ready: Promise<void>;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: { resolve: (a: LeanAnswer) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(port: number, tls: { ca: string; cert: string; key: string }) {
    this.socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...tls });
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('secureConnect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Sends one request and resolves with its status code and body. */
  async request(method: string, path: string, body?: string, accept = 'application/json'): Promise<LeanAnswer> {
    await this.ready;
    if (this.failure) throw this.failure;
    if (this.pending) throw new Error('one request at a time on a lean connection');
    const length = body === undefined ? 0 : Buffer.byteLength(body);
    const head =
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: ${accept}\r\n` +
      (body === undefined ? '' : `Content-Type: application/json\r\nContent-Length: ${length}\r\n`) +
      '\r\n';
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(body === undefined ? head : head + body);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  private onData(d: Buffer): void {
    this.buffered = this.buffered.length === 0 ? d : Buffer.concat([this.buffered, d]);
    const end = this.buffered.indexOf(headEnd);
    if (end < 0) return;
    const head = this.buffered.subarray(0, end).toString('latin1');
    const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
    const len = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!m || !len) {
      this.fail(new Error(`unexpected answer head: ${head.slice(0, 200)}`));
      this.socket.destroy();
      return;
    }
    const total = end + 4 + Number(len[1]);
    if (this.buffered.length < total) return;
    const text = this.buffered.subarray(end + 4, total).toString();
    this.buffered = this.buffered.subarray(total);
    const p = this.pending;
    this.pending = undefined;
    p?.resolve({ code: Number(m[1]), text });
  }
}
