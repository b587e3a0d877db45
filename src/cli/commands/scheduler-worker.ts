// The scheduler of `k8ts server`, on a worker thread of its own: it is a client of the API like any other
// (HTTPS to the server's own port), so it can use the machine's second core while the API server's thread
// serves requests. The parent sends {type: 'metrics'} to read its metrics and {type: 'stop'} to end it.
import { parentPort, workerData } from 'node:worker_threads';
import { configureLogging } from '../../base/log.js';
import type { ClientConfig } from '../../client/index.js';
import { RESTClient } from '../../client/index.js';
import { Scheduler, SchedulerMetrics } from '../../scheduler/index.js';
import { loadSchedulerConfig } from './scheduler-config.js';

/** What the server hands the worker. */
export interface SchedulerWorkerData {
  client: ClientConfig;
  verbosity: number;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** A KubeSchedulerConfiguration file (k8ts server --scheduler-config); '' for the defaults. */
  configFile: string;
}

/** Messages between the server and the worker. */
export type SchedulerWorkerMessage = { type: 'metrics'; id: number } | { type: 'stop' } | { type: 'metricsText'; id: number; text: string };

if (parentPort) {
  const port = parentPort;
  const data = workerData as SchedulerWorkerData;
  configureLogging({ verbosity: data.verbosity });
  const client = new RESTClient(data.client);
  const metrics = new SchedulerMetrics();
  const scheduler = new Scheduler({
    client,
    metrics,
    config: loadSchedulerConfig(data.configFile),
    leaseDurationMs: data.leaseDurationMs,
    renewDeadlineMs: data.renewDeadlineMs,
    retryPeriodMs: data.retryPeriodMs,
  });
  const ac = new AbortController();
  port.on('message', (m: SchedulerWorkerMessage) => {
    if (m.type === 'stop') ac.abort();
    else if (m.type === 'metrics') port.postMessage({ type: 'metricsText', id: m.id, text: metrics.registry.text() } satisfies SchedulerWorkerMessage);
  });
  await scheduler.run(ac.signal);
  client.close();
  port.close();
}
