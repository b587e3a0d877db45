import path from 'node:path';
import { isStoreError } from '../../storage/errors.js';
import { openStore, parseDatastoreEndpoint } from '../../storage/open.js';
import type { Store } from '../../storage/store.js';
import { defaultDataDir } from '../flags.js';

/**
 * `k8ts store check`: a smoke run of a datastore through the store contract. It writes only under its own
 * key prefix and removes what it wrote, so it is safe against a store that a server uses.
 */
export async function storeCheckCommand(
  values: Record<string, string | boolean | undefined>,
  out: (s: string) => void,
): Promise<number> {
  const dataDir = path.resolve((values['data-dir'] as string) || path.join(defaultDataDir(), 'server'));
  const endpoint = parseDatastoreEndpoint((values['datastore-endpoint'] as string) ?? '', dataDir);
  const store = await openStore(endpoint, { dataDir, compactIntervalMs: 0 });
  try {
    await runChecks(store, out);
    out('store check passed');
    return 0;
  } catch (err) {
    out(`store check FAILED: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await store.close();
  }
}

async function runChecks(store: Store, out: (s: string) => void): Promise<void> {
  const prefix = `/k8ts-store-check/${process.pid}-${Date.now()}/`;
  const enc = new TextEncoder();
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const v = await fn();
    out(`ok  ${name} (${(performance.now() - t0).toFixed(2)} ms)`);
    return v;
  };
  const expect = (cond: boolean, what: string): void => {
    if (!cond) throw new Error(what);
  };
  out(`backend ${store.backend}, revision ${await store.currentRevision()}`);
  const start = await store.currentRevision();
  const ac = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    for await (const batch of store.watch(prefix, { afterRevision: start, signal: ac.signal })) {
      for (const e of batch) seen.push(`${e.type} ${e.key.slice(prefix.length)}`);
      if (seen.length >= 3) break;
    }
  })();
  const a = await step('create', () => store.create(prefix + 'a', enc.encode('1')));
  await step('get', async () => expect((await store.get(prefix + 'a')).kv?.modRevision === a.modRevision, 'get returned another revision'));
  await step('update (compare-and-swap)', () => store.update(prefix + 'a', enc.encode('2'), a.modRevision));
  await step('stale update refused', async () => {
    try {
      await store.update(prefix + 'a', enc.encode('3'), a.modRevision);
    } catch (err) {
      expect(isStoreError(err, 'Conflict'), `expected a Conflict, got ${String(err)}`);
      return;
    }
    throw new Error('a stale update succeeded');
  });
  await step('list', async () => expect((await store.list(prefix)).kvs.length === 1, 'list did not return one key'));
  await step('delete', () => store.delete(prefix + 'a'));
  await step('watch delivered create, update, delete', async () => {
    const timer = setTimeout(() => ac.abort(), 5000);
    await watching;
    clearTimeout(timer);
    expect(seen.join(',') === 'created a,updated a,deleted a', `watch saw: ${seen.join(',') || 'nothing'}`);
  });
  ac.abort();
}
