// kube-proxy in `k8ts agent`: a node that joins with its token programs the Services on its own machine.
// In a test network namespace: `k8ts runtime`, `k8ts server` without its kube-proxy and without a kubelet,
// and `k8ts agent` running this machine's kubelet and kube-proxy. An httpd pod behind a Service answers on
// the ClusterIP from the node, which only the agent's rules make possible.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import { runtimeSkipReason } from '../../src/runtime/testing/runtime-fixture.js';
import { eventually } from '../helpers/eventually.js';
import { requireNetnsSupport, sh, Testbed } from '../helpers/netns.js';
import { RuntimeNode } from '../helpers/runtime-node.js';

describe('kube-proxy in k8ts agent', { skip: runtimeSkipReason() }, () => {
  let bed: Testbed | undefined;
  let node: RuntimeNode | undefined;

  before(async () => {
    requireNetnsSupport();
    bed = new Testbed('agproxy', { podBridge: false });
    node = await RuntimeNode.start({
      tag: 'agproxy',
      netns: bed.node,
      bridge: 'k8ts0',
      podCIDRs: ['10.42.0.0/24', 'fd42::/64'],
      agent: true,
      // The server's own kube-proxy stays off: only the agent's may program this namespace.
      serverArgs: ['--cluster-cidr', '10.42.0.0/16,fd42::/48', '--disable-kube-proxy', '--disable', 'coredns,servicelb'],
    });
  });

  after(async () => {
    try {
      if (node) assert.equal(await node.stop(), 0);
    } finally {
      bed?.remove();
    }
  });

  it('routes a ClusterIP to the pod behind it, from the node', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'web', labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'web', image: RuntimeNode.image, imagePullPolicy: 'Never', command: ['sh', '-c', 'mkdir -p /www && echo from-the-agent-node > /www/index.html && exec httpd -f -p 8080 -h /www'] }],
          },
        },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
      ],
    };
    const applied = await node!.k(['apply', '-f', '-'], JSON.stringify(manifest));
    assert.equal(applied.code, 0, applied.stderr);
    const svc = JSON.parse((await node!.k(['get', 'service', 'web', '-o', 'json'])).stdout) as Service;
    const ip = svc.spec!.clusterIP!;
    const body = await eventually(
      'the ClusterIP to answer from the node',
      async () => {
        try {
          const out = sh(['ip', 'netns', 'exec', bed!.node, 'busybox', 'timeout', '3', 'busybox', 'wget', '-q', '-O', '-', `http://${ip}/index.html`]);
          return out.includes('from-the-agent-node') ? out : undefined;
        } catch {
          return undefined;
        }
      },
      90_000,
    );
    assert.equal(body.trim(), 'from-the-agent-node');
    // The rules are in k8ts's own table of the namespace (the server runs without its kube-proxy).
    assert.match(sh(['ip', 'netns', 'exec', bed!.node, 'nft', 'list', 'table', 'ip', 'k8ts-proxy']), new RegExp(ip.replaceAll('.', '\\.')));
  });
});
