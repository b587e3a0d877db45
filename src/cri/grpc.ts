// CRI over gRPC: a server that serves any RuntimeService/ImageService implementation on a unix socket (or
// any address grpc-js binds), and clients that implement the same interfaces against a remote runtime
// (ours, or containerd's CRI plugin). Errors cross as gRPC status codes and come back as CriError.
import { rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import type { Code } from './errors.js';
import { CriError, toCriError } from './errors.js';
import { criServices } from './descriptor.js';
import { criRpc, fillEnumDefaults, imageServiceName, runtimeServiceName } from './rpc.js';
import { criMethodNames, type ImageService, type RuntimeService } from './types.js';

type AnyMethod = MethodDefinition<object, object>;
type Impl = Record<string, ((request: object) => Promise<object>) | undefined>;

const serviceDefinition = (name: string): ServiceDefinition => criRpc[name] as ServiceDefinition;

/** "unix:///run/x.sock" or "/run/x.sock" → the socket's path; undefined for other addresses. */
export function unixSocketPath(address: string): string | undefined {
  if (address.startsWith('unix://')) return address.slice('unix://'.length);
  if (address.startsWith('unix:')) return address.slice('unix:'.length);
  if (address.startsWith('/')) return address;
  return undefined;
}

/** The grpc-js target for an address as the kubelet's --container-runtime-endpoint spells it. */
export function grpcAddress(address: string): string {
  const socket = unixSocketPath(address);
  return socket === undefined ? address : `unix://${socket}`;
}

function handlers(
  names: readonly (readonly [string, string])[],
  impl: object,
): grpc.UntypedServiceImplementation {
  const table: grpc.UntypedServiceImplementation = {};
  const methods = impl as Impl;
  for (const [jsName, rpcName] of names) {
    const fn = methods[jsName];
    if (typeof fn !== 'function') continue; // grpc-js answers Unimplemented
    const handle: grpc.handleUnaryCall<object, object> = (call, callback) => {
      let pending: Promise<object>;
      try {
        pending = fn.call(impl, call.request);
      } catch (err) {
        pending = Promise.reject(toCriError(err));
      }
      pending.then(
        (response) => callback(null, response ?? {}),
        (err: unknown) => {
          const e = toCriError(err);
          callback({
            code: e.code as number as grpc.status,
            details: e.message,
            name: e.name,
            message: e.message,
          });
        },
      );
    };
    table[rpcName] = handle;
  }
  return table;
}

/** A running CRI gRPC server. */
export interface CriServer {
  /** The address it listens on (unix://PATH, or host:port with the bound port). */
  readonly address: string;
  /** Stops accepting calls, waits for running calls for up to `graceMs`, then cuts them off. */
  close(graceMs?: number): Promise<void>;
}

/** Options of serveCri. */
export interface ServeCriOptions {
  /** unix:///run/k8ts/cri.sock, a socket path, or host:port. */
  address: string;
  runtime?: RuntimeService;
  image?: ImageService;
  /** More services on the same socket (the runtime's own, outside CRI). */
  extraServices?: { definition: ServiceDefinition; implementation: grpc.UntypedServiceImplementation }[];
}

/** Serves the given implementations as runtime.v1.RuntimeService and runtime.v1.ImageService. */
export async function serveCri(options: ServeCriOptions): Promise<CriServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
  if (options.runtime) {
    server.addService(
      serviceDefinition(runtimeServiceName),
      handlers(criMethodNames.RuntimeService, options.runtime),
    );
  }
  if (options.image) {
    server.addService(
      serviceDefinition(imageServiceName),
      handlers(criMethodNames.ImageService, options.image),
    );
  }
  for (const extra of options.extraServices ?? []) server.addService(extra.definition, extra.implementation);
  const socket = unixSocketPath(options.address);
  // A socket file left by an earlier run would make the bind fail.
  if (socket !== undefined) await rm(socket, { force: true });
  const target = grpcAddress(options.address);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  const address = socket !== undefined ? target : target.replace(/:0$/, `:${port}`);
  return {
    address,
    async close(graceMs = 1000) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (socket !== undefined) await rm(socket, { force: true });
    },
  };
}

/** Options of the CRI clients. */
export interface CriClientOptions {
  /** Deadline of each call (the kubelet's --runtime-request-timeout, 2 minutes by default). */
  timeoutMs?: number;
  /** Calls without a deadline (PullImage: a large image takes longer than any fixed timeout). */
  noDeadline?: string[];
}

/** A gRPC connection to a CRI runtime, with both services as in-process interfaces. */
export interface CriClient {
  readonly runtime: RuntimeService;
  readonly image: ImageService;
  close(): void;
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number';
}

function remoteService<T>(
  client: grpc.Client,
  service: string,
  names: readonly (readonly [string, string])[],
  options: CriClientOptions,
): T {
  const definition = serviceDefinition(service);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const noDeadline = new Set(options.noDeadline ?? ['PullImage']);
  const impl: Record<string, (request: object) => Promise<object>> = {};
  const responseTypes = new Map((criServices[service.split('.').pop()!] ?? []).map(([rpc, , response]) => [rpc, response]));
  for (const [jsName, rpcName] of names) {
    const m = definition[rpcName] as AnyMethod;
    const responseType = responseTypes.get(rpcName) ?? '';
    impl[jsName] = (request) =>
      new Promise<object>((resolve, reject) => {
        const callOptions: grpc.CallOptions = noDeadline.has(rpcName)
          ? {}
          : { deadline: Date.now() + timeoutMs };
        client.makeUnaryRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize,
          request,
          new grpc.Metadata({ waitForReady: true }),
          callOptions,
          (err, response) => {
            if (err) {
              reject(
                isServiceError(err)
                  ? new CriError(err.code as number as Code, err.details || err.message, { cause: err })
                  : toCriError(err),
              );
            } else {
              const body = response ?? {};
              fillEnumDefaults(responseType, body);
              resolve(body);
            }
          },
        );
      });
  }
  return impl as T;
}

/** Connects to a CRI runtime at `address` (unix:///run/containerd/containerd.sock, a socket path, ...). */
export function connectCri(address: string, options: CriClientOptions = {}): CriClient {
  const client = new grpc.Client(grpcAddress(address), grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
  return {
    runtime: remoteService<RuntimeService>(
      client,
      runtimeServiceName,
      criMethodNames.RuntimeService,
      options,
    ),
    image: remoteService<ImageService>(client, imageServiceName, criMethodNames.ImageService, options),
    close: () => client.close(),
  };
}
