// The strategies of the networking.k8s.io group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { ingressClassStrategy } from './ingressclasses.js';
import { ingressStrategy } from './ingresses.js';
import { ipAddressStrategy } from './ipaddresses.js';
import { networkPolicyStrategy } from './networkpolicies.js';
import { serviceCIDRStrategy } from './servicecidrs.js';

/** Every networking.k8s.io strategy. */
export const strategies: ResourceStrategy[] = [ingressStrategy, ingressClassStrategy, networkPolicyStrategy, ipAddressStrategy, serviceCIDRStrategy];
