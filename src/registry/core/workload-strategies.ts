// The strategies of the core kinds that carry pods: Pods, PodTemplates and ReplicationControllers. The core
// folder's other kinds have strategies of their own; the folder's index gathers them all.
import type { ResourceStrategy } from '../generic/strategy.js';
import { podStrategy } from './pods.js';
import { podTemplateStrategy } from './podtemplates.js';
import { replicationControllerStrategy } from './replicationcontrollers.js';

/** One strategy per group/version/plural: core/v1 pods, podtemplates, replicationcontrollers. */
export const strategies: ResourceStrategy[] = [podStrategy, podTemplateStrategy, replicationControllerStrategy];
