// Node ports held in one stored snapshot (upstream's RangeAllocation at /registry/services/nodeports): a
// bitmap of the range, changed only by compare-and-swap on the key's revision, so several API servers on one
// store never hand out one port twice. A change is applied to the snapshot as this server last saw it and
// written back guarded by that revision; a conflict (another server wrote) starts over from a fresh read.
// Requests that arrive while a write is under way are applied together in the next one, so a burst of
// creates costs one write per batch rather than per port.
import type { Store } from '../../storage/store.js';
import { isStoreError } from '../../storage/errors.js';
import { PortAllocator } from './service-allocator-bitmaps.js';

/** The store key of the node port snapshot, as upstream's. */
export const nodePortsKey = '/registry/services/nodeports';

/** What a batch applies to the snapshot. */
type Op =
  | { kind: 'allocate'; port: number }
  | { kind: 'next' }
  | { kind: 'release'; ports: readonly number[] }
  | { kind: 'replace'; build: (current: PortAllocator) => PortAllocator };

interface Pending {
  op: Op;
  resolve: (port: number) => void;
  reject: (err: unknown) => void;
}

/** The stored form: upstream's RangeAllocation fields (ours is JSON, with our own bit order). */
interface RangeAllocation {
  apiVersion: 'v1';
  kind: 'RangeAllocation';
  metadata: Record<string, never>;
  range: string;
  data: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function parseRange(text: string): { base: number; size: number } | undefined {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  return hi >= lo ? { base: lo, size: hi - lo + 1 } : undefined;
}

/** Node ports of --service-node-port-range, kept in the store. */
export class StoredPortAllocator {
  readonly range: { base: number; size: number };
  private readonly store: Store;
  /** The snapshot as this server last read or wrote it, and the key's revision then (undefined: not read yet). */
  private last: PortAllocator;
  private lastRevision: number | undefined;
  private queue: Pending[] = [];
  private flushing = false;

  constructor(store: Store, range: { base: number; size: number }) {
    this.store = store;
    this.range = range;
    this.last = new PortAllocator(range);
  }

  /** The range as upstream's messages show it. */
  get rangeText(): string {
    return this.last.rangeText;
  }

  /** The snapshot as last seen (this server's view, for tests and dry runs). */
  get snapshot(): PortAllocator {
    return this.last;
  }

  /** Reserves a requested port. */
  async allocate(port: number): Promise<void> {
    await this.enqueue({ kind: 'allocate', port });
  }

  /** Reserves any free port (upper band first, random start). */
  allocateNext(): Promise<number> {
    return this.enqueue({ kind: 'next' });
  }

  /** Gives ports back (ports not held are ignored). */
  async release(ports: readonly number[]): Promise<void> {
    if (ports.length > 0) await this.enqueue({ kind: 'release', ports });
  }

  /** Replaces the snapshot with what `build` makes of the current one (the repair). */
  async replace(build: (current: PortAllocator) => PortAllocator): Promise<void> {
    await this.enqueue({ kind: 'replace', build });
  }

  /** A dry run of allocate, against a fresh read. */
  async check(port: number): Promise<void> {
    const { bitmap } = await this.read();
    bitmap.check(port);
  }

  /** A dry run of allocateNext: a port that is free now. */
  async peekNext(): Promise<number> {
    const { bitmap } = await this.read();
    return bitmap.allocateNext(false);
  }

  /** Reads the snapshot (an empty one when the key does not exist yet). */
  async read(): Promise<{ bitmap: PortAllocator; revision: number | undefined }> {
    const { kv } = await this.store.get(nodePortsKey);
    if (!kv) {
      this.lastRevision = undefined;
      return { bitmap: new PortAllocator(this.range), revision: undefined };
    }
    const stored = JSON.parse(decoder.decode(kv.value)) as Partial<RangeAllocation>;
    const storedRange = parseRange(stored.range ?? '') ?? this.range;
    const bitmap = PortAllocator.decode(this.range, storedRange, stored.data ?? '');
    this.last = bitmap.clone();
    this.lastRevision = kv.modRevision;
    return { bitmap, revision: kv.modRevision };
  }

  /** The snapshot as this server last read or wrote it, to change optimistically (a copy). */
  private cached(): { bitmap: PortAllocator; revision: number | undefined } | undefined {
    if (this.lastRevision === undefined) return undefined;
    return { bitmap: this.last.clone(), revision: this.lastRevision };
  }

  private enqueue(op: Op): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        await this.apply(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Applies a batch and writes it back guarded by the revision it was applied to. It starts from the
   * snapshot as this server last wrote it, which is usually still current: when another server wrote since,
   * the write fails and the batch runs again on a fresh read; a refusal (port taken, range full) is only
   * answered after a fresh read confirms it.
   */
  private async apply(batch: Pending[]): Promise<void> {
    // The repair judges the stored state itself: it always reads.
    let fresh = batch.some((p) => p.op.kind === 'replace');
    for (;;) {
      let results: ({ ok: number } | { err: unknown })[];
      try {
        const base = (fresh ? undefined : this.cached()) ?? (await this.read());
        const before = base.bitmap.clone();
        let bitmap = base.bitmap;
        results = batch.map(({ op }) => {
          try {
            switch (op.kind) {
              case 'allocate':
                bitmap.allocate(op.port);
                return { ok: op.port };
              case 'next':
                return { ok: bitmap.allocateNext(true) };
              case 'release':
                for (const p of op.ports) bitmap.release(p);
                return { ok: 0 };
              case 'replace':
                bitmap = op.build(bitmap);
                return { ok: 0 };
            }
          } catch (err) {
            return { err };
          }
        });
        if (!fresh && results.some((r) => 'err' in r)) {
          fresh = true;
          continue;
        }
        // Nothing changed (a release of free ports, a repair that found all well): no write.
        if (results.some((r) => 'ok' in r) && !bitmap.equals(before)) {
          const value = encoder.encode(JSON.stringify(this.encode(bitmap)));
          const kv = base.revision === undefined ? await this.store.create(nodePortsKey, value) : await this.store.update(nodePortsKey, value, base.revision);
          this.last = bitmap;
          this.lastRevision = kv.modRevision;
        }
      } catch (err) {
        if (isStoreError(err, 'Conflict') || isStoreError(err, 'KeyExists')) {
          fresh = true;
          continue;
        }
        for (const p of batch) p.reject(err);
        return;
      }
      batch.forEach((p, i) => {
        const r = results[i]!;
        if ('ok' in r) p.resolve(r.ok);
        else p.reject(r.err);
      });
      return;
    }
  }

  private encode(bitmap: PortAllocator): RangeAllocation {
    return { apiVersion: 'v1', kind: 'RangeAllocation', metadata: {}, range: bitmap.rangeText, data: bitmap.encode() };
  }
}
