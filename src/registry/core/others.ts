// The strategies of the core kinds besides pods, pod templates and replication controllers.
import type { ResourceStrategy } from '../generic/strategy.js';
import { configMapStrategy } from './configmaps.js';
import { endpointsStrategy } from './endpoints.js';
import { eventStrategy } from './events.js';
import { limitRangeStrategy } from './limitranges.js';
import { namespaceStrategy } from './namespaces.js';
import { nodeStrategy } from './nodes.js';
import { persistentVolumeClaimStrategy } from './persistentvolumeclaims.js';
import { persistentVolumeStrategy } from './persistentvolumes.js';
import { resourceQuotaStrategy } from './resourcequotas.js';
import { secretStrategy } from './secrets.js';
import { serviceAccountStrategy } from './serviceaccounts.js';
import { serviceStrategy } from './services.js';

export { eventTTLSeconds } from './events.js';

/** Every core/v1 strategy this folder has besides the workload kinds. */
export const otherCoreStrategies: ResourceStrategy[] = [
  configMapStrategy,
  endpointsStrategy,
  eventStrategy,
  limitRangeStrategy,
  namespaceStrategy,
  nodeStrategy,
  persistentVolumeClaimStrategy,
  persistentVolumeStrategy,
  resourceQuotaStrategy,
  secretStrategy,
  serviceAccountStrategy,
  serviceStrategy,
];
