// The strategies of the storage.k8s.io group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { storageClassStrategy } from './storageclasses.js';

/** Every storage.k8s.io strategy. */
export const strategies: ResourceStrategy[] = [storageClassStrategy];
