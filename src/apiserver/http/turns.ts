// Fair turns for writes. Node serves every request on one thread, and a burst of writes that arrive together
// would otherwise run back to back (each a decode, validation, managedFields, a store commit and an encode),
// while a GET that arrived a moment later waits behind all of them. Mutating requests therefore take turns,
// a few writes per event-loop iteration, so that reads that arrived meanwhile are served between two groups:
// four per turn while only writes come in, one per turn while reads come in too (one in the last 10 ms), so
// that a read waits behind one write at most, plus whatever a garbage collection takes. Watchers do not get a
// socket write per turn: their output is batched over several turns (WatchBatcher). Measured on
// bench/apiserver (10 clients creating pods, one client GETting): with reads, one write per turn gave a GET
// p99 of 4.7 ms against 5.0 ms with two (both on a loaded machine) and about a fifth fewer creates per
// second while the GETs ran, since the GETs got more of the server; four per turn left the GET p99 above
// 5 ms. A write that runs alone also runs on a colder CPU: with only writes coming in, one per turn cost a
// third of the creates per second against four. This is our small counterpart of upstream's separate
// in-flight limits for reads and mutations.

/**
 * Hands out turns in the order they were asked for: `perTurn` callers per event-loop iteration, or
 * `perTurnWithReads` while reads come in (one noted within the last `readWindowMs`).
 */
export class Turns {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  private readonly perTurn: number;
  private readonly perTurnWithReads: number;
  private readonly readWindowMs: number;
  private lastRead = -Infinity;
  /** How many turns have been given out so far (a clock for those who batch per turn). */
  taken = 0;

  constructor(perTurn = 4, perTurnWithReads = 1, readWindowMs = 10) {
    this.perTurn = perTurn;
    this.perTurnWithReads = Math.min(perTurn, perTurnWithReads);
    this.readWindowMs = readWindowMs;
  }

  /** A read came in: turns are short ones for a while. */
  noteRead(): void {
    this.lastRead = performance.now();
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
    const reading = performance.now() - this.lastRead < this.readWindowMs;
    const group = this.waiting.splice(0, reading ? this.perTurnWithReads : this.perTurn);
    this.taken++;
    if (this.waiting.length > 0) setImmediate(this.release);
    else this.scheduled = false;
    for (const resolve of group) resolve();
  };
}
