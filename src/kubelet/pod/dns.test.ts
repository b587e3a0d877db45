import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podDNSConfig } from './dns.js';

const settings = { clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', host: { servers: ['192.168.1.1'], searches: ['lan'], options: ['edns0'] } };
const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({ metadata: { namespace: 'shop' }, spec: { containers: [], ...spec } });

describe('pod DNS config', () => {
  it('points ClusterFirst pods at the cluster DNS with the namespace search path and ndots:5', () => {
    assert.deepEqual(podDNSConfig(pod(), settings), {
      servers: ['10.43.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lan'],
      options: ['ndots:5'],
    });
  });
  it('gives host-network and Default pods the host resolv.conf, unless ClusterFirstWithHostNet', () => {
    assert.deepEqual(podDNSConfig(pod({ hostNetwork: true }), settings), settings.host);
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'Default' }), settings), settings.host);
    assert.deepEqual(podDNSConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), settings).servers, ['10.43.0.10']);
  });
  it('merges the pod dnsConfig, and None takes only it', () => {
    const dnsConfig = { nameservers: ['1.1.1.1'], searches: ['extra'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] };
    assert.deepEqual(podDNSConfig(pod({ dnsConfig }), settings).options, ['ndots:2', 'rotate']);
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig }), settings), { servers: ['1.1.1.1'], searches: ['extra'], options: ['ndots:2', 'rotate'] });
  });
});
