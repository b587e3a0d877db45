// The strategies of the discovery.k8s.io group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { endpointSliceStrategy } from './endpointslices.js';

/** Every discovery.k8s.io strategy. */
export const strategies: ResourceStrategy[] = [endpointSliceStrategy];
