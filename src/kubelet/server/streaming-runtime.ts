// What the kubelet's HTTP server needs from a container runtime to serve exec, attach, port-forward and logs.
// The Linux runtime (and, for tests, a stand-in) implements it; the server speaks every wire protocol itself
// and hands the runtime plain Node streams.
import type { Duplex } from 'node:stream';
import type { ExecResult, StreamingIO } from '../../cri/streaming.js';

/** A pod as the kubelet knows it. */
export interface PodRef {
  namespace: string;
  name: string;
  /** metadata.uid, when the caller named it (/exec/{ns}/{pod}/{uid}/{container}). */
  uid?: string;
}

/** A container of a pod. */
export interface ContainerRef extends PodRef {
  container: string;
}

/** A terminal's size in character cells, and the client's streams of an exec or attach session (CRI's). */
export type { ExecResult, StreamingIO, TerminalSize } from '../../cri/streaming.js';

/** Where a container's CRI-format log is, and whether the container still writes to it. */
export interface ContainerLog {
  path: string;
  /** True while the container runs (a follow stops once it is false and the file is drained). */
  running(): Promise<boolean>;
}

/** An error the runtime raises for a container or pod it does not have (404 at the kubelet's API). */
export class RuntimeNotFoundError extends Error {
  override readonly name = 'RuntimeNotFoundError';
}

/** The runtime's streaming operations. */
export interface StreamingRuntime {
  /** Runs a command in a running container; resolves with its exit code, rejects when it could not run. */
  exec(container: ContainerRef, command: string[], io: StreamingIO): Promise<ExecResult>;
  /** Connects to the stdio of a container's main process until the client or the process goes away. */
  attach(container: ContainerRef, io: StreamingIO): Promise<void>;
  /** Opens a TCP connection to `port` inside the pod's network namespace and copies both ways with `stream`. */
  portForward(pod: PodRef, port: number, stream: Duplex, signal: AbortSignal): Promise<void>;
  /** The log of a container (or of its previous instance), or RuntimeNotFoundError. */
  containerLog(container: ContainerRef, previous: boolean): Promise<ContainerLog>;
}

/** The kubelet's view of its pods, for /pods and for checking requests against what runs on the node. */
export interface PodSource {
  /** The pods bound to this node (as API objects). */
  pods(): Promise<Record<string, unknown>[]>;
}

/** The data behind /stats/summary and /metrics, which the kubelet gathers from the runtime's cgroups. */
export interface StatsProvider {
  /** The stats/v1alpha1 Summary object. */
  summary(): Promise<unknown>;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
}
