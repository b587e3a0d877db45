import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Container, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { newPath } from '../../apimachinery/validation/field-errors.js';
import type { KObject } from '../generic/strategy.js';
import { validatePodTemplateSpec } from './pod-spec.js';
import { podStrategy, validatePodCreate } from './pods.js';
import { invalidMessage, openRegistry } from './testing/workload-harness.js';

// Every expected text below is upstream's, as kube-apiserver 1.33 words it (pkg/apis/core/validation).

const dns1123Label =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with " +
  "an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const container = (extra: Partial<Container> = {}): Container => ({
  name: 'app',
  image: 'nginx:1.27',
  ...extra,
});

/** The errors a Pod with this spec fails with, after defaulting, as upstream's texts. */
function podErrors(spec: Partial<PodSpec>, name = 'p'): string[] {
  const pod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [container()], ...spec },
  };
  podStrategy.defaults!(pod);
  return validatePodCreate(pod).map((e) => e.toString());
}

function assertHasError(errs: string[], expected: string): void {
  assert.ok(errs.includes(expected), `expected\n  ${expected}\nin\n  ${errs.join('\n  ')}`);
}

describe('pod spec validation', () => {
  it('accepts a plain pod', () => {
    assert.deepEqual(podErrors({}), []);
  });

  it('requires containers, names and images', () => {
    assert.deepEqual(podErrors({ containers: [] }), ['spec.containers: Required value']);
    assertHasError(
      podErrors({ containers: [container({ name: 'Web_1' })] }),
      `spec.containers[0].name: Invalid value: "Web_1": ${dns1123Label}`,
    );
    assertHasError(
      podErrors({ containers: [container({ name: '' })] }),
      'spec.containers[0].name: Required value',
    );
    assertHasError(
      podErrors({ containers: [container({ image: '' })] }),
      'spec.containers[0].image: Required value',
    );
    assertHasError(
      podErrors({ containers: [container(), container()] }),
      'spec.containers[1].name: Duplicate value: "app"',
    );
    assertHasError(
      podErrors({ initContainers: [container()] }),
      'spec.initContainers[0].name: Duplicate value: "app"',
    );
    assertHasError(
      podErrors({ containers: [container({ image: ' nginx' })] }),
      'spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace',
    );
  });

  it('checks ports', () => {
    assertHasError(
      podErrors({ containers: [container({ ports: [{ containerPort: 0 }] })] }),
      'spec.containers[0].ports[0].containerPort: Required value',
    );
    assertHasError(
      podErrors({ containers: [container({ ports: [{ containerPort: 70000 }] })] }),
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    );
    assertHasError(
      podErrors({ containers: [container({ ports: [{ containerPort: 80, protocol: 'HTTP' }] })] }),
      'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    );
    assertHasError(
      podErrors({
        containers: [
          container({
            ports: [
              { containerPort: 80, name: 'http' },
              { containerPort: 81, name: 'http' },
            ],
          }),
        ],
      }),
      'spec.containers[0].ports[1].name: Duplicate value: "http"',
    );
    assertHasError(
      podErrors({
        hostNetwork: true,
        containers: [container({ ports: [{ containerPort: 80, hostPort: 8080 }] })],
      }),
      'spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true',
    );
    assertHasError(
      podErrors({
        containers: [
          container({ ports: [{ containerPort: 80, hostPort: 80 }] }),
          container({ name: 'b', ports: [{ containerPort: 81, hostPort: 80 }] }),
        ],
      }),
      'spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80"',
    );
  });

  it('checks env and envFrom', () => {
    assertHasError(
      podErrors({ containers: [container({ env: [{ name: 'A=B', value: 'x' }] })] }),
      `spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
    );
    assert.deepEqual(
      podErrors({ containers: [container({ env: [{ name: '1-weird.name', value: 'x' }] })] }),
      [],
    );
    assertHasError(
      podErrors({
        containers: [
          container({
            env: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          }),
        ],
      }),
      'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
    );
    assertHasError(
      podErrors({
        containers: [
          container({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } }] }),
        ],
      }),
      'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "metadata.labels": supported values: ' +
        '"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", ' +
        '"status.hostIPs", "status.podIP", "status.podIPs"',
    );
    assertHasError(
      podErrors({ containers: [container({ envFrom: [{ prefix: 'P_' }] })] }),
      'spec.containers[0].envFrom: Invalid value: "": must specify one of: `configMapRef` or `secretRef`',
    );
  });

  it('checks volumes and the mounts that refer to them', () => {
    assertHasError(
      podErrors({ containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] }),
      'spec.containers[0].volumeMounts[0].name: Not found: "data"',
    );
    assertHasError(
      podErrors({
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'data', emptyDir: {} },
        ],
      }),
      'spec.volumes[1].name: Duplicate value: "data"',
    );
    assertHasError(
      podErrors({ volumes: [{ name: 'data', emptyDir: {}, secret: { secretName: 's' } }] }),
      'spec.volumes[0].secret: Forbidden: may not specify more than 1 volume type',
    );
    assertHasError(
      podErrors({ volumes: [{ name: 'cfg', configMap: {} }] }),
      'spec.volumes[0].configMap.name: Required value',
    );
    assertHasError(
      podErrors({ volumes: [{ name: 'cfg', configMap: { name: 'c', defaultMode: 0o1000 } }] }),
      'spec.volumes[0].configMap.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive',
    );
    assertHasError(
      podErrors({
        volumes: [{ name: 'data', emptyDir: {} }],
        containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/a', subPath: '/abs' }] })],
      }),
      'spec.containers[0].volumeMounts.subPath: Invalid value: "/abs": must be a relative path',
    );
    assertHasError(
      podErrors({
        volumes: [{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
      }),
      'spec.volumes[0].projected.sources[0].serviceAccountToken: Forbidden: must not be specified when serviceAccountName is not set',
    );
  });

  it('checks restartPolicy and dnsPolicy', () => {
    assertHasError(
      podErrors({ restartPolicy: 'Sometimes' }),
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    );
    assertHasError(
      podErrors({ dnsPolicy: 'Cluster' }),
      'spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    );
    assertHasError(
      podErrors({ dnsPolicy: 'None' }),
      'spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None',
    );
  });

  it('checks resources', () => {
    assertHasError(
      podErrors({ containers: [container({ resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } })] }),
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    );
    assertHasError(
      podErrors({ containers: [container({ resources: { requests: { memory: '-1' } } })] }),
      'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0',
    );
    const unknown = podErrors({ containers: [container({ resources: { requests: { cpus: '1' } } })] });
    assertHasError(
      unknown,
      'spec.containers[0].resources.requests[cpus]: Invalid value: "cpus": must be a standard resource type or fully qualified',
    );
    assertHasError(
      unknown,
      'spec.containers[0].resources.requests[cpus]: Invalid value: "cpus": must be a standard resource for containers',
    );
    assertHasError(
      podErrors({ containers: [container({ resources: { requests: { 'example.com/gpu': '1' } } })] }),
      'spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources',
    );
    assertHasError(
      podErrors({
        containers: [
          container({
            resources: { limits: { 'example.com/gpu': '2' }, requests: { 'example.com/gpu': '1' } },
          }),
        ],
      }),
      'spec.containers[0].resources.requests: Invalid value: "1": must be equal to example.com/gpu limit of 2',
    );
  });

  it('checks probes and lifecycle hooks', () => {
    assertHasError(
      podErrors({ containers: [container({ livenessProbe: { initialDelaySeconds: 1 } })] }),
      'spec.containers[0].livenessProbe: Required value: must specify a handler type',
    );
    assertHasError(
      podErrors({
        containers: [container({ livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } })],
      }),
      'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1',
    );
    assertHasError(
      podErrors({
        containers: [container({ readinessProbe: { exec: { command: ['true'] }, httpGet: { port: 80 } } })],
      }),
      'spec.containers[0].readinessProbe.httpGet: Forbidden: may not specify more than 1 handler type',
    );
    assertHasError(
      podErrors({ containers: [container({ readinessProbe: { httpGet: { port: 'Http_Port' } } })] }),
      'spec.containers[0].readinessProbe.httpGet.port: Invalid value: "Http_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    );
    assertHasError(
      podErrors({
        initContainers: [container({ name: 'init', livenessProbe: { exec: { command: ['true'] } } })],
      }),
      'spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
    );
  });

  it('checks scheduling fields', () => {
    assertHasError(
      podErrors({ nodeSelector: { 'bad key': 'x' } }),
      "spec.nodeSelector: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must " +
        "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is " +
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
    assertHasError(
      podErrors({ tolerations: [{ operator: 'Equal', value: 'x' }] }),
      'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
    );
    assertHasError(
      podErrors({
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }],
      }),
      'spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be \'NoExecute\' when `tolerationSeconds` is set',
    );
    assertHasError(
      podErrors({ tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoRun' }] }),
      'spec.tolerations[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    );
    assertHasError(
      podErrors({
        affinity: {
          nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: {} }] },
        },
      }),
      'spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100',
    );
    assertHasError(
      podErrors({
        affinity: {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } },
        },
      }),
      'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term',
    );
    assertHasError(
      podErrors({
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { a: 'b' } }, topologyKey: '' },
            ],
          },
        },
      }),
      'spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty',
    );
  });

  it('checks activeDeadlineSeconds, names and create-only rules', () => {
    assertHasError(
      podErrors({ activeDeadlineSeconds: 0 }),
      'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive',
    );
    assertHasError(
      podErrors({}, 'Bad_Name'),
      "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
        "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
    assertHasError(
      podErrors({ ephemeralContainers: [{ name: 'debug', image: 'busybox' }] }),
      'spec.ephemeralContainers: Forbidden: cannot be set on create',
    );
    assertHasError(
      podErrors({ nodeName: 'n1', schedulingGates: [{ name: 'example.com/wait' }] }),
      'spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared',
    );
  });

  it('reports template labels at <template>.labels and forbids ephemeral containers there', () => {
    const errs = validatePodTemplateSpec(
      {
        metadata: { labels: { 'bad key': 'x' } },
        spec: {
          containers: [container()],
          ephemeralContainers: [{ name: 'e', image: 'x' }],
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
          terminationGracePeriodSeconds: 30,
        },
      },
      newPath('spec', 'template'),
    ).map((e) => e.toString());
    assert.ok(
      errs.some((e) => e.startsWith('spec.template.labels: Invalid value: "bad key"')),
      errs.join('\n'),
    );
    assertHasError(
      errs,
      'spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template',
    );
  });
});

describe('pod validation through the registry', () => {
  const { reg, close } = openRegistry(podStrategy);
  after(close);

  it("answers 422 with upstream's aggregated message", async () => {
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        containers: [
          { name: 'web', image: '' },
          { name: 'web', image: 'x' },
        ],
      },
    };
    const msg = await invalidMessage(reg.create('default', pod as KObject));
    assert.equal(
      msg,
      'Pod "web" is invalid: [spec.containers[0].image: Required value, spec.containers[1].name: Duplicate value: "web"]',
    );
  });
});
