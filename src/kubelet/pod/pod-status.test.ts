import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type * as cri from '../../cri/index.js';
import type { RuntimePod, StatusInputs, Waiting } from './pod-status.js';
import { computePodStatus } from './pod-status.js';

const s = 1e9;
function ctr(name: string, attempt: number, state: cri.ContainerState, extra: Partial<cri.ContainerStatus> = {}): cri.ContainerStatus {
  return { id: `${name}-${attempt}`, metadata: { name, attempt }, state, createdAt: 100 * s + attempt, startedAt: 100 * s, imageRef: 'sha256:abc', ...extra };
}
const sandbox: cri.PodSandboxStatus = { id: 'sb', state: 'SANDBOX_READY', createdAt: 1, network: { ip: '10.1.0.5', additionalIps: [{ ip: 'fd00::5' }] } };
function inputs(waiting: Record<string, Waiting> = {}, ready: Record<string, boolean> = {}): StatusInputs {
  return {
    runtimeName: 'k8ts',
    hostIPs: ['192.168.0.2'],
    waiting: new Map(Object.entries(waiting)),
    ready: new Map(Object.entries(ready)),
    started: new Map(),
    startTime: '2026-01-01T00:00:00Z',
    now: '2026-01-01T00:00:10Z',
  };
}
function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'd', uid: 'u' }, spec: { containers: [{ name: 'b', image: 'img:2' }, { name: 'a', image: 'img:1' }], ...spec } };
}
const cond = (st: ReturnType<typeof computePodStatus>, type: string): string => {
  const c = st.conditions?.find((x) => x.type === type);
  return `${c?.status}${c?.reason ? ' ' + c.reason : ''}${c?.message ? ': ' + c.message : ''}`;
};

describe('pod status', () => {
  it('is Pending with ContainerCreating before the runtime has anything', () => {
    const st = computePodStatus(pod(), { sandboxes: [], containers: [] }, inputs());
    assert.equal(st.phase, 'Pending');
    assert.deepEqual(st.containerStatuses?.map((c) => [c.name, c.state?.waiting?.reason]), [
      ['a', 'ContainerCreating'],
      ['b', 'ContainerCreating'],
    ]);
    assert.equal(cond(st, 'PodReadyToStartContainers'), 'False');
    assert.equal(cond(st, 'Ready'), 'False ContainersNotReady: containers with unready status: [b a]');
    assert.equal(st.qosClass, 'BestEffort');
    assert.equal(st.podIP, undefined);
  });

  it('is Running and Ready with both IPs when every container runs', () => {
    const rp: RuntimePod = { sandboxes: [sandbox], containers: [ctr('a', 0, 'CONTAINER_RUNNING'), ctr('b', 0, 'CONTAINER_RUNNING')] };
    const st = computePodStatus(pod(), rp, inputs());
    assert.equal(st.phase, 'Running');
    assert.deepEqual(st.podIPs, [{ ip: '10.1.0.5' }, { ip: 'fd00::5' }]);
    assert.equal(st.hostIP, '192.168.0.2');
    assert.equal(cond(st, 'Ready'), 'True');
    assert.equal(st.containerStatuses?.[0]?.containerID, 'k8ts://a-0');
    assert.equal(st.containerStatuses?.[0]?.started, true);
  });

  it('keeps a container unready until its readiness probe succeeds', () => {
    const rp: RuntimePod = { sandboxes: [sandbox], containers: [ctr('a', 0, 'CONTAINER_RUNNING'), ctr('b', 0, 'CONTAINER_RUNNING')] };
    const p = pod({ containers: [{ name: 'a', readinessProbe: { exec: { command: ['true'] } } }] });
    assert.equal(cond(computePodStatus(p, rp, inputs()), 'ContainersReady'), 'False ContainersNotReady: containers with unready status: [a]');
    assert.equal(cond(computePodStatus(p, rp, inputs({}, { 'a-0': true })), 'ContainersReady'), 'True');
  });

  it('shows CrashLoopBackOff with the last termination and the restart count', () => {
    const rp: RuntimePod = {
      sandboxes: [sandbox],
      containers: [ctr('a', 2, 'CONTAINER_EXITED', { exitCode: 1, reason: 'Error', finishedAt: 101 * s }), ctr('a', 1, 'CONTAINER_EXITED', { exitCode: 1 })],
    };
    const st = computePodStatus(pod({ containers: [{ name: 'a' }] }), rp, inputs({ a: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } }));
    const a = st.containerStatuses![0]!;
    assert.equal(a.restartCount, 2);
    assert.deepEqual(a.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } });
    assert.equal(a.lastState?.terminated?.exitCode, 1);
    assert.equal(a.lastState?.terminated?.finishedAt, '1970-01-01T00:01:41Z');
    assert.equal(st.phase, 'Running');
  });

  it('is Succeeded or Failed when containers that will not restart have exited', () => {
    const done = (code: number): RuntimePod => ({ sandboxes: [sandbox], containers: [ctr('a', 0, 'CONTAINER_EXITED', { exitCode: code, finishedAt: 101 * s })] });
    const never = pod({ containers: [{ name: 'a' }], restartPolicy: 'Never' });
    const ok = computePodStatus(never, done(0), inputs());
    assert.equal(ok.phase, 'Succeeded');
    assert.equal(cond(ok, 'Ready'), 'False PodCompleted');
    assert.equal(ok.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    assert.equal(computePodStatus(never, done(2), inputs()).phase, 'Failed');
    assert.equal(computePodStatus(pod({ containers: [{ name: 'a' }], restartPolicy: 'OnFailure' }), done(0), inputs()).phase, 'Succeeded');
  });

  it('waits on init containers: Initialized False with the ones left', () => {
    const p = pod({ initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] });
    const rp: RuntimePod = { sandboxes: [sandbox], containers: [ctr('i1', 0, 'CONTAINER_EXITED', { exitCode: 0, finishedAt: 101 * s }), ctr('i2', 0, 'CONTAINER_RUNNING')] };
    const st = computePodStatus(p, rp, inputs());
    assert.equal(st.phase, 'Pending');
    assert.equal(cond(st, 'Initialized'), 'False ContainersNotInitialized: containers with incomplete status: [i2]');
    const failed = computePodStatus({ ...p, spec: { ...p.spec!, restartPolicy: 'Never' } }, { sandboxes: [sandbox], containers: [ctr('i1', 0, 'CONTAINER_EXITED', { exitCode: 1, finishedAt: 101 * s })] }, inputs());
    assert.equal(failed.phase, 'Failed');
  });

  it('keeps lastTransitionTime while a condition holds', () => {
    const rp: RuntimePod = { sandboxes: [sandbox], containers: [ctr('a', 0, 'CONTAINER_RUNNING'), ctr('b', 0, 'CONTAINER_RUNNING')] };
    const first = computePodStatus(pod(), rp, inputs());
    const later = computePodStatus({ ...pod(), status: first }, rp, { ...inputs(), now: '2026-01-01T00:05:00Z' });
    assert.equal(later.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime, '2026-01-01T00:00:10Z');
  });
});
