// Watch output batched over a few write turns. Every change reaches a watcher as a JSON line; written one
// socket write per change, 100 watchers of a resource under a stream of creates cost 100 TLS records and
// syscalls per create. Writes take turns (Turns), a few per event-loop iteration and one while reads come
// in, so a batch per iteration would hold only that many changes. A watcher's lines therefore wait while writes are still queued for turns,
// for a few turns at most, and go out in one write; when no write waits they go out in the same iteration.
// Upstream's watch server batches the same way: it flushes when its channel of events has run empty.
import type { ServerResponse } from 'node:http';
import type { Turns } from './turns.js';

/** Collects the watchers that have output waiting and writes it out together. */
export class WatchBatcher {
  private readonly turns: Turns;
  private readonly maxTurns: number;
  private readonly dirty = new Set<WatchOutput>();
  private scheduled = false;
  /** turns.taken when the oldest waiting output came in. */
  private since = 0;

  constructor(turns: Turns, maxTurns = 4) {
    this.turns = turns;
    this.maxTurns = maxTurns;
  }

  /** The batched output of one watch response. */
  output(res: ServerResponse): WatchOutput {
    return new WatchOutput(this, res);
  }

  /** @internal A watcher has output waiting. */
  mark(out: WatchOutput): void {
    if (this.dirty.size === 0) this.since = this.turns.taken;
    this.dirty.add(out);
    this.schedule();
  }

  /** @internal A watcher wrote its output itself or ended. */
  forget(out: WatchOutput): void {
    this.dirty.delete(out);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.check);
  }

  private readonly check = (): void => {
    this.scheduled = false;
    if (this.dirty.size === 0) return;
    // Writes still waiting for turns will bring more changes: hold the batch, for a few turns at most.
    if (this.turns.pending > 0 && this.turns.taken - this.since < this.maxTurns) return this.schedule();
    const outs = [...this.dirty];
    this.dirty.clear();
    for (const out of outs) out.flush();
  };
}

/** One watch response's output: lines queued for the next batch, or written at once. */
export class WatchOutput {
  private readonly batcher: WatchBatcher;
  private readonly res: ServerResponse;
  private pending = '';
  private closed = false;

  constructor(batcher: WatchBatcher, res: ServerResponse) {
    this.batcher = batcher;
    this.res = res;
  }

  /** Queues lines for the next batch. */
  write(text: string): void {
    if (text === '' || this.closed) return;
    const first = this.pending === '';
    this.pending += text;
    if (first) this.batcher.mark(this);
  }

  /** Writes what is queued and then `text`, now (initial events, bookmarks, errors). */
  writeNow(text: string): void {
    if (this.closed) return;
    const out = this.pending + text;
    this.pending = '';
    this.batcher.forget(this);
    if (out !== '') this.res.write(out);
  }

  /** @internal Writes what is queued. */
  flush(): void {
    if (this.closed || this.pending === '') return;
    const out = this.pending;
    this.pending = '';
    this.res.write(out);
  }

  /** Writes what is queued (unless the connection has gone) and takes no more: the response ends next. */
  close(): void {
    if (!this.res.destroyed) this.writeNow('');
    this.batcher.forget(this);
    this.pending = '';
    this.closed = true;
  }
}
