import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ApiServer } from '../../apiserver/api-server.js';
import { writeKubeconfig } from '../../apiserver/pki/kubeconfig.js';
import { ensureServerTokenSecret, kubeletServingNames, nodeJoinHandlers } from '../../apiserver/pki/node-join.js';
import { ensureServerCerts, hostSubjectAltNames } from '../../apiserver/pki/server-certs.js';
import { kubernetesServiceIPs, legacyTokenSigner, serviceAccountOptions, serviceAccountFlags } from './service-account-flags.js';
import { logger } from '../../base/log.js';
import type { ClientConfig } from '../../client/index.js';
import { RESTClient } from '../../client/index.js';
import { CidrSet } from '../../controllers/nodeipam/cidr-set.js';
import { openStore, parseDatastoreEndpoint } from '../../storage/open.js';
import type { FlagSpec } from '../flags.js';
import { defaultDataDir } from '../flags.js';
import { kubernetesVersion } from '../version.js';
import type { KubeletServing } from './kubelets.js';
import { builtInRuntimeFlags, kubeletFlags, startKubelets } from './kubelets.js';
import { runServiceComponents, serviceAllocationOptions, serviceFlags } from './service-components.js';
import type { SchedulerWorkerData, SchedulerWorkerMessage } from './scheduler-worker.js';

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
  'terminated-pod-gc-threshold': { type: 'string', help: 'terminated pods kept before the pod GC deletes the oldest (0 or less: never)', default: '12500' },
  'disable-scheduler': { type: 'boolean', help: 'do not run the scheduler' },
  'scheduler-config': { type: 'string', help: 'a KubeSchedulerConfiguration file for the scheduler (profiles, plugins, percentageOfNodesToScore)', default: '' },
  'leader-elect-lease-duration': { type: 'string', help: 'how long a leader lease is valid', default: '15s' },
  'leader-elect-renew-deadline': { type: 'string', help: 'how long the leader tries to renew before giving up', default: '10s' },
  'leader-elect-retry-period': { type: 'string', help: 'the pause between leader election tries', default: '2s' },
  'cluster-cidr': { type: 'string', help: 'pod network ranges, one IPv4 and/or one IPv6, comma-separated', default: '10.42.0.0/16,fd42::/48' },
  'node-cidr-mask-size-ipv4': { type: 'string', help: 'prefix length of each node\'s IPv4 pod range', default: '24' },
  'node-cidr-mask-size-ipv6': { type: 'string', help: 'prefix length of each node\'s IPv6 pod range', default: '64' },
  'node-monitor-period': { type: 'string', help: 'how often the node lifecycle controller checks node heartbeats', default: '5s' },
  'node-monitor-grace-period': { type: 'string', help: 'how long a running node may be silent before it is marked unhealthy', default: '50s' },
  'node-startup-grace-period': { type: 'string', help: 'how long a starting node may be silent before it is marked unhealthy', default: '1m0s' },
  'node-eviction-rate': { type: 'string', help: 'nodes per second tainted for eviction while their zone is healthy', default: '0.1' },
  'secondary-node-eviction-rate': { type: 'string', help: 'nodes per second tainted for eviction while their zone is partly down', default: '0.01' },
  'large-cluster-size-threshold': { type: 'string', help: 'zones up to this many nodes stop evicting when partly down', default: '50' },
  'unhealthy-zone-threshold': { type: 'string', help: 'share of not-ready nodes (at least 3) that makes a zone partly down', default: '0.55' },
  'tls-san': { type: 'string', help: 'extra host names or IP addresses for the serving certificate, comma-separated', default: '' },
  'disable-agent': { type: 'boolean', help: 'do not run a kubelet (nor simulated nodes) in the server' },
  ...kubeletFlags,
  ...builtInRuntimeFlags,
  ...serviceFlags,
  ...serviceAccountFlags,
};

/** Parses a Go-style duration as upstream's flags take them: "15s", "500ms", "1m30s". */
export function durationMs(value: string | boolean | undefined, flag: string): number {
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

function rate(value: string | boolean | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`invalid --${flag}: ${String(value)}`);
  return n;
}

function integerFlag(value: string | boolean | undefined, flag: string): number {
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isInteger(n)) throw new Error(`invalid --${flag}: ${String(value)}`);
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
  const clusterCIDRs = String(values['cluster-cidr'] ?? '').split(',').map((c) => c.trim()).filter((c) => c !== '');
  const maskV4 = seconds(values['node-cidr-mask-size-ipv4'], 'node-cidr-mask-size-ipv4');
  const maskV6 = seconds(values['node-cidr-mask-size-ipv6'], 'node-cidr-mask-size-ipv6');
  // Bad ranges fail here, with the flag's name, rather than inside the controller manager.
  if (clusterCIDRs.filter((c) => c.includes(':')).length > 1 || clusterCIDRs.filter((c) => !c.includes(':')).length > 1) {
    throw new Error(`invalid --cluster-cidr: at most one IPv4 and one IPv6 range, got ${clusterCIDRs.join(',')}`);
  }
  for (const c of clusterCIDRs) {
    try {
      new CidrSet(c, c.includes(':') ? maskV6 : maskV4);
    } catch (err) {
      throw new Error(`invalid --cluster-cidr: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const terminatedPodGCThreshold = integerFlag(values['terminated-pod-gc-threshold'] ?? '12500', 'terminated-pod-gc-threshold');
  // A bad scheduler configuration stops the server before it starts anything, not later in the thread.
  // (Loaded only when it runs: the scheduler's modules are not needed to serve the API.)
  if (values['disable-scheduler'] !== true) (await import('./scheduler-config.js')).loadSchedulerConfig((values['scheduler-config'] as string) || '');
  const t0 = performance.now();
  // The certificates, the service account key and the join token's secret are files (fsynced when a first
  // start writes them): that I/O runs while the store opens.
  // The data directory first: the token's secret is written right into it.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const sans = hostSubjectAltNames();
  const extra = ((values['tls-san'] as string) || '').split(',').filter((s) => s !== '');
  const certsReady = ensureServerCerts(path.join(dataDir, 'tls'), {
    hostnames: [...sans.hostnames, ...extra],
    addresses: [...sans.addresses, ...kubernetesServiceIPs(serviceAllocationOptions(values).serviceCIDRs)],
  });
  const tokensReady = serviceAccountOptions(values, path.join(dataDir, 'tls'), log, durationMs);
  const secretReady = ensureServerTokenSecret(dataDir);
  // Should the store fail to open, these still settle, unobserved.
  for (const p of [certsReady, tokensReady, secretReady]) p.catch(() => undefined);
  const store = await openStore(endpoint, { dataDir });
  log.info('store ready', {
    backend: store.backend,
    endpoint: endpoint.kind === 'sqlite' ? endpoint.path : endpoint.endpoints.join(','),
    revision: await store.currentRevision(),
  });
  const [certs, tokens, secret] = await Promise.all([certsReady, tokensReady, secretReady]);
  let schedulerMetrics: () => Promise<string> = () => Promise.resolve('');
  const apiserver = new ApiServer({
    metrics: () => schedulerMetrics(),
    store,
    tls: { cert: certs.serving.certPem, key: certs.serving.keyPem, clientCA: certs.clientCA.certPem },
    // Kubelets' serving certificates are signed by the server CA (as k3s does), so the API server checks them.
    kubeletClient: { cert: certs.kubeletClient.certPem, key: certs.kubeletClient.keyPem, ca: certs.serverCA.certPem },
    bindAddress,
    port,
    gitVersion: `${kubernetesVersion}+k8ts`,
    defaultNotReadyTolerationSeconds: seconds(values['default-not-ready-toleration-seconds'], 'default-not-ready-toleration-seconds'),
    defaultUnreachableTolerationSeconds: seconds(values['default-unreachable-toleration-seconds'], 'default-unreachable-toleration-seconds'),
    // Agents join with the server's token (`k8ts token create` prints it).
    extraHandlers: nodeJoinHandlers({ serverCAPem: certs.serverCA.certPem, clientCA: certs.clientCA, serverCA: certs.serverCA, secret }),
    ...serviceAllocationOptions(values),
    ...tokens,
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
    // Loaded once the API server is ready, so that its modules do not delay readiness.
    const { ControllerManager } = await import('../../controllers/controller-manager.js');
    const client = localClient('kube-controller-manager');
    const manager = new ControllerManager({
      client,
      controllers: (values.controllers as string) || '*',
      leaseDurationMs: durationMs(values['leader-elect-lease-duration'], 'leader-elect-lease-duration'),
      renewDeadlineMs: durationMs(values['leader-elect-renew-deadline'], 'leader-elect-renew-deadline'),
      retryPeriodMs: durationMs(values['leader-elect-retry-period'], 'leader-elect-retry-period'),
      config: {
        clusterCIDRs,
        nodeCIDRMaskSizeIPv4: maskV4,
        nodeCIDRMaskSizeIPv6: maskV6,
        nodeMonitorPeriodMs: durationMs(values['node-monitor-period'], 'node-monitor-period'),
        nodeMonitorGracePeriodMs: durationMs(values['node-monitor-grace-period'], 'node-monitor-grace-period'),
        nodeStartupGracePeriodMs: durationMs(values['node-startup-grace-period'], 'node-startup-grace-period'),
        nodeEvictionRate: rate(values['node-eviction-rate'], 'node-eviction-rate'),
        secondaryNodeEvictionRate: rate(values['secondary-node-eviction-rate'], 'secondary-node-eviction-rate'),
        largeClusterSizeThreshold: seconds(values['large-cluster-size-threshold'], 'large-cluster-size-threshold'),
        unhealthyZoneThreshold: rate(values['unhealthy-zone-threshold'], 'unhealthy-zone-threshold'),
        terminatedPodGCThreshold,
        // The root-ca-cert-publisher's kube-root-ca.crt: the CA of the API server's serving certificate.
        rootCA: certs.serverCA.certPem,
        ...(tokens.serviceAccounts ? { serviceAccountTokenSigner: legacyTokenSigner(tokens.serviceAccounts.signingKeyPem) } : {}),
      },
    });
    running.push(manager.run(components.signal));
  }
  {
    // kube-proxy, cluster DNS and the cloud service controller, as clients of the API like the controllers.
    running.push(runServiceComponents(values, localClient('kube-proxy'), components.signal, log));
  }
  if (values['disable-scheduler'] !== true) {
    // The scheduler, like the controller manager, is a client of the API over HTTPS; it runs on a worker
    // thread so that scheduling and the API server's request handling use both cores.
    const data: SchedulerWorkerData = {
      client: {
        server: `https://127.0.0.1:${bound}`,
        ca: certs.serverCA.certPem,
        cert: certs.admin.certPem,
        key: certs.admin.keyPem,
        userAgent: 'kube-scheduler/' + kubernetesVersion,
        qps: 5000,
        burst: 5000,
      },
      verbosity: Number(values.v ?? 0) || 0,
      leaseDurationMs: durationMs(values['leader-elect-lease-duration'], 'leader-elect-lease-duration'),
      renewDeadlineMs: durationMs(values['leader-elect-renew-deadline'], 'leader-elect-renew-deadline'),
      retryPeriodMs: durationMs(values['leader-elect-retry-period'], 'leader-elect-retry-period'),
      configFile: (values['scheduler-config'] as string) || '',
    };
    const ext = path.extname(new URL(import.meta.url).pathname);
    const entry = new URL(`./scheduler-worker${ext}`, import.meta.url);
    // Run from sources (node --import tsx), the worker registers tsx's loader itself: loader hooks are per thread.
    const worker =
      ext === '.ts'
        ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`, {
            eval: true,
            workerData: data,
          })
        : new Worker(entry, { workerData: data });
    const pending = new Map<number, (text: string) => void>();
    let nextId = 0;
    worker.on('message', (m: SchedulerWorkerMessage) => {
      if (m.type === 'metricsText') {
        pending.get(m.id)?.(m.text);
        pending.delete(m.id);
      }
    });
    worker.on('error', (err) => log.error('scheduler thread failed', { error: err }));
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    schedulerMetrics = () =>
      new Promise<string>((resolve) => {
        const id = ++nextId;
        pending.set(id, resolve);
        worker.postMessage({ type: 'metrics', id } satisfies SchedulerWorkerMessage);
      });
    running.push(
      (async () => {
        if (!components.signal.aborted) await new Promise<void>((resolve) => components.signal.addEventListener('abort', () => resolve(), { once: true }));
        worker.postMessage({ type: 'stop' } satisfies SchedulerWorkerMessage);
        const timer = setTimeout(() => void worker.terminate(), 10_000);
        await exited;
        clearTimeout(timer);
      })(),
    );
  }
  if (values['disable-agent'] !== true) {
    // The server's own kubelets authenticate as system:node:<name> in system:nodes, as an agent's would.
    const nodeConfig = async (nodeName: string): Promise<ClientConfig> => {
      const cert = await certs.clientCA.issueClientCertificate({ user: `system:node:${nodeName}`, groups: ['system:nodes'] });
      return { server: `https://127.0.0.1:${bound}`, ca: certs.serverCA.certPem, cert: cert.certPem, key: cert.keyPem };
    };
    // Their servers' certificates come from the server CA, which the API server checks kubelets against.
    const serving = async (nodeName: string, addresses: string[]): Promise<KubeletServing> => {
      const cert = await certs.serverCA.issueServingCertificate(kubeletServingNames(nodeName, addresses));
      return { cert: cert.certPem, key: cert.keyPem, clientCA: certs.clientCA.certPem };
    };
    running.push(...startKubelets(values, nodeConfig, dataDir, log, components.signal, { builtInRuntime: true, serving }));
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
