// The Node object the kubelet registers and the status it keeps current, as upstream's kubelet computes
// them (pkg/kubelet/nodestatus): capacity and allocatable (minus the default hard eviction thresholds:
// memory.available 100Mi, nodefs.available 10%), addresses, nodeInfo, the well-known labels, and the four
// conditions with upstream's reasons and messages.
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { newQuantity, Quantity } from '../../api/quantity.js';
import type { HostInfo } from './host-info.js';

/** The kubelet's status-related periods (upstream defaults). */
export const nodeStatusUpdateFrequencyMs = 10_000;
export const nodeStatusReportFrequencyMs = 5 * 60_000;
export const nodeLeaseDurationSeconds = 40;
/** The lease is renewed at a quarter of its duration: every 10 s. */
export const nodeLeaseRenewIntervalMs = (nodeLeaseDurationSeconds * 1000) / 4;
/** The port the node's kubelet serves on (status.daemonEndpoints). */
export const kubeletPort = 10250;
/** Pods per node (upstream's --max-pods default). */
export const maxPods = 110;

/** What the node's conditions depend on. */
export interface NodeHealth {
  /** Empty when the runtime and network are ready; else why not (Ready=False). */
  notReadyMessage: string;
  memoryPressure: boolean;
  diskPressure: boolean;
  pidPressure: boolean;
}

/** The kubelet's version and runtime, for nodeInfo. */
export interface NodeVersions {
  kubeletVersion: string;
  containerRuntimeVersion: string;
}

function bytes(n: number): Quantity {
  return newQuantity(BigInt(Math.max(0, Math.floor(n))), 'BinarySI');
}

/** capacity and allocatable from the host facts. */
export function nodeResources(host: HostInfo): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const capacity = {
    cpu: String(host.cpus),
    'ephemeral-storage': bytes(host.ephemeralStorageBytes).toString(),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: bytes(host.memoryBytes).toString(),
    pods: String(maxPods),
  };
  const memAlloc = bytes(host.memoryBytes).sub(Quantity.parse('100Mi'));
  const ephAlloc = bytes(host.ephemeralStorageBytes * 0.9);
  return {
    capacity,
    allocatable: {
      ...capacity,
      'ephemeral-storage': ephAlloc.toString(),
      memory: (memAlloc.sign() < 0 ? Quantity.parse('0') : memAlloc).toString(),
    },
  };
}

/** The well-known labels the kubelet sets on its Node. */
export function nodeLabels(host: HostInfo, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': host.architecture,
    'beta.kubernetes.io/os': host.operatingSystem,
    'kubernetes.io/arch': host.architecture,
    'kubernetes.io/hostname': host.hostname,
    'kubernetes.io/os': host.operatingSystem,
    ...extra,
  };
}

interface ConditionText {
  type: string;
  trueReason: string;
  trueMessage: string;
  falseReason: string;
  falseMessage: string;
}

const pressureConditions: (ConditionText & { key: 'memoryPressure' | 'diskPressure' | 'pidPressure' })[] = [
  {
    type: 'MemoryPressure',
    key: 'memoryPressure',
    trueReason: 'KubeletHasInsufficientMemory',
    trueMessage: 'kubelet has insufficient memory available',
    falseReason: 'KubeletHasSufficientMemory',
    falseMessage: 'kubelet has sufficient memory available',
  },
  {
    type: 'DiskPressure',
    key: 'diskPressure',
    trueReason: 'KubeletHasDiskPressure',
    trueMessage: 'kubelet has disk pressure',
    falseReason: 'KubeletHasNoDiskPressure',
    falseMessage: 'kubelet has no disk pressure',
  },
  {
    type: 'PIDPressure',
    key: 'pidPressure',
    trueReason: 'KubeletHasInsufficientPID',
    trueMessage: 'kubelet has insufficient PID available',
    falseReason: 'KubeletHasSufficientPID',
    falseMessage: 'kubelet has sufficient PID available',
  },
];

/** Upstream's time format for conditions (seconds, UTC). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Conditions as of `now`, keeping each one's lastTransitionTime while its status holds. */
export function nodeConditions(health: NodeHealth, previous: readonly NodeCondition[] | undefined, now: number): NodeCondition[] {
  const t = rfc3339(now);
  const make = (type: string, status: boolean, reason: string, message: string): NodeCondition => {
    const prev = previous?.find((c) => c.type === type);
    const s = status ? 'True' : 'False';
    return {
      type,
      status: s,
      lastHeartbeatTime: t,
      lastTransitionTime: prev && prev.status === s && prev.lastTransitionTime ? prev.lastTransitionTime : t,
      reason,
      message,
    };
  };
  const out = pressureConditions.map((c) => (health[c.key] ? make(c.type, true, c.trueReason, c.trueMessage) : make(c.type, false, c.falseReason, c.falseMessage)));
  out.push(
    health.notReadyMessage === ''
      ? make('Ready', true, 'KubeletReady', 'kubelet is posting ready status')
      : make('Ready', false, 'KubeletNotReady', health.notReadyMessage),
  );
  return out;
}

/** The Node the kubelet registers. */
export function initialNode(name: string, host: HostInfo, versions: NodeVersions, health: NodeHealth, now: number, labels: Record<string, string> = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: nodeLabels(host, labels),
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {},
    status: nodeStatus(host, versions, health, undefined, now),
  };
}

/** The status part of the Node (what nodes/status patches carry). */
export function nodeStatus(host: HostInfo, versions: NodeVersions, health: NodeHealth, previous: Node['status'], now: number): NonNullable<Node['status']> {
  const { capacity, allocatable } = nodeResources(host);
  return {
    capacity,
    allocatable,
    conditions: nodeConditions(health, previous?.conditions, now),
    addresses: host.addresses.map((a) => ({ ...a })),
    daemonEndpoints: { kubeletEndpoint: { Port: host.kubeletPort ?? kubeletPort } },
    nodeInfo: {
      machineID: host.machineID,
      systemUUID: host.systemUUID,
      bootID: host.bootID,
      kernelVersion: host.kernelVersion,
      osImage: host.osImage,
      containerRuntimeVersion: versions.containerRuntimeVersion,
      kubeletVersion: versions.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: host.operatingSystem,
      architecture: host.architecture,
    },
  };
}

/** True when two statuses differ in more than the conditions' heartbeat times (upstream's nodeStatusHasChanged). */
export function nodeStatusChanged(a: Node['status'] | undefined, b: Node['status'] | undefined): boolean {
  const strip = (s: Node['status'] | undefined): unknown =>
    s === undefined ? undefined : { ...s, conditions: (s.conditions ?? []).map(({ lastHeartbeatTime: _h, ...rest }) => rest) };
  return JSON.stringify(strip(a)) !== JSON.stringify(strip(b));
}
