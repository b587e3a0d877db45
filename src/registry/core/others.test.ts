import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resources } from '../../api/resources.js';
import { strategies as apiextensions } from '../apiextensions/index.js';
import { strategies as autoscaling } from '../autoscaling/index.js';
import { strategies as coordination } from '../coordination/index.js';
import { strategies as discovery } from '../discovery/index.js';
import { strategies as events } from '../events/index.js';
import { strategies as networking } from '../networking/index.js';
import { strategies as policy } from '../policy/index.js';
import { strategies as rbac } from '../rbac/index.js';
import { strategies as scheduling } from '../scheduling/index.js';
import { strategies as storage } from '../storage/index.js';
import { otherCoreStrategies } from './others.js';

const all = [
  ...otherCoreStrategies,
  ...apiextensions,
  ...autoscaling,
  ...coordination,
  ...discovery,
  ...events,
  ...networking,
  ...policy,
  ...rbac,
  ...scheduling,
  ...storage,
];
const id = (r: { group: string; version: string; plural: string }) => `${r.group}/${r.version}/${r.plural}`;
// Kinds another strategy set covers: the workloads.
const workloads = new Set(['/v1/pods', '/v1/podtemplates', '/v1/replicationcontrollers']);

describe('strategy sets', () => {
  it('give each stored non-workload resource exactly one strategy', () => {
    const ids = all.map((s) => id(s.info));
    assert.equal(new Set(ids).size, ids.length, 'no resource twice');
    const wanted = resources
      .filter(
        (r) =>
          r.etcdPrefix !== undefined && !workloads.has(id(r)) && r.group !== 'apps' && r.group !== 'batch',
      )
      .map(id)
      .sort();
    assert.deepEqual([...ids].sort(), wanted);
  });

  it('keep the status split and generation tracking of the catalogue', () => {
    const byId = new Map(all.map((s) => [id(s.info), s]));
    assert.equal(byId.get('/v1/services')?.hasStatus, true);
    assert.equal(byId.get('/v1/configmaps')?.hasStatus, false);
    assert.equal(byId.get('networking.k8s.io/v1/ingresses')?.tracksGeneration, true);
    assert.equal(byId.get('/v1/events')?.ttlSeconds, 3600);
    assert.equal(byId.get('events.k8s.io/v1/events')?.ttlSeconds, 3600);
  });
});
