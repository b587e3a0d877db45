// The strategies of the events.k8s.io group.
import type { ResourceStrategy } from '../generic/strategy.js';
import { eventsV1Strategy } from './events.js';

export { coreToEventsV1, eventsV1ToCore, eventTTLSeconds } from './events.js';

/** Every events.k8s.io strategy. */
export const strategies: ResourceStrategy[] = [eventsV1Strategy];
