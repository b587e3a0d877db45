import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { endpointsStrategy } from './endpoints.js';
import { serviceAccountStrategy } from './serviceaccounts.js';
import { StrategyHarness } from './testing/strategy-harness.js';

const eps = new StrategyHarness(endpointsStrategy);
const sas = new StrategyHarness(serviceAccountStrategy);
after(() => {
  eps.close();
  sas.close();
});

describe('endpoints', () => {
  it('defaults port protocols to TCP', async () => {
    const ep = await eps.create({
      metadata: { name: 'web' },
      subsets: [{ addresses: [{ ip: '10.244.0.5' }], ports: [{ port: 8080 }] }],
    });
    assert.deepEqual(ep.subsets, [
      { addresses: [{ ip: '10.244.0.5' }], ports: [{ port: 8080, protocol: 'TCP' }] },
    ]);
  });

  it('refuses empty subsets, special addresses and unnamed ports among several', async () => {
    const { causes } = await eps.invalid(
      eps.create({
        metadata: { name: 'bad' },
        subsets: [{}, { addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }, { name: 'b', port: 0 }] }],
      }),
    );
    assert.deepEqual(causes, [
      'subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`',
      'subsets[1].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
      'subsets[1].ports[0].name: Required value',
      'subsets[1].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
  });
});

describe('serviceaccounts', () => {
  it('keeps only the names of secret references', async () => {
    const sa = await sas.create({
      metadata: { name: 'builder' },
      secrets: [{ name: 's1', namespace: 'x', uid: 'u' }],
    });
    assert.deepEqual(sa.secrets, [{ name: 's1' }]);
  });

  it('requires a DNS subdomain name', async () => {
    const { causes } = await sas.invalid(sas.create({ metadata: { name: 'Builder' } }));
    assert.equal(causes.length, 1);
    assert.match(
      causes[0]!,
      /^metadata\.name: Invalid value: "Builder": a lowercase RFC 1123 subdomain must consist of/,
    );
  });
});
