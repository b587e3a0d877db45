// What the kubelet reports about its machine: cpu, memory and disk capacity, addresses, and the nodeInfo
// strings, read from the host (Linux /proc and /etc), or made up for a simulated node.
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';

/** The host facts a Node's status carries. */
export interface HostInfo {
  hostname: string;
  cpus: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  addresses: { type: 'InternalIP' | 'ExternalIP' | 'Hostname'; address: string }[];
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  operatingSystem: string;
  architecture: string;
  /** The port the kubelet's server listens on, for status.daemonEndpoints (default 10250). */
  kubeletPort?: number;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Go's GOARCH name for Node's process.arch. */
export function goArch(arch: string = process.arch): string {
  const m: Record<string, string> = { x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return m[arch] ?? arch;
}

function memTotalBytes(): number {
  const m = /^MemTotal:\s+(\d+) kB/m.exec(read('/proc/meminfo'));
  return m ? Number(m[1]) * 1024 : os.totalmem();
}

function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(read('/etc/os-release'));
  return m?.[1] ?? `${os.type()} ${os.release()}`;
}

/** The node's IPs: the first global IPv4 and IPv6 address of the host's interfaces (or those given). */
export function hostAddresses(nodeIPs: string[] = []): string[] {
  if (nodeIPs.length > 0) return nodeIPs;
  let v4: string | undefined;
  let v6: string | undefined;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') v4 ??= a.address;
      else if (!a.address.toLowerCase().startsWith('fe80')) v6 ??= a.address;
    }
  }
  const out = [v4, v6].filter((a): a is string => a !== undefined);
  return out.length > 0 ? out : ['127.0.0.1'];
}

/** Reads the host's facts; `rootDir` is the kubelet's folder, whose file system is ephemeral-storage. */
export function readHostInfo(options: { hostname?: string; rootDir?: string; nodeIPs?: string[] } = {}): HostInfo {
  const hostname = (options.hostname ?? os.hostname()).toLowerCase();
  let ephemeral = 0;
  try {
    const s = statfsSync(options.rootDir ?? '/');
    ephemeral = Number(s.blocks) * Number(s.bsize);
  } catch {
    ephemeral = 0;
  }
  const machineID = read('/etc/machine-id');
  return {
    hostname,
    cpus: os.availableParallelism(),
    memoryBytes: memTotalBytes(),
    ephemeralStorageBytes: ephemeral,
    addresses: [
      ...hostAddresses(options.nodeIPs).map((address) => ({ type: 'InternalIP' as const, address })),
      { type: 'Hostname', address: hostname },
    ],
    machineID,
    systemUUID: read('/sys/class/dmi/id/product_uuid') || machineID,
    bootID: read('/proc/sys/kernel/random/boot_id'),
    kernelVersion: os.release(),
    osImage: osImage(),
    operatingSystem: 'linux',
    architecture: goArch(),
  };
}

/** Made-up facts for simulated node number `index` (as kwok's defaults: 32 cpus, 256 GiB). */
export function simulatedHostInfo(name: string, index: number): HostInfo {
  const n = index + 1;
  const v4 = `10.${128 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;
  const v6 = `fd00:10::${n.toString(16)}`;
  const id = index.toString(16).padStart(32, '0');
  return {
    hostname: name,
    cpus: 32,
    memoryBytes: 256 * 1024 ** 3,
    ephemeralStorageBytes: 1024 ** 4,
    addresses: [
      { type: 'InternalIP', address: v4 },
      { type: 'InternalIP', address: v6 },
      { type: 'Hostname', address: name },
    ],
    machineID: id,
    systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`,
    bootID: id,
    kernelVersion: os.release(),
    osImage: 'k8ts simulated node',
    operatingSystem: 'linux',
    architecture: goArch(),
  };
}

/** What the eviction thresholds look at: memory.available, nodefs.available, pid.available. */
export interface HostPressureSignals {
  memoryAvailableBytes: number;
  nodefsAvailableBytes: number;
  nodefsCapacityBytes: number;
  pidsAvailable: number;
  pidMax: number;
}

/** Upstream's default hard eviction thresholds: memory.available<100Mi, nodefs.available<10%, and PIDs (pid.available<10% here). */
export function pressure(s: HostPressureSignals): { memoryPressure: boolean; diskPressure: boolean; pidPressure: boolean } {
  return {
    memoryPressure: s.memoryAvailableBytes < 100 * 1024 * 1024,
    diskPressure: s.nodefsCapacityBytes > 0 && s.nodefsAvailableBytes < s.nodefsCapacityBytes * 0.1,
    pidPressure: s.pidMax > 0 && s.pidsAvailable < s.pidMax * 0.1,
  };
}

/** Reads the pressure signals of this host (Linux /proc and statfs of the kubelet's folder). */
export function readPressureSignals(rootDir: string): HostPressureSignals {
  const mem = /^MemAvailable:\s+(\d+) kB/m.exec(read('/proc/meminfo'));
  let avail = 0;
  let cap = 0;
  try {
    const st = statfsSync(rootDir);
    avail = Number(st.bavail) * Number(st.bsize);
    cap = Number(st.blocks) * Number(st.bsize);
  } catch {
    // unknown: no disk pressure
  }
  const pidMax = Number(read('/proc/sys/kernel/pid_max')) || 0;
  const threads = Number(/^\S+ \S+ \S+ \d+\/(\d+)/.exec(read('/proc/loadavg'))?.[1] ?? 0);
  return {
    memoryAvailableBytes: mem ? Number(mem[1]) * 1024 : os.freemem(),
    nodefsAvailableBytes: avail,
    nodefsCapacityBytes: cap,
    pidsAvailable: pidMax - threads,
    pidMax,
  };
}
