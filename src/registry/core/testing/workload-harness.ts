// Test helpers for the workload strategies: a registry store over an in-memory SQLite store, and the
// message of the Invalid error a write fails with.
import assert from 'node:assert/strict';
import { isStatusError } from '../../../apimachinery/errors/status-error.js';
import { SqliteStore } from '../../../storage/sqlite/sqlite-store.js';
import { RegistryStore } from '../../generic/registry-store.js';
import type { KObject, ResourceStrategy } from '../../generic/strategy.js';

/** A registry store for `strategy` over a fresh in-memory store; close it when done. */
export function openRegistry(
  strategy: ResourceStrategy,
  now = new Date('2026-01-02T03:04:05Z'),
): { reg: RegistryStore; close: () => Promise<void> } {
  const storage = new SqliteStore({ path: ':memory:' });
  return { reg: new RegistryStore(strategy, storage, { now: () => now }), close: () => storage.close() };
}

/** Awaits a write that must fail as Invalid, and returns the Status message. */
export async function invalidMessage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStatusError(err), `expected a StatusError, got ${String(err)}`);
    assert.equal(err.reason, 'Invalid', err.message);
    return err.status.message ?? '';
  }
  assert.fail('expected the write to be rejected as Invalid');
}

/** A deep copy of an object, for building variants of a fixture. */
export function copy<T extends KObject>(obj: T): T {
  return structuredClone(obj);
}
