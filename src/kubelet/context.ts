// What every pod worker of one kubelet shares.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../base/log.js';
import type { Clock, EventRecorder, RESTClient } from '../client/index.js';
import type * as cri from '../cri/index.js';
import type { Kube } from './api-types.js';
import type { PodObjects } from './objects.js';
import type { Backoff } from './pod/backoff.js';
import type { EnvNodeInfo } from './pod/env.js';
import type { VolumeManager } from './volumes/volume-manager.js';

/** The kubelet's shared state and services, as pod workers see them. */
export interface KubeletContext {
  client: RESTClient;
  runtime: cri.RuntimeService;
  images: cri.ImageService;
  /** The containerID scheme: "containerd", "k8ts", "simulated". */
  runtimeName: string;
  objects: PodObjects;
  recorder: EventRecorder;
  log: Logger;
  clock: Clock;
  node: EnvNodeInfo;
  memoryCapacityBytes: number;
  /** Absent on simulated nodes: no files are written. */
  volumes: VolumeManager | undefined;
  /** Where sandboxes keep container logs (/var/log/pods); '' for none. */
  podLogsDir: string;
  simulated: boolean;
  backoff: Backoff;
  /** How often an idle pod is synced again. */
  resyncMs: number;
  rfc3339(ms: number): string;
  dnsConfig(pod: Pod): cri.DNSConfig;
  /** A worker that finished terminating its pod. */
  forget(uid: string): void;
  /** The mirror pod of a static pod, as the informer last saw it. */
  mirrorPod(namespace: string, name: string): Kube<Pod> | undefined;
  /** The Node's name and UID (mirror pods are owned by the Node); undefined before registration. */
  nodeRef(): { name: string; uid: string } | undefined;
}
