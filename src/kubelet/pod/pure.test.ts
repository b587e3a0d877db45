import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Backoff } from './backoff.js';
import { makeContainerEnv, serviceEnvVars } from './env.js';
import type { EnvSources } from './env.js';
import { expand, mappingFor } from './expansion.js';
import { podQOSClass } from './qos.js';
import { containerResources, milliCPUToQuota, milliCPUToShares } from './resources.js';

describe('container restart backoff', () => {
  it('starts at 10 s, doubles to 5 min, and resets after 10 idle minutes', () => {
    const b = new Backoff();
    let t = 0;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      b.next('c', t);
      delays.push(b.get('c') / 1000);
      t += 1000;
    }
    assert.deepEqual(delays, [10, 20, 40, 80, 160, 300, 300, 300]);
    assert.equal(b.isInBackOffSince('c', t, t + 299_000), true);
    assert.equal(b.isInBackOffSince('c', t, t + 300_000), false);
    t += 10 * 60_000 + 1;
    assert.equal(b.isInBackOffSince('c', t - 1, t), false);
    b.next('c', t);
    assert.equal(b.get('c'), 10_000);
  });
});

describe('$(VAR) expansion', () => {
  const m = mappingFor(new Map([['A', 'x'], ['EMPTY', '']]), new Map([['B', 'y'], ['A', 'shadowed']]));
  const cases: [string, string][] = [
    ['$(A)', 'x'],
    ['$(B)-$(A)', 'y-x'],
    ['$(EMPTY)z', 'z'],
    ['$(C)', '$(C)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$x'],
    ['$(A', '$(A'],
    ['a$', 'a$'],
    ['$x$(A)', '$xx'],
    ['$()', '$()'],
    ['$(A)$(A)', 'xx'],
    ['no vars', 'no vars'],
  ];
  for (const [input, want] of cases) it(`${input} → ${want}`, () => assert.equal(expand(input, m), want));
});

function pod(containers: NonNullable<Pod['spec']>['containers'], extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'web' } }, spec: { containers, ...extra }, status: { podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }] } };
}

describe('QoS and resources', () => {
  it('classifies pods as upstream does', () => {
    assert.equal(podQOSClass(pod([{ name: 'a' }])), 'BestEffort');
    assert.equal(podQOSClass(pod([{ name: 'a', resources: { limits: { cpu: '1', memory: '1Gi' } , requests: { cpu: '1', memory: '1Gi' } } }])), 'Guaranteed');
    assert.equal(podQOSClass(pod([{ name: 'a', resources: { requests: { cpu: '100m' } } }])), 'Burstable');
    assert.equal(
      podQOSClass(pod([{ name: 'a', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } } }, { name: 'b' }])),
      'Burstable',
    );
  });
  it('computes cpu shares, quota and the memory limit', () => {
    assert.equal(milliCPUToShares(0), 2);
    assert.equal(milliCPUToShares(1), 2);
    assert.equal(milliCPUToShares(250), 256);
    assert.equal(milliCPUToShares(1000_000), 262144);
    assert.equal(milliCPUToQuota(0), 0);
    assert.equal(milliCPUToQuota(5), 1000);
    assert.equal(milliCPUToQuota(1500), 150000);
    const p = pod([{ name: 'a', resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '500m', memory: '1Gi' } } }]);
    const r = containerResources(p, p.spec!.containers[0]!, 4 * 1024 ** 3);
    assert.deepEqual(r, { cpuPeriod: 100000, cpuQuota: 50000, cpuShares: 256, memoryLimitInBytes: 1024 ** 3, oomScoreAdj: 875 });
    const g = pod([{ name: 'a', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }]);
    assert.equal(containerResources(g, g.spec!.containers[0]!, 4 * 1024 ** 3).oomScoreAdj, -997);
    const be = pod([{ name: 'a' }]);
    assert.deepEqual(containerResources(be, be.spec!.containers[0]!, 1024), { cpuPeriod: 0, cpuQuota: 0, cpuShares: 2, memoryLimitInBytes: 0, oomScoreAdj: 1000 });
  });
});

describe('container environment', () => {
  const sources: EnvSources = {
    configMap: (_ns, name) => (name === 'cm' ? { data: { color: 'blue', 'bad key': 'x', size: 'L' } } : undefined),
    secret: (_ns, name) => (name === 'sec' ? { data: { password: Buffer.from('hunter2').toString('base64') } } : undefined),
    services: () => [
      { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.43.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } },
      { metadata: { name: 'my-db', namespace: 'ns' }, spec: { clusterIP: '10.43.0.9', ports: [{ port: 5432 }] } },
      { metadata: { name: 'headless', namespace: 'ns' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
      { metadata: { name: 'other', namespace: 'elsewhere' }, spec: { clusterIP: '10.43.0.7', ports: [{ port: 80 }] } },
    ],
  };
  const node = { nodeName: 'n1', hostIPs: ['192.168.1.2', 'fd00::2'], allocatable: { cpu: '4', memory: '8Gi' } };

  it('builds env from every source with expansion, in upstream order', async () => {
    const p = pod([
      {
        name: 'app',
        command: ['sh', '-c', 'echo $(GREETING) $(MISSING)'],
        args: ['$(POD_NAME)'],
        envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'GREETING', value: 'hi $(POD_NAME) at $(MY_DB_SERVICE_HOST) $$(POD_NAME)' },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
          { name: 'OPT', valueFrom: { secretKeyRef: { name: 'nope', key: 'x', optional: true } } },
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
          { name: 'IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        ],
        resources: { requests: { cpu: '250m' } },
      },
    ]);
    const r = await makeContainerEnv(p, p.spec!.containers[0]!, sources, node);
    const env = Object.fromEntries(r.env.map((e) => [e.name, e.value]));
    assert.equal(env.CM_color, 'blue');
    assert.equal(env['CM_bad key'], undefined);
    assert.equal(env.GREETING, 'hi p at 10.43.0.9 $(POD_NAME)');
    assert.equal(env.PASS, 'hunter2');
    assert.equal('OPT' in env, false);
    assert.equal(env.MEM, '8192');
    assert.equal(env.CPU, '250');
    assert.equal(env.IPS, '10.0.0.5,fd00::5');
    assert.equal(env.APP, 'web');
    assert.equal(env.KUBERNETES_SERVICE_HOST, '10.43.0.1');
    assert.equal(env.KUBERNETES_PORT_443_TCP, 'tcp://10.43.0.1:443');
    assert.equal(env.MY_DB_PORT, 'tcp://10.43.0.9:5432');
    assert.equal(env.OTHER_SERVICE_HOST, undefined);
    assert.equal(env.HEADLESS_SERVICE_HOST, undefined);
    assert.deepEqual(r.command, ['sh', '-c', 'echo hi p at 10.43.0.9 $(POD_NAME) $(MISSING)']);
    assert.deepEqual(r.args, ['p']);
    assert.equal(r.warnings[0]?.reason, 'InvalidEnvironmentVariableNames');
    assert.match(r.warnings[0].message, /^Keys \[CM_bad key\] from the EnvFrom configMap ns\/cm were skipped/);
    // the env entries come before the service variables
    assert.ok(r.env.findIndex((e) => e.name === 'APP') < r.env.findIndex((e) => e.name === 'KUBERNETES_SERVICE_HOST'));
  });

  it('leaves out other namespaces services when enableServiceLinks is false, keeps kubernetes', async () => {
    const p = pod([{ name: 'a' }], { enableServiceLinks: false });
    const r = await makeContainerEnv(p, p.spec!.containers[0]!, sources, node);
    assert.deepEqual(
      r.env.map((e) => e.name).filter((n) => n.endsWith('_SERVICE_HOST')),
      ['KUBERNETES_SERVICE_HOST'],
    );
  });

  it('fails with upstream messages for missing objects and keys', async () => {
    const one = async (env: NonNullable<NonNullable<Pod['spec']>['containers'][0]['env']>): Promise<string> => {
      const p = pod([{ name: 'a', env }]);
      const err = await makeContainerEnv(p, p.spec!.containers[0]!, sources, node).then(
        () => 'ok',
        (e: Error) => e.message,
      );
      return err;
    };
    assert.equal(await one([{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }]), 'secret "gone" not found');
    assert.equal(await one([{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } }]), "couldn't find key k in Secret ns/sec");
    assert.equal(await one([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }]), "couldn't find key k in ConfigMap ns/cm");
    assert.equal(await one([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: true } } }]), 'ok');
  });

  it('formats service variables like docker links', () => {
    const v = serviceEnvVars([{ metadata: { name: 'web' }, spec: { clusterIP: 'fd00::10', ports: [{ name: 'http', port: 80, protocol: 'UDP' }] } }]);
    assert.deepEqual(v, [
      { name: 'WEB_SERVICE_HOST', value: 'fd00::10' },
      { name: 'WEB_SERVICE_PORT', value: '80' },
      { name: 'WEB_SERVICE_PORT_HTTP', value: '80' },
      { name: 'WEB_PORT', value: 'udp://[fd00::10]:80' },
      { name: 'WEB_PORT_80_UDP', value: 'udp://[fd00::10]:80' },
      { name: 'WEB_PORT_80_UDP_PROTO', value: 'udp' },
      { name: 'WEB_PORT_80_UDP_PORT', value: '80' },
      { name: 'WEB_PORT_80_UDP_ADDR', value: 'fd00::10' },
    ]);
  });
});
