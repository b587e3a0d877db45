// Waiting for a condition in e2e tests: polls until the function returns something, or fails at the deadline.
import assert from 'node:assert/strict';

/** Polls `fn` every 200 ms until it returns a value other than undefined; fails after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
