// The strategies of the coordination.k8s.io group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { leaseStrategy } from './leases.js';

/** Every coordination.k8s.io strategy. */
export const strategies: ResourceStrategy[] = [leaseStrategy];
