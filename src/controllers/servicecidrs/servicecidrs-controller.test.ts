// The ServiceCIDR controller against a real API server (whose allocator follows the ServiceCIDRs): the
// finalizer and Ready condition on every ServiceCIDR, a deletion held while a service's address lies in the
// range alone (Ready=False, Terminating), and let go ten seconds (on the fake clock) after it is free; a
// range inside another goes without waiting for its addresses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock, isStatus } from '../../client/index.js';
import { until, useApiServer } from '../../../test/helpers/controller-harness.js';
import type { ServiceCIDR } from './servicecidrs-controller.js';
import { ServiceCIDRsController, serviceCIDRFinalizer } from './servicecidrs-controller.js';

const api = useApiServer();
const serviceCIDRs = { group: 'networking.k8s.io', version: 'v1', resource: 'servicecidrs' };
const services = { group: '', version: 'v1', resource: 'services', namespace: 'default' };

describe('ServiceCIDR controller', () => {
  const clock = new FakeClock(Date.now());
  const stop = new AbortController();
  before(async () => {
    const context = api.context(clock, 'servicecidrs-test');
    context.informers.start(stop.signal);
    void new ServiceCIDRsController(context).run(stop.signal);
    await context.informers.waitForSync();
  });
  after(() => stop.abort());

  const get = (name: string): Promise<ServiceCIDR | undefined> =>
    api.client.get<ServiceCIDR>(serviceCIDRs, name).catch((err: unknown) => {
      if (isStatus(err, 'NotFound')) return undefined;
      throw err;
    });
  const ready = (sc: ServiceCIDR | undefined) => (sc?.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const create = (name: string, cidrs: string[]) =>
    api.client.create(serviceCIDRs, { apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name }, spec: { cidrs } });
  /** A service on an address of a new range; the API server's allocator may take a moment to know the range. */
  const serviceOn = (name: string, clusterIP: string) =>
    until(`a service on ${clusterIP}`, () =>
      api.client.create(services, { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP, ports: [{ port: 80 }] } }).catch(() => undefined),
    );

  /** Steps the fake clock until the ServiceCIDR is gone (its deletionTimestamp is the API server's real time). */
  const goneAfterGrace = (name: string) =>
    until(`${name} to go`, async () => {
      if ((await get(name)) === undefined) return true;
      await clock.step(1_000);
      return undefined;
    });

  it('gives every ServiceCIDR the finalizer and Ready=True', async () => {
    await create('extra', ['10.60.0.0/24']);
    for (const name of ['extra', 'kubernetes']) {
      const sc = await until(`${name} to be ready`, async () => {
        const cur = await get(name);
        return cur?.metadata?.finalizers?.includes(serviceCIDRFinalizer) && ready(cur)?.status === 'True' ? cur : undefined;
      });
      if (name === 'extra') assert.equal(ready(sc)?.message, 'Kubernetes Service CIDR is ready');
    }
  });

  it('holds a deletion while an address lies in the range alone, and lets it go once free', async () => {
    await serviceOn('held', '10.60.0.5');
    await api.client.delete(serviceCIDRs, 'extra');
    const blocked = await until('Ready=False', async () => {
      const cur = await get('extra');
      return ready(cur)?.status === 'False' ? cur : undefined;
    });
    assert.equal(ready(blocked)?.reason, 'Terminating');
    assert.equal(ready(blocked)?.message, 'There are still IPAddresses referencing the ServiceCIDR, please remove them or create a new ServiceCIDR');
    assert.ok(blocked?.metadata?.deletionTimestamp);
    await api.client.delete(services, 'held');
    // Free now, it waits out the grace period on the controller's clock.
    await until('the controller to wait out the grace period', () => (clock.pending > 0 ? true : undefined));
    assert.ok(await get('extra'));
    await clock.step(9_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(await get('extra'), 'not before the grace period');
    await goneAfterGrace('extra');
  });

  it('lets a range inside another go even while it holds addresses', async () => {
    await create('outer', ['10.70.0.0/16']);
    await create('inner', ['10.70.1.0/24']);
    await until('inner to have its finalizer', async () => ((await get('inner'))?.metadata?.finalizers?.includes(serviceCIDRFinalizer) ? true : undefined));
    await serviceOn('nested', '10.70.1.5');
    await api.client.delete(serviceCIDRs, 'inner');
    await goneAfterGrace('inner');
    assert.notEqual(ready(await get('outer'))?.status, 'False');
  });
});
