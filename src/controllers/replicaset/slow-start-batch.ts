// Upstream's slowStartBatch: many creates that would all fail the same way (a quota, a bad template) are
// found out after one request instead of hundreds, which also spares the API server and the event log.

/**
 * Calls `fn` `count` times in batches of 1, 2, 4, ... run concurrently; stops after the first batch with a
 * failure, so that a create that cannot succeed is not tried hundreds of times. Returns how many calls
 * succeeded and the first error.
 */
export async function slowStartBatch(
  count: number,
  initialBatchSize: number,
  fn: () => Promise<void>,
): Promise<{ successes: number; error?: Error }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failures.length;
    if (failures[0]) {
      const reason: unknown = failures[0].reason;
      return { successes, error: reason instanceof Error ? reason : new Error(String(reason)) };
    }
    remaining -= batch;
  }
  return { successes };
}
