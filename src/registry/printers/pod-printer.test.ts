import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { printPod, podPrinter } from './pod-printer.js';

const now = Date.parse('2026-01-10T12:00:00Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString().replace('.000Z', 'Z');

function pod(overrides: {
  spec?: Partial<Pod['spec']>;
  status?: Pod['status'];
  metadata?: Pod['metadata'];
}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(600), ...overrides.metadata },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...overrides.spec },
    status: overrides.status ?? {},
  };
}

const running = (name: string, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({
  name,
  image: 'nginx',
  imageID: '',
  ready: true,
  restartCount: 0,
  started: true,
  state: { running: { startedAt: ago(500) } },
  ...extra,
});

const waiting = (name: string, reason: string, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({
  name,
  image: 'busybox',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { waiting: { reason } },
  ...extra,
});

const terminated = (
  name: string,
  t: { exitCode: number; reason?: string; signal?: number },
  extra: Partial<ContainerStatus> = {},
): ContainerStatus => ({
  name,
  image: 'busybox',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { terminated: { ...t, finishedAt: ago(30) } },
  ...extra,
});

/** READY, STATUS and RESTARTS, the columns the cases below are about. */
function summary(p: Pod): [unknown, unknown, unknown] {
  const cells = printPod(p, now).cells;
  return [cells[1], cells[2], cells[3]];
}

describe('pod table', () => {
  it('has the columns of kubectl get pods and -o wide', () => {
    const header = (wide: boolean) =>
      podPrinter.columns
        .filter((c) => wide || c.priority === 0)
        .map((c) => c.name.toUpperCase())
        .join(' ');
    assert.equal(header(false), 'NAME READY STATUS RESTARTS AGE');
    assert.equal(header(true), 'NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES');
    assert.equal(podPrinter.columns[0]?.format, 'name');
    assert.equal(podPrinter.columns.find((c) => c.name === 'Restarts')?.type, 'string');
  });

  it('prints a running pod, wide cells included', () => {
    const p = pod({
      spec: {
        nodeName: 'node1',
        readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'x/y' }],
      },
      status: {
        phase: 'Running',
        podIP: '10.0.0.5',
        podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }],
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'example.com/lb', status: 'True' },
          { type: 'x/y', status: 'False' },
        ],
        containerStatuses: [running('app')],
      },
    });
    const row = printPod(p, now);
    assert.deepEqual(row.cells, ['web', '1/1', 'Running', '0', '10m', '10.0.0.5', 'node1', '<none>', '1/2']);
    assert.equal(row.conditions, undefined);
  });

  it('shows <none> for a pod not yet scheduled, and Pending', () => {
    const row = printPod(pod({ status: { phase: 'Pending', nominatedNodeName: 'node2' } }), now);
    assert.deepEqual(row.cells, ['web', '0/1', 'Pending', '0', '10m', '<none>', '<none>', 'node2', '<none>']);
  });

  it('reports scheduling gates', () => {
    const p = pod({
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      },
    });
    assert.deepEqual(summary(p), ['0/1', 'SchedulingGated', '0']);
  });

  it('counts init containers while the pod initialises', () => {
    const spec = {
      initContainers: [
        { name: 'init-a', image: 'busybox' },
        { name: 'init-b', image: 'busybox' },
      ],
    };
    const withInit = (statuses: ContainerStatus[]) =>
      pod({
        spec,
        status: {
          phase: 'Pending',
          initContainerStatuses: statuses,
          containerStatuses: [waiting('app', 'PodInitializing')],
        },
      });

    assert.deepEqual(
      summary(withInit([waiting('init-a', 'PodInitializing'), waiting('init-b', 'PodInitializing')])),
      ['0/1', 'Init:0/2', '0'],
    );
    assert.deepEqual(
      summary(
        withInit([
          terminated('init-a', { exitCode: 0, reason: 'Completed' }),
          running('init-b', { ready: false }),
        ]),
      ),
      ['0/1', 'Init:1/2', '0'],
    );
    assert.deepEqual(
      summary(
        withInit([
          waiting('init-a', 'CrashLoopBackOff', {
            restartCount: 3,
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(45) } },
          }),
          waiting('init-b', 'PodInitializing'),
        ]),
      ),
      ['0/1', 'Init:CrashLoopBackOff', '3 (45s ago)'],
    );
    assert.deepEqual(summary(withInit([terminated('init-a', { exitCode: 1, reason: 'Error' })])), [
      '0/1',
      'Init:Error',
      '0',
    ]);
    assert.deepEqual(summary(withInit([terminated('init-a', { exitCode: 2 })])), [
      '0/1',
      'Init:ExitCode:2',
      '0',
    ]);
    assert.deepEqual(summary(withInit([terminated('init-a', { exitCode: 137, signal: 9 })])), [
      '0/1',
      'Init:Signal:9',
      '0',
    ]);
    assert.deepEqual(summary(withInit([waiting('init-a', 'ImagePullBackOff')])), [
      '0/1',
      'Init:ImagePullBackOff',
      '0',
    ]);
  });

  it('counts sidecars among the containers and their restarts after initialisation', () => {
    const p = pod({
      spec: {
        initContainers: [
          { name: 'proxy', image: 'envoy', restartPolicy: 'Always' },
          { name: 'setup', image: 'busybox' },
        ],
      },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: 'True' },
        ],
        initContainerStatuses: [
          running('proxy', {
            restartCount: 2,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(200) } },
          }),
          terminated('setup', { exitCode: 0, reason: 'Completed' }, { restartCount: 4 }),
        ],
        containerStatuses: [running('app')],
      },
    });
    // The plain init container's four restarts no longer count once the pod is initialised.
    assert.deepEqual(summary(p), ['2/2', 'Running', '2 (3m20s ago)']);
  });

  it('shows the reason of a waiting or terminated app container', () => {
    const crash = pod({
      status: {
        phase: 'Running',
        containerStatuses: [
          waiting('app', 'CrashLoopBackOff', {
            restartCount: 5,
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(150) } },
          }),
        ],
      },
    });
    assert.deepEqual(summary(crash), ['0/1', 'CrashLoopBackOff', '5 (2m30s ago)']);

    const oom = pod({
      status: {
        phase: 'Running',
        containerStatuses: [terminated('app', { exitCode: 137, reason: 'OOMKilled' })],
      },
    });
    assert.deepEqual(summary(oom), ['0/1', 'OOMKilled', '0']);
    const signalled = pod({
      status: { phase: 'Running', containerStatuses: [terminated('app', { exitCode: 143, signal: 15 })] },
    });
    assert.deepEqual(summary(signalled), ['0/1', 'Signal:15', '0']);
    const exited = pod({
      status: { phase: 'Running', containerStatuses: [terminated('app', { exitCode: 3 })] },
    });
    assert.deepEqual(summary(exited), ['0/1', 'ExitCode:3', '0']);
    const pulling = pod({
      status: { phase: 'Pending', containerStatuses: [waiting('app', 'ErrImagePull')] },
    });
    assert.deepEqual(summary(pulling), ['0/1', 'ErrImagePull', '0']);
  });

  it('uses the first container status when several disagree', () => {
    const p = pod({
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        phase: 'Pending',
        containerStatuses: [waiting('a', 'ContainerCreating'), waiting('b', 'ErrImagePull')],
      },
    });
    assert.deepEqual(summary(p), ['0/2', 'ContainerCreating', '0']);
  });

  it('prints Completed for a finished pod and marks the row', () => {
    const p = pod({
      status: {
        phase: 'Succeeded',
        containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })],
      },
    });
    const row = printPod(p, now);
    assert.deepEqual(row.cells.slice(1, 4), ['0/1', 'Completed', '0']);
    assert.deepEqual(row.conditions, [
      {
        type: 'Completed',
        status: 'True',
        reason: 'Succeeded',
        message: 'The pod has completed successfully.',
      },
    ]);
    const failed = printPod(
      pod({ status: { phase: 'Failed', reason: 'Evicted', message: 'low on memory' } }),
      now,
    );
    assert.equal(failed.cells[2], 'Evicted');
    assert.equal(failed.conditions?.[0]?.reason, 'Failed');
  });

  it('turns Completed back into Running or NotReady while another container runs', () => {
    const statuses = [running('b'), terminated('a', { exitCode: 0, reason: 'Completed' })];
    const spec = { containers: [{ name: 'b' }, { name: 'a' }] };
    const ready = pod({
      spec,
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: statuses,
      },
    });
    assert.deepEqual(summary(ready), ['1/2', 'Running', '0']);
    const notReady = pod({
      spec,
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: statuses,
      },
    });
    assert.deepEqual(summary(notReady), ['1/2', 'NotReady', '0']);
  });

  it('prints Terminating for a pod being deleted, Unknown for one on a lost node', () => {
    const deleting = { name: 'web', creationTimestamp: ago(600), deletionTimestamp: ago(-30) };
    const live = pod({
      metadata: deleting,
      status: { phase: 'Running', containerStatuses: [running('app')] },
    });
    assert.deepEqual(summary(live), ['1/1', 'Terminating', '0']);
    const done = pod({
      metadata: deleting,
      status: {
        phase: 'Succeeded',
        containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })],
      },
    });
    assert.deepEqual(summary(done), ['0/1', 'Completed', '0']);
    const lost = pod({
      metadata: deleting,
      status: { phase: 'Running', reason: 'NodeLost', containerStatuses: [running('app')] },
    });
    assert.deepEqual(summary(lost), ['1/1', 'Unknown', '0']);
  });

  it('adds up restarts and dates them from the latest termination', () => {
    const p = pod({
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        phase: 'Running',
        containerStatuses: [
          running('a', {
            restartCount: 1,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(7200) } },
          }),
          running('b', { restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(90) } } }),
        ],
      },
    });
    assert.deepEqual(summary(p), ['2/2', 'Running', '3 (90s ago)']);
    const undated = pod({
      status: { phase: 'Running', containerStatuses: [running('app', { restartCount: 4 })] },
    });
    assert.deepEqual(summary(undated), ['1/1', 'Running', '4']);
  });
});
