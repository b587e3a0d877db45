// The strategies of the autoscaling group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { hpaV1Strategy, hpaV2Strategy } from './horizontalpodautoscalers.js';

export { hpaV1ToV2, hpaV2ToV1 } from './horizontalpodautoscalers.js';

/** Every autoscaling strategy (v1 and v2 of the same stored resource). */
export const strategies: ResourceStrategy[] = [hpaV1Strategy, hpaV2Strategy];
