// Waiting for a condition in e2e tests: polls until the function returns a value, or fails after the
// deadline with what it was waiting for and the last error the function threw.
import assert from 'node:assert/strict';

/** Polls `fn` every `intervalMs` until it returns something other than undefined. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
