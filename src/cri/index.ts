// The Container Runtime Interface (CRI v1, package runtime.v1): message types, the RuntimeService and
// ImageService interfaces that the kubelet codes against in process, the gRPC server and client, errors
// as gRPC status codes, and the in-process streaming interface for exec, attach and port-forward.
export * from './types.js';
export * from './errors.js';
export { serveCri, connectCri, grpcAddress, unixSocketPath } from './grpc.js';
export type { CriServer, ServeCriOptions, CriClient, CriClientOptions } from './grpc.js';
export { criRpc, criLoaderOptions, runtimeServiceName, imageServiceName } from './rpc.js';
export type { StreamingRuntime, StreamOptions, ExecResult, TerminalSize } from './streaming.js';
