// Waiting for a condition in e2e tests: polls until the function returns something, or fails at the deadline.
import assert from 'node:assert/strict';

/**
 * Polls `fn` every 200 ms until it returns a value other than undefined; fails after `timeoutMs`. A probe
 * that throws (a kubectl call that failed on a loaded machine) counts as "not yet"; the last error is
 * reported if the deadline passes.
 */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
