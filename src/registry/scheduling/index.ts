// The strategies of the scheduling.k8s.io group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { priorityClassStrategy } from './priorityclasses.js';

/** Every scheduling.k8s.io strategy. */
export const strategies: ResourceStrategy[] = [priorityClassStrategy];
