// The public API of the k8ts client library: what controllers, the scheduler, the kubelet and users'
// own programs import. See docs/client-library.md.
export type { Clock, TimerHandle } from './clock.js';
export { realClock, sleep } from './clock.js';
export { FakeClock } from './fake-clock.js';
export type { ClientConfig } from './config.js';
export {
  defaultKubeconfigPath,
  inClusterConfig,
  inClusterNamespace,
  loadKubeconfig,
  NotInClusterError,
  parseKubeconfig,
  serviceAccountDir,
} from './config.js';
export type {
  DeleteOptions,
  KubeList,
  KubeObject,
  ListOptions,
  PatchType,
  RawRequest,
  ResourceRef,
  RESTClientOptions,
  WatchEvent,
  WriteOptions,
} from './rest-client.js';
export { isStatus, RESTClient, statusErrorFrom } from './rest-client.js';
export { StatusError } from '../apimachinery/errors/status-error.js';
export type { Status } from '../apimachinery/errors/status-error.js';
export { TokenBucket } from './token-bucket.js';
export type { ListerWatcher } from './list-watch.js';
export { listWatch } from './list-watch.js';
export type { ReflectorOptions, ReflectorStore } from './reflector.js';
export { Reflector } from './reflector.js';
export type { IndexFunc } from './indexer.js';
export {
  deepFreeze,
  DeletedFinalStateUnknown,
  Indexer,
  metaNamespaceKey,
  namespaceIndex,
  namespaceIndexFunc,
  splitMetaNamespaceKey,
} from './indexer.js';
export { Lister } from './lister.js';
export type { HandlerRegistration, ResourceEventHandler, SharedInformerOptions } from './informer.js';
export { SharedInformer } from './informer.js';
export type { RateLimiter } from './rate-limiters.js';
export {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from './rate-limiters.js';
export type { WorkQueueOptions } from './workqueue.js';
export { RateLimitingQueue } from './workqueue.js';
export type { LeaderCallbacks, LeaderElectionConfig, LeaseLock, LeaseRecord } from './leader-election.js';
export { LeaderElector, leaseLock } from './leader-election.js';
export type { EventRecorderOptions, EventType, ObjectReference } from './events.js';
export { aggregationWindowMs, EventRecorder } from './events.js';
