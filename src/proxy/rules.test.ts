// The rule model alone: endpoint choice (terminating fallback), traffic policies, and incremental scripts
// that touch only what changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointInfo, ServicePortInfo } from './rules.js';
import { desiredState, emptyState, incrementalScript, serviceState, usableEndpoints } from './rules.js';

const ep = (ip: string, over: Partial<EndpointInfo> = {}): EndpointInfo => ({
  ip,
  port: 8080,
  ready: true,
  serving: true,
  terminating: false,
  local: false,
  ...over,
});

const port = (over: Partial<ServicePortInfo> = {}): ServicePortInfo => ({
  namespace: 'default',
  name: 'web',
  portName: 'http',
  protocol: 'tcp',
  port: 80,
  clusterIP: '10.43.0.20',
  externalIPs: [],
  loadBalancerIPs: [],
  internalLocal: false,
  externalLocal: false,
  endpoints: [ep('10.42.0.1'), ep('10.42.0.2')],
  ...over,
});

const config = { family: 'IPv4' as const, nodeName: 'n1', clusterCIDRs: ['10.42.0.0/16'] };

describe('proxy rules', () => {
  it('uses ready endpoints, and serving terminating ones only when none is ready', () => {
    const eps = [ep('a', { ready: false, serving: true, terminating: true }), ep('b', { ready: false, serving: false, terminating: true })];
    assert.deepEqual(usableEndpoints(eps).map((e) => e.ip), ['a']);
    assert.deepEqual(usableEndpoints([...eps, ep('c')]).map((e) => e.ip), ['c']);
  });

  it('drops external traffic of a Local service without local endpoints, and rejects a service without any', () => {
    const s = desiredState([port({ nodePort: 30080, externalLocal: true }), port({ name: 'none', clusterIP: '10.43.0.21', endpoints: [] })], config);
    assert.equal(s.maps.get('no-endpoint-nodeports')!.get('tcp . 30080'), 'drop');
    assert.equal(s.maps.get('no-endpoint-services')!.get('10.43.0.21 . tcp . 80'), 'goto reject-chain');
    assert.match(s.maps.get('service-ips')!.get('10.43.0.20 . tcp . 80')!, /^goto service-/);
  });

  it('writes only the chains and elements of the service that changed', () => {
    const before = desiredState([port(), port({ name: 'other', clusterIP: '10.43.0.30' })], config);
    const after = desiredState([port({ endpoints: [ep('10.42.0.1'), ep('10.42.0.3')] }), port({ name: 'other', clusterIP: '10.43.0.30' })], config);
    const script = incrementalScript('IPv4', 'k8ts-proxy', before, after);
    assert.ok(!script.includes('default/other/'), script);
    assert.match(script, /add chain ip k8ts-proxy endpoint-\w+-default\/web\/tcp\/http__10\.42\.0\.3\/8080/);
    assert.match(script, /delete chain ip k8ts-proxy endpoint-\w+-default\/web\/tcp\/http__10\.42\.0\.2\/8080/);
    assert.equal(incrementalScript('IPv4', 'k8ts-proxy', after, after), '');
  });

  it('removes a deleted service: its map elements before its chains, with or without endpoints', () => {
    for (const endpoints of [[ep('10.42.0.1')], []]) {
      const part = serviceState([port({ nodePort: 30080, endpoints })], config);
      const script = incrementalScript('IPv4', 'k8ts-proxy', part, emptyState());
      const lines = script.trimEnd().split('\n');
      const elements = lines.filter((l) => l.startsWith('delete element'));
      assert.ok(elements.some((l) => l.includes('10.43.0.20 . tcp . 80')), script);
      assert.ok(elements.some((l) => l.includes('tcp . 30080')), script);
      // A chain still named by a map element cannot be deleted: the elements go first.
      const firstChainDelete = lines.findIndex((l) => l.startsWith('delete chain'));
      if (firstChainDelete >= 0) assert.ok(lines.findLastIndex((l) => l.startsWith('delete element')) < firstChainDelete, script);
      assert.ok(!lines.some((l) => l.startsWith('add ')), script);
    }
  });
});
