import type { WatchEvent } from './store.js';

/**
 * The buffer between a backend and one watcher: the backend pushes batches as writes commit, the watcher
 * pulls them with `for await`. Batches pushed while the watcher is busy are merged, so a slow watcher costs
 * one array, not one promise per event. Ending or failing wakes a waiting watcher at once.
 */
export class WatchQueue implements AsyncIterable<WatchEvent[]> {
  private pending: WatchEvent[] = [];
  private waiter: (() => void) | undefined;
  private error: Error | undefined;
  private ended = false;
  private readonly onClose: () => void;

  constructor(onClose: () => void, signal?: AbortSignal) {
    this.onClose = onClose;
    if (signal) {
      if (signal.aborted) this.end();
      else signal.addEventListener('abort', () => this.end(), { once: true });
    }
  }

  get closed(): boolean {
    return this.ended;
  }

  push(events: WatchEvent[]): void {
    if (this.ended || events.length === 0) return;
    for (const e of events) this.pending.push(e);
    this.wake();
  }

  fail(err: unknown): void {
    if (this.ended) return;
    this.error = err instanceof Error ? err : new Error(String(err));
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClose();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent[]> {
    try {
      for (;;) {
        if (this.pending.length > 0) {
          const batch = this.pending;
          this.pending = [];
          yield batch;
          continue;
        }
        if (this.ended) {
          if (this.error !== undefined) throw this.error;
          return;
        }
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      this.end();
    }
  }
}
