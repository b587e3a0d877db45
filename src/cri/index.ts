// The Container Runtime Interface (CRI v1, package runtime.v1): message types, the RuntimeService and
// ImageService interfaces that the kubelet codes against in process, errors as gRPC status codes, and the
// in-process streaming interface for exec, attach and port-forward. The gRPC server and client are in
// grpc.ts, imported by those that serve or dial a socket: loading gRPC costs a process's start-up.
export * from './types.js';
export * from './errors.js';
export type { StreamingRuntime, StreamOptions, StreamingIO, ExecResult, TerminalSize } from './streaming.js';
