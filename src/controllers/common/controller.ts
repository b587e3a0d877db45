// The skeleton every controller shares: event handlers only enqueue keys; workers take keys off a
// rate-limited queue and call the controller's level-triggered sync(key); failures are retried with
// per-key exponential backoff; the queue guarantees one worker per key at a time.
import { onAbort } from '../../base/abort.js';
import type { Logger } from '../../base/log.js';
import type { Clock, EventRecorder, RESTClient } from '../../client/index.js';
import { RateLimitingQueue } from '../../client/index.js';
import type { InformerFactory } from './informer-factory.js';

/** What the controller manager gives each controller. */
export interface ControllerContext {
  client: RESTClient;
  informers: InformerFactory;
  /** An event recorder reporting as `component` (e.g. "namespace-controller"). */
  recorder(component: string): EventRecorder;
  log: Logger;
  clock: Clock;
  /** Per-controller settings from the manager's flags; absent fields take upstream's defaults. */
  config?: ControllerConfig;
}

/** Settings of the controllers (upstream's component config fields, durations in ms). */
export interface ControllerConfig {
  /** --cluster-cidr, split at commas: at most one IPv4 and one IPv6 range. */
  clusterCIDRs?: string[];
  /** --node-cidr-mask-size-ipv4 / -ipv6. */
  nodeCIDRMaskSizeIPv4?: number;
  nodeCIDRMaskSizeIPv6?: number;
  /** --node-monitor-period, --node-monitor-grace-period, --node-startup-grace-period. */
  nodeMonitorPeriodMs?: number;
  nodeMonitorGracePeriodMs?: number;
  nodeStartupGracePeriodMs?: number;
  /** --node-eviction-rate, --secondary-node-eviction-rate (nodes per second). */
  nodeEvictionRate?: number;
  secondaryNodeEvictionRate?: number;
  /** --large-cluster-size-threshold, --unhealthy-zone-threshold. */
  largeClusterSizeThreshold?: number;
  unhealthyZoneThreshold?: number;
  /** --terminated-pod-gc-threshold (upstream's default 12500). */
  terminatedPodGCThreshold?: number;
  /** --root-ca-file's contents: the CA bundle the root-ca-cert-publisher writes into kube-root-ca.crt (default: the client's CA). */
  rootCA?: string;
  /** Signs a legacy service account token's claims (--service-account-private-key-file); absent: the serviceaccount-token controller idles. */
  serviceAccountTokenSigner?: (claims: Record<string, unknown>) => string | Promise<string>;
}

/** A controller the manager can run. */
export interface Controller {
  /** Upstream's name for it in --controllers ("namespace", "serviceaccount", ...). */
  readonly name: string;
  /** Runs until the signal aborts. */
  run(signal: AbortSignal): Promise<void>;
}

/** Retries before a key is dropped from the queue (upstream controllers use 15 for most). */
const maxRetries = 15;

/**
 * Runs `workers` loops that take keys from `queue` and sync them until `signal` aborts. A sync that throws
 * is retried with backoff; after too many retries the key is dropped (the next change enqueues it again).
 */
export async function runWorkers(
  queue: RateLimitingQueue<string>,
  workers: number,
  sync: (key: string) => Promise<void>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  onAbort(signal, () => queue.shutDown());
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        if (queue.numRequeues(key) < maxRetries) {
          log.info('sync failed, will retry', { key, error: err instanceof Error ? err.message : String(err) }, 2);
          queue.addRateLimited(key);
        } else {
          log.warn('dropping key after repeated failures', { key, error: err instanceof Error ? err.message : String(err) });
          queue.forget(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, () => worker()));
}

/** A new queue for a controller, named for its logs. */
export function newQueue(name: string): RateLimitingQueue<string> {
  return new RateLimitingQueue<string>({ name });
}
