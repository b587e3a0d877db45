// The kubelet's HTTPS server and what a runtime must provide to it.
export type { KubeletServerOptions, StreamingSession } from './kubelet-server.js';
export { defaultKubeletPort, KubeletServer } from './kubelet-server.js';
export type {
  ContainerLog,
  ContainerRef,
  ExecResult,
  PodRef,
  PodSource,
  StatsProvider,
  StreamingIO,
  StreamingRuntime,
  TerminalSize,
} from './streaming-runtime.js';
export { RuntimeNotFoundError } from './streaming-runtime.js';
export type { CriNames, CriStreamingRuntime } from './cri-bridge.js';
export { streamingRuntimeFromCri } from './cri-bridge.js';
