// The Pod table: NAME READY STATUS RESTARTS AGE | IP NODE NOMINATED NODE READINESS GATES, with the STATUS
// that kubectl users know ("Init:0/1", "CrashLoopBackOff", "Completed", "Terminating", ...) computed the way
// upstream's printer computes it from the pod's phase, conditions and container states.
import type { Container, ContainerStatus, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { ageColumn, column, nameColumn, printer } from './columns.js';
import { humanDuration, parseTime, translateTimestampSince } from './human-duration.js';
import type { PrintedRow, TableRowCondition } from './table.js';

const columns = [
  nameColumn,
  column('Ready', 'string', 'Ready containers out of all containers that should be running.'),
  column('Status', 'string', 'A one-word summary of where the pod is in its life.'),
  column('Restarts', 'string', 'Container restarts so far, and how long ago the latest one was.'),
  ageColumn,
  column('IP', 'string', 'The first IP address given to the pod.', { wide: true }),
  column('Node', 'string', 'The node the pod is bound to.', { wide: true }),
  column('Nominated Node', 'string', 'The node preemption made room on, before binding.', { wide: true }),
  column('Readiness Gates', 'string', 'Readiness gates met out of those the pod declares.', { wide: true }),
];

// The reason the node lifecycle controller gives pods on a node that stopped reporting.
const nodeUnreachablePodReason = 'NodeLost';

const succeededConditions: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const failedConditions: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
];

/** A sidecar: an init container that keeps running beside the app containers. */
function isRestartableInitContainer(container: Container | undefined): boolean {
  return container?.restartPolicy === 'Always';
}

function hasCondition(conditions: readonly PodCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** The first Initialized condition decides, as upstream looks no further. */
function isInitialized(conditions: readonly PodCondition[] | undefined): boolean {
  const c = (conditions ?? []).find((x) => x.type === 'Initialized');
  return c?.status === 'True';
}

function lastTermination(status: ContainerStatus): number | undefined {
  return status.lastState?.terminated ? parseTime(status.lastState.terminated.finishedAt) : undefined;
}

function later(a: number | undefined, b: number | undefined): number | undefined {
  if (b === undefined) return a;
  if (a === undefined) return b;
  return b > a ? b : a;
}

/** The cells of one pod. */
export function printPod(pod: Pod, now: number): PrintedRow {
  const spec = pod.spec;
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = spec?.containers?.length ?? 0;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;

  const phase = status.phase ?? '';
  let reason = status.reason ? status.reason : phase;
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  let conditions: TableRowCondition[] | undefined;
  if (phase === 'Succeeded') conditions = succeededConditions;
  else if (phase === 'Failed') conditions = failedConditions;

  const initContainers = new Map<string, Container>();
  for (const c of spec?.initContainers ?? []) {
    initContainers.set(c.name, c);
    if (isRestartableInitContainer(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (const [i, container] of initStatuses.entries()) {
    restarts += container.restartCount ?? 0;
    lastRestart = later(lastRestart, lastTermination(container));
    const sidecar = isRestartableInitContainer(initContainers.get(container.name));
    if (sidecar) {
      restartableInitRestarts += container.restartCount ?? 0;
      lastRestartableInitRestart = later(lastRestartableInitRestart, lastTermination(container));
    }
    const terminated = container.state?.terminated;
    const waiting = container.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (sidecar && container.started === true) {
      if (container.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) {
        reason = terminated.signal
          ? `Init:Signal:${terminated.signal}`
          : `Init:ExitCode:${terminated.exitCode}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${spec?.initContainers?.length ?? 0}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || isInitialized(status.conditions)) {
    // Once the pod is past its init phase, only sidecar restarts count among the init containers'.
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i];
      if (!container) continue;
      restarts += container.restartCount ?? 0;
      lastRestart = later(lastRestart, lastTermination(container));
      const waiting = container.state?.waiting;
      const terminated = container.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      } else if (container.ready && container.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // One container finished while another still runs: the pod as a whole is still running.
    if (reason === 'Completed' && hasRunning) {
      reason = hasCondition(status.conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp && status.reason === nodeUnreachablePodReason) {
    reason = 'Unknown';
  } else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') {
    reason = 'Terminating';
  }

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsCell = `${restarts} (${humanDuration(now - lastRestart)} ago)`;
  }

  let readinessGates = '<none>';
  const gates = spec?.readinessGates ?? [];
  if (gates.length > 0) {
    let met = 0;
    for (const gate of gates) {
      const c = (status.conditions ?? []).find((x) => x.type === gate.conditionType);
      if (c?.status === 'True') met++;
    }
    readinessGates = `${met}/${gates.length}`;
  }

  const row: PrintedRow = {
    cells: [
      pod.metadata?.name ?? '',
      `${readyContainers}/${totalContainers}`,
      reason,
      restartsCell,
      translateTimestampSince(pod.metadata?.creationTimestamp, now),
      status.podIPs?.[0]?.ip || '<none>',
      spec?.nodeName || '<none>',
      status.nominatedNodeName || '<none>',
      readinessGates,
    ],
  };
  if (conditions) row.conditions = conditions;
  return row;
}

/** The Pod printer. */
export const podPrinter = printer([{ group: '', kind: 'Pod' }], columns, printPod);
