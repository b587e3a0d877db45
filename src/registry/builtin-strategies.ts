// Every built-in resource's strategy, by "group/version/plural": the kinds with their own defaulting and
// validation from the group folders, and the default strategy for the rest.
import { strategies as apiextensions } from './apiextensions/index.js';
import { strategies as apps } from './apps/index.js';
import { strategies as autoscaling } from './autoscaling/index.js';
import { strategies as batch } from './batch/index.js';
import { strategies as coordination } from './coordination/index.js';
import { otherCoreStrategies } from './core/others.js';
import { strategies as coreWorkloads } from './core/workload-strategies.js';
import { strategies as discovery } from './discovery/index.js';
import { strategies as events } from './events/index.js';
import type { ResourceStrategy } from './generic/strategy.js';
import { strategies as networking } from './networking/index.js';
import { strategies as policy } from './policy/index.js';
import { strategies as rbac } from './rbac/index.js';
import { strategies as scheduling } from './scheduling/index.js';
import { strategies as storage } from './storage/index.js';
import { builtinStrategies } from './strategies/index.js';

/** The strategies of every stored built-in resource. */
export function allBuiltinStrategies(): Map<string, ResourceStrategy> {
  const overrides = new Map<string, ResourceStrategy>();
  for (const s of [
    ...coreWorkloads,
    ...otherCoreStrategies,
    ...apps,
    ...batch,
    ...autoscaling,
    ...discovery,
    ...coordination,
    ...networking,
    ...storage,
    ...policy,
    ...rbac,
    ...scheduling,
    ...events,
    ...apiextensions,
  ]) {
    overrides.set(`${s.info.group}/${s.info.version}/${s.info.plural}`, s);
  }
  return builtinStrategies(overrides);
}
