import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { endpointSliceStrategy } from './endpointslices.js';

const h = new StrategyHarness(endpointSliceStrategy);
after(() => h.close());

describe('endpointslices', () => {
  it('default port names and protocols, and start at generation 1', async () => {
    const s = await h.create({
      metadata: { name: 'web-abc' },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.7'] }],
      ports: [{ port: 80 }],
    });
    assert.deepEqual(s.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
    assert.equal(s.metadata?.generation, 1);
  });

  it('require a known address type and addresses of that type', async () => {
    const missing = await h.invalid(h.create({ metadata: { name: 'none' } }));
    assert.deepEqual(missing.causes, ['addressType: Required value']);
    const { causes } = await h.invalid(
      h.create({
        metadata: { name: 'v6' },
        addressType: 'IPv6',
        endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: [] }],
      }),
    );
    assert.deepEqual(causes, [
      'endpoints[0].addresses[0]: Invalid value: "10.0.0.1": must be a valid IPv6 address',
      'endpoints[1].addresses: Required value: must contain at least 1 address',
    ]);
    const other = await h.invalid(h.create({ metadata: { name: 'ip' }, addressType: 'IP' }));
    assert.deepEqual(other.causes, [
      'addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"',
    ]);
  });

  it('allow at most 1000 endpoints', async () => {
    const endpoints = Array.from({ length: 1001 }, (_, i) => ({
      addresses: [`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`],
    }));
    const { causes } = await h.invalid(
      h.create({ metadata: { name: 'many' }, addressType: 'IPv4', endpoints }),
    );
    assert.deepEqual(causes, ['endpoints: Too many: 1001: must have at most 1000 items']);
  });

  it('count a change of labels as a new generation and keep the address type', async () => {
    const stored = await h.create({ metadata: { name: 'gen' }, addressType: 'IPv4' });
    stored.metadata!.labels = { 'kubernetes.io/service-name': 'web' };
    const relabelled = await h.update(stored);
    assert.equal(relabelled.metadata?.generation, 2);
    relabelled.addressType = 'IPv6';
    const { causes } = await h.invalid(h.update(relabelled));
    assert.deepEqual(causes, ['addressType: Invalid value: "IPv6": field is immutable']);
  });
});
