// Container resources → CRI LinuxContainerResources as upstream's kuberuntime computes them: cpu shares
// from the request (the limit when no request), CFS quota from the limit over a 100 ms period, the memory
// limit in bytes, and the OOM score adjustment by QoS class.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../../api/quantity.js';
import { podQOSClass } from './qos.js';

/** The cgroup settings of one container (CRI LinuxContainerResources' fields). */
export interface LinuxResources {
  cpuPeriod: number;
  cpuQuota: number;
  cpuShares: number;
  memoryLimitInBytes: number;
  oomScoreAdj: number;
}

const minShares = 2;
const maxShares = 262144;
const sharesPerCPU = 1024;
const milliCPUToCPU = 1000;
/** The CFS period the kubelet uses. */
export const quotaPeriodUs = 100_000;
const minQuotaPeriod = 1000;
const guaranteedOOMScoreAdj = -997;
const besteffortOOMScoreAdj = 1000;

/** cpu.shares for a number of millicores (2 for none). */
export function milliCPUToShares(milli: number): number {
  if (milli === 0) return minShares;
  const shares = Math.floor((milli * sharesPerCPU) / milliCPUToCPU);
  return Math.min(Math.max(shares, minShares), maxShares);
}

/** The CFS quota (µs per period) for a limit in millicores (0: unlimited). */
export function milliCPUToQuota(milli: number, period = quotaPeriodUs): number {
  if (milli === 0) return 0;
  return Math.max(Math.floor((milli * period) / milliCPUToCPU), minQuotaPeriod);
}

function quantity(v: string | number | undefined): Quantity {
  return Quantity.parse(v === undefined ? '0' : String(v));
}

/** The OOM score adjustment of a container, as upstream's qos policy gives it. */
export function oomScoreAdj(pod: Pod, container: Container, memoryCapacity: number): number {
  const qos = podQOSClass(pod);
  if (qos === 'Guaranteed') return guaranteedOOMScoreAdj;
  if (qos === 'BestEffort') return besteffortOOMScoreAdj;
  const request = Number(quantity(container.resources?.requests?.memory).value());
  if (memoryCapacity <= 0) return besteffortOOMScoreAdj - 1;
  const adj = 1000 - Math.floor((1000 * request) / memoryCapacity);
  if (adj < 1000 + guaranteedOOMScoreAdj) return 1000 + guaranteedOOMScoreAdj;
  if (adj === besteffortOOMScoreAdj) return adj - 1;
  return adj;
}

/** The LinuxContainerResources of `container`; `memoryCapacity` is the node's memory in bytes. */
export function containerResources(pod: Pod, container: Container, memoryCapacity: number): LinuxResources {
  const cpuRequest = quantity(container.resources?.requests?.cpu);
  const cpuLimit = quantity(container.resources?.limits?.cpu);
  const shares = cpuRequest.isZero() && !cpuLimit.isZero() ? milliCPUToShares(Number(cpuLimit.milliValue())) : milliCPUToShares(Number(cpuRequest.milliValue()));
  const memoryLimit = Number(quantity(container.resources?.limits?.memory).value());
  const limitMilli = Number(cpuLimit.milliValue());
  return {
    cpuPeriod: limitMilli > 0 ? quotaPeriodUs : 0,
    cpuQuota: milliCPUToQuota(limitMilli),
    cpuShares: shares,
    memoryLimitInBytes: memoryLimit,
    oomScoreAdj: oomScoreAdj(pod, container, memoryCapacity),
  };
}
