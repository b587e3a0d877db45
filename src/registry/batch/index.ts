// The strategies of the batch group, for the lead's builtinStrategies overrides.
import type { ResourceStrategy } from '../generic/strategy.js';
import { cronJobStrategy } from './cronjobs.js';
import { jobStrategy } from './jobs.js';

/** One strategy per group/version/plural of batch/v1. */
export const strategies: ResourceStrategy[] = [jobStrategy, cronJobStrategy];
