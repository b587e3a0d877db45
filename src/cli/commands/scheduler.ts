// `k8ts scheduler`: kube-scheduler alone, against any API server reachable through a kubeconfig, so that a
// cluster can run a second (custom-profile) scheduler beside the one in `k8ts server`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from '../../base/log.js';
import { loadKubeconfig, RESTClient } from '../../client/index.js';
import { metricsContentType, Scheduler, SchedulerMetrics } from '../../scheduler/index.js';
import type { FlagSpec } from '../flags.js';
import { kubernetesVersion } from '../version.js';
import { loadSchedulerConfig } from './scheduler-config.js';
import { durationMs } from './server.js';

/** `k8ts scheduler`'s flags, named as kube-scheduler's where it has them. */
export const schedulerFlags: FlagSpec = {
  kubeconfig: { type: 'string', help: 'kubeconfig of the API server to schedule for (default: $KUBECONFIG or ~/.kube/config)', default: '' },
  config: { type: 'string', help: 'a KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1)', default: '' },
  'leader-elect': { type: 'boolean', help: 'take the Lease kube-system/kube-scheduler (or the config\'s resourceName) before scheduling' },
  'leader-elect-lease-duration': { type: 'string', help: 'how long a leader lease is valid', default: '15s' },
  'leader-elect-renew-deadline': { type: 'string', help: 'how long the leader tries to renew before giving up', default: '10s' },
  'leader-elect-retry-period': { type: 'string', help: 'the pause between leader election tries', default: '2s' },
  'metrics-bind-address': { type: 'string', help: 'address of the plain-HTTP /metrics and /healthz endpoint', default: '127.0.0.1' },
  'metrics-port': { type: 'string', help: "port of /metrics and /healthz (kube-scheduler's 10259, plain HTTP here; 0 picks a free port)", default: '10259' },
  'kube-api-qps': { type: 'string', help: 'requests per second to the API server', default: '50' },
  'kube-api-burst': { type: 'string', help: 'burst of requests to the API server', default: '100' },
};

export async function schedulerCommand(values: Record<string, string | boolean | undefined>, signal: AbortSignal): Promise<number> {
  const log = logger('scheduler');
  const config = loadSchedulerConfig((values.config as string) || '');
  const kubeconfig = (values.kubeconfig as string) || config.clientConnection.kubeconfig || undefined;
  const qps = Number(config.clientConnection.qps ?? values['kube-api-qps']);
  const burst = Number(config.clientConnection.burst ?? values['kube-api-burst']);
  const client = new RESTClient({ ...loadKubeconfig(kubeconfig), qps, burst, userAgent: `kube-scheduler/${kubernetesVersion}` });
  const metrics = new SchedulerMetrics();
  const leaderElect = values['leader-elect'] === true || config.leaderElection.leaderElect === true;
  const scheduler = new Scheduler({
    client,
    config,
    metrics,
    leaderElect,
    leaseDurationMs: durationMs(config.leaderElection.leaseDuration ?? values['leader-elect-lease-duration'], 'leader-elect-lease-duration'),
    renewDeadlineMs: durationMs(config.leaderElection.renewDeadline ?? values['leader-elect-renew-deadline'], 'leader-elect-renew-deadline'),
    retryPeriodMs: durationMs(config.leaderElection.retryPeriod ?? values['leader-elect-retry-period'], 'leader-elect-retry-period'),
  });
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': metricsContentType });
      res.end(metrics.registry.text());
    } else if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found\n');
    }
  });
  const port = Number(values['metrics-port'] ?? 10259);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, (values['metrics-bind-address'] as string) || '127.0.0.1', () => resolve());
  });
  log.info('serving metrics', { port: (http.address() as AddressInfo).port, profiles: scheduler.schedulerNames, leaderElect });
  await scheduler.run(signal);
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
  client.close();
  log.info('stopped');
  return 0;
}
