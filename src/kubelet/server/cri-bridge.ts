// From CRI identities to the kubelet server's names: a runtime's streaming half works on container and
// sandbox IDs (src/cri's StreamingRuntime, upstream's streaming.Runtime), the kubelet server on namespace,
// pod and container names. The kubelet, which knows both, supplies the lookups.
import type { Duplex } from 'node:stream';
import type { ContainerLog, ContainerRef, ExecResult, PodRef, StreamingIO, StreamingRuntime } from './streaming-runtime.js';

/** A runtime's streaming operations by CRI IDs (the shape of src/cri's StreamingRuntime). */
export interface CriStreamingRuntime {
  exec(containerId: string, cmd: string[], streams: StreamingIO): Promise<ExecResult>;
  attach(containerId: string, streams: StreamingIO): Promise<void>;
  portForward(podSandboxId: string, port: number, stream: Duplex, signal?: AbortSignal): Promise<void>;
}

/** The kubelet's lookups; each throws RuntimeNotFoundError for what is not on this node. */
export interface CriNames {
  /** The ID of the running instance of a container. */
  containerId(container: ContainerRef): Promise<string>;
  /** The ID of a pod's ready sandbox. */
  sandboxId(pod: PodRef): Promise<string>;
  /** The container's log file (ContainerStatus.logPath), or its previous instance's. */
  containerLog(container: ContainerRef, previous: boolean): Promise<ContainerLog>;
}

/** The kubelet server's StreamingRuntime over a runtime's CRI-level streaming operations. */
export function streamingRuntimeFromCri(runtime: CriStreamingRuntime, names: CriNames): StreamingRuntime {
  return {
    exec: async (container, command, io) => runtime.exec(await names.containerId(container), command, io),
    attach: async (container, io) => runtime.attach(await names.containerId(container), io),
    portForward: async (pod, port, stream, signal) => runtime.portForward(await names.sandboxId(pod), port, stream, signal),
    containerLog: (container, previous) => names.containerLog(container, previous),
  };
}
