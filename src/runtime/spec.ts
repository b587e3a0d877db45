// The OCI runtime spec (config.json) of a container, from the CRI container config, its sandbox and its image
// config, with the defaults upstream runtimes apply: the default capability set, masked and read-only /proc
// paths, the standard mounts, the image's entrypoint and cmd merged with the pod's command and args, env and
// working dir from the image unless the pod sets them.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerConfig, KeyValue, LinuxContainerResources, Mount as CriMount } from '../cri/types.js';
import type { ImageConfig } from './images/oci.js';
import type { SandboxNamespaces } from './namespaces.js';

/** The capabilities a container has unless it adds or drops some (containerd's and CRI-O's set). */
export const defaultCapabilities = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every capability of the kernels we run on (privileged containers get them all). */
export const allCapabilities = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]; // prettier-ignore

/** Paths masked inside /proc and /sys unless the kubelet gives its own list (or the container is privileged). */
export const defaultMaskedPaths = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Paths made read-only inside /proc by default. */
export const defaultReadonlyPaths = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** The OCI runtime spec's shape, as far as we fill it in. */
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: { type: string; path?: string }[];
    cgroupsPath: string;
    resources: Record<string, unknown>;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    sysctl?: Record<string, string>;
    rootfsPropagation?: string;
  };
}

/** A process of the spec (also the body of `runc exec --process`). */
export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  rlimits?: { type: string; hard: number; soft: number }[];
}

/** A mount of the spec. */
export interface OciMount {
  destination: string;
  type?: string;
  source: string;
  options?: string[];
}

/** A resolved user of a container. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

/** What the runtime knows of the sandbox a container joins. */
export interface SpecSandbox {
  namespaces: SandboxNamespaces;
  hostname: string;
  /** Files the sandbox provides: /etc/hosts, /etc/resolv.conf, /etc/hostname. */
  files: { hosts?: string; resolvConf?: string; hostname?: string };
  hostNetwork: boolean;
  hostIpc: boolean;
  hostPid: boolean;
  /** The pod's shared PID namespace (shareProcessNamespace), as a path. */
  podPidNamespace?: string;
  /** The cgroup the pod's containers go below. */
  cgroupParent: string;
  sysctls?: Record<string, string>;
}

/** Everything the spec is built from. */
export interface SpecInput {
  containerId: string;
  rootfs: string;
  config: ContainerConfig;
  image: ImageConfig;
  sandbox: SpecSandbox;
  user: ResolvedUser;
  /** The runtime's own oom_score_adj: a container may not go below it (no CAP_SYS_RESOURCE needed). */
  minOomScoreAdj?: number;
}

/** The command line of a container: the pod's command and args merged with the image's, as containerd does. */
export function containerArgs(config: ContainerConfig, image: ImageConfig): string[] {
  let command = config.command ?? [];
  let args = config.args ?? [];
  if (command.length === 0) {
    if (args.length === 0) args = [...(image.config?.Cmd ?? [])];
    const entrypoint = image.config?.Entrypoint ?? [];
    // An entrypoint of [""] means "none" (docker's way of clearing it).
    if (!(entrypoint.length === 1 && entrypoint[0] === '')) command = [...entrypoint];
  }
  const all = [...command, ...args];
  if (all.length === 0) throw new Error('no command specified');
  return all;
}

/** The image's env overlaid with the pod's (the pod wins), keeping the image's order for the keys it sets. */
export function containerEnv(imageEnv: string[], envs: KeyValue[], hostname: string): string[] {
  const order: string[] = [];
  const values = new Map<string, string>();
  const set = (k: string, v: string) => {
    if (!values.has(k)) order.push(k);
    values.set(k, v);
  };
  if (!imageEnv.some((e) => e.startsWith('PATH='))) {
    set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  }
  for (const e of imageEnv) {
    const i = e.indexOf('=');
    if (i > 0) set(e.slice(0, i), e.slice(i + 1));
  }
  if (hostname) set('HOSTNAME', hostname);
  for (const kv of envs) if (kv.key) set(kv.key, kv.value ?? '');
  return order.map((k) => `${k}=${values.get(k) ?? ''}`);
}

function normaliseCap(c: string): string {
  const upper = c.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** The capability set after the pod's add and drop lists ("ALL" allowed in either), as containerd applies them. */
export function containerCapabilities(add: string[], drop: string[], privileged: boolean): string[] {
  if (privileged) return [...allCapabilities];
  const addAll = add.some((c) => c.toUpperCase() === 'ALL');
  const dropAll = drop.some((c) => c.toUpperCase() === 'ALL');
  let caps = addAll ? [...allCapabilities] : [...defaultCapabilities];
  if (dropAll) caps = [];
  else {
    const dropped = new Set(drop.map(normaliseCap));
    caps = caps.filter((c) => !dropped.has(c));
  }
  if (!addAll) {
    for (const c of add.map(normaliseCap)) if (!caps.includes(c)) caps.push(c);
  }
  return caps;
}

/** Parses a user in /etc/passwd or /etc/group of a rootfs. */
async function lookupFile(rootfs: string, file: string): Promise<string[][]> {
  try {
    const text = await readFile(path.join(rootfs, file), 'utf8');
    return text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** A rootfs' /etc/passwd and /etc/group, parsed (empty when missing). */
export interface UserFiles {
  passwd: string[][];
  groups: string[][];
}

/** Reads a rootfs' /etc/passwd and /etc/group (an image's are the same for all its containers at creation). */
export async function readUserFiles(rootfs: string): Promise<UserFiles> {
  const [passwd, groups] = await Promise.all([lookupFile(rootfs, 'etc/passwd'), lookupFile(rootfs, 'etc/group')]);
  return { passwd, groups };
}

/**
 * Resolves the container's user: runAsUser/runAsGroup/runAsUsername from the pod, else the image's User
 * ("name", "uid", "name:group", "uid:gid"), looked up in the rootfs' /etc/passwd and /etc/group; plus the
 * pod's supplemental groups and (as Docker and containerd do) the groups that list the user by name.
 */
export async function resolveUser(
  rootfs: string | UserFiles,
  imageUser: string | undefined,
  pod: { runAsUser?: number; runAsGroup?: number; runAsUsername?: string; supplementalGroups?: number[] },
): Promise<ResolvedUser> {
  const { passwd, groups } = typeof rootfs === 'string' ? await readUserFiles(rootfs) : rootfs;
  let userSpec = imageUser ?? '';
  let groupSpec: string | undefined;
  const colon = userSpec.indexOf(':');
  if (colon >= 0) {
    groupSpec = userSpec.slice(colon + 1);
    userSpec = userSpec.slice(0, colon);
  }
  if (pod.runAsUser !== undefined) userSpec = String(pod.runAsUser);
  else if (pod.runAsUsername) userSpec = pod.runAsUsername;
  let uid = 0;
  let gid = 0;
  let name: string | undefined;
  if (userSpec !== '') {
    const entry = /^\d+$/.test(userSpec)
      ? passwd.find((p) => p[2] === userSpec)
      : passwd.find((p) => p[0] === userSpec);
    if (entry) {
      name = entry[0];
      uid = Number(entry[2]);
      gid = Number(entry[3]);
    } else if (/^\d+$/.test(userSpec)) {
      uid = Number(userSpec);
      gid = uid === 0 ? 0 : gid;
    } else {
      throw new Error(`unable to find user ${userSpec}: no matching entries in passwd file`);
    }
  }
  if (groupSpec !== undefined && groupSpec !== '' && pod.runAsGroup === undefined) {
    if (/^\d+$/.test(groupSpec)) gid = Number(groupSpec);
    else {
      const g = groups.find((e) => e[0] === groupSpec);
      if (!g) throw new Error(`unable to find group ${groupSpec}: no matching entries in group file`);
      gid = Number(g[2]);
    }
  }
  if (pod.runAsGroup !== undefined) gid = pod.runAsGroup;
  const additional = new Set<number>();
  if (name !== undefined) {
    for (const g of groups) if ((g[3] ?? '').split(',').includes(name)) additional.add(Number(g[2]));
  }
  for (const g of pod.supplementalGroups ?? []) additional.add(g);
  additional.delete(gid);
  return { uid, gid, additionalGids: [...additional].sort((a, b) => a - b) };
}

function bindOptions(m: CriMount): string[] {
  const propagation =
    m.propagation === 'PROPAGATION_BIDIRECTIONAL'
      ? 'rshared'
      : m.propagation === 'PROPAGATION_HOST_TO_CONTAINER'
        ? 'rslave'
        : 'rprivate';
  return ['rbind', propagation, m.readonly === true ? 'ro' : 'rw'];
}


/**
 * The OCI runtime spec's linux.resources cpu and memory from CRI's LinuxContainerResources: at creation and
 * in `runc update`. Swap as large as the limit (memory+swap = limit) means no swap, as containerd sets it.
 */
export function ociCpuAndMemory(res: LinuxContainerResources): { cpu?: Record<string, unknown>; memory?: Record<string, unknown> } {
  const out: { cpu?: Record<string, unknown>; memory?: Record<string, unknown> } = {};
  const cpu: Record<string, unknown> = {};
  if (res.cpuShares) cpu.shares = res.cpuShares;
  if (res.cpuQuota) cpu.quota = res.cpuQuota;
  if (res.cpuPeriod) cpu.period = res.cpuPeriod;
  if (res.cpusetCpus) cpu.cpus = res.cpusetCpus;
  if (res.cpusetMems) cpu.mems = res.cpusetMems;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (res.memoryLimitInBytes) out.memory = { limit: res.memoryLimitInBytes, swap: res.memorySwapLimitInBytes || res.memoryLimitInBytes };
  return out;
}

/** Builds the spec. */
export function buildSpec(input: SpecInput): OciSpec {
  const { config, sandbox, image } = input;
  const sc = config.linux?.securityContext ?? {};
  const privileged = sc.privileged === true;
  const caps = containerCapabilities(
    sc.capabilities?.addCapabilities ?? [],
    sc.capabilities?.dropCapabilities ?? [],
    privileged,
  );
  const ambient = (sc.capabilities?.addAmbientCapabilities ?? []).map(normaliseCap);
  const args = containerArgs(config, image);
  const cwd = config.workingDir || image.config?.WorkingDir || '/';
  const env = containerEnv(image.config?.Env ?? [], config.envs ?? [], sandbox.hostname);

  const res = config.linux?.resources ?? {};
  const resources: Record<string, unknown> = {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }],
    ...ociCpuAndMemory(res),
  };
  if (res.hugepageLimits && res.hugepageLimits.length > 0) {
    resources.hugepageLimits = res.hugepageLimits.map((h) => ({ pageSize: h.pageSize, limit: h.limit }));
  }
  if (res.unified && Object.keys(res.unified).length > 0) resources.unified = res.unified;

  // Mounts: the standard file systems, then the sandbox's files, then the kubelet's, which win on a clash.
  const criMounts = config.mounts ?? [];
  const taken = new Set(criMounts.map((m) => path.posix.normalize(m.containerPath ?? '')));
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
  ]; // prettier-ignore
  if (!taken.has('/dev/shm')) {
    mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] }); // prettier-ignore
  }
  const files: [string, string | undefined][] = [
    ['/etc/hosts', sandbox.files.hosts],
    ['/etc/resolv.conf', sandbox.files.resolvConf],
    ['/etc/hostname', sandbox.files.hostname],
  ];
  for (const [destination, source] of files) {
    if (source === undefined || taken.has(destination)) continue;
    mounts.push({
      destination,
      type: 'bind',
      source,
      options: ['rbind', 'rprivate', sc.readonlyRootfs ? 'ro' : 'rw'],
    });
  }
  for (const m of criMounts) {
    if (!m.containerPath || !m.hostPath) continue;
    mounts.push({ destination: m.containerPath, type: 'bind', source: m.hostPath, options: bindOptions(m) });
  }

  const ns = sc.namespaceOptions ?? {};
  const namespaces: { type: string; path?: string }[] = [{ type: 'mount' }];
  // The pod's PID namespace when the kubelet asks for it (shareProcessNamespace), the host's, or its own.
  if (ns.pid === 'POD' && sandbox.podPidNamespace)
    namespaces.push({ type: 'pid', path: sandbox.podPidNamespace });
  else if (ns.pid !== 'NODE' && !sandbox.hostPid) namespaces.push({ type: 'pid' });
  if (!sandbox.hostNetwork && ns.network !== 'NODE') {
    namespaces.push(
      sandbox.namespaces.net ? { type: 'network', path: sandbox.namespaces.net } : { type: 'network' },
    );
  }
  if (!sandbox.hostIpc && ns.ipc !== 'NODE') {
    namespaces.push(sandbox.namespaces.ipc ? { type: 'ipc', path: sandbox.namespaces.ipc } : { type: 'ipc' });
  }
  if (sandbox.namespaces.uts) namespaces.push({ type: 'uts', path: sandbox.namespaces.uts });
  else if (!sandbox.hostNetwork) namespaces.push({ type: 'uts' });
  namespaces.push({ type: 'cgroup' });

  let oomScoreAdj = res.oomScoreAdj;
  if (oomScoreAdj !== undefined && input.minOomScoreAdj !== undefined && oomScoreAdj < input.minOomScoreAdj) {
    oomScoreAdj = input.minOomScoreAdj;
  }

  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: config.tty === true,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: input.user.additionalGids },
      args,
      env,
      cwd,
      capabilities: {
        bounding: caps,
        effective: caps,
        permitted: caps,
        inheritable: ambient.length > 0 ? ambient : [],
        ambient,
      },
      noNewPrivileges: sc.noNewPrivs === true,
      ...(oomScoreAdj === undefined || oomScoreAdj === 0 ? {} : { oomScoreAdj }),
    },
    root: { path: input.rootfs, readonly: sc.readonlyRootfs === true },
    mounts,
    annotations: { ...(config.annotations ?? {}) },
    linux: {
      namespaces,
      cgroupsPath: path.posix.join(sandbox.cgroupParent, input.containerId),
      resources,
      ...(privileged
        ? {}
        : {
            maskedPaths: sc.maskedPaths && sc.maskedPaths.length > 0 ? sc.maskedPaths : defaultMaskedPaths,
            readonlyPaths:
              sc.readonlyPaths && sc.readonlyPaths.length > 0 ? sc.readonlyPaths : defaultReadonlyPaths,
          }),
      ...(sandbox.sysctls && Object.keys(sandbox.sysctls).length > 0 ? { sysctl: sandbox.sysctls } : {}),
    },
  };
  if (!sandbox.hostNetwork || sandbox.namespaces.uts) spec.hostname = sandbox.hostname;
  return spec;
}
