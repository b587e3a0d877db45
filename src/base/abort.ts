// Abort signals that may already have fired: a listener added after the abort never runs, so code that
// waits for one must look at `aborted` first. These helpers do both.

/** Calls `fn` once when the signal aborts, or at once if it already has. */
export function onAbort(signal: AbortSignal, fn: () => void): void {
  if (signal.aborted) fn();
  else signal.addEventListener('abort', fn, { once: true });
}

/** Resolves when the signal aborts (at once if it already has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => onAbort(signal, resolve));
}
