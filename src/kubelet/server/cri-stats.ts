// /stats/summary and /metrics from the runtime, as upstream's CRI stats provider builds them: the pods'
// and containers' CPU and memory from CRI ListPodSandboxStats (or, where a runtime lacks it, its
// ListContainerStats grouped by the kubelet's pod labels), the node's own from /proc.
import { readFileSync } from 'node:fs';
import type * as cri from '../../cri/index.js';
import { containerNameLabel, podNameLabel, podNamespaceLabel, podUIDLabel } from '../pod/labels.js';
import type { StatsProvider } from './streaming-runtime.js';

type CpuStats = { time: string; usageNanoCores?: number; usageCoreNanoSeconds?: number };
type MemoryStats = { time: string; workingSetBytes?: number; usageBytes?: number; rssBytes?: number; availableBytes?: number; pageFaults?: number; majorPageFaults?: number };

function iso(ns: number | undefined): string {
  return new Date(ns ? Math.floor(ns / 1e6) : Date.now()).toISOString();
}

function cpuOf(c: cri.CpuUsage | undefined): CpuStats | undefined {
  if (!c) return undefined;
  return {
    time: iso(c.timestamp),
    ...(c.usageNanoCores?.value !== undefined ? { usageNanoCores: c.usageNanoCores.value } : {}),
    ...(c.usageCoreNanoSeconds?.value !== undefined ? { usageCoreNanoSeconds: c.usageCoreNanoSeconds.value } : {}),
  };
}

function memoryOf(m: cri.MemoryUsage | undefined): MemoryStats | undefined {
  if (!m) return undefined;
  const v = (x: cri.UInt64Value | undefined): number | undefined => x?.value;
  const out: MemoryStats = { time: iso(m.timestamp) };
  const fields = { workingSetBytes: v(m.workingSetBytes), usageBytes: v(m.usageBytes), rssBytes: v(m.rssBytes), availableBytes: v(m.availableBytes), pageFaults: v(m.pageFaults), majorPageFaults: v(m.majorPageFaults) };
  for (const [k, x] of Object.entries(fields)) if (x !== undefined) (out as Record<string, unknown>)[k] = x;
  return out;
}

function sum(values: (number | undefined)[]): number | undefined {
  const present = values.filter((x): x is number => x !== undefined);
  return present.length === 0 ? undefined : present.reduce((a, b) => a + b, 0);
}

/** The node's CPU and memory from /proc (what cadvisor's root container reports). */
class NodeUsage {
  private last: { at: number; busy: number } | undefined;

  cpu(): CpuStats {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait; USER_HZ is 100.
    const busy = (ticks.reduce((a, b) => a + b, 0) - (ticks[3] ?? 0) - (ticks[4] ?? 0)) * 1e7;
    const at = Number(process.hrtime.bigint());
    const prev = this.last;
    this.last = { at, busy };
    return {
      time: new Date().toISOString(),
      usageCoreNanoSeconds: busy,
      ...(prev && at > prev.at ? { usageNanoCores: Math.max(0, Math.round(((busy - prev.busy) / (at - prev.at)) * 1e9)) } : {}),
    };
  }

  memory(): MemoryStats {
    const info = readFileSync('/proc/meminfo', 'utf8');
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0) * 1024;
    const total = kb('MemTotal');
    const available = kb('MemAvailable');
    return { time: new Date().toISOString(), availableBytes: available, usageBytes: total - kb('MemFree'), workingSetBytes: total - available };
  }
}

/** The stats of `runtime` for node `nodeName`. */
export function criStatsProvider(runtime: cri.RuntimeService, nodeName: string, startTime: Date = new Date()): StatsProvider {
  const node = new NodeUsage();
  const podStats = async (): Promise<cri.PodSandboxStats[]> => {
    try {
      return (await runtime.listPodSandboxStats({})).stats ?? [];
    } catch {
      // Older runtimes: group the containers' stats by the pod labels the kubelet put on them.
      const { stats } = await runtime.listContainerStats({});
      const bySandbox = new Map<string, cri.PodSandboxStats>();
      for (const c of stats ?? []) {
        const l = c.attributes?.labels ?? {};
        const key = l[podUIDLabel] ?? '';
        const p = bySandbox.get(key) ?? { attributes: { metadata: { name: l[podNameLabel] ?? '', namespace: l[podNamespaceLabel] ?? '', uid: key } }, linux: { containers: [] } };
        p.linux!.containers!.push(c);
        bySandbox.set(key, p);
      }
      return [...bySandbox.values()];
    }
  };
  const summary = async (): Promise<unknown> => {
    const pods = (await podStats()).map((p) => {
      const meta = p.attributes?.metadata ?? {};
      const containers = (p.linux?.containers ?? []).map((c) => {
        const cpu = cpuOf(c.cpu);
        const memory = memoryOf(c.memory);
        return {
          name: c.attributes?.metadata?.name ?? c.attributes?.labels?.[containerNameLabel] ?? '',
          startTime: startTime.toISOString(),
          ...(cpu ? { cpu } : {}),
          ...(memory ? { memory } : {}),
        };
      });
      const cpu = cpuOf(p.linux?.cpu) ?? {
        time: new Date().toISOString(),
        ...(sum(containers.map((c) => c.cpu?.usageNanoCores)) !== undefined ? { usageNanoCores: sum(containers.map((c) => c.cpu?.usageNanoCores)) } : {}),
        ...(sum(containers.map((c) => c.cpu?.usageCoreNanoSeconds)) !== undefined ? { usageCoreNanoSeconds: sum(containers.map((c) => c.cpu?.usageCoreNanoSeconds)) } : {}),
      };
      const memory = memoryOf(p.linux?.memory) ?? {
        time: new Date().toISOString(),
        ...(sum(containers.map((c) => c.memory?.workingSetBytes)) !== undefined ? { workingSetBytes: sum(containers.map((c) => c.memory?.workingSetBytes)) } : {}),
      };
      return {
        podRef: { name: meta.name ?? '', namespace: meta.namespace ?? '', uid: meta.uid ?? '' },
        startTime: startTime.toISOString(),
        containers,
        cpu,
        memory,
      };
    });
    return { node: { nodeName, startTime: startTime.toISOString(), cpu: node.cpu(), memory: node.memory() }, pods };
  };
  const metrics = async (): Promise<string> => {
    const [{ items }, { containers }] = await Promise.all([runtime.listPodSandbox({}), runtime.listContainers({})]);
    const ready = (items ?? []).filter((s) => s.state === 'SANDBOX_READY').length;
    const byState = new Map<string, number>();
    for (const c of containers ?? []) {
      const state = (c.state ?? 'CONTAINER_UNKNOWN').replace('CONTAINER_', '').toLowerCase();
      byState.set(state, (byState.get(state) ?? 0) + 1);
    }
    const lines = [
      '# HELP kubelet_node_name This kubelet\'s node, as a label on a constant 1.',
      '# TYPE kubelet_node_name gauge',
      `kubelet_node_name{node="${nodeName}"} 1`,
      '# HELP kubelet_running_pods Pods whose sandbox is ready.',
      '# TYPE kubelet_running_pods gauge',
      `kubelet_running_pods ${ready}`,
      '# HELP kubelet_running_containers Containers on this node by their CRI state.',
      '# TYPE kubelet_running_containers gauge',
      ...[...byState].map(([state, n]) => `kubelet_running_containers{container_state="${state}"} ${n}`),
    ];
    return lines.join('\n') + '\n';
  };
  return { summary, metrics };
}
