import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StrategyHarness } from '../core/testing/strategy-harness.js';
import { ingressClassStrategy } from './ingressclasses.js';
import { ingressStrategy } from './ingresses.js';
import { networkPolicyStrategy } from './networkpolicies.js';

const ingresses = new StrategyHarness(ingressStrategy);
const classes = new StrategyHarness(ingressClassStrategy);
const policies = new StrategyHarness(networkPolicyStrategy);
after(() => {
  ingresses.close();
  classes.close();
  policies.close();
});

const backend = { service: { name: 'web', port: { number: 80 } } };

describe('ingresses', () => {
  it('store an empty load balancer status and start at generation 1', async () => {
    const ing = await ingresses.create({ metadata: { name: 'web' }, spec: { defaultBackend: backend } });
    assert.deepEqual(ing.status, { loadBalancer: {} });
    assert.equal(ing.metadata?.generation, 1);
  });

  it('require rules or a default backend, a pathType, and absolute paths', async () => {
    const none = await ingresses.invalid(ingresses.create({ metadata: { name: 'empty' }, spec: {} }));
    assert.deepEqual(none.causes, [
      'spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified',
    ]);
    const { causes } = await ingresses.invalid(
      ingresses.create({
        metadata: { name: 'paths' },
        spec: {
          rules: [
            {
              host: '10.0.0.1',
              http: {
                paths: [
                  { path: '/a', backend },
                  { path: 'b', pathType: 'Prefix', backend },
                  { path: '/c', pathType: 'Exact', backend: { service: { name: 'web', port: {} } } },
                ],
              },
            },
          ],
        },
      }),
    );
    assert.deepEqual(causes, [
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
      'spec.rules[0].http.paths[1].path: Invalid value: "b": must be an absolute path',
      'spec.rules[0].http.paths[2].backend: Required value: port name or number is required',
    ]);
  });
});

describe('ingressclasses', () => {
  it('default the parameters scope to Cluster and keep the controller fixed', async () => {
    const ic = await classes.create({
      metadata: { name: 'nginx' },
      spec: { controller: 'k8s.io/ingress-nginx', parameters: { kind: 'Cfg', name: 'c' } },
    });
    assert.deepEqual((ic.spec as Record<string, unknown>).parameters, {
      kind: 'Cfg',
      name: 'c',
      scope: 'Cluster',
    });
    (ic.spec as Record<string, unknown>).controller = 'example.com/other';
    const { causes } = await classes.invalid(classes.update(ic));
    assert.deepEqual(causes, ['spec.controller: Invalid value: "example.com/other": field is immutable']);
  });

  it('require a domain-prefixed controller', async () => {
    const { causes } = await classes.invalid(
      classes.create({ metadata: { name: 'x' }, spec: { controller: 'nginx' } }),
    );
    assert.deepEqual(causes, [
      'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
    ]);
  });
});

describe('networkpolicies', () => {
  it('default policyTypes from the rules and port protocols to TCP', async () => {
    const np = await policies.create({
      metadata: { name: 'p' },
      spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] },
    });
    assert.deepEqual(np.spec, {
      podSelector: {},
      egress: [{ ports: [{ port: 53, protocol: 'TCP' }] }],
      policyTypes: ['Ingress', 'Egress'],
    });
    const bare = await policies.create({ metadata: { name: 'deny' } });
    assert.deepEqual(bare.spec, { podSelector: {}, policyTypes: ['Ingress'] });
  });

  it('refuse empty peers, ipBlock with another peer and excepts outside the CIDR', async () => {
    const { causes } = await policies.invalid(
      policies.create({
        metadata: { name: 'bad' },
        spec: {
          podSelector: {},
          ingress: [
            { from: [{}, { ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] }, podSelector: {} }] },
          ],
        },
      }),
    );
    assert.deepEqual(causes, [
      'spec.ingress[0].from[0]: Required value: must specify a peer',
      'spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`',
      'spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer',
    ]);
  });
});
