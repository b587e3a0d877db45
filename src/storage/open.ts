// Chooses a store backend from a datastore URL, as k3s's --datastore-endpoint does.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { storeErrors } from './errors.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** A parsed datastore endpoint. */
export type DatastoreEndpoint =
  | { kind: 'sqlite'; path: string; sync: 'normal' | 'full' }
  | { kind: 'etcd'; endpoints: string[]; prefix: string };

/** Options every backend understands. */
export interface OpenStoreOptions {
  /** Where a relative or default SQLite file lives. */
  dataDir: string;
  /** Automatic compaction interval in ms (0: off). */
  compactIntervalMs?: number;
}

/**
 * Parses `sqlite:///abs/path.db`, `sqlite://rel/path.db` (relative to the data directory), `memory://`,
 * `etcd://host:port[,host:port]` or `http(s)://host:port[,...]` (etcd, as k3s takes it). An empty endpoint
 * means the embedded default: `state.db` in the data directory.
 */
export function parseDatastoreEndpoint(endpoint: string, dataDir: string): DatastoreEndpoint {
  const defaultPath = path.join(dataDir, 'db', 'state.db');
  if (endpoint === '' || endpoint === 'sqlite') return { kind: 'sqlite', path: defaultPath, sync: 'normal' };
  if (endpoint === 'memory' || endpoint === 'memory://')
    return { kind: 'sqlite', path: ':memory:', sync: 'normal' };
  const m = /^([a-z0-9+]+):\/\/(.*)$/.exec(endpoint);
  if (!m)
    throw storeErrors.invalid(
      `invalid datastore endpoint "${endpoint}": expected sqlite://, memory:// or etcd://`,
    );
  const scheme = m[1]!;
  const rest = m[2]!;
  if (scheme === 'sqlite') {
    const [file = '', query = ''] = rest.split('?', 2);
    const params = new URLSearchParams(query);
    const sync = params.get('sync') ?? 'normal';
    if (sync !== 'normal' && sync !== 'full') {
      throw storeErrors.invalid(`invalid datastore endpoint "${endpoint}": sync must be "normal" or "full"`);
    }
    const file2 = file === '' ? defaultPath : file === ':memory:' ? file : path.resolve(dataDir, file);
    return { kind: 'sqlite', path: file2, sync };
  }
  if (scheme === 'etcd' || scheme === 'http' || scheme === 'https') {
    const [hosts = '', query = ''] = rest.split('?', 2);
    const endpoints = hosts
      .replace(/\/+$/, '')
      .split(',')
      .filter((h) => h !== '')
      .map((h) => `${scheme === 'https' ? 'https' : 'http'}://${h}`);
    if (endpoints.length === 0)
      throw storeErrors.invalid(`invalid datastore endpoint "${endpoint}": no etcd host`);
    return { kind: 'etcd', endpoints, prefix: new URLSearchParams(query).get('prefix') ?? '' };
  }
  throw storeErrors.invalid(
    `unsupported datastore endpoint scheme "${scheme}": use sqlite://, memory:// or etcd://`,
  );
}

/** Opens the store an endpoint names. */
export function openStore(endpoint: DatastoreEndpoint, options: OpenStoreOptions): Promise<Store> {
  switch (endpoint.kind) {
    case 'sqlite': {
      if (endpoint.path !== ':memory:')
        mkdirSync(path.dirname(endpoint.path), { recursive: true, mode: 0o700 });
      return Promise.resolve(
        new SqliteStore({
          path: endpoint.path,
          sync: endpoint.sync,
          compactIntervalMs: options.compactIntervalMs,
        }),
      );
    }
    case 'etcd':
      // Loaded only when asked for: the gRPC stack costs the embedded default's start-up time otherwise.
      return import('./etcd/etcd-store.js').then(
        ({ EtcdStore }) =>
          new EtcdStore({
            endpoints: endpoint.endpoints,
            prefix: endpoint.prefix,
            ...(options.compactIntervalMs !== undefined
              ? { compactIntervalMs: options.compactIntervalMs }
              : {}),
          }),
      );
  }
}
