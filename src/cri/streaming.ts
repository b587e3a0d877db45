// The streaming half of a runtime, in process. CRI's Exec, Attach and PortForward only return a URL; the
// bytes flow through a streaming server (SPDY or WebSocket) that calls into the runtime with these methods,
// the shape of upstream's streaming.Runtime (k8s.io/kubelet/pkg/cri/streaming). A runtime that serves its
// own streaming endpoints implements this interface and hands it to that server.
import type { Duplex, Readable, Writable } from 'node:stream';

/** A terminal size, as a resize event carries it. */
export interface TerminalSize {
  width: number;
  height: number;
}

/** The streams of an exec or attach session; an absent stream was not asked for. */
export interface StreamOptions {
  stdin?: Readable;
  stdout?: Writable;
  /** Ignored with tty (a terminal merges stderr into stdout). */
  stderr?: Writable;
  tty: boolean;
  /** Terminal size changes (tty only); the first value, if any, is the initial size. */
  resize?: AsyncIterable<TerminalSize>;
  /** Ends the session (the client went away). */
  signal?: AbortSignal;
}

/** The streams of a session a streaming server serves: always with a signal (the client going away). */
export type StreamingIO = StreamOptions & { signal: AbortSignal };

/** How an exec ended. */
export interface ExecResult {
  exitCode: number;
}

/** What a streaming server needs from a runtime. */
export interface StreamingRuntime {
  /** Runs `cmd` in the container with the given streams; resolves with its exit code when it exits. */
  exec(containerId: string, cmd: string[], streams: StreamOptions): Promise<ExecResult>;
  /** Attaches to the container's main process' stdio until the container exits or `signal` aborts. */
  attach(containerId: string, streams: StreamOptions): Promise<void>;
  /**
   * Connects `stream` to TCP `port` on localhost inside the sandbox's network namespace; resolves when
   * either side closes or `signal` aborts.
   */
  portForward(podSandboxId: string, port: number, stream: Duplex, signal?: AbortSignal): Promise<void>;
}
