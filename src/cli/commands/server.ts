import path from 'node:path';
import { ApiServer } from '../../apiserver/api-server.js';
import { writeKubeconfig } from '../../apiserver/pki/kubeconfig.js';
import { ensureServerCerts, hostSubjectAltNames } from '../../apiserver/pki/server-certs.js';
import { logger } from '../../base/log.js';
import { RESTClient } from '../../client/index.js';
import { ControllerManager } from '../../controllers/controller-manager.js';
import { openStore, parseDatastoreEndpoint } from '../../storage/open.js';
import type { FlagSpec } from '../flags.js';
import { defaultDataDir } from '../flags.js';
import { kubernetesVersion } from '../version.js';
import { runServiceComponents, serviceAllocationOptions, serviceFlags } from './service-components.js';

/** `k8ts server`'s flags; names follow k3s's where k3s has the flag. */
export const serverFlags: FlagSpec = {
  'data-dir': { type: 'string', short: 'd', help: 'folder that holds the server state', default: '' },
  'datastore-endpoint': {
    type: 'string',
    help: 'store: sqlite:///path/state.db (default, in the data directory), memory://, or etcd://host:port[,host:port]',
    default: '',
  },
  'https-listen-port': { type: 'string', help: 'HTTPS port of the API server', default: '6443' },
  'bind-address': { type: 'string', help: 'address the API server listens on', default: '0.0.0.0' },
  'write-kubeconfig': { type: 'string', help: "where to write the admin kubeconfig (default: kubeconfig.yaml in the data directory)", default: '' },
  'default-not-ready-toleration-seconds': { type: 'string', help: 'seconds pods tolerate a not-ready node', default: '300' },
  'default-unreachable-toleration-seconds': { type: 'string', help: 'seconds pods tolerate an unreachable node', default: '300' },
  controllers: { type: 'string', help: 'controllers to run: * for all, a name to add one, -name to leave one out', default: '*' },
  'disable-controller-manager': { type: 'boolean', help: 'do not run the controller manager' },
  'leader-elect-lease-duration': { type: 'string', help: 'how long a leader lease is valid', default: '15s' },
  'leader-elect-renew-deadline': { type: 'string', help: 'how long the leader tries to renew before giving up', default: '10s' },
  'leader-elect-retry-period': { type: 'string', help: 'the pause between leader election tries', default: '2s' },
  'tls-san': { type: 'string', help: 'extra host names or IP addresses for the serving certificate, comma-separated', default: '' },
  ...serviceFlags,
};

/** Parses a Go-style duration as upstream's flags take them: "15s", "500ms", "1m30s". */
function durationMs(value: string | boolean | undefined, flag: string): number {
  const text = String(value);
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`invalid --${flag}: ${text} (a duration such as 15s or 500ms)`);
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  if (total <= 0) throw new Error(`invalid --${flag}: ${text}`);
  return total;
}

function seconds(value: string | boolean | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid --${flag}: ${String(value)}`);
  return n;
}

/**
 * `k8ts server`: the control plane on one store until SIGTERM or SIGINT. On first start it makes the
 * cluster's certificates and writes the admin kubeconfig; later starts reuse them and the stored state.
 */
export async function serverCommand(values: Record<string, string | boolean | undefined>, signal: AbortSignal): Promise<number> {
  const log = logger('server');
  const dataDir = path.resolve((values['data-dir'] as string) || path.join(defaultDataDir(), 'server'));
  const endpoint = parseDatastoreEndpoint((values['datastore-endpoint'] as string) ?? '', dataDir);
  const port = Number(values['https-listen-port'] ?? 6443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --https-listen-port: ${String(values['https-listen-port'])}`);
  const bindAddress = (values['bind-address'] as string) || '0.0.0.0';
  const t0 = performance.now();
  const store = await openStore(endpoint, { dataDir });
  log.info('store ready', {
    backend: store.backend,
    endpoint: endpoint.kind === 'sqlite' ? endpoint.path : endpoint.endpoints.join(','),
    revision: await store.currentRevision(),
  });
  const sans = hostSubjectAltNames();
  const extra = ((values['tls-san'] as string) || '').split(',').filter((s) => s !== '');
  const certs = await ensureServerCerts(path.join(dataDir, 'tls'), {
    hostnames: [...sans.hostnames, ...extra],
    addresses: sans.addresses,
  });
  const apiserver = new ApiServer({
    store,
    tls: { cert: certs.serving.certPem, key: certs.serving.keyPem, clientCA: certs.clientCA.certPem },
    bindAddress,
    port,
    gitVersion: `${kubernetesVersion}+k8ts`,
    defaultNotReadyTolerationSeconds: seconds(values['default-not-ready-toleration-seconds'], 'default-not-ready-toleration-seconds'),
    defaultUnreachableTolerationSeconds: seconds(values['default-unreachable-toleration-seconds'], 'default-unreachable-toleration-seconds'),
    ...serviceAllocationOptions(values),
  });
  const bound = await apiserver.start();
  const host = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  const kubeconfig = await writeKubeconfig((values['write-kubeconfig'] as string) || path.join(dataDir, 'kubeconfig.yaml'), {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    certificateAuthorityPem: certs.serverCA.certPem,
    clientCertificatePem: certs.admin.certPem,
    clientKeyPem: certs.admin.keyPem,
  });
  log.info('API server ready', { port: bound, kubeconfig, startupMs: Math.round(performance.now() - t0) });
  // The controller manager reaches the API over HTTPS like any other client, as it would from another machine.
  const components = new AbortController();
  /** A client of this server's API over HTTPS with the admin certificate, as a component on another machine would have. */
  const localClient = (component: string): RESTClient =>
    new RESTClient({
      server: `https://127.0.0.1:${bound}`,
      ca: certs.serverCA.certPem,
      cert: certs.admin.certPem,
      key: certs.admin.keyPem,
      userAgent: `${component}/${kubernetesVersion}`,
    });
  const running: Promise<void>[] = [];
  if (values['disable-controller-manager'] !== true) {
    const client = localClient('kube-controller-manager');
    const manager = new ControllerManager({
      client,
      controllers: (values.controllers as string) || '*',
      leaseDurationMs: durationMs(values['leader-elect-lease-duration'], 'leader-elect-lease-duration'),
      renewDeadlineMs: durationMs(values['leader-elect-renew-deadline'], 'leader-elect-renew-deadline'),
      retryPeriodMs: durationMs(values['leader-elect-retry-period'], 'leader-elect-retry-period'),
    });
    running.push(manager.run(components.signal));
  }
  {
    // kube-proxy, cluster DNS and the cloud service controller, as clients of the API like the controllers.
    running.push(runServiceComponents(values, localClient('kube-proxy'), components.signal, log));
  }
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  log.info('shutting down');
  components.abort();
  await Promise.allSettled(running);
  await apiserver.stop();
  await store.close();
  log.info('stopped');
  return 0;
}
