import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatResolvConf, parseResolvConf, podResolvConf } from './pod-dns.js';

const host = parseResolvConf('# host\nnameserver 192.0.2.53\nsearch example.com\noptions edns0\n');
const cluster = { dnsIPs: ['10.43.0.10'], domain: 'cluster.local' };

describe('pod resolv.conf', () => {
  it('points ClusterFirst pods at the cluster DNS with the namespace search path and ndots 5', () => {
    const text = formatResolvConf(podResolvConf({ namespace: 'web' }, cluster, host));
    assert.equal(text, 'search web.svc.cluster.local svc.cluster.local cluster.local example.com\nnameserver 10.43.0.10\noptions ndots:5\n');
  });

  it('gives host-network pods the host\'s settings unless ClusterFirstWithHostNet', () => {
    assert.deepEqual(podResolvConf({ namespace: 'a', hostNetwork: true }, cluster, host).nameservers, ['192.0.2.53']);
    assert.deepEqual(podResolvConf({ namespace: 'a', hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }, cluster, host).nameservers, ['10.43.0.10']);
    assert.deepEqual(podResolvConf({ namespace: 'a', dnsPolicy: 'Default' }, cluster, host).searches, ['example.com']);
  });

  it('uses dnsConfig alone with None, and merges it otherwise', () => {
    const none = podResolvConf(
      { namespace: 'a', dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['x.test'], options: [{ name: 'ndots', value: '2' }] } },
      cluster,
      host,
    );
    assert.equal(formatResolvConf(none), 'search x.test\nnameserver 1.1.1.1\noptions ndots:2\n');
    const merged = podResolvConf({ namespace: 'a', dnsConfig: { options: [{ name: 'ndots', value: '1' }, { name: 'timeout', value: '2' }] } }, cluster, host);
    assert.deepEqual(merged.options, [{ name: 'ndots', value: '1' }, { name: 'timeout', value: '2' }]);
  });
});
