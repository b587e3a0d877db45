// The strategies of the apps group, for the lead's builtinStrategies overrides.
import type { ResourceStrategy } from '../generic/strategy.js';
import { controllerRevisionStrategy } from './controllerrevisions.js';
import { daemonSetStrategy } from './daemonsets.js';
import { deploymentStrategy } from './deployments.js';
import { replicaSetStrategy } from './replicasets.js';
import { statefulSetStrategy } from './statefulsets.js';

/** One strategy per group/version/plural of apps/v1. */
export const strategies: ResourceStrategy[] = [
  deploymentStrategy,
  replicaSetStrategy,
  statefulSetStrategy,
  daemonSetStrategy,
  controllerRevisionStrategy,
];
