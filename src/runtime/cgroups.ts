// Reading containers' cgroups, v1 (one hierarchy per controller, also the hybrid layout with a cgroup2 mount
// beside them) and v2 (one unified hierarchy). runc creates and deletes the cgroups; we read usage, limits,
// throttling and OOM kills from them, and remove the parent directories we made.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';

/** Which cgroup layout the host has. */
export type CgroupVersion = 1 | 2;

const root = '/sys/fs/cgroup';

/** v2 when /sys/fs/cgroup is itself the unified hierarchy; v1 (also hybrid) otherwise. */
export function cgroupVersion(): CgroupVersion {
  return existsSync(path.join(root, 'cgroup.controllers')) ? 2 : 1;
}

/** Figures of one cgroup. */
export interface CgroupStats {
  /** CPU time used, nanoseconds. */
  cpuUsageNanos: number;
  memoryUsageBytes: number;
  /** Usage minus inactive file pages, as the kubelet's eviction and cAdvisor compute it. */
  memoryWorkingSetBytes: number;
  memoryRssBytes: number;
  pageFaults: number;
  majorPageFaults: number;
  cfsPeriods: number;
  cfsThrottledPeriods: number;
  cfsThrottledNanos: number;
  oomKills: number;
  pids: number;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function keyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

async function num(file: string): Promise<number> {
  const text = await readText(file);
  const n = Number(text?.trim());
  return Number.isFinite(n) ? n : 0;
}

/** Reads the figures of the cgroup at `cgroupPath` (absolute, as in the OCI spec's cgroupsPath). */
export async function readCgroupStats(cgroupPath: string, version = cgroupVersion()): Promise<CgroupStats> {
  if (version === 2) {
    const dir = path.join(root, cgroupPath);
    const [cpu, mem, events, current, pids] = await Promise.all([
      readText(path.join(dir, 'cpu.stat')).then(keyed),
      readText(path.join(dir, 'memory.stat')).then(keyed),
      readText(path.join(dir, 'memory.events')).then(keyed),
      num(path.join(dir, 'memory.current')),
      num(path.join(dir, 'pids.current')),
    ]);
    const inactive = mem.get('inactive_file') ?? 0;
    return {
      cpuUsageNanos: (cpu.get('usage_usec') ?? 0) * 1000,
      memoryUsageBytes: current,
      memoryWorkingSetBytes: Math.max(0, current - inactive),
      memoryRssBytes: mem.get('anon') ?? 0,
      pageFaults: mem.get('pgfault') ?? 0,
      majorPageFaults: mem.get('pgmajfault') ?? 0,
      cfsPeriods: cpu.get('nr_periods') ?? 0,
      cfsThrottledPeriods: cpu.get('nr_throttled') ?? 0,
      cfsThrottledNanos: (cpu.get('throttled_usec') ?? 0) * 1000,
      oomKills: events.get('oom_kill') ?? 0,
      pids,
    };
  }
  const at = (controller: string, file: string) => path.join(root, controller, cgroupPath, file);
  const [usage, cpuacct, cpu, mem, oom, pids] = await Promise.all([
    num(at('memory', 'memory.usage_in_bytes')),
    num(at('cpuacct', 'cpuacct.usage')),
    readText(at('cpu', 'cpu.stat')).then(keyed),
    readText(at('memory', 'memory.stat')).then(keyed),
    readText(at('memory', 'memory.oom_control')).then(keyed),
    num(at('pids', 'pids.current')),
  ]);
  const inactive = mem.get('total_inactive_file') ?? 0;
  return {
    cpuUsageNanos: cpuacct,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: Math.max(0, usage - inactive),
    memoryRssBytes: mem.get('total_rss') ?? 0,
    pageFaults: mem.get('total_pgfault') ?? 0,
    majorPageFaults: mem.get('total_pgmajfault') ?? 0,
    cfsPeriods: cpu.get('nr_periods') ?? 0,
    cfsThrottledPeriods: cpu.get('nr_throttled') ?? 0,
    cfsThrottledNanos: cpu.get('throttled_time') ?? 0,
    oomKills: oom.get('oom_kill') ?? 0,
    pids,
  };
}

/** The number of OOM kills recorded in a cgroup (0 when it is gone). */
export function oomKills(cgroupPath: string, version = cgroupVersion()): number {
  // Read at once (a kernel-made file of a few lines): this is on the path from a container's exit to its
  // status, where a trip through the thread pool costs two thread wakeups.
  const file =
    version === 2
      ? path.join(root, cgroupPath, 'memory.events')
      : path.join(root, 'memory', cgroupPath, 'memory.oom_control');
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  return keyed(text).get('oom_kill') ?? 0;
}

let hierarchies: string[] | undefined;

/**
 * The directories of one cgroup path in every hierarchy, from a list of the hierarchies read once (the
 * mounts under /sys/fs/cgroup do not change while we run).
 */
export function cgroupDirsCached(cgroupPath: string, version: CgroupVersion): string[] {
  if (version === 2) return [path.join(root, cgroupPath)];
  hierarchies ??= readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  return hierarchies.map((h) => path.join(root, h, cgroupPath));
}

/** The directories of one cgroup path in every hierarchy (one on v2, one per mounted controller on v1). */
async function cgroupDirs(cgroupPath: string, version: CgroupVersion): Promise<string[]> {
  if (version === 2) return [path.join(root, cgroupPath)];
  const dirs: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    // Skip symlinks (cpu → cpu,cpuacct) so each hierarchy is visited once.
    if (entry.isDirectory()) dirs.push(path.join(root, entry.name, cgroupPath));
  }
  return dirs;
}

/**
 * Removes an (empty) cgroup and its empty children in every hierarchy, deepest first. Directories that still
 * hold processes, or do not exist, are left as they are.
 */
export async function removeCgroup(cgroupPath: string, version = cgroupVersion()): Promise<void> {
  if (cgroupPath === '/' || cgroupPath === '') return;
  const removeTree = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) await removeTree(path.join(dir, e.name));
    // Tasks of a just-ended container may linger a moment (EBUSY).
    for (let attempt = 0; ; attempt++) {
      try {
        await rmdir(dir);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EBUSY' || attempt >= 20) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all((await cgroupDirs(cgroupPath, version)).map(removeTree));
}
