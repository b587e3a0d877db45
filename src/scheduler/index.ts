// The public face of the scheduler: the component, its configuration, metrics, and the framework types
// out-of-tree plugins implement.
export type { KubeSchedulerConfiguration, ResolvedConfiguration } from './config.js';
export { configGroupVersion, defaultSchedulerName, resolveConfiguration } from './config.js';
export type * from './framework.js';
export { Framework, fitErrorMessage } from './framework.js';
export { metricsContentType, SchedulerMetrics } from './metrics.js';
export type { SchedulerOptions } from './scheduler.js';
export { numFeasibleNodesToFind, Scheduler } from './scheduler.js';
export { Status } from './types.js';
