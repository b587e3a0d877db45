// The client side of a SPDY/3.1 upgrade, as client-go's spdy round tripper makes it: POST the URL with
// Connection: Upgrade, Upgrade: SPDY/3.1 and the stream protocols offered in X-Stream-Protocol-Version; a
// 101 answer names the protocol chosen, and the socket then carries a SpdyConnection whose streams we open.
// The kubelet dials a runtime's streaming server this way (the URL CRI's Exec, Attach or PortForward gave).
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { headerProtocolVersion } from './protocols.js';
import type { SpdyStream } from './spdy.js';
import { SpdyConnection, spdy31 } from './spdy.js';

/** TLS settings for an https URL (PEM strings); plain http needs none. */
export interface SpdyDialTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

/** An upgraded connection: the protocol the server chose and the connection to open streams on. */
export interface SpdyClientConnection {
  protocol: string;
  conn: SpdyConnection;
}

/** The server refused the upgrade: its HTTP status and body. */
export class SpdyUpgradeError extends Error {
  readonly statusCode: number;
  readonly body: string;
  constructor(statusCode: number, body: string) {
    super(`unable to upgrade connection: ${body.trim() || `HTTP ${statusCode}`}`);
    this.statusCode = statusCode;
    this.body = body;
  }
}

/**
 * Upgrades `url` to SPDY/3.1 offering `protocols` (most preferred first). Streams the server opens (none,
 * in the Kubernetes protocols) go to `onStream`, or are reset.
 */
export function dialSpdy(
  url: string | URL,
  protocols: readonly string[],
  options: { tls?: SpdyDialTls; timeoutMs?: number; onStream?: (stream: SpdyStream) => void } = {},
): Promise<SpdyClientConnection> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const secure = target.protocol === 'https:';
  const headers = { Connection: 'Upgrade', Upgrade: spdy31, [headerProtocolVersion]: protocols.join(', ') };
  return new Promise((resolve, reject) => {
    const common = { method: 'POST', headers, agent: false as const, timeout: options.timeoutMs ?? 30_000 };
    const req = secure ? httpsRequest(target, { ...common, ...options.tls }) : httpRequest(target, common);
    req.once('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      req.setTimeout(0);
      (socket as { setTimeout?: (ms: number) => void }).setTimeout?.(0);
      if (head.length > 0) socket.unshift(head);
      const conn = new SpdyConnection(socket, options.onStream ?? ((s) => s.reset()), { client: true });
      resolve({ protocol: String(res.headers[headerProtocolVersion.toLowerCase()] ?? ''), conn });
    });
    req.once('response', (res: IncomingMessage) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.once('end', () => reject(new SpdyUpgradeError(res.statusCode ?? 0, body)));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`spdy: upgrading ${target.origin}${target.pathname} timed out`)));
    req.once('error', reject);
    req.end();
  });
}
