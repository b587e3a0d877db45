// `k8ts scheduler`: kube-scheduler alone, against any API server reachable through a kubeconfig, so that a
// cluster can run a second (custom-profile) scheduler beside the one in `k8ts server`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from '../../base/log.js';
import { loadKubeconfig, RESTClient } from '../../client/index.js';
import { metricsContentType, Scheduler, SchedulerMetrics } from '../../scheduler/index.js';
import { kubernetesVersion } from '../version.js';
import { loadSchedulerConfig } from './scheduler-config.js';
import { durationMs } from './server.js';

export async function schedulerCommand(
  values: Record<string, string | boolean | undefined>,
  signal: AbortSignal,
): Promise<number> {
  const log = logger('scheduler');
  const config = loadSchedulerConfig((values.config as string) || '');
  const kubeconfig = (values.kubeconfig as string) || config.clientConnection.kubeconfig || undefined;
  const qps = Number(config.clientConnection.qps ?? values['kube-api-qps']);
  const burst = Number(config.clientConnection.burst ?? values['kube-api-burst']);
  const client = new RESTClient({
    ...loadKubeconfig(kubeconfig),
    qps,
    burst,
    userAgent: `kube-scheduler/${kubernetesVersion}`,
  });
  const metrics = new SchedulerMetrics();
  const leaderElect = values['leader-elect'] === true || config.leaderElection.leaderElect === true;
  const scheduler = new Scheduler({
    client,
    config,
    metrics,
    leaderElect,
    leaseDurationMs: durationMs(
      config.leaderElection.leaseDuration ?? values['leader-elect-lease-duration'],
      'leader-elect-lease-duration',
    ),
    renewDeadlineMs: durationMs(
      config.leaderElection.renewDeadline ?? values['leader-elect-renew-deadline'],
      'leader-elect-renew-deadline',
    ),
    retryPeriodMs: durationMs(
      config.leaderElection.retryPeriod ?? values['leader-elect-retry-period'],
      'leader-elect-retry-period',
    ),
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
  log.info('serving metrics', {
    port: (http.address() as AddressInfo).port,
    profiles: scheduler.schedulerNames,
    leaderElect,
  });
  await scheduler.run(signal);
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
  client.close();
  log.info('stopped');
  return 0;
}
