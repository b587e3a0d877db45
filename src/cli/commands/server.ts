import path from 'node:path';
import { logger } from '../../base/log.js';
import { openStore, parseDatastoreEndpoint } from '../../storage/open.js';
import type { FlagSpec } from '../flags.js';
import { defaultDataDir } from '../flags.js';

/** `k8ts server`'s flags; names follow k3s's where k3s has the flag. */
export const serverFlags: FlagSpec = {
  'data-dir': { type: 'string', short: 'd', help: 'folder that holds the server state', default: '' },
  'datastore-endpoint': {
    type: 'string',
    help: 'store: sqlite:///path/state.db (default, in the data directory), memory://, or etcd://host:port[,host:port]',
    default: '',
  },
};

/**
 * `k8ts server`: runs the control plane on one store until SIGTERM or SIGINT. For now that is the store
 * itself; the API server and the components behind it join it as they are built.
 */
export async function serverCommand(values: Record<string, string | boolean | undefined>, signal: AbortSignal): Promise<number> {
  const log = logger('server');
  const dataDir = path.resolve((values['data-dir'] as string) || path.join(defaultDataDir(), 'server'));
  const endpoint = parseDatastoreEndpoint((values['datastore-endpoint'] as string) ?? '', dataDir);
  const store = await openStore(endpoint, { dataDir });
  const revision = await store.currentRevision();
  log.info('store ready', {
    backend: store.backend,
    endpoint: endpoint.kind === 'sqlite' ? endpoint.path : endpoint.endpoints.join(','),
    revision,
  });
  if (!signal.aborted) {
    // Signal handlers do not keep Node's event loop alive; this timer does until the signal comes.
    const keepAlive = setInterval(() => undefined, 60_000);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    clearInterval(keepAlive);
  }
  log.info('shutting down');
  await store.close();
  log.info('stopped');
  return 0;
}
