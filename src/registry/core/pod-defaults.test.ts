import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { defaultPodSpecOfPod, defaultPodTemplateSpec } from './pod-defaults.js';

// Expected values are what kube-apiserver 1.33 stores for the same input (pkg/apis/core/v1 defaults and the
// `kubectl get -o yaml` outputs of the Kubernetes docs), less what Go's JSON encoder adds for empty structs
// (`resources: {}`), which is a matter of serialization, not defaulting.

describe('pod spec defaulting', () => {
  it('fills in what upstream stores for the docs nginx pod', () => {
    const spec: PodSpec = {
      containers: [{ name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] }],
    };
    defaultPodSpecOfPod(spec);
    assert.deepEqual(spec, {
      containers: [
        {
          name: 'nginx',
          image: 'nginx:1.14.2',
          imagePullPolicy: 'IfNotPresent',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    });
  });

  it('derives imagePullPolicy from the tag', () => {
    const cases: [string, string][] = [
      ['nginx', 'Always'],
      ['nginx:latest', 'Always'],
      ['registry.example.com:5000/team/app:latest', 'Always'],
      ['nginx:1.25', 'IfNotPresent'],
      ['nginx@sha256:' + 'a'.repeat(64), 'IfNotPresent'],
      ['nginx:latest@sha256:' + 'a'.repeat(64), 'Always'],
      // An unparsable reference has no tag, so upstream picks IfNotPresent.
      ['Nginx', 'IfNotPresent'],
      ['', 'IfNotPresent'],
    ];
    for (const [image, policy] of cases) {
      const spec: PodSpec = { containers: [{ name: 'c', image }] };
      defaultPodSpecOfPod(spec);
      assert.equal(spec.containers[0]!.imagePullPolicy, policy, image);
    }
  });

  it('keeps what the client set', () => {
    const spec: PodSpec = {
      containers: [
        {
          name: 'c',
          image: 'x',
          imagePullPolicy: 'Never',
          terminationMessagePolicy: 'FallbackToLogsOnError',
        },
      ],
      restartPolicy: 'Never',
      dnsPolicy: 'Default',
      terminationGracePeriodSeconds: 0,
      schedulerName: 'mine',
      enableServiceLinks: false,
    };
    defaultPodSpecOfPod(spec);
    assert.equal(spec.containers[0]!.imagePullPolicy, 'Never');
    assert.equal(spec.containers[0]!.terminationMessagePolicy, 'FallbackToLogsOnError');
    assert.equal(spec.restartPolicy, 'Never');
    assert.equal(spec.dnsPolicy, 'Default');
    assert.equal(spec.terminationGracePeriodSeconds, 0);
    assert.equal(spec.schedulerName, 'mine');
    assert.equal(spec.enableServiceLinks, false);
  });

  it('defaults probes, handlers and downward API references', () => {
    const spec: PodSpec = {
      containers: [
        {
          name: 'c',
          image: 'x',
          livenessProbe: { httpGet: { port: 8080 } },
          readinessProbe: { grpc: { port: 9000 }, periodSeconds: 5 },
          lifecycle: { preStop: { httpGet: { port: 'http' } } },
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        },
      ],
    };
    defaultPodSpecOfPod(spec);
    const c = spec.containers[0]!;
    assert.deepEqual(c.livenessProbe, {
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    assert.deepEqual(c.readinessProbe, {
      grpc: { port: 9000, service: '' },
      periodSeconds: 5,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
    assert.deepEqual(c.lifecycle?.preStop?.httpGet, { port: 'http', path: '/', scheme: 'HTTP' });
    assert.deepEqual(c.env?.[0]?.valueFrom?.fieldRef, { fieldPath: 'spec.nodeName', apiVersion: 'v1' });
  });

  it('defaults volume sources', () => {
    const spec: PodSpec = {
      containers: [{ name: 'c', image: 'x' }],
      volumes: [
        { name: 'scratch' },
        { name: 'cfg', configMap: { name: 'cfg' } },
        { name: 'sec', secret: { secretName: 'sec' } },
        { name: 'host', hostPath: { path: '/data' } },
        {
          name: 'info',
          downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
        },
        {
          name: 'token',
          projected: {
            sources: [
              { serviceAccountToken: { path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt' } },
            ],
          },
        },
        {
          name: 'eph',
          ephemeral: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '1Gi' } } } } },
        },
      ],
    };
    defaultPodSpecOfPod(spec);
    const [scratch, cfg, sec, host, info, token, eph] = spec.volumes!;
    assert.deepEqual(scratch, { name: 'scratch', emptyDir: {} });
    assert.equal(cfg!.configMap!.defaultMode, 420);
    assert.equal(sec!.secret!.defaultMode, 420);
    assert.equal(host!.hostPath!.type, '');
    assert.equal(info!.downwardAPI!.defaultMode, 420);
    assert.equal(info!.downwardAPI!.items![0]!.fieldRef!.apiVersion, 'v1');
    assert.equal(token!.projected!.defaultMode, 420);
    assert.equal(token!.projected!.sources![0]!.serviceAccountToken!.expirationSeconds, 3600);
    assert.equal(eph!.ephemeral!.volumeClaimTemplate!.spec.volumeMode, 'Filesystem');
  });

  it('gives a pod container that sets only limits equal requests, but not a template container', () => {
    const pod: PodSpec = {
      containers: [
        {
          name: 'c',
          image: 'x',
          resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
        },
      ],
    };
    defaultPodSpecOfPod(pod);
    assert.deepEqual(pod.containers[0]!.resources, {
      limits: { cpu: '500m', memory: '128Mi' },
      requests: { cpu: '100m', memory: '128Mi' },
    });
    const template: PodTemplateSpec = {
      spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1' } } }] },
    };
    defaultPodTemplateSpec(template);
    assert.deepEqual(template.spec!.containers[0]!.resources, { limits: { cpu: '1' } });
    assert.equal(template.spec!.enableServiceLinks, undefined, 'enableServiceLinks is a Pod default only');
  });

  it('writes quantities in canonical form rounded up to milli precision', () => {
    const spec: PodSpec = {
      containers: [
        {
          name: 'c',
          image: 'x',
          resources: {
            requests: { cpu: '0.5', memory: '1.5Gi', 'example.com/dev': '1000m' },
            limits: { cpu: '0.0001' },
          },
        },
      ],
    };
    defaultPodSpecOfPod(spec);
    assert.deepEqual(spec.containers[0]!.resources!.requests, {
      cpu: '500m',
      memory: '1536Mi',
      'example.com/dev': '1',
    });
    assert.deepEqual(spec.containers[0]!.resources!.limits, { cpu: '1m' });
  });

  it('makes each container port a host port under hostNetwork', () => {
    const spec: PodSpec = {
      hostNetwork: true,
      containers: [
        { name: 'c', image: 'x', ports: [{ containerPort: 53 }, { containerPort: 80, hostPort: 8080 }] },
      ],
    };
    defaultPodSpecOfPod(spec);
    assert.deepEqual(
      spec.containers[0]!.ports!.map((p) => p.hostPort),
      [53, 8080],
    );
  });
});
