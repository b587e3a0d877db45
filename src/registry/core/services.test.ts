import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { KObject } from '../generic/strategy.js';
import { createServiceStrategy, serviceStrategy } from './services.js';
import { StrategyHarness } from './testing/strategy-harness.js';

const h = new StrategyHarness(serviceStrategy);
after(() => h.close());

const svc = (name: string, spec: Record<string, unknown>): KObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec,
});

describe('services: defaults', () => {
  it('fills a ClusterIP service as upstream stores it before allocation', async () => {
    const s = await h.create(svc('web', { ports: [{ port: 80 }], selector: { app: 'web' } }));
    assert.deepEqual(s.spec, {
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      selector: { app: 'web' },
      sessionAffinity: 'None',
      type: 'ClusterIP',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
    assert.deepEqual(s.status, { loadBalancer: {} });
  });

  it('sets externalTrafficPolicy for NodePort and allocateLoadBalancerNodePorts for LoadBalancer', async () => {
    const np = await h.create(svc('np', { type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] }));
    assert.equal((np.spec as { externalTrafficPolicy?: string }).externalTrafficPolicy, 'Cluster');
    const lb = await h.create(svc('lb', { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] }));
    const spec = lb.spec as Record<string, unknown>;
    assert.equal(spec.allocateLoadBalancerNodePorts, true);
    assert.equal(spec.externalTrafficPolicy, 'Cluster');
  });

  it('gives ClientIP affinity its default timeout and copies a lone clusterIP into clusterIPs', async () => {
    const s = await h.create(
      svc('sticky', { ports: [{ port: 80 }], sessionAffinity: 'ClientIP', clusterIP: '10.96.0.10' }),
    );
    const spec = s.spec as Record<string, unknown>;
    assert.deepEqual(spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
    assert.deepEqual(spec.clusterIPs, ['10.96.0.10']);
  });

  it('keeps headless services headless without ports', async () => {
    const s = await h.create(svc('headless', { clusterIP: 'None', selector: { app: 'db' } }));
    const spec = s.spec as Record<string, unknown>;
    assert.deepEqual(spec.clusterIPs, ['None']);
    assert.equal(spec.ipFamilyPolicy, 'SingleStack');
  });
});

describe('services: validation', () => {
  it('requires port names when there are several', async () => {
    const { causes } = await h.invalid(h.create(svc('two', { ports: [{ port: 80 }, { port: 443 }] })));
    assert.deepEqual(causes, ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
  });

  it('refuses a node port outside the range with the allocator message', async () => {
    const { message } = await h.invalid(
      h.create(svc('low', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })),
    );
    assert.equal(
      message,
      'Service "low" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
    const custom = new StrategyHarness(createServiceStrategy({ nodePortRange: { base: 20000, size: 100 } }));
    try {
      const ok = await custom.create(svc('in', { type: 'NodePort', ports: [{ port: 80, nodePort: 20099 }] }));
      assert.equal((ok.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort, 20099);
    } finally {
      custom.close();
    }
  });

  it('validates clusterIP syntax and refuses None for NodePort', async () => {
    const bad = await h.invalid(h.create(svc('badip', { clusterIP: '10.0.0.300', ports: [{ port: 80 }] })));
    assert.deepEqual(bad.causes, [
      'spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    const none = await h.invalid(
      h.create(svc('npnone', { type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] })),
    );
    assert.deepEqual(none.causes, [
      'spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services',
    ]);
  });

  it('rejects names that are not DNS-1035 labels and unknown enum values', async () => {
    const { causes } = await h.invalid(
      h.create(
        svc('1abc', { ports: [{ port: 80, protocol: 'HTTP' }], sessionAffinity: 'Sticky', type: 'Balanced' }),
      ),
    );
    assert.match(
      causes[0]!,
      /^metadata\.name: Invalid value: "1abc": a DNS-1035 label must consist of lower case alphanumeric characters/,
    );
    assert.ok(
      causes.includes(
        'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      ),
    );
    assert.ok(
      causes.includes(
        'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"',
      ),
    );
    assert.ok(
      causes.includes(
        'spec.type: Unsupported value: "Balanced": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      ),
    );
  });

  it('requires an externalName for ExternalName services and forbids a clusterIP', async () => {
    const { causes } = await h.invalid(h.create(svc('ext', { type: 'ExternalName', clusterIP: '10.0.0.1' })));
    assert.deepEqual(causes, [
      'spec.clusterIPs: Forbidden: may not be set for ExternalName services',
      'spec.externalName: Required value',
    ]);
    const ok = await h.create(svc('ext2', { type: 'ExternalName', externalName: 'db.example.com.' }));
    const spec = ok.spec as Record<string, unknown>;
    assert.equal(spec.ipFamilyPolicy, undefined);
    assert.equal(spec.internalTrafficPolicy, undefined);
  });

  it('refuses duplicate ports by protocol and port', async () => {
    const { causes } = await h.invalid(
      h.create(
        svc('dup', {
          ports: [
            { name: 'a', port: 80 },
            { name: 'b', port: 80 },
          ],
        }),
      ),
    );
    assert.deepEqual(causes, [
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]);
  });
});

describe('services: updates', () => {
  it('keeps the cluster IP a PUT leaves out, and refuses a changed one', async () => {
    const created = await h.create(svc('stable', { clusterIP: '10.96.0.20', ports: [{ port: 80 }] }));
    const put = structuredClone(created);
    delete (put.spec as Record<string, unknown>).clusterIP;
    delete (put.spec as Record<string, unknown>).clusterIPs;
    const kept = await h.update(put);
    assert.equal((kept.spec as Record<string, unknown>).clusterIP, '10.96.0.20');
    assert.deepEqual((kept.spec as Record<string, unknown>).clusterIPs, ['10.96.0.20']);
    const moved = structuredClone(kept);
    (moved.spec as Record<string, unknown>).clusterIP = '10.96.0.21';
    const { causes } = await h.invalid(h.update(moved));
    assert.deepEqual(causes, [
      'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.21"}: may not change once set',
    ]);
  });

  it('drops the node ports and traffic policy of a NodePort service turned ClusterIP', async () => {
    const created = await h.create(
      svc('shrink', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
    );
    (created.spec as Record<string, unknown>).type = 'ClusterIP';
    const updated = await h.update(created);
    const spec = updated.spec as { ports: Record<string, unknown>[]; externalTrafficPolicy?: string };
    assert.equal(spec.ports[0]!.nodePort, undefined);
    assert.equal(spec.externalTrafficPolicy, undefined);
  });
});
