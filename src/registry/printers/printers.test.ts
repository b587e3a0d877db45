import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { resources } from '../../api/resources.js';
import { formatLabelSelector, labelSelectorString } from './label-selector.js';
import { defaultPrinter, printerFor, printListTable, printTable } from './print-table.js';

const now = Date.parse('2026-01-10T12:00:00Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString().replace('.000Z', 'Z');
const created = (name: string, seconds = 3600, extra: object = {}) => ({
  name,
  namespace: 'default',
  creationTimestamp: ago(seconds),
  ...extra,
});

/** The header line kubectl prints for a kind: upper-cased column names, wide ones only with -o wide. */
function header(group: string, kind: string, wide = false): string {
  return printerFor(group, kind)
    .columns.filter((c) => wide || c.priority === 0)
    .map((c) => c.name.toUpperCase())
    .join(' ');
}

function cells(group: string, kind: string, obj: object) {
  return printerFor(group, kind).print(obj, now).cells;
}

const template = (labels: Record<string, string> = { app: 'web' }) => ({
  metadata: { labels },
  spec: {
    containers: [
      { name: 'web', image: 'nginx:1.27' },
      { name: 'log', image: 'busybox' },
    ],
  },
});

describe('workload tables', () => {
  it('deployments', () => {
    assert.equal(header('apps', 'Deployment'), 'NAME READY UP-TO-DATE AVAILABLE AGE');
    assert.equal(
      header('apps', 'Deployment', true),
      'NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR',
    );
    const d = {
      metadata: created('web', 150),
      spec: {
        replicas: 3,
        selector: {
          matchLabels: { app: 'web' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }],
        },
        template: template(),
      },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    assert.deepEqual(cells('apps', 'Deployment', d), [
      'web',
      '2/3',
      3,
      2,
      '2m30s',
      'web,log',
      'nginx:1.27,busybox',
      'app=web,tier in (a,b)',
    ]);
    // No replicas means the default of one; no selector prints as nothing.
    const bare = { metadata: created('bare', 30), spec: { template: template() } };
    assert.deepEqual(cells('apps', 'Deployment', bare).slice(0, 5), ['bare', '0/1', 0, 0, '30s']);
    assert.equal(cells('apps', 'Deployment', bare)[7], '');
  });

  it('replicasets, statefulsets, daemonsets, replication controllers', () => {
    assert.equal(
      header('apps', 'ReplicaSet', true),
      'NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR',
    );
    assert.deepEqual(
      cells('apps', 'ReplicaSet', {
        metadata: created('web-5d4f'),
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f' } },
          template: template(),
        },
        status: { replicas: 2, readyReplicas: 1 },
      }),
      ['web-5d4f', 2, 2, 1, '60m', 'web,log', 'nginx:1.27,busybox', 'app=web,pod-template-hash=5d4f'],
    );
    assert.equal(header('apps', 'StatefulSet', true), 'NAME READY AGE CONTAINERS IMAGES');
    assert.deepEqual(
      cells('apps', 'StatefulSet', {
        metadata: created('db', 3 * 86400),
        spec: { replicas: 3, serviceName: 'db', selector: {}, template: template() },
        status: { replicas: 3, readyReplicas: 3 },
      }),
      ['db', '3/3', '3d', 'web,log', 'nginx:1.27,busybox'],
    );
    assert.equal(
      header('apps', 'DaemonSet', true),
      'NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE CONTAINERS IMAGES SELECTOR',
    );
    const ds = template();
    assert.deepEqual(
      cells('apps', 'DaemonSet', {
        metadata: created('proxy', 8 * 3600),
        spec: {
          selector: { matchExpressions: [{ key: 'k8s-app', operator: 'Exists' }] },
          template: { ...ds, spec: { ...ds.spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } },
        },
        status: {
          desiredNumberScheduled: 3,
          currentNumberScheduled: 3,
          numberReady: 2,
          updatedNumberScheduled: 3,
          numberAvailable: 2,
          numberMisscheduled: 0,
        },
      }),
      ['proxy', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '8h', 'web,log', 'nginx:1.27,busybox', 'k8s-app'],
    );
    assert.equal(
      header('', 'ReplicationController', true),
      'NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR',
    );
    assert.deepEqual(
      cells('', 'ReplicationController', {
        metadata: created('old'),
        spec: { replicas: 1, selector: { app: 'old' } },
        status: { replicas: 1 },
      }),
      ['old', 1, 1, 0, '60m', '', '', 'app=old'],
    );
  });

  it('jobs, with the status column', () => {
    assert.equal(header('batch', 'Job'), 'NAME STATUS COMPLETIONS DURATION AGE');
    assert.equal(
      header('batch', 'Job', true),
      'NAME STATUS COMPLETIONS DURATION AGE CONTAINERS IMAGES SELECTOR',
    );
    const job = (spec: object, status: object, metadata: object = {}) => ({
      metadata: created('pi', 600, metadata),
      spec: {
        template: template(),
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } },
        ...spec,
      },
      status,
    });
    const row = (spec: object, status: object, metadata?: object) =>
      cells('batch', 'Job', job(spec, status, metadata));
    assert.deepEqual(row({ completions: 1, parallelism: 1 }, { startTime: ago(300), active: 1 }), [
      'pi',
      'Running',
      '0/1',
      '5m',
      '10m',
      'web,log',
      'nginx:1.27,busybox',
      'batch.kubernetes.io/controller-uid=u1',
    ]);
    const complete = {
      succeeded: 3,
      startTime: ago(600),
      completionTime: ago(465),
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True' },
        { type: 'Complete', status: 'True' },
      ],
    };
    assert.deepEqual(row({ completions: 3, parallelism: 2 }, complete).slice(1, 4), [
      'Complete',
      '3/3',
      '2m15s',
    ]);
    const failed = { failed: 1, startTime: ago(60), conditions: [{ type: 'Failed', status: 'True' }] };
    assert.deepEqual(row({}, failed).slice(1, 4), ['Failed', '0/1', '60s']);
    assert.deepEqual(row({ parallelism: 3 }, {}).slice(1, 4), ['Running', '0/1 of 3', '']);
    assert.deepEqual(row({ parallelism: 1 }, { succeeded: 0 }).slice(1, 3), ['Running', '0/1']);
    assert.equal(row({}, { conditions: [{ type: 'Suspended', status: 'True' }] })[1], 'Suspended');
    assert.equal(row({}, { conditions: [{ type: 'FailureTarget', status: 'True' }] })[1], 'FailureTarget');
    assert.equal(
      row({}, { conditions: [{ type: 'Suspended', status: 'True' }] }, { deletionTimestamp: ago(0) })[1],
      'Terminating',
    );
    assert.equal(row({}, { conditions: [{ type: 'Complete', status: 'False' }] })[1], 'Running');
  });

  it('cronjobs', () => {
    assert.equal(header('batch', 'CronJob'), 'NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE');
    const cj = {
      metadata: created('backup', 2 * 86400),
      spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template: template() } } },
      status: { active: [{ name: 'backup-1' }], lastScheduleTime: ago(61) },
    };
    assert.deepEqual(cells('batch', 'CronJob', cj), [
      'backup',
      '*/5 * * * *',
      '<none>',
      'False',
      1,
      '61s',
      '2d',
      'web,log',
      'nginx:1.27,busybox',
      '<none>',
    ]);
    const zoned = { ...cj, spec: { ...cj.spec, timeZone: 'Etc/UTC', suspend: true }, status: {} };
    assert.deepEqual(cells('batch', 'CronJob', zoned).slice(2, 6), ['Etc/UTC', 'True', 0, '<none>']);
  });

  it('controller revisions and pod templates', () => {
    assert.equal(header('apps', 'ControllerRevision'), 'NAME CONTROLLER REVISION AGE');
    const owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true };
    assert.deepEqual(
      cells('apps', 'ControllerRevision', {
        metadata: created('db-7f', 60, { ownerReferences: [owner] }),
        revision: 2,
      }),
      ['db-7f', 'statefulset.apps/db', 2, '60s'],
    );
    const coreOwner = { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', controller: true };
    assert.equal(
      cells('apps', 'ControllerRevision', {
        metadata: created('x', 60, { ownerReferences: [coreOwner] }),
        revision: 1,
      })[1],
      'pod/p',
    );
    assert.equal(cells('apps', 'ControllerRevision', { metadata: created('y'), revision: 1 })[1], '<none>');
    assert.equal(header('', 'PodTemplate'), 'NAME CONTAINERS IMAGES POD LABELS');
    assert.deepEqual(
      cells('', 'PodTemplate', { metadata: created('t'), template: template({ b: '2', a: '1' }) }),
      ['t', 'web,log', 'nginx:1.27,busybox', 'a=1,b=2'],
    );
  });
});

describe('networking tables', () => {
  it('services of each type', () => {
    assert.equal(header('', 'Service'), 'NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE');
    assert.equal(header('', 'Service', true), 'NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR');
    const svc = (spec: object, status: object = {}) => ({ metadata: created('web', 20), spec, status });
    assert.deepEqual(
      cells(
        '',
        'Service',
        svc({
          type: 'ClusterIP',
          clusterIP: '10.96.0.10',
          clusterIPs: ['10.96.0.10'],
          ports: [
            { port: 80, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
          selector: { app: 'web' },
        }),
      ),
      ['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP,53/UDP', '20s', 'app=web'],
    );
    assert.deepEqual(
      cells(
        '',
        'Service',
        svc({
          type: 'NodePort',
          clusterIPs: ['10.96.0.11'],
          externalIPs: ['192.0.2.9'],
          ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }],
        }),
      ).slice(1, 5),
      ['NodePort', '10.96.0.11', '192.0.2.9', '80:30080/TCP'],
    );
    assert.deepEqual(
      cells(
        '',
        'Service',
        svc({
          type: 'LoadBalancer',
          clusterIPs: ['10.96.0.12'],
          ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }],
        }),
      ).slice(1, 5),
      ['LoadBalancer', '10.96.0.12', '<pending>', '443:31443/TCP'],
    );
    const lb = svc(
      { type: 'LoadBalancer', clusterIPs: ['10.96.0.12'], externalIPs: ['198.51.100.7'], ports: [] },
      {
        loadBalancer: {
          ingress: [{ ip: '203.0.113.20' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.20' }],
        },
      },
    );
    assert.deepEqual(cells('', 'Service', lb).slice(3, 5), [
      '203.0.113.20,lb.example.com,198.51.100.7',
      '<none>',
    ]);
    assert.deepEqual(
      cells('', 'Service', svc({ type: 'ExternalName', externalName: 'db.example.com' })).slice(1, 5),
      ['ExternalName', '<none>', 'db.example.com', '<none>'],
    );
    assert.deepEqual(
      cells(
        '',
        'Service',
        svc({
          type: 'ClusterIP',
          clusterIP: 'None',
          clusterIPs: ['None'],
          ports: [{ port: 5432, protocol: 'TCP' }],
        }),
      ).slice(1, 7),
      ['ClusterIP', 'None', '<none>', '5432/TCP', '20s', '<none>'],
    );
  });

  it('endpoints and endpoint slices, three at most', () => {
    assert.equal(header('', 'Endpoints'), 'NAME ENDPOINTS AGE');
    const addresses = ['10.0.0.1', '10.0.0.2'].map((ip) => ({ ip }));
    assert.deepEqual(
      cells('', 'Endpoints', {
        metadata: created('web'),
        subsets: [{ addresses, ports: [{ port: 80 }, { port: 443 }] }],
      }),
      ['web', '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...', '60m'],
    );
    assert.deepEqual(
      cells('', 'Endpoints', {
        metadata: created('headless'),
        subsets: [{ addresses: [{ ip: 'fd00::1' }] }],
      })[1],
      'fd00::1',
    );
    assert.equal(
      cells('', 'Endpoints', {
        metadata: created('v6'),
        subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 53 }] }],
      })[1],
      '[fd00::1]:53',
    );
    assert.equal(cells('', 'Endpoints', { metadata: created('none') })[1], '<none>');

    assert.equal(header('discovery.k8s.io', 'EndpointSlice'), 'NAME ADDRESSTYPE PORTS ENDPOINTS AGE');
    assert.deepEqual(
      cells('discovery.k8s.io', 'EndpointSlice', {
        metadata: created('web-abc12'),
        addressType: 'IPv4',
        ports: [{ port: 80 }, { name: 'metrics' }, {}],
        endpoints: [
          { addresses: ['10.0.0.1'] },
          { addresses: ['10.0.0.2'] },
          { addresses: ['10.0.0.3'] },
          { addresses: ['10.0.0.4'] },
        ],
      }),
      ['web-abc12', 'IPv4', '80,metrics,*', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...', '60m'],
    );
    assert.deepEqual(
      cells('discovery.k8s.io', 'EndpointSlice', {
        metadata: created('empty'),
        addressType: 'IPv6',
        endpoints: [],
      }).slice(1, 4),
      ['IPv6', '<unset>', '<unset>'],
    );
  });

  it('ingresses, ingress classes, network policies', () => {
    assert.equal(header('networking.k8s.io', 'Ingress'), 'NAME CLASS HOSTS ADDRESS PORTS AGE');
    assert.deepEqual(
      cells('networking.k8s.io', 'Ingress', {
        metadata: created('site'),
        spec: {
          ingressClassName: 'nginx',
          rules: [{ host: 'a.example.com' }, {}, { host: 'b.example.com' }],
          tls: [{ hosts: ['a.example.com'] }],
        },
        status: { loadBalancer: { ingress: [{ ip: '192.0.2.50' }] } },
      }),
      ['site', 'nginx', 'a.example.com,b.example.com', '192.0.2.50', '80, 443', '60m'],
    );
    const many = {
      metadata: created('many'),
      spec: { rules: ['a', 'b', 'c', 'd', 'e'].map((h) => ({ host: `${h}.io` })) },
    };
    assert.deepEqual(cells('networking.k8s.io', 'Ingress', many).slice(1, 5), [
      '<none>',
      'a.io,b.io,c.io + 2 more...',
      '',
      '80',
    ]);
    assert.equal(
      cells('networking.k8s.io', 'Ingress', { metadata: created('any'), spec: { rules: [{}] } })[2],
      '*',
    );

    assert.equal(header('networking.k8s.io', 'IngressClass'), 'NAME CONTROLLER PARAMETERS AGE');
    assert.deepEqual(
      cells('networking.k8s.io', 'IngressClass', {
        metadata: created('nginx'),
        spec: {
          controller: 'k8s.io/ingress-nginx',
          parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' },
        },
      }),
      ['nginx', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/p', '60m'],
    );
    assert.equal(
      cells('networking.k8s.io', 'IngressClass', { metadata: created('x'), spec: { controller: 'c' } })[2],
      '<none>',
    );

    assert.equal(header('networking.k8s.io', 'ServiceCIDR'), 'NAME CIDRS AGE');
    assert.deepEqual(
      cells('networking.k8s.io', 'ServiceCIDR', { metadata: created('kubernetes'), spec: { cidrs: ['10.43.0.0/16', 'fd43::/112'] } }),
      ['kubernetes', '10.43.0.0/16,fd43::/112', '60m'],
    );
    assert.equal(header('networking.k8s.io', 'IPAddress'), 'NAME PARENTREF');
    assert.deepEqual(
      cells('networking.k8s.io', 'IPAddress', {
        metadata: created('10.43.0.1'),
        spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'kubernetes' } },
      }),
      ['10.43.0.1', 'services/default/kubernetes', '60m'],
    );
    assert.equal(
      cells('networking.k8s.io', 'IPAddress', {
        metadata: created('fd00::1'),
        spec: { parentRef: { group: 'Gateway.Networking.k8s.io', resource: 'Gateways', name: 'gw' } },
      })[1],
      'gateways.gateway.networking.k8s.io/gw',
    );
    assert.equal(cells('networking.k8s.io', 'IPAddress', { metadata: created('10.0.0.1') })[1], '<none>');

    assert.equal(header('networking.k8s.io', 'NetworkPolicy'), 'NAME POD-SELECTOR AGE');
    assert.deepEqual(
      cells('networking.k8s.io', 'NetworkPolicy', { metadata: created('deny'), spec: { podSelector: {} } }),
      ['deny', '<none>', '60m'],
    );
    assert.equal(
      cells('networking.k8s.io', 'NetworkPolicy', {
        metadata: created('db'),
        spec: { podSelector: { matchLabels: { role: 'db' } } },
      })[1],
      'role=db',
    );
  });
});

describe('cluster tables', () => {
  it('nodes', () => {
    assert.equal(header('', 'Node'), 'NAME STATUS ROLES AGE VERSION');
    assert.equal(
      header('', 'Node', true),
      'NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME',
    );
    const node = {
      metadata: {
        name: 'node1',
        creationTimestamp: ago(40 * 86400),
        labels: {
          'node-role.kubernetes.io/control-plane': '',
          'node-role.kubernetes.io/': '',
          'kubernetes.io/role': 'etcd',
        },
      },
      spec: { unschedulable: true },
      status: {
        conditions: [
          { type: 'MemoryPressure', status: 'False' },
          { type: 'Ready', status: 'True' },
        ],
        addresses: [
          { type: 'Hostname', address: 'node1' },
          { type: 'InternalIP', address: '192.168.1.10' },
          { type: 'InternalIP', address: 'fd00::10' },
        ],
        nodeInfo: {
          kubeletVersion: 'v1.33.0',
          osImage: 'Debian GNU/Linux 12 (bookworm)',
          kernelVersion: '6.1.0',
          containerRuntimeVersion: 'containerd://1.6.20',
        },
      },
    };
    assert.deepEqual(cells('', 'Node', node), [
      'node1',
      'Ready,SchedulingDisabled',
      'control-plane,etcd',
      '40d',
      'v1.33.0',
      '192.168.1.10',
      '<none>',
      'Debian GNU/Linux 12 (bookworm)',
      '6.1.0',
      'containerd://1.6.20',
    ]);
    const notReady = {
      metadata: { name: 'n2', creationTimestamp: ago(5) },
      status: { conditions: [{ type: 'Ready', status: 'Unknown' }] },
    };
    assert.deepEqual(cells('', 'Node', notReady), [
      'n2',
      'NotReady',
      '<none>',
      '5s',
      '',
      '<none>',
      '<none>',
      '<unknown>',
      '<unknown>',
      '<unknown>',
    ]);
    assert.equal(cells('', 'Node', { metadata: { name: 'n3' } })[1], 'Unknown');
  });

  it('namespaces', () => {
    assert.equal(header('', 'Namespace'), 'NAME STATUS AGE');
    assert.deepEqual(
      cells('', 'Namespace', {
        metadata: { name: 'kube-system', creationTimestamp: ago(3 * 3600 + 60) },
        status: { phase: 'Active' },
      }),
      ['kube-system', 'Active', '3h1m'],
    );
  });

  it('core events and events.k8s.io events alike', () => {
    assert.equal(header('', 'Event'), 'LAST SEEN TYPE REASON OBJECT MESSAGE');
    assert.equal(
      header('', 'Event', true),
      'LAST SEEN TYPE REASON OBJECT SUBOBJECT SOURCE MESSAGE FIRST SEEN COUNT NAME',
    );
    assert.equal(header('events.k8s.io', 'Event', true), header('', 'Event', true));
    const core = {
      metadata: { name: 'web.17a', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{app}' },
      reason: 'Pulled',
      message: 'Container image "nginx" already present on machine\n',
      type: 'Normal',
      source: { component: 'kubelet', host: 'node1' },
      firstTimestamp: ago(300),
      lastTimestamp: ago(20),
      count: 4,
    };
    assert.deepEqual(cells('', 'Event', core), [
      '20s',
      'Normal',
      'Pulled',
      'pod/web',
      'spec.containers{app}',
      'kubelet, node1',
      'Container image "nginx" already present on machine',
      '5m',
      4,
      'web.17a',
    ]);
    // Written through events.k8s.io: eventTime instead of timestamps, no count until a series.
    const v1 = {
      apiVersion: 'events.k8s.io/v1',
      metadata: { name: 'web.17b', namespace: 'default' },
      eventTime: '2026-01-10T11:59:00.123456Z',
      reportingController: 'default-scheduler',
      reportingInstance: 'default-scheduler-node1',
      action: 'Binding',
      reason: 'Scheduled',
      regarding: { kind: 'Pod', name: 'web' },
      note: 'Successfully assigned default/web to node1',
      type: 'Normal',
    };
    // 59.88s ago: ages truncate, as Go's do.
    assert.deepEqual(cells('events.k8s.io', 'Event', v1), [
      '59s',
      'Normal',
      'Scheduled',
      'pod/web',
      '',
      'default-scheduler, default-scheduler-node1',
      'Successfully assigned default/web to node1',
      '59s',
      1,
      'web.17b',
    ]);
    const series = { ...v1, series: { count: 7, lastObservedTime: '2026-01-10T11:59:50.000000Z' } };
    const seriesCells = cells('events.k8s.io', 'Event', series);
    assert.deepEqual([seriesCells[0], seriesCells[7], seriesCells[8]], ['10s', '59s', 7]);
    const kindOnly = {
      metadata: { name: 'e' },
      involvedObject: { kind: 'Node' },
      source: { component: 'kubelet' },
    };
    assert.deepEqual(cells('', 'Event', kindOnly).slice(0, 6), ['<unknown>', '', '', 'node', '', 'kubelet']);
  });

  it('leases, priority classes, role bindings', () => {
    assert.equal(header('coordination.k8s.io', 'Lease'), 'NAME HOLDER AGE');
    assert.deepEqual(
      cells('coordination.k8s.io', 'Lease', {
        metadata: created('node1'),
        spec: { holderIdentity: 'node1' },
      }),
      ['node1', 'node1', '60m'],
    );
    assert.equal(cells('coordination.k8s.io', 'Lease', { metadata: created('free'), spec: {} })[1], '');

    assert.equal(
      header('scheduling.k8s.io', 'PriorityClass', true),
      'NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY',
    );
    assert.deepEqual(
      cells('scheduling.k8s.io', 'PriorityClass', {
        metadata: { name: 'system-node-critical', creationTimestamp: ago(60) },
        value: 2000001000,
        preemptionPolicy: 'PreemptLowerPriority',
      }),
      ['system-node-critical', 2000001000, false, '60s', 'PreemptLowerPriority'],
    );

    assert.equal(
      header('rbac.authorization.k8s.io', 'RoleBinding', true),
      'NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS',
    );
    assert.equal(
      header('rbac.authorization.k8s.io', 'ClusterRoleBinding', true),
      'NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS',
    );
    assert.deepEqual(
      cells('rbac.authorization.k8s.io', 'ClusterRoleBinding', {
        metadata: { name: 'admins', creationTimestamp: ago(60) },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [
          { kind: 'User', name: 'alice' },
          { kind: 'Group', name: 'system:masters' },
          { kind: 'User', name: 'bob' },
          { kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' },
        ],
      }),
      ['admins', 'ClusterRole/cluster-admin', '60s', 'alice, bob', 'system:masters', 'ci/deployer'],
    );
  });
});

describe('storage and configuration tables', () => {
  it('persistent volumes and claims', () => {
    assert.equal(
      header('', 'PersistentVolume', true),
      'NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE VOLUMEMODE',
    );
    assert.deepEqual(
      cells('', 'PersistentVolume', {
        metadata: created('pv1'),
        spec: {
          capacity: { storage: '10Gi' },
          accessModes: ['ReadWriteOncePod', 'ReadWriteOnce', 'ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          claimRef: { namespace: 'default', name: 'data' },
          storageClassName: 'local',
          volumeMode: 'Filesystem',
        },
        status: { phase: 'Bound' },
      }),
      [
        'pv1',
        '10Gi',
        'RWO,RWOP',
        'Retain',
        'Bound',
        'default/data',
        'local',
        '<unset>',
        '',
        '60m',
        'Filesystem',
      ],
    );
    const legacy = {
      metadata: created('pv2', 60, {
        annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' },
        deletionTimestamp: ago(0),
      }),
      spec: { storageClassName: 'new' },
      status: { phase: 'Released' },
    };
    assert.deepEqual(cells('', 'PersistentVolume', legacy).slice(1, 7), [
      '0',
      '',
      '',
      'Terminating',
      '',
      'old',
    ]);

    assert.equal(
      header('', 'PersistentVolumeClaim'),
      'NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE',
    );
    assert.deepEqual(
      cells('', 'PersistentVolumeClaim', {
        metadata: created('data'),
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '5Gi' } },
          storageClassName: 'local',
          volumeName: 'pv1',
          volumeMode: 'Filesystem',
        },
        status: {
          phase: 'Bound',
          capacity: { storage: '10Gi' },
          accessModes: ['ReadWriteOnce', 'ReadOnlyMany'],
        },
      }),
      ['data', 'Bound', 'pv1', '10Gi', 'RWO,ROX', 'local', '<unset>', '60m', 'Filesystem'],
    );
    assert.deepEqual(
      cells('', 'PersistentVolumeClaim', {
        metadata: created('pending'),
        spec: { resources: { requests: { storage: '1Gi' } } },
        status: { phase: 'Pending' },
      }),
      ['pending', 'Pending', '', '', '', '', '<unset>', '60m', '<unset>'],
    );
  });

  it('storage classes', () => {
    assert.equal(
      header('storage.k8s.io', 'StorageClass'),
      'NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE',
    );
    const sc = {
      metadata: {
        name: 'local',
        creationTimestamp: ago(60),
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
    };
    assert.deepEqual(cells('storage.k8s.io', 'StorageClass', sc), [
      'local (default)',
      'rancher.io/local-path',
      'Delete',
      'WaitForFirstConsumer',
      false,
      '60s',
    ]);
    const plain = {
      metadata: {
        name: 'fast',
        annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'false' },
      },
      provisioner: 'x',
      reclaimPolicy: 'Retain',
      allowVolumeExpansion: true,
    };
    assert.deepEqual(cells('storage.k8s.io', 'StorageClass', plain).slice(0, 5), [
      'fast',
      'x',
      'Retain',
      'Immediate',
      true,
    ]);
  });

  it('config maps, secrets, service accounts', () => {
    assert.equal(header('', 'ConfigMap'), 'NAME DATA AGE');
    assert.deepEqual(
      cells('', 'ConfigMap', {
        metadata: created('kube-root-ca.crt'),
        data: { 'ca.crt': 'x' },
        binaryData: { b: 'AA==' },
      }),
      ['kube-root-ca.crt', 2, '60m'],
    );
    assert.equal(header('', 'Secret'), 'NAME TYPE DATA AGE');
    assert.deepEqual(
      cells('', 'Secret', {
        metadata: created('tls'),
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': '', 'tls.key': '' },
      }),
      ['tls', 'kubernetes.io/tls', 2, '60m'],
    );
    assert.equal(header('', 'ServiceAccount'), 'NAME SECRETS AGE');
    assert.deepEqual(cells('', 'ServiceAccount', { metadata: created('default') }), ['default', 0, '60m']);
  });

  it('resource quotas and disruption budgets', () => {
    assert.equal(header('', 'ResourceQuota'), 'NAME REQUEST LIMIT AGE');
    assert.deepEqual(
      cells('', 'ResourceQuota', {
        metadata: created('compute'),
        status: {
          hard: { 'limits.memory': '2Gi', pods: '10', 'requests.cpu': '1', 'limits.cpu': '2' },
          used: { pods: '3', 'requests.cpu': '500m', 'limits.cpu': '1' },
        },
      }),
      ['compute', 'pods: 3/10, requests.cpu: 500m/1', 'limits.cpu: 1/2, limits.memory: 0/2Gi', '60m'],
    );
    assert.equal(
      header('policy', 'PodDisruptionBudget'),
      'NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE',
    );
    assert.deepEqual(
      cells('policy', 'PodDisruptionBudget', {
        metadata: created('web'),
        spec: { minAvailable: 2 },
        status: { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
      }),
      ['web', '2', 'N/A', 1, '60m'],
    );
    assert.deepEqual(
      cells('policy', 'PodDisruptionBudget', {
        metadata: created('p'),
        spec: { maxUnavailable: '25%' },
      }).slice(1, 4),
      ['N/A', '25%', 0],
    );
  });

  it('horizontal pod autoscalers, v2 and v1', () => {
    assert.equal(
      header('autoscaling', 'HorizontalPodAutoscaler'),
      'NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE',
    );
    const v2 = {
      apiVersion: 'autoscaling/v2',
      metadata: created('web'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
          },
          {
            type: 'Resource',
            resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } },
          },
          {
            type: 'Pods',
            pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } },
          },
        ],
      },
      status: {
        currentReplicas: 3,
        desiredReplicas: 3,
        currentMetrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '90m' } },
          },
        ],
      },
    };
    assert.deepEqual(cells('autoscaling', 'HorizontalPodAutoscaler', v2), [
      'web',
      'Deployment/web',
      'cpu: 45%/60%, memory: <unknown>/500Mi + 1 more...',
      '2',
      10,
      3,
      '60m',
    ]);
    const externals = {
      ...v2,
      spec: {
        ...v2.spec,
        metrics: [
          {
            type: 'External',
            external: { metric: { name: 'queue' }, target: { type: 'Value', value: '30' } },
          },
          {
            type: 'Object',
            object: {
              metric: { name: 'rps' },
              describedObject: { kind: 'Ingress', name: 'i' },
              target: { type: 'AverageValue', averageValue: '5' },
            },
          },
        ],
      },
      status: {
        currentReplicas: 1,
        desiredReplicas: 1,
        currentMetrics: [
          { type: 'External', external: { metric: { name: 'queue' }, current: { value: '12' } } },
        ],
      },
    };
    assert.equal(cells('autoscaling', 'HorizontalPodAutoscaler', externals)[2], '12/30, <unknown>/5 (avg)');
    const v1 = {
      apiVersion: 'autoscaling/v1',
      metadata: created('old'),
      spec: {
        scaleTargetRef: { kind: 'ReplicaSet', name: 'old' },
        maxReplicas: 4,
        targetCPUUtilizationPercentage: 70,
      },
      status: { currentReplicas: 1, desiredReplicas: 1, currentCPUUtilizationPercentage: 12 },
    };
    assert.deepEqual(cells('autoscaling', 'HorizontalPodAutoscaler', v1), [
      'old',
      'ReplicaSet/old',
      'cpu: 12%/70%',
      '1',
      4,
      1,
      '60m',
    ]);
    // Without metrics, defaulting's 80% CPU target applies.
    const bare = {
      ...v1,
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 },
      status: { desiredReplicas: 0 },
    };
    assert.deepEqual(cells('autoscaling', 'HorizontalPodAutoscaler', bare).slice(2, 6), [
      'cpu: <unknown>/80%',
      '1',
      3,
      0,
    ]);
  });
});

describe('label selectors', () => {
  it('print in upstream form', () => {
    assert.equal(
      labelSelectorString({
        matchLabels: { tier: 'web', app: 'shop' },
        matchExpressions: [
          { key: 'env', operator: 'NotIn', values: ['prod', 'dev'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'zone', operator: 'Exists' },
        ],
      }),
      'app=shop,!canary,env notin (dev,prod),tier=web,zone',
    );
    assert.equal(formatLabelSelector(undefined), '<none>');
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(
      formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
      '<error>',
    );
    assert.equal(
      formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      '<error>',
    );
    assert.equal(
      formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }),
      '<error>',
    );
    assert.equal(formatLabelSelector({ matchLabels: { 'bad key!': 'x' } }), '<error>');
    assert.equal(formatLabelSelector({ matchLabels: { 'example.com/app': 'x' } }), 'example.com/app=x');
  });
});

describe('tables', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-2-abcde',
      namespace: 'default',
      uid: 'a95986e8-9ca9-4304-93c5-1f91d30379ca',
      resourceVersion: '106',
      creationTimestamp: ago(300),
      labels: { app: 'web' },
    },
    spec: { nodeName: 'node1', containers: [{ name: 'web', image: 'nginx:1.26' }] },
    status: {
      phase: 'Running',
      podIPs: [{ ip: '10.0.0.5' }],
      containerStatuses: [
        {
          name: 'web',
          ready: true,
          restartCount: 0,
          image: 'nginx:1.26',
          imageID: '',
          state: { running: {} },
        },
      ],
    },
  };

  it('carry each row with its PartialObjectMetadata and the list metadata', () => {
    const table = printListTable(
      '',
      'Pod',
      { metadata: { resourceVersion: '107', continue: 'abc', remainingItemCount: 4 }, items: [pod] },
      { now },
    );
    assert.equal(table.kind, 'Table');
    assert.equal(table.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(table.metadata, { resourceVersion: '107', continue: 'abc', remainingItemCount: 4 });
    assert.equal(table.columnDefinitions?.length, 9);
    assert.deepEqual(table.rows, [
      {
        cells: ['web-2-abcde', '1/1', 'Running', '0', '5m', '10.0.0.5', 'node1', '<none>', '<none>'],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pod.metadata },
      },
    ]);
  });

  it('honour includeObject, noHeaders and the v1beta1 version', () => {
    const none = printTable('', 'Pod', pod, { now: new Date(now), includeObject: 'None', noHeaders: true });
    assert.equal(none.columnDefinitions, null);
    assert.equal(none.rows[0]?.object, null);
    assert.deepEqual(none.metadata, { resourceVersion: '106' });
    const whole = printTable('', 'Pod', pod, { now, includeObject: 'Object' });
    assert.equal(whole.rows[0]?.object, pod);
    const beta = printTable('', 'Pod', pod, { now, version: 'v1beta1' });
    assert.equal(beta.apiVersion, 'meta.k8s.io/v1beta1');
    assert.equal((beta.rows[0]?.object as { apiVersion: string }).apiVersion, 'meta.k8s.io/v1beta1');
    assert.deepEqual(printListTable('', 'Pod', { items: [] }, { now }).rows, []);
  });

  it('keep the shape of the Table kubectl accepted in the recorded traces', (t) => {
    const example = path.resolve(
      import.meta.dirname,
      '../../../../shared/kubernetes/kubectl-traces/examples/pods-Table.json',
    );
    if (!existsSync(example)) return t.skip(`${example} is absent`);
    const recorded = JSON.parse(readFileSync(example, 'utf8')) as {
      columnDefinitions: Record<string, unknown>[];
      rows: { cells: unknown[]; object: Record<string, unknown> }[];
    };
    const ours = printTable('', 'Pod', pod, { now });
    const keys = (o: object) => Object.keys(o).sort();
    assert.deepEqual(keys(ours), keys(recorded));
    assert.deepEqual(keys(ours.columnDefinitions?.[0] ?? {}), keys(recorded.columnDefinitions[0] ?? {}));
    assert.deepEqual(
      ours.columnDefinitions?.slice(0, 5).map((c) => c.name),
      recorded.columnDefinitions.map((c) => c['name']),
    );
    assert.deepEqual(ours.rows[0]?.cells.slice(0, 5), recorded.rows[0]?.cells);
    assert.deepEqual(keys(ours.rows[0]?.object ?? {}), keys(recorded.rows[0]?.object ?? {}));
  });

  it('fall back to NAME and CREATED AT for kinds without a printer', () => {
    for (const [group, kind] of [
      ['rbac.authorization.k8s.io', 'Role'],
      ['rbac.authorization.k8s.io', 'ClusterRole'],
      ['', 'LimitRange'],
      ['apiextensions.k8s.io', 'CustomResourceDefinition'],
      ['stable.example.com', 'CronTab'],
    ] as const) {
      assert.equal(printerFor(group, kind), defaultPrinter, kind);
    }
    assert.equal(header('', 'LimitRange'), 'NAME CREATED AT');
    assert.equal(defaultPrinter.columns[1]?.type, 'date');
    const table = printTable(
      'rbac.authorization.k8s.io',
      'ClusterRole',
      { metadata: { name: 'admin', creationTimestamp: '2026-01-03T04:05:06+01:00' } },
      { now },
    );
    assert.deepEqual(table.rows[0]?.cells, ['admin', '2026-01-03T03:05:06Z']);
    assert.deepEqual(printTable('', 'LimitRange', { metadata: { name: 'x' } }, { now }).rows[0]?.cells, [
      'x',
      '0001-01-01T00:00:00Z',
    ]);
  });

  it('print every catalogued kind, with a cell per column, even from a near-empty object', () => {
    const withoutPrinter = new Set(['Role', 'ClusterRole', 'LimitRange', 'CustomResourceDefinition']);
    for (const r of resources) {
      if (!r.etcdPrefix) continue; // the access reviews are never listed
      const p = printerFor(r.group, r.kind);
      assert.equal(p === defaultPrinter, withoutPrinter.has(r.kind), `${r.group}/${r.kind}`);
      const row = p.print({ metadata: { name: 'x' } }, now);
      // IPAddress rows carry one cell more than their columns, as upstream's (kubectl ignores the extra one).
      const extra = r.kind === 'IPAddress' ? 1 : 0;
      assert.equal(row.cells.length, p.columns.length + extra, `${r.group}/${r.kind}`);
      assert.equal(
        p.columns.filter((c) => c.format === 'name').length,
        1,
        `${r.group}/${r.kind} name column`,
      );
      for (const c of p.columns) {
        assert.ok(c.description.length > 0 && [0, 1].includes(c.priority), `${r.kind} ${c.name}`);
      }
    }
  });
});
