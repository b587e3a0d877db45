// A runtime's streaming server, as upstream's k8s.io/kubelet/pkg/cri/streaming (the one containerd 1.6
// runs): CRI's Exec, Attach and PortForward do not stream themselves, they answer a URL on this server,
// http://127.0.0.1:PORT/{exec|attach|portforward}/TOKEN. The token is single-use and expires after a minute;
// the request it stands for (container, command, which streams) stays here, so the URL carries nothing
// else. The caller (the kubelet) then upgrades that URL with SPDY, or a WebSocket, and the session runs
// against the runtime's in-process streaming operations.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CriError, Code } from '../errors.js';
import type { StreamingRuntime } from '../streaming.js';
import type * as cri from '../types.js';
import { servePortForward } from './portforward.js';
import type { SessionOutcome } from './remotecommand.js';
import { serveRemoteCommand } from './remotecommand.js';
import { writeRawResponse } from './upgrade.js';

/** How long a URL stays valid (upstream's request cache TTL). */
const tokenTtlMs = 60_000;
/** At most this many URLs handed out and not yet used (upstream's maxInFlight). */
const maxInFlight = 1000;
/** Upstream's default stream idle timeout. */
const idleTimeoutMs = 4 * 60 * 60 * 1000;

type Cached =
  | { kind: 'exec'; request: cri.ExecRequest; expires: number }
  | { kind: 'attach'; request: cri.AttachRequest; expires: number }
  | { kind: 'portforward'; request: cri.PortForwardRequest; expires: number };

/** Options of a StreamingServer. */
export interface StreamingServerOptions {
  /** Default 127.0.0.1 (containerd's stream_server_address). */
  address?: string;
  /** Default 0: a free port. */
  port?: number;
  /** The clock, for the tokens' expiry (tests). */
  now?: () => number;
}

/** The streaming server; see the file comment. A runtime's Exec, Attach and PortForward call its get* methods. */
export class StreamingServer {
  private readonly options: StreamingServerOptions;
  private readonly cache = new Map<string, Cached>();
  private readonly sockets = new Set<Duplex>();
  private server: Server | undefined;
  private runtime: StreamingRuntime | undefined;
  private base = '';

  constructor(options: StreamingServerOptions = {}) {
    this.options = options;
  }

  /** Listens, serving sessions with `runtime`; resolves with the base URL. */
  async start(runtime: StreamingRuntime): Promise<string> {
    this.runtime = runtime;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => this.serveHttp(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.serveUpgrade(req, socket, head));
    this.server = server;
    const address = this.options.address ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, address, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.base = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    return this.base;
  }

  /** Stops listening and ends every session. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  getExec(request: cri.ExecRequest): Promise<cri.ExecResponse> {
    return settle(() => {
      if (!request.containerId) throw new CriError(Code.InvalidArgument, 'missing required container_id');
      validateStreams(request);
      return { url: this.url('exec', { kind: 'exec', request, expires: 0 }) };
    });
  }

  getAttach(request: cri.AttachRequest): Promise<cri.AttachResponse> {
    return settle(() => {
      if (!request.containerId) throw new CriError(Code.InvalidArgument, 'missing required container_id');
      validateStreams(request);
      return { url: this.url('attach', { kind: 'attach', request, expires: 0 }) };
    });
  }

  getPortForward(request: cri.PortForwardRequest): Promise<cri.PortForwardResponse> {
    return settle(() => {
      if (!request.podSandboxId) throw new CriError(Code.InvalidArgument, 'missing required pod_sandbox_id');
      return { url: this.url('portforward', { kind: 'portforward', request, expires: 0 }) };
    });
  }

  private url(kind: Cached['kind'], entry: Cached): string {
    if (!this.server) throw new CriError(Code.Unavailable, 'the streaming server is not running');
    const now = this.now();
    for (const [t, c] of this.cache) if (c.expires <= now) this.cache.delete(t);
    if (this.cache.size >= maxInFlight) throw new CriError(Code.ResourceExhausted, 'maximum number of in-flight requests exceeded');
    // 8 random bytes, URL-safe base64 without padding, as upstream's tokens.
    const token = randomBytes(8).toString('base64url');
    this.cache.set(token, { ...entry, expires: now + tokenTtlMs });
    return `${this.base}/${kind}/${token}`;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Takes the request a token stands for, once. */
  private consume(kind: string, token: string): Cached | undefined {
    const entry = this.cache.get(token);
    if (!entry || entry.kind !== kind) return undefined;
    this.cache.delete(token);
    return entry.expires > this.now() ? entry : undefined;
  }

  private serveHttp(req: IncomingMessage, res: ServerResponse): void {
    const [kind] = (req.url ?? '/').split('/').filter((p) => p !== '');
    const known = kind === 'exec' || kind === 'attach' || kind === 'portforward';
    const body = known ? 'unable to upgrade: missing upgrade headers in request\n' : '404 page not found\n';
    res.writeHead(known ? 400 : 404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    (socket as Socket).setNoDelay?.(true);
    (socket as Socket).setTimeout?.(idleTimeoutMs, () => socket.destroy());
    const parts = (req.url ?? '/').split('?')[0]!.split('/').filter((p) => p !== '');
    const entry = parts.length === 2 ? this.consume(parts[0]!, parts[1]!) : undefined;
    const runtime = this.runtime;
    if (!entry || !runtime) {
      writeRawResponse(socket, 404, '404 page not found\n');
      return;
    }
    const why = (err: unknown): string => (err instanceof Error ? err.message : String(err));
    switch (entry.kind) {
      case 'exec': {
        const r = entry.request;
        const cmd = r.cmd ?? [];
        serveRemoteCommand(req, socket, head, streamsOf(r), async (io): Promise<SessionOutcome> => {
          let exitCode: number;
          try {
            ({ exitCode } = await runtime.exec(r.containerId!, cmd, io));
          } catch (err) {
            return { error: why(err) };
          }
          return { exitCode, description: `error executing command [${cmd.join(' ')}], exit code ${exitCode}` };
        });
        return;
      }
      case 'attach': {
        const r = entry.request;
        serveRemoteCommand(req, socket, head, streamsOf(r), async (io): Promise<SessionOutcome> => {
          try {
            await runtime.attach(r.containerId!, io);
          } catch (err) {
            return { error: why(err) };
          }
          return undefined;
        });
        return;
      }
      case 'portforward': {
        const sandbox = entry.request.podSandboxId!;
        servePortForward(req, socket, head, { name: sandbox }, new URLSearchParams((entry.request.port ?? []).map((p): [string, string] => ['port', String(p)])), (port, stream, signal) =>
          runtime.portForward(sandbox, port, stream, signal),
        );
        return;
      }
    }
  }
}

/** The value of `fn` as a promise, a throw as a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

function streamsOf(r: cri.ExecRequest | cri.AttachRequest): { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } {
  return { stdin: r.stdin ?? false, stdout: r.stdout ?? false, stderr: (r.stderr ?? false) && !r.tty, tty: r.tty ?? false };
}

/** Upstream's checks of an exec or attach request. */
function validateStreams(r: cri.ExecRequest | cri.AttachRequest): void {
  if (r.tty && r.stderr) throw new CriError(Code.InvalidArgument, 'tty and stderr cannot both be true');
  if (!r.stdin && !r.stdout && !r.stderr) throw new CriError(Code.InvalidArgument, 'one of stdin, stdout, or stderr must be set');
}
