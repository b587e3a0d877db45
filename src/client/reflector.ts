// The reflector keeps a store in step with the API server: list everything, then watch from the list's
// resourceVersion. A watch that ends (server timeout, dropped connection) resumes from the last version it
// saw; a watch the server can no longer serve from that version (410 Expired/Gone, as a response or an
// ERROR event) forces a fresh list, whose differences the store turns into events.
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import type { Status } from '../apimachinery/errors/status-error.js';
import { StatusError } from '../apimachinery/errors/status-error.js';
import type { Clock } from './clock.js';
import { realClock, sleep } from './clock.js';
import type { ListerWatcher } from './list-watch.js';
import type { KubeObject } from './rest-client.js';

/** What a reflector writes into. */
export interface ReflectorStore<T> {
  /** The complete current state, from a list. */
  replace(items: T[], resourceVersion: string): void;
  add(obj: T): void;
  update(obj: T): void;
  delete(obj: T): void;
}

/** Options of a Reflector. */
export interface ReflectorOptions {
  clock?: Clock;
  log?: Logger;
  /** Page size of lists (client-go: 500). */
  pageSize?: number;
  /** Backoff after failures: first wait and cap, in ms (client-go: 800 ms to 30 s). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Server-side watch timeout range in s; a random value in [min, 2*min) spreads reconnects (client-go: 5 min). */
  minWatchTimeoutSeconds?: number;
}

/** Lists then watches a ListerWatcher into a store until stopped. */
export class Reflector<T extends KubeObject = KubeObject> {
  readonly #lw: ListerWatcher<T>;
  readonly #store: ReflectorStore<T>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #pageSize: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;
  readonly #minWatchTimeout: number;
  #resourceVersion = '';
  #backoff = 0;
  /** How many lists ran; tests and metrics read it. */
  listCount = 0;

  constructor(lw: ListerWatcher<T>, store: ReflectorStore<T>, options: ReflectorOptions = {}) {
    this.#lw = lw;
    this.#store = store;
    this.#clock = options.clock ?? realClock;
    this.#log = options.log ?? logger('reflector');
    this.#pageSize = options.pageSize ?? 500;
    this.#backoffInitialMs = options.backoffInitialMs ?? 800;
    this.#backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.#minWatchTimeout = options.minWatchTimeoutSeconds ?? 300;
  }

  /** The resourceVersion of the last list or event applied. */
  get lastSyncResourceVersion(): string {
    return this.#resourceVersion;
  }

  /** Runs until `signal` aborts; never rejects for API or network errors (it retries with backoff). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#list(signal);
        this.#backoff = 0;
        await this.#watchLoop(signal);
      } catch (err) {
        if (signal.aborted) return;
        this.#log.warn('list failed', { error: err as Error });
        if (!(await this.#wait(signal))) return;
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.#lw.list({ limit: this.#pageSize, ...(cont ? { continue: cont } : {}) });
      if (signal.aborted) return;
      items.push(...page.items);
      rv = page.metadata.resourceVersion ?? '';
      cont = page.metadata.continue || undefined;
    } while (cont);
    this.listCount++;
    this.#resourceVersion = rv;
    this.#store.replace(items, rv);
  }

  /** Watches until a relist is needed (returns) or the signal aborts. */
  async #watchLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const ac = new AbortController();
      const onAbort = (): void => ac.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const timeoutSeconds = Math.floor(this.#minWatchTimeout * (1 + Math.random()));
      try {
        const events = this.#lw.watch(
          { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
          ac.signal,
        );
        for await (const ev of events) {
          if (signal.aborted) return;
          if (ev.type === 'ERROR') {
            const status = ev.object as unknown as Status;
            if (status.code === 410) {
              this.#log.info(
                'watch expired, relisting',
                { resourceVersion: this.#resourceVersion, message: status.message },
                2,
              );
              return;
            }
            throw new StatusError(status.code, status.reason, status.message, status.details);
          }
          const rv = ev.object.metadata?.resourceVersion;
          switch (ev.type) {
            case 'ADDED':
              this.#store.add(ev.object);
              break;
            case 'MODIFIED':
              this.#store.update(ev.object);
              break;
            case 'DELETED':
              this.#store.delete(ev.object);
              break;
            case 'BOOKMARK':
              break;
          }
          if (rv) this.#resourceVersion = rv;
          this.#backoff = 0;
        }
        // The server closed the stream: resume from where we are.
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof StatusError) {
          if (err.code === 410) return;
          // Anything else the server refuses (forbidden, gone resource) deserves a fresh list after a pause.
          this.#log.warn('watch failed', { error: err });
          if (!(await this.#wait(signal))) return;
          return;
        }
        // Connection-level trouble: the server may be restarting; resume from the same version.
        this.#log.info('watch interrupted', { error: err as Error }, 2);
        if (!(await this.#wait(signal))) return;
      } finally {
        signal.removeEventListener('abort', onAbort);
        ac.abort();
      }
    }
  }

  /** Waits out the current backoff; false when stopped meanwhile. */
  async #wait(signal: AbortSignal): Promise<boolean> {
    this.#backoff =
      this.#backoff === 0 ? this.#backoffInitialMs : Math.min(this.#backoffMaxMs, this.#backoff * 2);
    try {
      await sleep(this.#clock, this.#backoff, signal);
      return true;
    } catch {
      return false;
    }
  }
}
