// The IPAddress and ServiceCIDR strategies against upstream's validation messages: canonical address names,
// the parent reference, CIDR syntax and families, immutability, and the status split.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { ipAddressStrategy } from './ipaddresses.js';
import { serviceCIDRStrategy } from './servicecidrs.js';

const ips = new StrategyHarness(ipAddressStrategy);
const cidrs = new StrategyHarness(serviceCIDRStrategy);
after(() => {
  ips.close();
  cidrs.close();
});

const parentRef = { group: '', resource: 'services', namespace: 'default', name: 'web' };
const ip = (name: string, spec: object = { parentRef }) => ({ metadata: { name }, spec });

describe('ipaddresses', () => {
  it('are named by an address in canonical form', async () => {
    assert.equal((await ips.create(ip('10.0.0.1'))).metadata?.name, '10.0.0.1');
    assert.equal((await ips.create(ip('2001:db8::1'))).metadata?.name, '2001:db8::1');
    const cases: [string, string][] = [
      ['bad', 'metadata.name: Invalid value: "bad": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
      ['010.0.0.1', 'metadata.name: Invalid value: "010.0.0.1": must not have leading 0s'],
      ['2001:DB8::2', 'metadata.name: Invalid value: "2001:DB8::2": must be in canonical form ("2001:db8::2")'],
      ['2001:db8:0:0:0:0:0:3', 'metadata.name: Invalid value: "2001:db8:0:0:0:0:0:3": must be in canonical form ("2001:db8::3")'],
      ['::ffff:10.0.0.2', 'metadata.name: Invalid value: "::ffff:10.0.0.2": must not be an IPv4-mapped IPv6 address'],
    ];
    for (const [name, cause] of cases) {
      assert.deepEqual((await ips.invalid(ips.create(ip(name)))).causes, [cause], name);
    }
  });

  it('take generateName as the name, as upstream generates none', async () => {
    const obj = await ips.create({ metadata: { generateName: '10.0.0.9' }, spec: { parentRef } });
    assert.equal(obj.metadata?.name, '10.0.0.9');
  });

  it('need a parent reference with a resource and a name', async () => {
    assert.deepEqual((await ips.invalid(ips.create(ip('10.0.1.1', {})))).causes, ['spec.parentRef: Required value']);
    const { causes } = await ips.invalid(
      ips.create(ip('10.0.1.2', { parentRef: { group: 'Bad_Group', resource: '', namespace: 'a/b', name: '..' } })),
    );
    assert.deepEqual(causes, [
      `spec.parentRef.group: Invalid value: "Bad_Group": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      'spec.parentRef.resource: Required value',
      "spec.parentRef.name: Invalid value: \"..\": may not be '..'",
      'spec.parentRef.namespace: Invalid value: "a/b": may not contain \'/\'',
    ]);
  });

  it('keep their parent reference', async () => {
    const { causes } = await ips.invalid(
      ips.createThenUpdate(ip('10.0.2.1'), (o) => {
        (o.spec as { parentRef: { name: string } }).parentRef.name = 'other';
      }),
    );
    assert.deepEqual(causes, [
      'spec.parentRef: Invalid value: networking.ParentReference{Group:"", Resource:"services", Namespace:"default", Name:"other"}: field is immutable',
    ]);
    const relabelled = await ips.createThenUpdate(ip('10.0.2.2'), (o) => {
      o.metadata = { ...o.metadata, labels: { a: 'b' } };
    });
    assert.deepEqual(relabelled.metadata?.labels, { a: 'b' });
  });
});

describe('servicecidrs', () => {
  const sc = (name: string, list: string[]) => ({ metadata: { name }, spec: { cidrs: list } });

  it('hold one CIDR, or one of each family, in canonical form', async () => {
    assert.deepEqual((await cidrs.create(sc('dual', ['10.10.0.0/16', 'fd10::/112']))).spec, { cidrs: ['10.10.0.0/16', 'fd10::/112'] });
    assert.deepEqual((await cidrs.invalid(cidrs.create(sc('none', [])))).causes, ['spec.cidrs: Required value: at least one CIDR required']);
    assert.deepEqual((await cidrs.invalid(cidrs.create(sc('three', ['10.0.0.0/24', '10.1.0.0/24', 'fd00::/64'])))).causes, [
      'spec.cidrs: Invalid value: networking.ServiceCIDRSpec{CIDRs:[]string{"10.0.0.0/24", "10.1.0.0/24", "fd00::/64"}}: may only hold up to 2 values',
    ]);
    assert.deepEqual((await cidrs.invalid(cidrs.create(sc('same', ['10.0.0.0/24', '10.1.0.0/24'])))).causes, [
      'spec.cidrs: Invalid value: []string{"10.0.0.0/24", "10.1.0.0/24"}: may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64',
    ]);
    const { causes } = await cidrs.invalid(cidrs.create(sc('bad', ['10.0.0.1/24', 'FD00::/64'])));
    assert.deepEqual(causes, [
      'spec.cidrs[0]: Invalid value: "10.0.0.1/24": must not have bits set beyond the prefix length',
      'spec.cidrs[1]: Invalid value: "FD00::/64": must be in canonical form ("fd00::/64")',
    ]);
    assert.deepEqual((await cidrs.invalid(cidrs.create(sc('junk', ['x'])))).causes, [
      'spec.cidrs[0]: Invalid value: "x": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
  });

  it('never change their CIDRs, except to add the other family', async () => {
    const changed = await cidrs.invalid(
      cidrs.createThenUpdate(sc('fixed', ['10.20.0.0/16']), (o) => {
        o.spec = { cidrs: ['10.21.0.0/16'] };
      }),
    );
    assert.deepEqual(changed.causes, ['spec.cidrs[0]: Invalid value: "10.21.0.0/16": field is immutable']);
    const dual = await cidrs.createThenUpdate(sc('grow', ['10.30.0.0/16']), (o) => {
      o.spec = { cidrs: ['10.30.0.0/16', 'fd30::/112'] };
    });
    assert.deepEqual((dual.spec as { cidrs: string[] }).cidrs, ['10.30.0.0/16', 'fd30::/112']);
    const shrunk = await cidrs.invalid(
      cidrs.update({ ...dual, spec: { cidrs: ['10.30.0.0/16'] } }),
    );
    assert.deepEqual(shrunk.causes, ['spec.cidrs: Invalid value: []string{"10.30.0.0/16"}: field is immutable']);
  });

  it('keep status apart from the spec', async () => {
    const obj = await cidrs.create(sc('status', ['10.40.0.0/16']));
    const condition = { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z', reason: '', message: 'ok' };
    const withStatus = await cidrs.update({ ...obj, status: { conditions: [condition] } }, 'status');
    assert.deepEqual(withStatus.status, { conditions: [condition] });
    // The main resource keeps the stored status.
    const main = await cidrs.update({ ...withStatus, metadata: { ...withStatus.metadata, labels: { x: 'y' } }, status: {} });
    assert.deepEqual(main.status, { conditions: [condition] });
  });
});
