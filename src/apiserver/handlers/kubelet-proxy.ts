// pods/log, pods/exec, pods/attach and pods/portforward: the API server checks the pod (it exists, has the
// container, is bound to a node, the container has started) and answers upstream's errors itself; then it
// connects to the node's kubelet (status.daemonEndpoints.kubeletEndpoint.Port at the node's address) with
// its kubelet-client certificate. Logs are streamed through; exec, attach and port-forward upgrades (SPDY
// or WebSocket, whatever the client asked for) are tunnelled byte for byte, since the kubelet speaks every
// protocol itself.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { STATUS_CODES } from 'node:http';
import type { StatusError } from '../../apimachinery/errors/status-error.js';
import { apiErrors, StatusError as StatusErrorClass } from '../../apimachinery/errors/status-error.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import type { KObject, RegistryStore } from '../../registry/generic/index.js';
import { toStatusError } from '../http/respond.js';
import type { ResourceRequestInfo } from '../request-info.js';

/** The API server's credentials towards kubelets. */
export interface KubeletClientConfig {
  cert: string;
  key: string;
  /** CA that signs kubelets' serving certificates; absent: not verified (upstream's default without --kubelet-certificate-authority). */
  ca?: string;
}

/** Where a request goes at the kubelet. */
export interface KubeletTarget {
  host: string;
  port: number;
  /** Path and query at the kubelet. */
  path: string;
}

/** The kubelet's default port, when a node does not say. */
const defaultKubeletPort = 10250;
/** Address types in the order the API server prefers them (k3s puts InternalIP first). */
const addressPreference = ['InternalIP', 'Hostname', 'InternalDNS', 'ExternalIP', 'ExternalDNS'];

interface PodShape {
  spec?: {
    nodeName?: string;
    containers?: { name: string }[];
    initContainers?: { name: string }[];
    ephemeralContainers?: { name: string }[];
  };
  status?: {
    containerStatuses?: ContainerStatusShape[];
    initContainerStatuses?: ContainerStatusShape[];
    ephemeralContainerStatuses?: ContainerStatusShape[];
  };
}
interface ContainerStatusShape {
  name: string;
  state?: { waiting?: { reason?: string } };
  lastState?: { terminated?: unknown };
}
interface NodeShape {
  status?: {
    addresses?: { type: string; address: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

const names = (list: { name: string }[] | undefined): string => `[${(list ?? []).map((c) => c.name).join(' ')}]`;

/** The container a request is about: the one named, or the only one; upstream's messages otherwise. */
export function resolveContainer(pod: PodShape, podName: string, container: string): string {
  const spec = pod.spec ?? {};
  if (container === '') {
    const containers = spec.containers ?? [];
    if (containers.length === 1) return containers[0]!.name;
    if (containers.length === 0) throw apiErrors.badRequest(`a container name must be specified for pod ${podName}`);
    let msg = `a container name must be specified for pod ${podName}, choose one of: ${names(containers)}`;
    if ((spec.initContainers ?? []).length > 0) msg += ` or one of the init containers: ${names(spec.initContainers)}`;
    if ((spec.ephemeralContainers ?? []).length > 0) msg += ` or one of the ephemeral containers: ${names(spec.ephemeralContainers)}`;
    throw apiErrors.badRequest(msg);
  }
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  if (!all.some((c) => c.name === container)) throw apiErrors.badRequest(`container ${container} is not valid for pod ${podName}`);
  return container;
}

/** PodLogOptions' checks (upstream's ValidatePodLogOptions), on the query of a pods/log request. */
export function validateLogOptions(query: URLSearchParams, podName: string): void {
  const int = (name: string): number | undefined => {
    const v = query.get(name);
    if (v === null) return undefined;
    if (!/^-?\d+$/.test(v)) throw apiErrors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  const errs = [];
  const tailLines = int('tailLines');
  const limitBytes = int('limitBytes');
  const sinceSeconds = int('sinceSeconds');
  if (tailLines !== undefined && tailLines < 0) errs.push(field.invalid(newPath('tailLines'), tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1) errs.push(field.invalid(newPath('limitBytes'), limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && query.get('sinceTime') !== null) {
    errs.push(field.forbidden(newPath(''), 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  } else if (sinceSeconds !== undefined && sinceSeconds < 1) {
    errs.push(field.invalid(newPath('sinceSeconds'), sinceSeconds, 'must be greater than 0'));
  }
  if (errs.length > 0) throw apiErrors.invalid('', 'PodLogOptions', podName, errs);
}

/** The kubelet subresources and the query parameters each passes on. */
const streamFlags: Record<string, string> = { stdin: 'input', stdout: 'output', stderr: 'error', tty: 'tty' };
const logParams = ['sinceSeconds', 'sinceTime', 'tailLines', 'limitBytes'];
const logFlags = ['follow', 'previous', 'timestamps'];

/** Routes pods' kubelet subresources to the pod's node. */
export class KubeletProxy {
  private readonly pods: RegistryStore;
  private readonly nodes: RegistryStore;
  private readonly client: KubeletClientConfig | undefined;

  constructor(pods: RegistryStore, nodes: RegistryStore, client: KubeletClientConfig | undefined) {
    this.pods = pods;
    this.nodes = nodes;
    this.client = client;
  }

  /** Checks the pod and works out the kubelet URL of a log, exec, attach or portforward request. */
  async target(ri: ResourceRequestInfo, query: URLSearchParams): Promise<KubeletTarget | undefined> {
    const sub = ri.subresource;
    const pod = (await this.pods.get(ri.namespace, ri.name)) as KObject & PodShape;
    const enc = encodeURIComponent;
    let path: string;
    const params = new URLSearchParams();
    if (sub === 'portforward') {
      path = `/portForward/${enc(ri.namespace)}/${enc(ri.name)}`;
      for (const p of query.getAll('ports')) params.append('port', p);
      for (const p of query.getAll('port')) params.append('port', p);
    } else {
      const container = resolveContainer(pod, ri.name, query.get('container') ?? '');
      if (sub === 'log') {
        validateLogOptions(query, ri.name);
        if (!pod.spec?.nodeName) return undefined;
        if (query.get('previous') !== 'true') this.checkStarted(pod, ri.name, container);
        for (const f of logFlags) if (query.get(f) === 'true') params.set(f, 'true');
        for (const p of logParams) {
          const v = query.get(p);
          if (v !== null) params.set(p, v);
        }
        path = `/containerLogs/${enc(ri.namespace)}/${enc(ri.name)}/${enc(container)}`;
      } else {
        for (const c of query.getAll('command')) params.append('command', c);
        for (const [flag, kubeletName] of Object.entries(streamFlags)) if (query.get(flag) === 'true' || query.get(flag) === '1') params.set(kubeletName, '1');
        path = `/${sub}/${enc(ri.namespace)}/${enc(ri.name)}/${enc(container)}`;
      }
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw apiErrors.badRequest(`pod ${ri.name} does not have a host assigned`);
    const node = (await this.nodes.get('', nodeName)) as KObject & NodeShape;
    const addresses = node.status?.addresses ?? [];
    const address = addressPreference.map((t) => addresses.find((a) => a.type === t)).find((a) => a !== undefined);
    if (!address) throw apiErrors.internal(`no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(' ')}]`);
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || defaultKubeletPort;
    const q = params.toString();
    return { host: address.address, port, path: q === '' ? path : `${path}?${q}` };
  }

  /** A container that has not started yet has no logs: upstream's message. */
  private checkStarted(pod: PodShape, podName: string, container: string): void {
    const s = pod.status ?? {};
    const status = [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? []), ...(s.ephemeralContainerStatuses ?? [])].find((c) => c.name === container);
    const waiting = status?.state?.waiting;
    if (status && waiting && !status.lastState?.terminated) {
      throw apiErrors.badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${waiting.reason ?? ''}`);
    }
  }

  private tlsOptions(target: KubeletTarget): { host: string; port: number; cert?: string; key?: string; ca?: string; rejectUnauthorized: boolean; servername?: string } {
    const c = this.client;
    return {
      host: target.host,
      port: target.port,
      ...(c ? { cert: c.cert, key: c.key } : {}),
      ...(c?.ca ? { ca: c.ca } : {}),
      rejectUnauthorized: c?.ca !== undefined,
      ...(/^[\d.]+$|:/.test(target.host) ? {} : { servername: target.host }),
    };
  }

  /** GET pods/log: streams the kubelet's answer; a kubelet error becomes a BadRequest with its text, as upstream. */
  async serveLog(req: IncomingMessage, res: ServerResponse, ri: ResourceRequestInfo, query: URLSearchParams): Promise<void> {
    if (ri.verb !== 'get') throw apiErrors.methodNotSupported({ group: '', resource: 'pods/log' }, ri.verb);
    const target = await this.target(ri, query);
    if (!target) {
      // A pod not yet bound to a node has no logs: an empty answer, as upstream.
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 });
      res.end();
      return;
    }
    // PodLogOptions.insecureSkipTLSVerifyBackend (kubectl logs --insecure-skip-tls-verify-backend): logs from a
    // kubelet whose serving certificate does not verify.
    const skipVerify = query.get('insecureSkipTLSVerifyBackend') === 'true';
    await new Promise<void>((resolve, reject) => {
      const tls = { ...this.tlsOptions(target), ...(skipVerify ? { rejectUnauthorized: false } : {}) };
      const upstream = httpsRequest({ ...tls, method: 'GET', path: target.path, headers: { Accept: '*/*' } }, (kres) => {
        const code = kres.statusCode ?? 500;
        if (code < 200 || code >= 300) {
          const chunks: Buffer[] = [];
          kres.on('data', (d: Buffer) => chunks.push(d));
          kres.on('end', () => reject(kubeletFailure(code, Buffer.concat(chunks).toString('utf8').trim())));
          kres.on('error', reject);
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
        res.flushHeaders();
        kres.pipe(res);
        kres.on('end', () => resolve());
        kres.on('error', () => {
          res.destroy();
          resolve();
        });
      });
      upstream.on('error', (err) => (res.headersSent ? (res.destroy(), resolve()) : reject(dialError(err))));
      res.on('close', () => {
        upstream.destroy();
        resolve();
      });
      upstream.end();
    });
  }

  /** An upgrade request for exec, attach or portforward: checks, then tunnels the connection to the kubelet. */
  async serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ri: ResourceRequestInfo, query: URLSearchParams): Promise<void> {
    const target = await this.target(ri, query);
    if (!target) throw apiErrors.badRequest(`pod ${ri.name} does not have a host assigned`);
    const upstream: TLSSocket = tlsConnect(this.tlsOptions(target));
    await new Promise<void>((resolve, reject) => {
      upstream.once('secureConnect', () => resolve());
      upstream.once('error', (err: Error) => reject(dialError(err)));
    });
    upstream.setNoDelay(true);
    const hopHeaders = new Set(['host', 'authorization', 'content-length', 'transfer-encoding']);
    const lines = [`${req.method ?? 'GET'} ${target.path} HTTP/1.1`, `Host: ${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (!hopHeaders.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]!}`);
    }
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    // A kubelet that resets its end after its last frames (the exit status, the close) must not cost the
    // client those frames: the client's side is ended, so what was already piped to it is still delivered.
    upstream.on('error', () => {
      upstream.destroy();
      socket.end();
      setTimeout(() => socket.destroy(), 5000).unref();
    });
    socket.on('error', () => {
      upstream.destroy();
      socket.destroy();
    });
    upstream.on('close', () => socket.end());
    socket.on('close', () => upstream.end());
  }
}

function kubeletFailure(code: number, body: string): StatusError {
  // Upstream turns a kubelet's failure into a BadRequest carrying its text (NotFound stays a 404).
  if (code === 404) return new StatusErrorClass(404, 'NotFound', body);
  return apiErrors.badRequest(body);
}

function dialError(err: Error): StatusError {
  return new StatusErrorClass(500, 'InternalError', `error dialing backend: ${err.message}`);
}

/** Answers an upgrade request that failed before tunnelling with a Status, on the raw socket. */
export function writeUpgradeError(socket: Duplex, err: unknown): void {
  const se = toStatusError(err);
  const body = JSON.stringify(se.status);
  if (socket.destroyed || socket.writableEnded) return;
  socket.end(
    [`HTTP/1.1 ${se.code} ${STATUS_CODES[se.code] ?? ''}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'].join('\r\n') +
      '\r\n\r\n' +
      body,
  );
}
