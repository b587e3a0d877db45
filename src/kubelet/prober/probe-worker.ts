// One probe of one container (upstream's prober worker): waits initialDelaySeconds, then probes every
// periodSeconds with timeoutSeconds, and flips its result only after successThreshold successes or
// failureThreshold failures in a row. Readiness starts as failure, liveness as success, startup as unknown;
// liveness and readiness wait until the startup probe has succeeded.
import type { Probe } from 'kubernetes-types/core/v1.js';
import type { Clock, TimerHandle } from '../../client/index.js';
import type { ProbeResult } from './probe-runner.js';

/** The three kinds of probes. */
export type ProbeType = 'liveness' | 'readiness' | 'startup';

/** Probe settings with upstream's defaults. */
export function probeSettings(p: Probe): { initialDelayMs: number; periodMs: number; timeoutMs: number; successThreshold: number; failureThreshold: number } {
  return {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: (p.periodSeconds ?? 10) * 1000,
    timeoutMs: (p.timeoutSeconds ?? 1) * 1000,
    successThreshold: p.successThreshold ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
  };
}

/** The pure state machine: counts consecutive results and decides the reported one. */
export class ProbeState {
  result: boolean | undefined;
  #lastRaw: boolean | undefined;
  #run = 0;
  readonly #success: number;
  readonly #failure: number;

  constructor(type: ProbeType, successThreshold: number, failureThreshold: number) {
    this.result = type === 'liveness' ? true : type === 'readiness' ? false : undefined;
    this.#success = successThreshold;
    this.#failure = failureThreshold;
  }

  /** Records one probe outcome; returns true when the reported result changed. */
  observe(ok: boolean): boolean {
    if (this.#lastRaw === ok) this.#run++;
    else {
      this.#lastRaw = ok;
      this.#run = 1;
    }
    if ((ok && this.#run < this.#success) || (!ok && this.#run < this.#failure)) return false;
    const changed = this.result !== ok;
    this.result = ok;
    return changed;
  }
}

/** Runs one probe on a timer until stopped. */
export class ProbeWorker {
  readonly type: ProbeType;
  readonly state: ProbeState;
  readonly #settings: ReturnType<typeof probeSettings>;
  readonly #clock: Clock;
  readonly #run: (timeoutMs: number) => Promise<ProbeResult>;
  readonly #onChange: (ok: boolean, output: string) => void;
  readonly #onFailure: (output: string) => void;
  readonly #gate: () => boolean;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(options: {
    type: ProbeType;
    probe: Probe;
    clock: Clock;
    run: (timeoutMs: number) => Promise<ProbeResult>;
    /** The reported result changed. */
    onChange: (ok: boolean, output: string) => void;
    /** A single probe failed (for the Unhealthy event). */
    onFailure: (output: string) => void;
    /** False while the probe must not run yet (the startup probe has not succeeded). */
    gate?: () => boolean;
  }) {
    this.type = options.type;
    this.#settings = probeSettings(options.probe);
    this.state = new ProbeState(options.type, this.#settings.successThreshold, this.#settings.failureThreshold);
    this.#clock = options.clock;
    this.#run = options.run;
    this.#onChange = options.onChange;
    this.#onFailure = options.onFailure;
    this.#gate = options.gate ?? (() => true);
  }

  start(): void {
    this.#timer = this.#clock.setTimeout(() => void this.#tick(), this.#settings.initialDelayMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    // A startup probe that has succeeded is done.
    if (!(this.type === 'startup' && this.state.result === true) && this.#gate()) {
      const r = await this.#run(this.#settings.timeoutMs);
      if (this.#stopped) return;
      if (!r.ok) this.#onFailure(r.output);
      if (this.state.observe(r.ok)) this.#onChange(r.ok, r.output);
    }
    if (!this.#stopped) this.#timer = this.#clock.setTimeout(() => void this.#tick(), this.#settings.periodMs);
  }
}
