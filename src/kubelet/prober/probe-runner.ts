// Runs one probe or lifecycle handler action: exec through CRI ExecSync, httpGet, tcpSocket, grpc (the
// standard health service), sleep; with upstream's success rules (HTTP 200-399, exit code 0, SERVING) and
// failure messages.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import net from 'node:net';
import type { Container, HTTPGetAction, Pod } from 'kubernetes-types/core/v1.js';
import type * as cri from '../../cri/index.js';

/** A probe's result: success or failure, with upstream's output text. */
export interface ProbeResult {
  ok: boolean;
  output: string;
}

/** The actions a probe or handler can take (Probe and LifecycleHandler share them). */
export interface Action {
  exec?: { command?: string[] };
  httpGet?: HTTPGetAction;
  tcpSocket?: { host?: string; port: number | string };
  grpc?: { port: number; service?: string };
  sleep?: { seconds: number };
}

/** Context of a probe run. */
export interface ProbeContext {
  pod: Pod;
  container: Container;
  containerId: string;
  podIP: string;
  runtime: Pick<cri.RuntimeService, 'execSync'>;
  timeoutMs: number;
  /** Simulated nodes: network probes succeed without connecting. */
  simulated?: boolean;
  signal?: AbortSignal;
}

const probeUserAgent = 'kube-probe/1.33';

/** Resolves a named or numbered port against the container's ports. */
export function resolvePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  const n = Number(port);
  if (Number.isInteger(n) && String(n) === port) return n;
  const p = container.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`couldn't find port: ${port} in ${container.name}`);
  return p.containerPort;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Runs `action`; a thrown error is reported as a failure with its message. */
export async function runAction(action: Action, ctx: ProbeContext): Promise<ProbeResult> {
  try {
    if (action.exec) return await execProbe(action.exec.command ?? [], ctx);
    if (action.sleep) {
      await new Promise((r) => setTimeout(r, action.sleep!.seconds * 1000));
      return { ok: true, output: '' };
    }
    if (ctx.simulated) return { ok: true, output: '' };
    if (action.httpGet) return await httpProbe(action.httpGet, ctx);
    if (action.tcpSocket) return await tcpProbe(action.tcpSocket.host || ctx.podIP, resolvePort(action.tcpSocket.port, ctx.container), ctx.timeoutMs);
    if (action.grpc) return await grpcProbe(ctx.podIP, action.grpc.port, action.grpc.service ?? '', ctx.timeoutMs);
    return { ok: false, output: 'missing probe handler' };
  } catch (err) {
    return { ok: false, output: err instanceof Error ? err.message : String(err) };
  }
}

async function execProbe(cmd: string[], ctx: ProbeContext): Promise<ProbeResult> {
  const res = await ctx.runtime.execSync({ containerId: ctx.containerId, cmd, timeout: Math.ceil(ctx.timeoutMs / 1000) });
  const out = Buffer.concat([Buffer.from(res.stdout ?? []), Buffer.from(res.stderr ?? [])]).toString('utf8');
  if ((res.exitCode ?? 0) === 0) return { ok: true, output: out };
  return { ok: false, output: out || `command "${cmd.join(' ')}" exited with ${res.exitCode}` };
}

function httpProbe(h: HTTPGetAction, ctx: ProbeContext): Promise<ProbeResult> {
  const host = h.host || ctx.podIP;
  const port = resolvePort(h.port, ctx.container);
  const scheme = (h.scheme ?? 'HTTP').toLowerCase();
  const path = h.path ? (h.path.startsWith('/') ? h.path : '/' + h.path) : '/';
  const headers: Record<string, string> = { 'User-Agent': probeUserAgent, Accept: '*/*' };
  for (const x of h.httpHeaders ?? []) headers[x.name] = x.value;
  if (headers.Host) headers.host = headers.Host;
  return new Promise((resolve) => {
    const url = `${scheme}://${hostPort(host, port)}${path}`;
    const req = (scheme === 'https' ? httpsRequest : httpRequest)(url, { method: 'GET', headers, timeout: ctx.timeoutMs, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        if (body.length < 10 * 1024) body += d.toString();
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 400) resolve({ ok: true, output: body });
        else resolve({ ok: false, output: `HTTP probe failed with statuscode: ${code}` });
      });
      res.on('error', (e) => resolve({ ok: false, output: e.message }));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ ok: false, output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, output: `Get "${url}": dial tcp ${hostPort(host, port)}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}` }));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs });
    s.once('connect', () => {
      s.destroy();
      resolve({ ok: true, output: '' });
    });
    s.once('timeout', () => {
      s.destroy();
      resolve({ ok: false, output: `dial tcp ${hostPort(host, port)}: i/o timeout` });
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, output: `dial tcp ${hostPort(host, port)}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}` }));
  });
}

const servingStatus = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** grpc.health.v1.Health/Check with a hand-encoded request (field 1: service) and response (field 1: status). */
async function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeResult> {
  // gRPC loads with the first gRPC probe: every k8ts command imports the kubelet, few pods have such probes.
  const grpc = await import('@grpc/grpc-js');
  const target = hostPort(host, port);
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const serialize = (s: string): Buffer => {
    const b = Buffer.from(s);
    return b.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, b.length]), b]);
  };
  const deserialize = (b: Buffer): number => (b.length >= 2 && b[0] === 0x08 ? b[1]! : 0);
  return new Promise<ProbeResult>((resolve) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', serialize, deserialize, service, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, status) => {
      if (err) {
        resolve({
          ok: false,
          output:
            err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.UNAVAILABLE
              ? `timeout: failed to connect service "${target}" within ${timeoutMs / 1000}s`
              : `error: health rpc probe failed: ${err.details}`,
        });
      } else if (status === 1) resolve({ ok: true, output: '' });
      else resolve({ ok: false, output: `service unhealthy (responded with "${servingStatus[status ?? 0] ?? 'UNKNOWN'}")` });
    });
  }).finally(() => client.close());
}
