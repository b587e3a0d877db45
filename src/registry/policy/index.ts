// The strategies of the policy group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { podDisruptionBudgetStrategy } from './poddisruptionbudgets.js';

/** Every policy strategy. */
export const strategies: ResourceStrategy[] = [podDisruptionBudgetStrategy];
