// The kubelet's HTTPS server (port 10250): /healthz, /pods, /containerLogs, /exec, /attach, /portForward,
// /run, /metrics and /stats/summary. Callers authenticate with a client certificate from the cluster's
// client CA (the API server's kubelet-client certificate, or an admin's); everyone else gets 401.
// Streaming requests arrive as protocol upgrades and are served on the raw socket.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../base/log.js';
import { logger } from '../../base/log.js';
import type { LogOptions } from './cri-logs.js';
import { copyCriLog, parseRfc3339Nano } from './cri-logs.js';
import { servePortForward } from '../../cri/streaming-server/portforward.js';
import type { SessionOutcome } from '../../cri/streaming-server/remotecommand.js';
import { parseRemoteCommandOptions, serveRemoteCommand } from '../../cri/streaming-server/remotecommand.js';
import type { ContainerRef, PodRef, PodSource, StatsProvider, StreamingRuntime } from './streaming-runtime.js';
import { RuntimeNotFoundError } from './streaming-runtime.js';
import { writeRawResponse } from '../../cri/streaming-server/upgrade.js';

/** The kubelet's default port for its authenticated API. */
export const defaultKubeletPort = 10250;
/** Upstream's default --streaming-connection-idle-timeout. */
const defaultStreamingIdleTimeoutMs = 4 * 60 * 60 * 1000;

export interface KubeletServerOptions {
  runtime: StreamingRuntime;
  /** The node's pods, to answer /pods and to check requests; without it requests are taken as they come. */
  pods?: PodSource;
  stats?: StatsProvider;
  /** Serving certificate and key, and the CA whose client certificates may call; absent: plain HTTP, no checks (tests). */
  tls?: { cert: string; key: string; clientCA: string };
  address?: string;
  /** A streaming connection with no traffic for this long is closed (upstream's --streaming-connection-idle-timeout, 4h). */
  streamingIdleTimeoutMs?: number;
  /** Called when a streaming session starts, with how it was negotiated (for logs and tests). */
  onSession?: (session: StreamingSession) => void;
  /** Default 10250; 0 picks a free port. */
  port?: number;
  /** Manifests posted to POST /pods run as static pods (config.source "http"); DELETE /pods/NS/NAME stops one. */
  manifests?: PostedManifests;
  log?: Logger;
}

/** The kubelet's side of POST /pods and DELETE /pods/NS/NAME. */
export interface PostedManifests {
  /** Runs the manifest (YAML or JSON, one Pod); returns the static pod. Throws with a message for a bad one. */
  post(text: string): Promise<unknown>;
  /** Stops a posted pod by its manifest's namespace and name; false when there is none. */
  remove(namespace: string, name: string): Promise<boolean>;
}

/** The largest manifest POST /pods takes. */
const maxManifestBytes = 1024 * 1024;

function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > limit) {
        reject(new HttpError(413, 'Request Entity Too Large'));
        req.destroy();
      } else chunks.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** How a streaming session was set up. */
export interface StreamingSession {
  kind: 'exec' | 'attach' | 'portforward';
  transport: 'spdy' | 'websocket' | 'spdy-over-websocket';
  protocol: string;
}

/** An HTTP-level failure: code and plain-text message, as the kubelet answers them. */
class HttpError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

type PodObject = {
  metadata?: { name?: string; namespace?: string; uid?: string };
  spec?: { containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
  status?: {
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    ephemeralContainerStatuses?: ContainerStatus[];
  };
};
type ContainerStatus = { name: string; state?: { waiting?: { reason?: string }; running?: unknown }; lastState?: { terminated?: unknown } };

/** The kubelet's HTTPS server. */
export class KubeletServer {
  private readonly options: KubeletServerOptions;
  private readonly log: Logger;
  private server: Server | undefined;
  private readonly sockets = new Set<Duplex>();

  constructor(options: KubeletServerOptions) {
    this.options = options;
    this.log = options.log ?? logger('kubelet-server');
  }

  /** Listens; resolves with the bound port. */
  async start(): Promise<number> {
    const tls = this.options.tls;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => void this.serve(req, res);
    this.server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key, ca: [tls.clientCA], requestCert: true, rejectUnauthorized: false }, onRequest)
      : createHttpServer(onRequest);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.serveUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port ?? defaultKubeletPort, this.options.address ?? '0.0.0.0', () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and cuts every open connection, streaming sessions included. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private authenticated(req: IncomingMessage): boolean {
    if (!this.options.tls) return true;
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return false;
    const peer = socket.getPeerCertificate();
    return peer !== null && Object.keys(peer).length > 0;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authenticated(req)) throw new HttpError(401, 'Unauthorized');
      const url = new URL(req.url ?? '/', 'http://kubelet');
      const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
      const method = req.method ?? 'GET';
      switch (parts[0] ?? '') {
        case 'healthz':
          return text(res, 200, 'ok');
        case 'pods': {
          if (method === 'POST' || method === 'DELETE') return await this.postedManifest(req, res, method, parts);
          const items = this.options.pods ? await this.options.pods.pods() : [];
          return json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
        }
        case 'containerLogs':
          if (parts.length !== 4) throw new HttpError(404, '404 page not found');
          return await this.containerLogs(req, res, { namespace: parts[1]!, name: parts[2]!, container: parts[3]! }, url.searchParams);
        case 'run':
          if (method !== 'POST') throw new HttpError(405, 'Method Not Allowed');
          return await this.run(res, containerOf(parts), url.searchParams);
        case 'metrics':
          if (!this.options.stats) throw new HttpError(404, '404 page not found');
          return text(res, 200, await this.options.stats.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
        case 'stats':
          if (parts[1] !== 'summary' || !this.options.stats) throw new HttpError(404, '404 page not found');
          return json(res, 200, await this.options.stats.summary());
        case 'exec':
        case 'attach':
        case 'portForward':
          throw new HttpError(400, 'unable to upgrade: missing upgrade headers in request');
        default:
          throw new HttpError(404, '404 page not found');
      }
    } catch (err) {
      const e = asHttpError(err);
      if (res.headersSent) res.destroy();
      else text(res, e.code, e.message + '\n');
    }
  }

  /** POST /pods runs a manifest as a static pod; DELETE /pods/NS/NAME stops one that was posted. */
  private async postedManifest(req: IncomingMessage, res: ServerResponse, method: string, parts: string[]): Promise<void> {
    const manifests = this.options.manifests;
    if (!manifests) throw new HttpError(405, 'Method Not Allowed');
    if (method === 'POST') {
      if (parts.length !== 1) throw new HttpError(404, '404 page not found');
      const body = await readText(req, maxManifestBytes);
      let pod: unknown;
      try {
        pod = await manifests.post(body);
      } catch (err) {
        throw new HttpError(400, `invalid pod manifest: ${err instanceof Error ? err.message : String(err)}`);
      }
      return json(res, 201, pod);
    }
    if (parts.length !== 3) throw new HttpError(404, '404 page not found');
    if (!(await manifests.remove(parts[1]!, parts[2]!))) throw new HttpError(404, `no posted pod ${parts[1]}/${parts[2]}`);
    return json(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
  }

  private serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    (socket as Socket).setNoDelay?.(true);
    (socket as Socket).setTimeout?.(this.options.streamingIdleTimeoutMs ?? defaultStreamingIdleTimeoutMs, () => socket.destroy());
    void (async () => {
      try {
        if (!this.authenticated(req)) throw new HttpError(401, 'Unauthorized');
        const url = new URL(req.url ?? '/', 'http://kubelet');
        const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
        const q = url.searchParams;
        const runtime = this.options.runtime;
        switch (parts[0] ?? '') {
          case 'exec':
          case 'attach': {
            const ref = containerOf(parts);
            const pod = await this.checkContainer(ref);
            if (pod && !containerRunning(pod, ref.container)) throw new HttpError(500, `container not found ("${ref.container}")`);
            let opts;
            try {
              opts = parseRemoteCommandOptions(q);
            } catch (err) {
              throw new HttpError(400, (err as Error).message);
            }
            const command = q.getAll('command');
            if (parts[0] === 'exec' && command.length === 0) throw new HttpError(400, 'missing command');
            const kind = parts[0] === 'attach' ? 'attach' : 'exec';
            serveRemoteCommand(req, socket, head, opts, async (io): Promise<SessionOutcome> => {
              // Failures to run at all carry upstream's prefixes.
              const why = (err: unknown): string => (err instanceof Error ? err.message : String(err));
              if (kind === 'attach') {
                try {
                  await runtime.attach(ref, io);
                } catch (err) {
                  return { error: `error attaching to container: ${why(err)}` };
                }
                return undefined;
              }
              let exitCode: number;
              try {
                ({ exitCode } = await runtime.exec(ref, command, io));
              } catch (err) {
                return { error: `error executing command in container: ${why(err)}` };
              }
              return { exitCode, description: `error executing command [${command.join(' ')}], exit code ${exitCode}` };
            }, (transport, protocol) => this.session({ kind, transport, protocol }, ref));
            return;
          }
          case 'portForward': {
            if (parts.length < 3 || parts.length > 4) throw new HttpError(404, '404 page not found');
            const pod: PodRef = { namespace: parts[1]!, name: parts[2]!, ...(parts[3] ? { uid: parts[3] } : {}) };
            await this.checkPod(pod);
            servePortForward(
              req,
              socket,
              head,
              pod,
              q,
              (port, stream, signal) => runtime.portForward(pod, port, stream, signal),
              (transport, protocol) => this.session({ kind: 'portforward', transport, protocol }, pod),
            );
            return;
          }
          default:
            throw new HttpError(404, '404 page not found');
        }
      } catch (err) {
        const e = asHttpError(err);
        writeRawResponse(socket, e.code, e.message + '\n');
      }
    })();
  }

  private session(session: StreamingSession, ref: PodRef): void {
    this.log.info('streaming session', { ...session, pod: `${ref.namespace}/${ref.name}` }, 2);
    this.options.onSession?.(session);
  }

  private async findPod(ref: PodRef): Promise<PodObject | undefined> {
    if (!this.options.pods) return undefined;
    const pods = (await this.options.pods.pods()) as PodObject[];
    const pod = pods.find((p) => p.metadata?.namespace === ref.namespace && p.metadata?.name === ref.name);
    if (!pod || (ref.uid && pod.metadata?.uid !== ref.uid)) throw new HttpError(404, `pod does not exist`);
    return pod;
  }

  private async checkPod(ref: PodRef): Promise<void> {
    await this.findPod(ref);
  }

  /** With a pod source: the pod must run here and have the container. */
  private async checkContainer(ref: ContainerRef): Promise<PodObject | undefined> {
    const pod = await this.findPod(ref);
    if (!pod) return undefined;
    const spec = pod.spec ?? {};
    const names = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])].map((c) => c.name);
    if (!names.includes(ref.container)) throw new HttpError(404, `container "${ref.container}" not found in pod "${ref.name}"`);
    return pod;
  }

  private async containerLogs(req: IncomingMessage, res: ServerResponse, ref: ContainerRef, q: URLSearchParams): Promise<void> {
    const pod = await this.checkContainer(ref);
    const previous = boolParam(q, 'previous');
    if (pod && !previous) {
      const s = pod.status ?? {};
      const status = [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? []), ...(s.ephemeralContainerStatuses ?? [])].find(
        (c) => c.name === ref.container,
      );
      const waiting = status?.state?.waiting;
      if (waiting && !status.lastState?.terminated) {
        throw new HttpError(400, `container "${ref.container}" in pod "${ref.name}" is waiting to start: ${waiting.reason ?? ''}`);
      }
    }
    const options = parseLogOptions(q, () => Date.now());
    let log;
    try {
      log = await this.options.runtime.containerLog(ref, previous);
    } catch (err) {
      if (err instanceof RuntimeNotFoundError) {
        throw new HttpError(400, previous ? `previous terminated container "${ref.container}" in pod "${ref.name}" not found` : err.message);
      }
      throw err;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const ac = new AbortController();
    req.socket.once('close', () => ac.abort());
    res.once('close', () => ac.abort());
    await copyCriLog(log.path, res, options, () => log.running(), ac.signal);
    res.end();
  }

  private async run(res: ServerResponse, ref: ContainerRef, q: URLSearchParams): Promise<void> {
    await this.checkContainer(ref);
    const command = (q.get('cmd') ?? '').split(/\s+/).filter((s) => s !== '');
    if (command.length === 0) throw new HttpError(400, 'missing cmd');
    const chunks: Buffer[] = [];
    const out = new PassThrough();
    out.on('data', (d: Buffer) => chunks.push(d));
    const ac = new AbortController();
    const { exitCode } = await this.options.runtime.exec(ref, command, { stdout: out, stderr: out, tty: false, signal: ac.signal });
    const body = Buffer.concat(chunks);
    if (exitCode !== 0) {
      throw new HttpError(500, `command '${command.join(' ')}' exited with ${exitCode}: ${body.toString('utf8')}`);
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  }
}

/** Whether the pod's status says the container runs (exec and attach need a running one). */
function containerRunning(pod: PodObject, container: string): boolean {
  const s = pod.status ?? {};
  const status = [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? []), ...(s.ephemeralContainerStatuses ?? [])].find((c) => c.name === container);
  return status?.state?.running !== undefined;
}

/** /verb/{ns}/{pod}/{container} or /verb/{ns}/{pod}/{uid}/{container}. */
function containerOf(parts: string[]): ContainerRef {
  if (parts.length === 4) return { namespace: parts[1]!, name: parts[2]!, container: parts[3]! };
  if (parts.length === 5) return { namespace: parts[1]!, name: parts[2]!, uid: parts[3]!, container: parts[4]! };
  throw new HttpError(404, '404 page not found');
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new HttpError(400, `invalid ${name}: ${v}`);
  return Number(v);
}

/** The log options of a /containerLogs request (PodLogOptions as query parameters). */
export function parseLogOptions(q: URLSearchParams, nowMs: () => number): LogOptions {
  const tailLines = intParam(q, 'tailLines');
  const limitBytes = intParam(q, 'limitBytes');
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  let since: bigint | undefined;
  if (sinceSeconds !== undefined) since = BigInt(nowMs() - sinceSeconds * 1000) * 1_000_000n;
  if (sinceTime) {
    since = parseRfc3339Nano(sinceTime);
    if (since === undefined) throw new HttpError(400, `invalid sinceTime: ${sinceTime}`);
  }
  return {
    follow: boolParam(q, 'follow'),
    timestamps: boolParam(q, 'timestamps'),
    ...(tailLines !== undefined && tailLines >= 0 ? { tailLines } : {}),
    ...(limitBytes !== undefined && limitBytes > 0 ? { limitBytes } : {}),
    ...(since !== undefined ? { since } : {}),
  };
}

function asHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof RuntimeNotFoundError) return new HttpError(404, err.message);
  return new HttpError(500, err instanceof Error ? err.message : String(err));
}

function text(res: ServerResponse, code: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, code: number, body: unknown): void {
  text(res, code, JSON.stringify(body), 'application/json');
}
