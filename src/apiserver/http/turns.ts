// Fair turns for writes. Node serves every request on one thread, and a burst of writes that arrive together
// would otherwise run back to back (each a decode, validation, managedFields, a store commit and an encode),
// while a GET that arrived a moment later waits behind all of them. Mutating requests therefore take turns:
// a few writes per event-loop iteration, so reads that arrived meanwhile are served between two groups. A
// group of four measured best on bench/apiserver (one per turn: the best GET latency, but every watcher
// then gets one socket write per event, and fan-out to 100 watchers took 2.4 times as long). This is our
// small counterpart of upstream's separate in-flight limits for reads and mutations.

/** Hands out turns, `perTurn` callers per event-loop iteration, in the order they were asked for. */
export class Turns {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  private readonly perTurn: number;

  constructor(perTurn = 4) {
    this.perTurn = perTurn;
  }

  /** Resolves when it is this caller's turn. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.release);
      }
    });
  }

  /** How many callers wait for a turn. */
  get pending(): number {
    return this.waiting.length;
  }

  // One turn per check phase: the next release is queued for the next iteration, after the poll phase has
  // taken in whatever requests arrived. A write whose store commits synchronously (SQLite) runs to its end
  // in its turn, because the microtasks it queues run before the next immediate.
  private readonly release = (): void => {
    const group = this.waiting.splice(0, this.perTurn);
    if (this.waiting.length > 0) setImmediate(this.release);
    else this.scheduled = false;
    for (const resolve of group) resolve();
  };
}
