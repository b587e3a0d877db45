// The strategies of the apiextensions.k8s.io group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { customResourceDefinitionStrategy } from './customresourcedefinitions.js';

/** Every apiextensions.k8s.io strategy. */
export const strategies: ResourceStrategy[] = [customResourceDefinitionStrategy];
