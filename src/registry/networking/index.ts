// The strategies of the networking.k8s.io group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { ingressClassStrategy } from './ingressclasses.js';
import { ingressStrategy } from './ingresses.js';
import { networkPolicyStrategy } from './networkpolicies.js';

/** Every networking.k8s.io strategy. */
export const strategies: ResourceStrategy[] = [ingressStrategy, ingressClassStrategy, networkPolicyStrategy];
