import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeMessage } from './decode-message.js';
import { encodeMessage } from './encode-message.js';
import { encodeEnvelope } from './envelope.js';
import { MessageRegistry } from './message-registry.js';
import { decodeProtobufObject, encodeProtobufObject, protobufContentType } from './protobuf-codec.js';
import { ProtobufError } from './protobuf-error.js';
import type { FakeAPIServer, FakeResource, RecordedRequest } from './testing/fake-apiserver.js';
import { startFakeAPIServer } from './testing/fake-apiserver.js';
import { ProtobufWriter, wireType } from './wire.js';

const registry = MessageRegistry.builtin();

function envelope(apiVersion: string, kind: string, raw: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeEnvelope({ apiVersion, kind, raw, contentEncoding: '', contentType: '' });
}

function decodeFails(body: Uint8Array, message: string, code?: string): void {
  assert.throws(
    () => decodeProtobufObject(body),
    (err: unknown) =>
      err instanceof ProtobufError && err.message === message && (code === undefined || err.code === code),
  );
}

/** Encodes, decodes, and checks that both the JSON and the bytes survive. */
function roundTrip(object: Record<string, unknown>): void {
  const body = encodeProtobufObject(object);
  const back = decodeProtobufObject(body).object;
  assert.deepEqual(back, object);
  assert.deepEqual(Buffer.from(encodeProtobufObject(back)), Buffer.from(body));
}

const resources = (list: [string, string, boolean][]): FakeResource[] =>
  list.map(([name, kind, namespaced]) => ({ name, kind, namespaced }));

// The typed commands of kubectl that send protobuf from 1.32 on; 1.31 sends the same objects as JSON.
const commands: string[][] = [
  ['create', 'configmap', 'cm', '--from-literal=a=b', '--from-literal=c=d'],
  ['create', 'secret', 'generic', 'sec', '--from-literal=a=b', '--type=Opaque'],
  [
    'create',
    'secret',
    'docker-registry',
    'reg',
    '--docker-server=r',
    '--docker-username=u',
    '--docker-password=p',
  ],
  ['create', 'namespace', 'ns2'],
  ['create', 'deployment', 'dep', '--image=nginx', '--replicas=0', '--port=80'],
  ['create', 'deployment', 'dep2', '--image=nginx', '--image=busybox'],
  ['create', 'job', 'job', '--image=busybox', '--', 'echo', 'hi'],
  ['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure'],
  ['create', 'serviceaccount', 'sa'],
  ['create', 'role', 'r', '--verb=get,list', '--resource=pods,deployments.apps', '--resource-name=a'],
  ['create', 'rolebinding', 'rb', '--role=r', '--user=u', '--group=g', '--serviceaccount=default:sa'],
  ['create', 'clusterrole', 'cr', '--verb=get', '--non-resource-url=/healthz'],
  ['create', 'clusterrole', 'agg', '--aggregation-rule=a=b'],
  ['create', 'clusterrolebinding', 'crb', '--clusterrole=cr', '--user=u'],
  ['create', 'priorityclass', 'pc', '--value=-5', '--description=low', '--preemption-policy=Never'],
  ['create', 'priorityclass', 'pc2', '--value=1000000', '--global-default=true'],
  ['create', 'poddisruptionbudget', 'pdb', '--selector=app=x', '--min-available=50%'],
  ['create', 'poddisruptionbudget', 'pdb2', '--selector=app=x', '--max-unavailable=1'],
  ['create', 'quota', 'q', '--hard=cpu=1,memory=1Gi,pods=2', '--scopes=BestEffort'],
  ['create', 'service', 'clusterip', 'svc', '--tcp=5678:8080'],
  ['create', 'service', 'nodeport', 'np', '--tcp=80:http', '--node-port=30001'],
  ['create', 'service', 'loadbalancer', 'lb', '--tcp=80'],
  ['create', 'service', 'externalname', 'ext', '--external-name=example.com'],
  ['create', 'ingress', 'ing', '--rule=foo.com/bar*=svc:80,tls=secret'],
  ['create', 'token', 'sa', '--duration=10m', '--audience=a', '--audience=b'],
  ['auth', 'can-i', 'get', 'pods'],
  ['auth', 'can-i', 'get', '/logs'],
  ['auth', 'can-i', '--list'],
  ['auth', 'whoami'],
];

describe('protobuf bodies from real kubectl', () => {
  let server: FakeAPIServer;
  const bodies = new Map<string, { v33?: RecordedRequest; v31?: RecordedRequest; error?: string }>();

  before(async () => {
    server = await startFakeAPIServer(
      {
        v1: resources([
          ['pods', 'Pod', true],
          ['configmaps', 'ConfigMap', true],
          ['secrets', 'Secret', true],
          ['namespaces', 'Namespace', false],
          ['services', 'Service', true],
          ['serviceaccounts', 'ServiceAccount', true],
          ['resourcequotas', 'ResourceQuota', true],
        ]),
        'apps/v1': resources([['deployments', 'Deployment', true]]),
        'batch/v1': resources([
          ['jobs', 'Job', true],
          ['cronjobs', 'CronJob', true],
        ]),
        'rbac.authorization.k8s.io/v1': resources([
          ['roles', 'Role', true],
          ['rolebindings', 'RoleBinding', true],
          ['clusterroles', 'ClusterRole', false],
          ['clusterrolebindings', 'ClusterRoleBinding', false],
        ]),
        'networking.k8s.io/v1': resources([['ingresses', 'Ingress', true]]),
        'policy/v1': resources([['poddisruptionbudgets', 'PodDisruptionBudget', true]]),
        'scheduling.k8s.io/v1': resources([['priorityclasses', 'PriorityClass', false]]),
        'authorization.k8s.io/v1': resources([
          ['selfsubjectaccessreviews', 'SelfSubjectAccessReview', false],
        ]),
        'authentication.k8s.io/v1': resources([['selfsubjectreviews', 'SelfSubjectReview', false]]),
      },
      (req) => {
        if (req.method !== 'POST') return undefined;
        // Answer with what we decoded, as an API server answers with the object it created.
        const object = req.contentType.startsWith(protobufContentType)
          ? decodeProtobufObject(new Uint8Array(req.body)).object
          : (JSON.parse(req.body.toString('utf8')) as unknown);
        return { status: 201, contentType: 'application/json', body: JSON.stringify(object) };
      },
    );
    for (const args of commands) {
      const entry: { v33?: RecordedRequest; v31?: RecordedRequest; error?: string } = {};
      for (const minor of [33, 31] as const) {
        const before = server.requests.length;
        const r = await server.kubectl(minor, args);
        const posts = server.requests.slice(before).filter((q) => q.method === 'POST');
        if (posts.length !== 1)
          entry.error = `kubectl 1.${minor} ${args.join(' ')}: ${posts.length} POSTs; ${r.stderr}`;
        entry[minor === 33 ? 'v33' : 'v31'] = posts[0];
      }
      bodies.set(args.join(' '), entry);
    }
  });

  after(async () => {
    await server.close();
  });

  it('sends protobuf from 1.33 and JSON from 1.31 for every command', () => {
    for (const [command, { v33, v31, error }] of bodies) {
      assert.equal(error, undefined, command);
      assert.equal(v33?.contentType, protobufContentType, command);
      assert.match(v31?.contentType ?? '', /^application\/json/, command);
    }
  });

  it('decodes each protobuf body into the JSON that kubectl 1.31 sent for the same command', () => {
    for (const [command, { v33, v31 }] of bodies) {
      const decoded = decodeProtobufObject(new Uint8Array(v33!.body)).object;
      assert.deepEqual(decoded, JSON.parse(v31!.body.toString('utf8')), command);
    }
  });

  it('encodes the decoded objects back into exactly the bytes kubectl sent', () => {
    for (const [command, { v33 }] of bodies) {
      const body = new Uint8Array(v33!.body);
      const again = encodeProtobufObject(decodeProtobufObject(body).object);
      assert.deepEqual(Buffer.from(again), v33!.body, command);
    }
  });

  it('never fails on a damaged body other than with a ProtobufError', () => {
    let seed = 1;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    for (const { v33 } of bodies.values()) {
      const body = new Uint8Array(v33!.body);
      for (let cut = 0; cut < body.length; cut++) {
        try {
          decodeProtobufObject(body.subarray(0, cut));
        } catch (err) {
          assert.ok(err instanceof ProtobufError, `cut at ${cut}: ${String(err)}`);
        }
      }
      for (let i = 0; i < 200; i++) {
        const damaged = Uint8Array.from(body);
        for (let j = 0; j < 3; j++)
          damaged[4 + Math.floor(random() * (damaged.length - 4))] = Math.floor(random() * 256);
        try {
          decodeProtobufObject(damaged);
        } catch (err) {
          assert.ok(
            err instanceof ProtobufError,
            `${String(err)} for ${Buffer.from(damaged).toString('hex')}`,
          );
        }
      }
    }
  });
});

describe('decodeProtobufObject', () => {
  it('refuses a body without a kind or version, or of a kind nobody registered, in upstream words', () => {
    decodeFails(
      envelope('v1', ''),
      `Object 'Kind' is missing in 'runtime.TypeMeta{APIVersion:"v1", Kind:""}'`,
      'MissingKind',
    );
    decodeFails(
      envelope('', 'Pod'),
      `Object 'apiVersion' is missing in 'runtime.TypeMeta{APIVersion:"", Kind:"Pod"}'`,
      'MissingVersion',
    );
    decodeFails(
      envelope('apps/v1', 'Pod'),
      'no kind "Pod" is registered for version "apps/v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
      'NotRegistered',
    );
    decodeFails(
      envelope('v1', 'PodSpec'),
      'no kind "PodSpec" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    );
  });

  it('fills in the kind and version the endpoint expects when the envelope leaves them out', () => {
    const raw = encodeMessage(registry, 'core.v1.ConfigMap', { data: { a: 'b' } });
    const decoded = decodeProtobufObject(envelope('', '', raw), {
      defaults: { group: '', version: 'v1', kind: 'ConfigMap' },
    });
    assert.deepEqual(decoded.gvk, { group: '', version: 'v1', kind: 'ConfigMap' });
    assert.deepEqual(decoded.object, {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { creationTimestamp: null },
      data: { a: 'b' },
    });
  });

  it('takes the metav1 option kinds in any group-version', () => {
    const raw = encodeMessage(registry, 'meta.v1.DeleteOptions', {
      gracePeriodSeconds: 0,
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
    const { object } = decodeProtobufObject(envelope('apps/v1', 'DeleteOptions', raw));
    assert.deepEqual(object, {
      kind: 'DeleteOptions',
      apiVersion: 'apps/v1',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
  });
});

describe('the JSON form of decoded messages', () => {
  it('round-trips a Pod with most of the special types in it', () => {
    roundTrip({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        name: 'web-0',
        namespace: 'default',
        uid: '0b6f9c5e-5f0e-4a53-9b6c-1f2e3d4c5b6a',
        resourceVersion: '42',
        generation: 3,
        creationTimestamp: '2024-02-29T23:59:59Z',
        deletionTimestamp: '1969-07-20T20:17:40Z',
        deletionGracePeriodSeconds: 0,
        labels: { app: 'web', 'app.kubernetes.io/name': 'web' },
        annotations: { note: 'ünïcødé ✓' },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            name: 'web',
            uid: 'u1',
            controller: true,
            blockOwnerDeletion: false,
          },
        ],
        finalizers: ['example.com/f'],
        managedFields: [
          {
            manager: 'kubectl',
            operation: 'Apply',
            apiVersion: 'v1',
            time: '2024-01-01T00:00:00Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } },
          },
        ],
      },
      spec: {
        volumes: [
          {
            name: 'cfg',
            configMap: { name: 'cm', items: [{ key: 'a', path: 'a.txt', mode: 256 }], defaultMode: 420 },
          },
          { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        ],
        containers: [
          {
            name: 'web',
            image: 'nginx',
            command: ['nginx'],
            args: ['-g', 'daemon off;'],
            ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
            ],
            resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
            volumeMounts: [{ name: 'cfg', readOnly: true, mountPath: '/etc/cfg' }],
            livenessProbe: {
              httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
              initialDelaySeconds: 5,
              timeoutSeconds: 1,
              periodSeconds: 10,
              successThreshold: 1,
              failureThreshold: 3,
            },
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
            imagePullPolicy: 'IfNotPresent',
            securityContext: { runAsUser: 0, runAsNonRoot: false, capabilities: { drop: ['ALL'] } },
          },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 0,
        activeDeadlineSeconds: -1,
        automountServiceAccountToken: false,
        nodeName: 'node-1',
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] },
              ],
            },
          },
        },
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
        priority: -2147483648,
        overhead: { cpu: '0' },
      },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-03-01T00:00:00Z' },
        ],
        podIP: '10.0.0.5',
        podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }],
        startTime: '2024-03-01T00:00:00Z',
        containerStatuses: [
          {
            name: 'web',
            state: { running: { startedAt: '2024-03-01T00:00:01Z' } },
            lastState: {},
            ready: true,
            restartCount: 0,
            image: 'nginx',
            imageID: '',
            started: true,
          },
        ],
        qosClass: 'Burstable',
      },
    });
  });

  it('writes what Go writes for empty structs, zero scalars, nil pointers and zero times', () => {
    const { object } = decodeProtobufObject(envelope('apps/v1', 'Deployment'));
    assert.deepEqual(object, {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { creationTimestamp: null },
      spec: {
        selector: null,
        template: { metadata: { creationTimestamp: null }, spec: { containers: null } },
        strategy: {},
      },
      status: {},
    });
  });

  it('keeps the microseconds of a MicroTime and drops the nanoseconds of a Time', () => {
    const timestamp = (seconds: number, nanos: number) =>
      new ProtobufWriter()
        .tag(1, wireType.varint)
        .int64(seconds)
        .tag(2, wireType.varint)
        .int32(nanos)
        .finish();
    assert.equal(
      decodeMessage(registry, 'meta.v1.MicroTime', timestamp(1700000000, 123456789)),
      '2023-11-14T22:13:20.123456Z',
    );
    assert.equal(
      decodeMessage(registry, 'meta.v1.Time', timestamp(1700000000, 123456789)),
      '2023-11-14T22:13:20Z',
    );
    assert.equal(decodeMessage(registry, 'meta.v1.Time', timestamp(-62135596800, 0)), null);
    assert.equal(decodeMessage(registry, 'meta.v1.Time', new Uint8Array(0)), null);
    assert.equal(decodeMessage(registry, 'meta.v1.Time', timestamp(0, 0)), '1970-01-01T00:00:00Z');
    const micro = encodeMessage(registry, 'meta.v1.MicroTime', '2023-11-14T23:13:20.1234567+01:00');
    assert.deepEqual([...micro], [...timestamp(1700000000, 123456000)]);
    assert.throws(() => encodeMessage(registry, 'meta.v1.Time', 'yesterday'), ProtobufError);
    assert.throws(() => decodeMessage(registry, 'meta.v1.Time', timestamp(1e15, 0)), ProtobufError);
  });

  it('reads an IntOrString by its type, and a Quantity as its text', () => {
    const ios = (type: number, int: number, str: string) =>
      new ProtobufWriter()
        .tag(1, wireType.varint)
        .int64(type)
        .tag(2, wireType.varint)
        .int32(int)
        .tag(3, wireType.bytes)
        .string(str)
        .finish();
    assert.equal(decodeMessage(registry, 'intstr.IntOrString', ios(0, -7, 'ignored')), -7);
    assert.equal(decodeMessage(registry, 'intstr.IntOrString', ios(1, 7, '25%')), '25%');
    assert.throws(
      () => decodeMessage(registry, 'intstr.IntOrString', ios(2, 0, '')),
      /impossible IntOrString.Type/,
    );
    assert.deepEqual([...encodeMessage(registry, 'intstr.IntOrString', '25%')], [...ios(1, 0, '25%')]);
    assert.deepEqual([...encodeMessage(registry, 'intstr.IntOrString', 3)], [...ios(0, 3, '')]);
    assert.equal(
      decodeMessage(registry, 'resource.Quantity', encodeMessage(registry, 'resource.Quantity', '1.5Gi')),
      '1.5Gi',
    );
    assert.equal(decodeMessage(registry, 'resource.Quantity', new Uint8Array(0)), '0');
  });

  it('decodes a RawExtension as JSON, or as an embedded protobuf object', () => {
    const revision = {
      kind: 'ControllerRevision',
      apiVersion: 'apps/v1',
      metadata: { name: 'r', creationTimestamp: null },
      data: { spec: { replicas: 2 } },
      revision: 4,
    };
    roundTrip(revision);
    const pod = encodeProtobufObject({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c' }] },
    });
    const event = new ProtobufWriter().tag(1, wireType.bytes).string('ADDED').tag(2, wireType.bytes).fork();
    event.tag(1, wireType.bytes).bytes(pod).ldelim();
    const decoded = decodeProtobufObject(envelope('v1', 'WatchEvent', event.finish())).object;
    assert.deepEqual(decoded, {
      kind: 'WatchEvent',
      apiVersion: 'v1',
      type: 'ADDED',
      object: {
        kind: 'Pod',
        apiVersion: 'v1',
        metadata: { name: 'p', creationTimestamp: null },
        spec: { containers: [{ name: 'c', resources: {} }] },
        status: {},
      },
    });
    const notJSON = new ProtobufWriter()
      .tag(2, wireType.bytes)
      .fork()
      .tag(1, wireType.bytes)
      .string('{oops')
      .ldelim();
    assert.throws(() => decodeProtobufObject(envelope('v1', 'WatchEvent', notJSON.finish())), ProtobufError);
  });

  it('turns named slices (user extras) into JSON arrays and []byte into base64', () => {
    roundTrip({
      kind: 'SubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: {
        nonResourceAttributes: { path: '/x', verb: 'get' },
        user: 'u',
        extra: { scopes: ['a', 'b'], empty: [] },
      },
      status: { allowed: false },
    });
    roundTrip({
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 's', creationTimestamp: null },
      immutable: true,
      data: { bin: Buffer.from([0, 255, 128]).toString('base64'), empty: '' },
      type: 'Opaque',
    });
  });

  it('skips unknown fields of every wire type, accepts packed repeated scalars, and merges a repeated message field', () => {
    const w = new ProtobufWriter();
    w.tag(1, wireType.bytes).fork().tag(1, wireType.bytes).string('n').ldelim();
    w.tag(100, wireType.varint).uint32(5);
    w.tag(101, wireType.fixed64).double(1);
    w.tag(102, wireType.bytes).string('x');
    w.tag(103, wireType.fixed32).fixed32(1);
    w.tag(104, wireType.startGroup).tag(1, wireType.varint).uint32(1).tag(104, wireType.endGroup);
    // The same message field again: Go merges it into the first.
    w.tag(1, wireType.bytes).fork().tag(3, wireType.bytes).string('ns').ldelim();
    const sa = decodeProtobufObject(envelope('v1', 'ServiceAccount', w.finish())).object;
    assert.deepEqual(sa, {
      kind: 'ServiceAccount',
      apiVersion: 'v1',
      metadata: { name: 'n', namespace: 'ns', creationTimestamp: null },
    });

    // Go writes repeated integers unpacked but reads both forms: supplementalGroups is a repeated int64.
    const packed = new ProtobufWriter()
      .tag(4, wireType.bytes)
      .fork()
      .int64(1000)
      .int64(-1)
      .int64(2 ** 40)
      .ldelim()
      .finish();
    assert.deepEqual(decodeMessage(registry, 'core.v1.PodSecurityContext', packed), {
      supplementalGroups: [1000, -1, 2 ** 40],
    });
  });

  it('rejects a field sent with the wrong wire type, and field number 0', () => {
    const wrong = new ProtobufWriter().tag(1, wireType.varint).uint32(1).finish();
    assert.throws(
      () => decodeMessage(registry, 'core.v1.ConfigMap', wrong),
      /^ProtobufError: proto: wrong wireType = 0 for field Metadata$/,
    );
    assert.throws(
      () => decodeMessage(registry, 'core.v1.ConfigMap', Uint8Array.of(0x02, 0x00)),
      /proto: ConfigMap: illegal tag 0 \(wire type 2\)/,
    );
  });

  it('reports where an object does not fit its message when encoding', () => {
    assert.throws(
      () => encodeProtobufObject({ kind: 'Deployment', apiVersion: 'apps/v1', spec: { replicas: 'two' } }),
      /cannot encode spec\.replicas: expected integer, got string/,
    );
    assert.throws(
      () => encodeProtobufObject({ kind: 'ConfigMap', apiVersion: 'v1', data: { a: 1 } }),
      /cannot encode data\.a: expected string, got number/,
    );
    assert.throws(
      () => encodeProtobufObject({ kind: 'Widget', apiVersion: 'example.com/v1' }),
      /no kind "Widget" is registered/,
    );
  });
});
