// Timestamps of the runtime's steps, for bench/runtime's --trace (one container's life, step by step). A
// no-op unless a sink is set: the runtime calls traceStep at the boundaries of its work on a container.

/** Receives (step, container ID, performance.now()). */
export type TraceSink = (step: string, id: string, at: number) => void;

let sink: TraceSink | undefined;

/** Sets (or clears) the sink. */
export function setTraceSink(s: TraceSink | undefined): void {
  sink = s;
}

/** Records that `step` of container `id` is done. */
export function traceStep(step: string, id: string): void {
  if (sink) sink(step, id, performance.now());
}
