// A resource store over an in-memory SQLite store, for the strategy tests: objects go through the real
// create and update paths (defaults, prepare, validate), and Invalid errors come back as their causes.
import assert from 'node:assert/strict';
import { isStatusError } from '../../../apimachinery/errors/status-error.js';
import { SqliteStore } from '../../../storage/sqlite/sqlite-store.js';
import { RegistryStore } from '../../generic/registry-store.js';
import type { KObject, ResourceStrategy } from '../../generic/strategy.js';

/** The clock every harness store uses. */
export const harnessNow = new Date('2026-01-02T03:04:05Z');

/** A store of one resource for tests; close() it when done. */
export class StrategyHarness {
  readonly store: RegistryStore;
  private readonly storage: SqliteStore;
  private readonly namespace: string;

  constructor(strategy: ResourceStrategy) {
    this.storage = new SqliteStore({ path: ':memory:' });
    this.store = new RegistryStore(strategy, this.storage, { now: () => harnessNow });
    this.namespace = strategy.info.namespaced ? 'default' : '';
  }

  /** Creates the object as a client's POST would. */
  create(obj: KObject): Promise<KObject> {
    return this.store.create(obj.metadata?.namespace ?? this.namespace, structuredClone(obj));
  }

  /** Replaces the object as a client's PUT would. */
  async update(obj: KObject, subresource?: 'status'): Promise<KObject> {
    const name = obj.metadata?.name ?? '';
    const res = await this.store.update(
      obj.metadata?.namespace ?? this.namespace,
      name,
      structuredClone(obj),
      subresource ? { subresource } : {},
    );
    return res.object;
  }

  /** Creates, then replaces with what `change` makes of the stored object. */
  async createThenUpdate(obj: KObject, change: (stored: KObject) => void): Promise<KObject> {
    const stored = await this.create(obj);
    change(stored);
    return this.update(stored);
  }

  /** Awaits a write that must fail as Invalid; returns "field: message" of each cause and the Status message. */
  async invalid(write: Promise<unknown>): Promise<{ causes: string[]; message: string }> {
    try {
      await write;
    } catch (err) {
      assert.ok(isStatusError(err), `expected a Status error, got ${String(err)}`);
      assert.equal(err.reason, 'Invalid', err.message);
      const causes = (err.status.details?.causes ?? []).map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);
      return { causes, message: err.status.message };
    }
    assert.fail('expected the write to be rejected as Invalid');
  }

  close(): void {
    this.storage.close();
  }
}
