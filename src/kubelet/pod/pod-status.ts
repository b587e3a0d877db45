// The pod status the kubelet reports, computed from the pod, what the runtime says about its sandbox and
// containers, the probe results and the reasons the kubelet keeps for waiting containers, following
// upstream's generateAPIPodStatus and getPhase.
import type { ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import type * as cri from '../../cri/index.js';
import { podQOSClass } from './qos.js';

/** Why a container waits, as the last sync found it. */
export interface Waiting {
  reason: string;
  message?: string;
}

/** The runtime's view of one pod. */
export interface RuntimePod {
  /** The pod's sandboxes, newest first. */
  sandboxes: cri.PodSandboxStatus[];
  /** The pod's containers (every attempt the runtime still has), newest first. */
  containers: cri.ContainerStatus[];
}

/** What status computation needs besides the pod and the runtime view. */
export interface StatusInputs {
  runtimeName: string;
  hostIPs: string[];
  /** Waiting reasons by container name (CrashLoopBackOff, ErrImagePull, CreateContainerConfigError, ...). */
  waiting: ReadonlyMap<string, Waiting>;
  /** Readiness probe results by container ID (absent: no result yet). */
  ready: ReadonlyMap<string, boolean>;
  /** Startup probe results by container ID. */
  started: ReadonlyMap<string, boolean>;
  /** When the kubelet first saw the pod (status.startTime when unset). */
  startTime: string;
  now: string;
}

const nsToTime = (ns: number | undefined): string | undefined =>
  ns ? new Date(Math.floor(ns / 1e9) * 1000).toISOString().replace('.000Z', 'Z') : undefined;

/** The newest runtime container of `name` and the one before it. */
export function latestContainers(rp: RuntimePod, name: string): cri.ContainerStatus[] {
  return rp.containers.filter((c) => c.metadata?.name === name);
}

function terminated(c: cri.ContainerStatus, runtime: string): NonNullable<ContainerStatus['lastState']>['terminated'] {
  return {
    exitCode: c.exitCode ?? 0,
    reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
    ...(c.message ? { message: c.message } : {}),
    startedAt: nsToTime(c.startedAt) ?? nsToTime(c.createdAt)!,
    finishedAt: nsToTime(c.finishedAt)!,
    containerID: `${runtime}://${c.id}`,
  };
}

function restartCountOf(c: cri.ContainerStatus | undefined): number {
  return c?.metadata?.attempt ?? 0;
}

/** One container's status. */
export function containerStatus(
  spec: { name: string; image: string; hasStartup: boolean; hasReadiness: boolean },
  rp: RuntimePod,
  inputs: StatusInputs,
  previous: ContainerStatus | undefined,
): ContainerStatus {
  const [cur, prev] = latestContainers(rp, spec.name);
  const waiting = inputs.waiting.get(spec.name);
  const out: ContainerStatus = {
    name: spec.name,
    image: spec.image,
    imageID: cur?.imageRef ?? previous?.imageID ?? '',
    ready: false,
    restartCount: cur ? restartCountOf(cur) : (previous?.restartCount ?? 0),
    started: false,
    state: {},
    lastState: {},
  };
  if (cur) out.containerID = `${inputs.runtimeName}://${cur.id}`;
  if (cur?.state === 'CONTAINER_RUNNING' && !waiting) {
    out.state = { running: { startedAt: nsToTime(cur.startedAt)! } };
    out.started = spec.hasStartup ? inputs.started.get(cur.id!) === true : true;
    out.ready = out.started && (spec.hasReadiness ? inputs.ready.get(cur.id!) === true : true);
    if (prev?.state === 'CONTAINER_EXITED') out.lastState = { terminated: terminated(prev, inputs.runtimeName) };
  } else if (cur?.state === 'CONTAINER_EXITED' && !waiting) {
    out.state = { terminated: terminated(cur, inputs.runtimeName) };
    if (prev?.state === 'CONTAINER_EXITED') out.lastState = { terminated: terminated(prev, inputs.runtimeName) };
  } else {
    out.state = { waiting: { reason: waiting?.reason ?? 'ContainerCreating', ...(waiting?.message ? { message: waiting.message } : {}) } };
    if (cur?.state === 'CONTAINER_EXITED') out.lastState = { terminated: terminated(cur, inputs.runtimeName) };
    else if (previous?.lastState?.terminated) out.lastState = previous.lastState;
    if (cur?.state === 'CONTAINER_RUNNING' || cur?.state === 'CONTAINER_CREATED') delete out.containerID;
  }
  if (!out.containerID) delete out.containerID;
  return out;
}

/** A sidecar: an init container with restartPolicy Always, which runs beside the containers. */
export function isSidecar(c: { restartPolicy?: string }): boolean {
  return c.restartPolicy === 'Always';
}

/** Whether a container of `spec.containers` has run (then the pod was initialized once, whatever sidecars do now). */
function anyRegularStarted(statuses: ContainerStatus[]): boolean {
  return statuses.some((s) => s.state?.running !== undefined || s.state?.terminated !== undefined);
}

/** upstream's getPhase; sidecars count while they run and never make a pod fail or wait once it has started. */
export function podPhase(pod: Pod, initStatuses: ContainerStatus[], statuses: ContainerStatus[]): string {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  let running = 0;
  let waiting = 0;
  const inits = pod.spec?.initContainers ?? [];
  for (const [i, s] of initStatuses.entries()) {
    if (isSidecar(inits[i] ?? {})) {
      if (s.state?.running) {
        if (!s.started) pendingInit++;
        running++;
      } else if (s.state?.waiting && !s.lastState?.terminated) {
        pendingInit++;
        waiting++;
      }
      continue;
    }
    if (s.state?.terminated?.exitCode === 0) continue;
    if (s.state?.terminated) failedInit++;
    else if (s.state?.waiting && s.lastState?.terminated && s.lastState.terminated.exitCode !== 0) failedInit++;
    else pendingInit++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (((pendingInit > 0 || failedInit > 0) && !anyRegularStarted(statuses)) || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, previous: readonly PodCondition[] | undefined, now: string, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = previous?.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null as unknown as string,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

/** The full status the kubelet would write for `pod` now. */
export function computePodStatus(pod: Pod, rp: RuntimePod, inputs: StatusInputs): PodStatus {
  const spec = pod.spec!;
  const prevStatus = pod.status ?? {};
  const prevByName = new Map<string, ContainerStatus>();
  for (const s of [...(prevStatus.initContainerStatuses ?? []), ...(prevStatus.containerStatuses ?? [])]) prevByName.set(s.name, s);
  const statusOf = (c: { name: string; image?: string; startupProbe?: unknown; readinessProbe?: unknown }): ContainerStatus =>
    containerStatus({ name: c.name, image: c.image ?? '', hasStartup: !!c.startupProbe, hasReadiness: !!c.readinessProbe }, rp, inputs, prevByName.get(c.name));
  const initStatuses = (spec.initContainers ?? []).map(statusOf);
  const statuses = spec.containers.map(statusOf).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // A pod already terminal stays so (upstream never moves a pod out of Succeeded or Failed).
  const phase = prevStatus.phase === 'Succeeded' || prevStatus.phase === 'Failed' ? prevStatus.phase : podPhase(pod, initStatuses, statuses);
  const sandbox = rp.sandboxes[0];
  const sandboxReady = sandbox?.state === 'SANDBOX_READY';
  const ips = sandboxReady && sandbox.network?.ip ? [sandbox.network.ip, ...(sandbox.network.additionalIps ?? []).map((x) => x.ip ?? '')].filter((x) => x !== '') : [];
  const prevConds = prevStatus.conditions;
  const now = inputs.now;
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  // A sidecar counts as initialized once it has started; a regular init container once it has succeeded.
  const pendingInit = anyRegularStarted(statuses)
    ? []
    : (spec.initContainers ?? []).filter((c, i) => (isSidecar(c) ? initStatuses[i]!.started !== true : initStatuses[i]!.state?.terminated?.exitCode !== 0)).map((c) => c.name);
  const unready = [
    ...(spec.initContainers ?? []).filter((c, i) => isSidecar(c) && !initStatuses[i]!.ready),
    ...spec.containers.filter((c) => !statuses.find((s) => s.name === c.name)?.ready),
  ].map((c) => c.name);
  const gates = (spec.readinessGates ?? []).map((g) => g.conditionType);
  const unmetGates = gates.filter((t) => prevConds?.find((c) => c.type === t)?.status !== 'True');
  let initialized: PodCondition;
  if (terminal && pendingInit.length === 0) initialized = condition('Initialized', true, prevConds, now, 'PodCompleted');
  else if (pendingInit.length === 0) initialized = condition('Initialized', true, prevConds, now);
  else initialized = condition('Initialized', false, prevConds, now, 'ContainersNotInitialized', `containers with incomplete status: [${pendingInit.join(' ')}]`);
  let containersReady: PodCondition;
  let ready: PodCondition;
  if (terminal && phase === 'Succeeded') {
    containersReady = condition('ContainersReady', false, prevConds, now, 'PodCompleted');
    ready = condition('Ready', false, prevConds, now, 'PodCompleted');
  } else if (unready.length > 0 || (terminal && phase === 'Failed')) {
    const msg = `containers with unready status: [${unready.join(' ')}]`;
    containersReady = condition('ContainersReady', false, prevConds, now, 'ContainersNotReady', msg);
    ready = condition('Ready', false, prevConds, now, 'ContainersNotReady', msg);
  } else {
    containersReady = condition('ContainersReady', true, prevConds, now);
    ready =
      unmetGates.length > 0
        ? condition('Ready', false, prevConds, now, 'ReadinessGatesNotReady', `corresponding condition of pod readiness gate "${unmetGates[0]}" does not exist.`)
        : condition('Ready', true, prevConds, now);
  }
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', sandboxReady && (ips.length > 0 || spec.hostNetwork === true), prevConds, now),
    initialized,
    ready,
    containersReady,
    prevConds?.find((c) => c.type === 'PodScheduled') ?? condition('PodScheduled', true, prevConds, now),
  ];
  // Conditions other components own (readiness gates, DisruptionTarget) stay as they are.
  const own = new Set(conditions.map((c) => c.type));
  for (const c of prevConds ?? []) if (!own.has(c.type)) conditions.push(c);
  const podIPs = spec.hostNetwork ? inputs.hostIPs : ips.length > 0 ? ips : (prevStatus.podIPs ?? []).map((p) => p.ip);
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: inputs.hostIPs[0] ?? '',
    hostIPs: inputs.hostIPs.map((ip) => ({ ip })),
    ...(podIPs.length > 0 ? { podIP: podIPs[0], podIPs: podIPs.map((ip) => ({ ip })) } : {}),
    startTime: prevStatus.startTime ?? inputs.startTime,
    ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    qosClass: podQOSClass(pod),
  };
  return status;
}
