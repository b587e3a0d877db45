// Waiting for a condition in e2e tests: `until` (wait.ts) with the e2e tests' pace, a 200 ms poll and a 30 s
// deadline. A probe that throws (a kubectl call that failed on a loaded machine) counts as "not yet".
import { until } from './wait.js';

/** Polls `fn` every 200 ms until it returns a value other than undefined or false; fails after `timeoutMs`. */
export function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return until(what, fn, timeoutMs, 200);
}
