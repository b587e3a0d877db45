// A thin promise wrapper over one gRPC channel to an etcd cluster: the unary calls of KV and Lease, and
// Watch streams. It knows nothing of the store contract except how to word an unreachable etcd.
import { isIPv4, isIPv6 } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { StoreError } from '../errors.js';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WatchRequest,
  WatchResponse,
} from './etcd-rpc.js';
import { etcdRpc } from './etcd-rpc.js';

export interface EtcdClientOptions {
  /** Client URLs of the members, e.g. ["http://127.0.0.1:2379"]; all http or all https. */
  endpoints: string[];
  /** How long a call waits for a connection before failing with Unavailable. */
  dialTimeoutMs: number;
  /** How long a unary call may take in all. */
  requestTimeoutMs: number;
  /** For https endpoints: PEM certificates (the system's roots when `ca` is absent). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** A duplex Watch stream: write WatchRequests, read WatchResponses. */
export type WatchStream = grpc.ClientDuplexStream<WatchRequest, WatchResponse>;

type Method<Req, Res> = MethodDefinition<Req, Res>;

function method<Req, Res>(service: string, name: string): Method<Req, Res> {
  const def = etcdRpc[`etcdserverpb.${service}`] as ServiceDefinition | undefined;
  const m = def?.[name];
  if (m === undefined) throw new Error(`etcd RPC ${service}.${name} is missing from the descriptor`);
  return m as unknown as Method<Req, Res>;
}

/** gRPC codes for a call that did not reach etcd or got no answer (etcd also uses them for a lost leader). */
const connectionCodes = new Set<grpc.status>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.CANCELLED,
]);

const methods = {
  range: method<RangeRequest, RangeResponse>('KV', 'Range'),
  txn: method<TxnRequest, TxnResponse>('KV', 'Txn'),
  deleteRange: method<DeleteRangeRequest, DeleteRangeResponse>('KV', 'DeleteRange'),
  compact: method<CompactionRequest, CompactionResponse>('KV', 'Compact'),
  leaseGrant: method<LeaseGrantRequest, LeaseGrantResponse>('Lease', 'LeaseGrant'),
  watch: method<WatchRequest, WatchResponse>('Watch', 'Watch'),
};

/**
 * Turns etcd client URLs into one gRPC target. grpc-js resolves "ipv4:a:p,b:p" and "ipv6:[a]:p,[b]:p" to
 * several addresses itself; a host name goes through DNS, one name per target.
 */
export function grpcTarget(endpoints: string[]): { target: string; secure: boolean } {
  if (endpoints.length === 0) throw new StoreError('InvalidArgument', 'etcd: no endpoints given');
  const parsed = endpoints.map((e) => {
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//i.test(e) ? e : `http://${e}`);
    } catch (err) {
      throw new StoreError('InvalidArgument', `etcd: invalid endpoint ${JSON.stringify(e)}`, { cause: err });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new StoreError('InvalidArgument', `etcd: endpoint ${e} must use http or https`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port || '2379'; // etcd's client port, whatever the scheme
    return { host, port, secure: url.protocol === 'https:' };
  });
  const secure = parsed[0]!.secure;
  if (parsed.some((p) => p.secure !== secure)) {
    throw new StoreError('InvalidArgument', 'etcd: endpoints mix http and https');
  }
  if (parsed.every((p) => isIPv4(p.host))) {
    return { target: `ipv4:${parsed.map((p) => `${p.host}:${p.port}`).join(',')}`, secure };
  }
  if (parsed.every((p) => isIPv6(p.host))) {
    return { target: `ipv6:${parsed.map((p) => `[${p.host}]:${p.port}`).join(',')}`, secure };
  }
  if (parsed.length === 1) return { target: `dns:${parsed[0]!.host}:${parsed[0]!.port}`, secure };
  throw new StoreError(
    'InvalidArgument',
    'etcd: several endpoints must all be IPv4 or all be IPv6 addresses (a host name works as the only endpoint)',
  );
}

/** gRPC errors carry a numeric status code. */
export function isServiceError(err: unknown): err is grpc.ServiceError {
  return (
    err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number' && 'details' in err
  );
}

/** The channel to etcd and its calls. */
export class EtcdClient {
  readonly endpoints: string;
  private readonly client: grpc.Client;
  private readonly dialTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private closed = false;

  constructor(options: EtcdClientOptions) {
    this.endpoints = options.endpoints.join(',');
    this.dialTimeoutMs = options.dialTimeoutMs;
    this.requestTimeoutMs = options.requestTimeoutMs;
    const { target, secure } = grpcTarget(options.endpoints);
    const credentials = secure
      ? grpc.credentials.createSsl(
          options.tls?.ca ?? null,
          options.tls?.key ?? null,
          options.tls?.cert ?? null,
        )
      : grpc.credentials.createInsecure();
    this.client = new grpc.Client(target, credentials, {
      // Lists of many objects easily pass gRPC's default 4 MiB (kube-apiserver lifts the limit too).
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      // Find a restarted member within a second or two, not after grpc's default backoff of up to 2 minutes.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      // As kube-apiserver's etcd client: ping an idle connection every 30 s, give up after 10 s more.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    });
  }

  range(req: RangeRequest): Promise<RangeResponse> {
    return this.unary(methods.range, req);
  }

  txn(req: TxnRequest): Promise<TxnResponse> {
    return this.unary(methods.txn, req);
  }

  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.unary(methods.deleteRange, req);
  }

  compact(req: CompactionRequest): Promise<CompactionResponse> {
    return this.unary(methods.compact, req);
  }

  leaseGrant(req: LeaseGrantRequest): Promise<LeaseGrantResponse> {
    return this.unary(methods.leaseGrant, req);
  }

  /**
   * Opens a Watch stream. It waits for a connection (etcd down: it opens once etcd is back) and has no
   * deadline; the caller cancels it.
   */
  watch(): WatchStream {
    if (this.closed) throw new StoreError('Closed', 'store is closed');
    const m = methods.watch;
    return this.client.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      new grpc.Metadata({ waitForReady: true }),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }

  /** The error for an etcd that does not answer, naming it. */
  unavailable(reason: string, cause?: unknown): StoreError {
    return new StoreError('Unavailable', `etcd at ${this.endpoints} is unavailable: ${reason}`, { cause });
  }

  private async unary<Req, Res>(m: Method<Req, Res>, req: Req): Promise<Res> {
    if (this.closed) throw new StoreError('Closed', 'store is closed');
    await this.connected();
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + this.requestTimeoutMs },
        (err, res) => {
          if (err) reject(this.translate(err));
          else if (res === undefined) reject(this.unavailable(`empty answer to ${m.path}`));
          else resolve(res);
        },
      );
    });
  }

  /** Waits until the channel has a connection, at most dialTimeoutMs. */
  private connected(): Promise<void> {
    const state = this.client.getChannel().getConnectivityState(true);
    if (state === grpc.connectivityState.READY) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + this.dialTimeoutMs, (err) => {
        if (this.closed) reject(new StoreError('Closed', 'store is closed'));
        else if (err) reject(this.unavailable(`no connection within ${this.dialTimeoutMs} ms`, err));
        else resolve();
      });
    });
  }

  /** Connection failures become Unavailable; etcd's own answers stay gRPC errors for the store to read. */
  private translate(err: grpc.ServiceError): Error {
    if (this.closed && err.code === grpc.status.CANCELLED) return new StoreError('Closed', 'store is closed');
    return connectionCodes.has(err.code) ? this.unavailable(err.details || err.message, err) : err;
  }
}
