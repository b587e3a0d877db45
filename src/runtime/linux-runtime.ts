// The built-in Linux container runtime behind CRI's RuntimeService (and the in-process StreamingRuntime).
//
// Pod sandbox: network, UTS and IPC namespaces held by bind mounts (namespaces.ts) with no pause process,
// the pod network set up by CNI plugins (cni.ts), and the sandbox's /etc/hosts, /etc/resolv.conf and
// /etc/hostname files. Container: an overlay rootfs from the image store, an OCI spec (spec.ts), run by runc
// or crun under a monitor that outlives k8ts (oci-runtime.ts), stdio through FIFOs into CRI logs (logs.ts).
//
// State on disk, so that a restarted runtime finds its pods and containers again:
//   <root>/sandboxes/<id>/sandbox.json, hosts, resolv.conf, hostname
//   <root>/containers/<id>/container.json (removed.json once removed, until cleaned up), config.json (the
//                          bundle), stdin/stdout/stderr FIFOs, and the monitor's started and exit files
//   <root>/fifos/                              spare FIFOs, made a batch at a time (logs.ts FifoMaker)
//   <stateDir>/ns/<sandbox id>/{net,uts,ipc}   the namespace bind mounts
//   <stateDir>/oci                             the OCI runtime's own state (--root)
//   <stateDir>/pids/<id>                       the container's init PID as the OCI runtime writes it (O_SYNC)
//   <stateDir>/cgroup-v1                       crun on a hybrid cgroup host (oci-runtime.ts)
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Duplex, Writable } from 'node:stream';
import type * as cri from '../cri/types.js';
import { Code, CriError, criErrors } from '../cri/errors.js';
import type { ExecResult, StreamingRuntime, StreamOptions, TerminalSize } from '../cri/streaming.js';
import { logger, type Logger } from '../base/log.js';
import { cgroupDirsCached, cgroupVersion, oomKills, readCgroupStats, removeCgroup, type CgroupStats } from './cgroups.js';
import {
  CniInvoker,
  defaultConfigFile,
  defaultPodCIDRs,
  masqueradeRules,
  ensureNetworkConfig,
  loadNetworkConfig,
  type CniAttachment,
  type CniResult,
  type NetworkConfigList,
} from './cni.js';
import type { ImageService as ImageStore } from './images/image-service.js';
import type { ImageConfig } from './images/oci.js';
import { execFileChecked } from './images/exec.js';
import { FifoMaker, LogPump, openFifoReadWrite } from './logs.js';
import {
  createNamespaces,
  isPidHolder,
  podNetworkSysctls,
  removeNamespaces,
  startPidHolder,
  stopPidHolder,
  type SandboxNamespaceKind,
  type SandboxNamespaces,
} from './namespaces.js';
import { findTerminal, OciRuntime, prepareHybridCgroupsForCrun, resizeTerminal } from './oci-runtime.js';
import { canDoFsOps, runFsOps, type SpawnStdio, type StartedProgram } from './spawner.js';
import { traceStep } from './trace.js';
import {
  buildSpec,
  ociCpuAndMemory,
  readUserFiles,
  resolveUser,
  type OciSpec,
  type SpecSandbox,
  type UserFiles,
} from './spec.js';

/** Networking settings of the runtime. */
export interface RuntimeNetworkOptions {
  /** CNI configuration directory (the first file by name is used); k8ts writes its default there. */
  confDir: string;
  /** Where the plugins are: /usr/lib/cni on Debian, /opt/cni/bin elsewhere. */
  binDirs: string[];
  /** The node's pod CIDRs for the default configuration. */
  podCIDRs?: string[];
  /** The bridge of the default configuration (k8ts0). */
  bridge?: string;
  /** host-local's lease directory. */
  ipamDataDir?: string;
}

/** Produces streaming URLs for CRI's Exec, Attach and PortForward (the streaming server's job). */
export interface StreamingUrls {
  getExec(request: cri.ExecRequest): Promise<cri.ExecResponse>;
  getAttach(request: cri.AttachRequest): Promise<cri.AttachResponse>;
  getPortForward(request: cri.PortForwardRequest): Promise<cri.PortForwardResponse>;
}

/** Options of LinuxRuntime.open. */
export interface LinuxRuntimeOptions {
  /** Persistent state: /var/lib/k8ts/runtime. */
  root: string;
  /** Volatile state (namespaces, the OCI runtime's state): /run/k8ts/runtime. */
  stateDir: string;
  images: ImageStore;
  network: RuntimeNetworkOptions;
  /** "runc" (default), "crun" or a path. */
  ociRuntime?: string;
  /** The cgroup under which sandboxes without a cgroup parent put their containers. */
  defaultCgroupParent?: string;
  streaming?: StreamingUrls;
  log?: Logger;
}

type ContainerStateName =
  'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

interface SandboxRecord {
  id: string;
  config: cri.PodSandboxConfig;
  nameKey: string;
  createdAt: number;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  namespaces: SandboxNamespaces;
  /** The host PID of the pod's PID namespace holder (shareProcessNamespace), 0 if none. */
  pidHolder?: number;
  hostNetwork: boolean;
  hostPid: boolean;
  hostIpc: boolean;
  hostname: string;
  ips: string[];
  cniResult?: CniResult;
  cniAttachment?: CniAttachment;
  cgroupParent: string;
  /** Whether the runtime made the cgroup parent (and removes it with the sandbox). */
  ownsCgroup: boolean;
  runtimeHandler: string;
}

interface ContainerRecord {
  id: string;
  sandboxId: string;
  config: cri.ContainerConfig;
  nameKey: string;
  imageId: string;
  imageName: string;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  state: ContainerStateName;
  logPath: string;
  cgroupPath: string;
  pid: number;
  monitorPid: number;
  /** How the container is watched: run under the spawner's monitor, or `run` in the foreground (tty). */
  mode?: 'monitor' | 'run';
  stopSignal: string;
}

interface LiveContainer {
  pump?: LogPump;
  monitor?: StartedProgram;
  /** Resolves once the monitor noted the container's exit (or is gone), sooner than the monitor's own exit. */
  ended?: Promise<void>;
  lastCpu?: { ns: number; at: number };
  finalising?: Promise<void>;
}

const nsNow = (): number => Date.now() * 1e6;

/** A container whose monitor runs (or ran): it ends with an exit file. */
const watched = (rec: ContainerRecord): boolean =>
  rec.state === 'CONTAINER_RUNNING' || (rec.state === 'CONTAINER_CREATED' && rec.monitorPid > 0);
const newId = (): string => randomBytes(32).toString('hex');

function matchesLabels(
  labels: Record<string, string> | undefined,
  selector: Record<string, string> | undefined,
) {
  for (const [k, v] of Object.entries(selector ?? {})) if (labels?.[k] !== v) return false;
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What `load` gives for an image, kept in `cache` for the next containers of it (the 64 latest images). */
async function perImage<V>(cache: Map<string, V>, imageId: string, load: () => Promise<V>): Promise<V> {
  const known = cache.get(imageId);
  if (known !== undefined) return known;
  const value = await load();
  if (cache.size >= 64) cache.delete(cache.keys().next().value!);
  cache.set(imageId, value);
  return value;
}

/**
 * The first terminal size of `sizes` if it comes within `ms`, and the sizes after it (all of them if none
 * came in time).
 */
async function firstSize(
  sizes: AsyncIterable<TerminalSize>,
  ms: number,
): Promise<{ initial?: TerminalSize; rest: AsyncIterable<TerminalSize> }> {
  const it = sizes[Symbol.asyncIterator]();
  const next = it.next();
  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([
    next,
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]).catch(() => undefined);
  clearTimeout(timer);
  async function* rest(pending?: Promise<IteratorResult<TerminalSize>>): AsyncGenerator<TerminalSize> {
    if (pending) {
      const r = await pending;
      if (r.done) return;
      yield r.value;
    }
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  if (first === undefined) return { rest: rest(next) };
  if (first.done) return { rest: rest() };
  return { initial: first.value, rest: rest() };
}

/** Finds a sandbox or container by full ID or unique prefix (as crictl's short IDs are). */
function findById<T>(map: Map<string, T>, id: string, what: string): T {
  const exact = map.get(id);
  if (exact) return exact;
  if (id.length >= 4) {
    const matches = [...map.keys()].filter((k) => k.startsWith(id));
    if (matches.length === 1) return map.get(matches[0]!)!;
  }
  throw new CriError(Code.NotFound, `an error occurred when try to find ${what} "${id}": not found`);
}

function hostsFile(hostNetwork: boolean): string {
  if (hostNetwork) {
    try {
      return readFileSync('/etc/hosts', 'utf8');
    } catch {
      // fall through to the default
    }
  }
  return '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
}

function resolvConf(dns: cri.DNSConfig | undefined): string | undefined {
  if (
    !dns ||
    ((dns.servers ?? []).length === 0 &&
      (dns.searches ?? []).length === 0 &&
      (dns.options ?? []).length === 0)
  )
    return undefined;
  let out = '';
  if ((dns.searches ?? []).length > 0) out += `search ${(dns.searches ?? []).join(' ')}\n`;
  for (const s of dns.servers ?? []) out += `nameserver ${s}\n`;
  if ((dns.options ?? []).length > 0) out += `options ${(dns.options ?? []).join(' ')}\n`;
  return out;
}

const signalNames = new Set([
  'SIGABRT', 'SIGALRM', 'SIGBUS', 'SIGCHLD', 'SIGCONT', 'SIGFPE', 'SIGHUP', 'SIGILL', 'SIGINT', 'SIGIO',
  'SIGKILL', 'SIGPIPE', 'SIGPROF', 'SIGPWR', 'SIGQUIT', 'SIGSEGV', 'SIGSTOP', 'SIGSYS', 'SIGTERM', 'SIGTRAP',
  'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGUSR1', 'SIGUSR2', 'SIGVTALRM', 'SIGWINCH', 'SIGXCPU', 'SIGXFSZ',
]); // prettier-ignore

/** The built-in runtime. */
export class LinuxRuntime implements cri.RuntimeService {
  readonly root: string;
  readonly stateDir: string;
  readonly images: ImageStore;
  readonly oci: OciRuntime;
  readonly #network: RuntimeNetworkOptions;
  readonly #cni: CniInvoker;
  readonly #log: Logger;
  readonly #defaultCgroupParent: string;
  readonly #streaming: StreamingUrls | undefined;
  readonly #sandboxes = new Map<string, SandboxRecord>();
  readonly #containers = new Map<string, ContainerRecord>();
  readonly #live = new Map<string, LiveContainer>();
  readonly #writes = new Map<string, Promise<void>>();
  readonly #cgroupVersion = cgroupVersion();
  readonly #fifos: FifoMaker;
  readonly #imageConfigs = new Map<string, ImageConfig>();
  readonly #imageUsers = new Map<string, UserFiles>();
  /** Cleanups of removed containers still under way. */
  readonly #removals = new Map<string, { sandboxId: string; cleanup: Promise<void> }>();
  #minOomScoreAdj = 0;
  #closed = false;

  private constructor(options: LinuxRuntimeOptions) {
    this.root = options.root;
    this.stateDir = options.stateDir;
    this.images = options.images;
    this.#network = options.network;
    this.#cni = new CniInvoker(options.network.binDirs);
    this.oci = new OciRuntime({
      binary: options.ociRuntime ?? 'runc',
      root: path.join(options.stateDir, 'oci'),
    });
    this.#log = options.log ?? logger('runtime');
    this.#defaultCgroupParent = options.defaultCgroupParent ?? '/k8ts';
    this.#streaming = options.streaming;
    this.#fifos = new FifoMaker(path.join(options.root, 'fifos'));
  }

  /** Opens the runtime: writes the default CNI config if none is there, and finds existing pods again. */
  static async open(options: LinuxRuntimeOptions): Promise<LinuxRuntime> {
    const rt = new LinuxRuntime(options);
    for (const dir of ['sandboxes', 'containers']) await mkdir(path.join(rt.root, dir), { recursive: true });
    await mkdir(path.join(rt.stateDir, 'ns'), { recursive: true });
    await mkdir(path.join(rt.stateDir, 'pids'), { recursive: true });
    await mkdir(options.network.confDir, { recursive: true });
    await rt.#fifos.clear();
    // Without ranges (podCIDRs: []) no default configuration is written until UpdateRuntimeConfig brings the
    // node's: the network is not ready until then, as with containerd before its CNI configuration exists.
    const podCIDRs = options.network.podCIDRs ?? defaultPodCIDRs;
    if (podCIDRs.length > 0) await rt.#writeDefaultNetwork(podCIDRs);
    try {
      rt.#minOomScoreAdj = Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim()) || 0;
    } catch {
      rt.#minOomScoreAdj = 0;
    }
    if (rt.oci.isCrun) {
      const moved = await prepareHybridCgroupsForCrun(path.join(rt.stateDir, 'cgroup-v1'));
      if (moved.length > 0) rt.#log.info('gave cgroup controllers a v1 hierarchy for crun', { controllers: moved });
    }
    await rt.#recover();
    return rt;
  }

  /** Stops pumping logs (containers keep running; a new runtime finds them again), after pending cleanups. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const live of this.#live.values()) live.pump?.close();
    this.#live.clear();
    await Promise.all([...this.#removals.values()].map((r) => r.cleanup));
  }

  // ---- recovery

  async #recover(): Promise<void> {
    for (const id of await readdir(path.join(this.root, 'sandboxes'))) {
      try {
        const rec = JSON.parse(await readFile(this.#sandboxFile(id), 'utf8')) as SandboxRecord;
        // After a reboot /run is empty: the namespaces are gone, and so is the pod's network.
        const holderGone =
          rec.pidHolder !== undefined && rec.pidHolder > 0 && !isPidHolder(rec.pidHolder, rec.id);
        if (
          rec.state === 'SANDBOX_READY' &&
          (holderGone || Object.values(rec.namespaces).some((f) => !existsSync(f)))
        ) {
          rec.state = 'SANDBOX_NOTREADY';
        }
        this.#sandboxes.set(id, rec);
      } catch (err) {
        this.#log.warn('skipping unreadable sandbox state', { id, err });
      }
    }
    // Namespaces of a sandbox whose record never got written (a crash during RunPodSandbox).
    for (const id of await readdir(path.join(this.stateDir, 'ns'))) {
      if (this.#sandboxes.has(id)) continue;
      const dir = path.join(this.stateDir, 'ns', id);
      const files = Object.fromEntries(
        (['net', 'uts', 'ipc'] as const).map((k) => [k, path.join(dir, k)]).filter(([, f]) => existsSync(f!)),
      ) as SandboxNamespaces;
      await removeNamespaces(files).catch((err: unknown) => this.#log.warn('orphan namespaces', { id, err }));
      await rm(dir, { recursive: true, force: true });
    }
    for (const id of await readdir(path.join(this.root, 'containers'))) {
      let rec: ContainerRecord;
      try {
        rec = JSON.parse(await readFile(this.#containerFile(id), 'utf8')) as ContainerRecord;
      } catch (err) {
        // Removed, but not cleaned up before we stopped: finish that.
        const removed = await readFile(path.join(this.#containerDir(id), 'removed.json'), 'utf8').catch(() => undefined);
        if (removed !== undefined) {
          await this.#cleanUp(JSON.parse(removed) as ContainerRecord).catch((e: unknown) =>
            this.#log.warn('cleaning up a removed container failed', { id, err: e }),
          );
          continue;
        }
        this.#log.warn('skipping unreadable container state', { id, err });
        continue;
      }
      this.#containers.set(id, rec);
      if (rec.state === 'CONTAINER_CREATED' && rec.monitorPid === 0) await this.#recoverStart(rec);
      if (!watched(rec)) continue;
      if (existsSync(this.#exitFile(id))) {
        await this.#finalise(rec);
        continue;
      }
      if (!this.#monitorAlive(rec)) {
        // The monitor died without recording a status (killed, or the host rebooted).
        rec.state = 'CONTAINER_EXITED';
        rec.exitCode = 255;
        rec.reason = 'Unknown';
        rec.message = 'the container monitor exited without a status';
        rec.finishedAt = nsNow();
        await this.#saveContainer(rec);
        continue;
      }
      this.#live.set(id, { pump: this.#startPump(rec) });
      void this.#watchExit(rec);
    }
    this.#log.info('runtime state recovered', {
      sandboxes: this.#sandboxes.size,
      containers: this.#containers.size,
    });
  }

  /**
   * A container whose start was under way when we stopped: its monitor's files tell whether it runs (the
   * started file: init and monitor PIDs) or failed to start.
   */
  async #recoverStart(rec: ContainerRecord): Promise<void> {
    const dir = this.#containerDir(rec.id);
    let started: string;
    try {
      started = readFileSync(path.join(dir, 'started'), 'utf8');
    } catch {
      if (existsSync(`${this.#exitFile(rec.id)}.start`)) {
        rec.monitorPid = -1; // the runtime ran: its state, if any, goes with RemoveContainer
        await this.#startFailed(rec, (await this.#ociError(rec.id)) ?? 'the OCI runtime failed to start the container');
      }
      return;
    }
    const [pid, monitorPid] = started.trim().split(' ').map(Number);
    rec.pid = pid ?? 0;
    rec.monitorPid = monitorPid ?? 0;
    rec.mode = 'monitor';
    rec.startedAt = Math.round(statSync(path.join(dir, 'started')).mtimeMs * 1e6);
    rec.state = 'CONTAINER_RUNNING';
    await this.#saveContainer(rec);
  }

  /** Whether the container's monitor still runs (its command line names the container: no reused PID). */
  #monitorAlive(rec: ContainerRecord): boolean {
    if (!rec.monitorPid) return false;
    try {
      return readFileSync(`/proc/${rec.monitorPid}/cmdline`, 'utf8').includes(rec.id);
    } catch {
      return false;
    }
  }

  // ---- files

  #sandboxDir(id: string): string {
    return path.join(this.root, 'sandboxes', id);
  }
  #sandboxFile(id: string): string {
    return path.join(this.#sandboxDir(id), 'sandbox.json');
  }
  #containerDir(id: string): string {
    return path.join(this.root, 'containers', id);
  }
  #containerFile(id: string): string {
    return path.join(this.#containerDir(id), 'container.json');
  }
  #exitFile(id: string): string {
    return path.join(this.#containerDir(id), 'exit');
  }
  /**
   * Where the OCI runtime writes the container's init PID. runc writes it with O_SYNC, so it lives in the
   * state directory (tmpfs /run on a usual host, as containerd keeps its init.pid there), not on the root's
   * disk; the monitor's started file is what outlives a restart.
   */
  #pidFile(id: string): string {
    return path.join(this.stateDir, 'pids', id);
  }

  /**
   * Writes a record's file atomically. Writes of one file are serialised and each serialises the record when
   * its turn comes, so the file ends with the latest state whatever the order of concurrent saves. The write
   * itself is synchronous: a record is a few KiB without an fsync, cheaper done at once than through the
   * thread pool and back (two thread wakeups each, which a busy machine makes wait).
   */
  #atomicWrite(file: string, data: () => string): Promise<void> {
    const previous = this.#writes.get(file) ?? Promise.resolve();
    const next = previous.then(() => {
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, data());
      renameSync(tmp, file);
    });
    const settled = next.catch(() => undefined);
    this.#writes.set(file, settled);
    void settled.then(() => {
      if (this.#writes.get(file) === settled) this.#writes.delete(file);
    });
    return next;
  }
  async #saveSandbox(rec: SandboxRecord): Promise<void> {
    await this.#atomicWrite(this.#sandboxFile(rec.id), () => JSON.stringify(rec));
  }
  async #saveContainer(rec: ContainerRecord): Promise<void> {
    if (!this.#containers.has(rec.id)) return; // removed meanwhile
    try {
      await this.#atomicWrite(this.#containerFile(rec.id), () => JSON.stringify(rec));
    } catch (err) {
      // RemoveContainer may delete the directory while an exit is being recorded.
      if (this.#containers.has(rec.id)) throw err;
    }
  }

  // ---- network

  async #writeDefaultNetwork(podCIDRs: string[]): Promise<void> {
    const bridge = this.#network.bridge ?? 'k8ts0';
    const file = await ensureNetworkConfig(this.#network.confDir, {
      podCIDRs,
      bridge,
      ipamDataDir: this.#network.ipamDataDir ?? path.join(this.root, 'cni', 'networks'),
    });
    // Our own configuration masquerades through one nftables table per node range (see cni.ts).
    if (path.basename(file) === defaultConfigFile) {
      await execFileChecked('nft', ['-f', '-'], { input: masqueradeRules(bridge, podCIDRs) });
    }
  }

  /** Whether pods get k8ts' own CNI configuration (the first file of the conf dir is ours). */
  #usesOwnNetwork(): boolean {
    try {
      const files = readdirSync(this.#network.confDir).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
      return files[0] === defaultConfigFile;
    } catch {
      return false;
    }
  }

  async #networkConfig(): Promise<NetworkConfigList> {
    return loadNetworkConfig(this.#network.confDir);
  }

  async #setUpNetwork(rec: SandboxRecord): Promise<void> {
    const netns = rec.namespaces.net!;
    const meta = rec.config.metadata ?? {};
    const attachment: CniAttachment = {
      containerId: rec.id,
      netns,
      ifName: 'eth0',
      args: {
        K8S_POD_NAMESPACE: meta.namespace ?? '',
        K8S_POD_NAME: meta.name ?? '',
        K8S_POD_INFRA_CONTAINER_ID: rec.id,
        K8S_POD_UID: meta.uid ?? '',
      },
      portMappings: (rec.config.portMappings ?? [])
        .filter((p) => (p.hostPort ?? 0) > 0)
        .map((p) => ({
          hostPort: p.hostPort ?? 0,
          containerPort: p.containerPort ?? 0,
          protocol: (p.protocol ?? 'TCP').toLowerCase(),
          ...(p.hostIp ? { hostIP: p.hostIp } : {}),
        })),
    };
    const list = await this.#networkConfig();
    if (!list.plugins.some((p) => p.type === 'loopback')) {
      await this.#cni.add(
        { cniVersion: list.cniVersion, name: 'cni-loopback', plugins: [{ type: 'loopback' }] },
        { containerId: rec.id, netns, ifName: 'lo' },
      );
    }
    rec.cniAttachment = attachment;
    const result = await this.#cni.add(list, attachment);
    rec.cniResult = result;
    const ips = (result.ips ?? []).map((ip) => ip.address.split('/')[0]!);
    // IPv4 first: the kubelet takes the first as the pod's primary IP.
    rec.ips = [...ips.filter((ip) => !ip.includes(':')), ...ips.filter((ip) => ip.includes(':'))];
  }

  async #tearDownNetwork(rec: SandboxRecord): Promise<void> {
    if (rec.cniAttachment === undefined) return;
    const list = await this.#networkConfig();
    const attachment = { ...rec.cniAttachment };
    // The namespace may already be gone; plugins then clean up what lives outside it (IPs, NAT rules).
    if (!existsSync(attachment.netns)) attachment.netns = '';
    await this.#cni.del(list, attachment, rec.cniResult);
    delete rec.cniAttachment;
    delete rec.cniResult;
    rec.ips = [];
  }

  // ---- sandboxes

  async runPodSandbox(request: cri.RunPodSandboxRequest): Promise<cri.RunPodSandboxResponse> {
    const config = request.config ?? {};
    const meta = config.metadata ?? {};
    if (!meta.name || !meta.namespace)
      throw criErrors.invalidArgument('sandbox config must include metadata');
    const nameKey = `k8s_POD_${meta.name}_${meta.namespace}_${meta.uid ?? ''}_${meta.attempt ?? 0}`;
    for (const s of this.#sandboxes.values()) {
      if (s.nameKey === nameKey) {
        throw new CriError(
          Code.Unknown,
          `failed to reserve sandbox name "${nameKey}": name "${nameKey}" is reserved for "${s.id}"`,
        );
      }
    }
    const ns = config.linux?.securityContext?.namespaceOptions ?? {};
    const hostNetwork = ns.network === 'NODE';
    const id = newId();
    const hostname = config.hostname || (hostNetwork ? os.hostname() : meta.name);
    const rec: SandboxRecord = {
      id,
      config,
      nameKey,
      createdAt: nsNow(),
      state: 'SANDBOX_NOTREADY',
      namespaces: {},
      hostNetwork,
      hostPid: ns.pid === 'NODE',
      hostIpc: ns.ipc === 'NODE',
      hostname,
      ips: [],
      cgroupParent: config.linux?.cgroupParent || path.posix.join(this.#defaultCgroupParent, id),
      ownsCgroup: !config.linux?.cgroupParent,
      runtimeHandler: request.runtimeHandler ?? '',
    };
    const dir = this.#sandboxDir(id);
    this.#sandboxes.set(id, rec);
    try {
      await mkdir(dir, { recursive: true });
      const kinds: SandboxNamespaceKind[] = [];
      if (!hostNetwork) kinds.push('net', 'uts');
      if (!rec.hostIpc) kinds.push('ipc');
      const resolv = resolvConf(config.dnsConfig);
      // The pod's files and its namespaces at once; a crash in between leaves namespaces that the next start
      // finds without a record and removes.
      const [namespaces] = await Promise.all([
        createNamespaces(
          path.join(this.stateDir, 'ns', id),
          kinds,
          hostname,
          this.#usesOwnNetwork() ? podNetworkSysctls : [],
        ),
        writeFile(path.join(dir, 'hosts'), hostsFile(hostNetwork)),
        writeFile(path.join(dir, 'hostname'), `${hostname}\n`),
        resolv !== undefined
          ? writeFile(path.join(dir, 'resolv.conf'), resolv)
          : copyFile('/etc/resolv.conf', path.join(dir, 'resolv.conf')).catch(() =>
              writeFile(path.join(dir, 'resolv.conf'), ''),
            ),
      ]);
      rec.namespaces = namespaces;
      if (ns.pid === 'POD') rec.pidHolder = await startPidHolder(id);
      await this.#saveSandbox(rec);
      if (!hostNetwork) await this.#setUpNetwork(rec);
      rec.state = 'SANDBOX_READY';
      await this.#saveSandbox(rec);
    } catch (err) {
      this.#log.warn('RunPodSandbox failed, cleaning up', { id, err });
      await this.#tearDownNetwork(rec).catch(() => undefined);
      await removeNamespaces(rec.namespaces).catch(() => undefined);
      if (rec.pidHolder) stopPidHolder(rec.pidHolder, id);
      await rm(dir, { recursive: true, force: true });
      this.#sandboxes.delete(id);
      throw new CriError(
        Code.Unknown,
        `failed to setup network for sandbox "${id}": ${(err as Error).message}`,
        { cause: err },
      );
    }
    return { podSandboxId: id };
  }

  async stopPodSandbox(request: cri.StopPodSandboxRequest): Promise<cri.StopPodSandboxResponse> {
    const rec = this.#sandboxes.get(request.podSandboxId ?? '');
    if (!rec) return {};
    for (const c of [...this.#containers.values()].filter((c) => c.sandboxId === rec.id)) {
      await this.#stop(c, 0);
    }
    await this.#tearDownNetwork(rec);
    await removeNamespaces(rec.namespaces);
    if (rec.pidHolder) stopPidHolder(rec.pidHolder, rec.id);
    rec.state = 'SANDBOX_NOTREADY';
    await this.#saveSandbox(rec);
    return {};
  }

  async removePodSandbox(request: cri.RemovePodSandboxRequest): Promise<cri.RemovePodSandboxResponse> {
    const rec = this.#sandboxes.get(request.podSandboxId ?? '');
    if (!rec) return {};
    for (const c of [...this.#containers.values()].filter((c) => c.sandboxId === rec.id)) await this.#remove(c);
    // The containers' cleanups (of those removed earlier too) are waited for: the pod's cgroup goes next.
    await Promise.all([...this.#removals.values()].filter((r) => r.sandboxId === rec.id).map((r) => r.cleanup));
    await this.#tearDownNetwork(rec).catch((err: unknown) =>
      this.#log.warn('CNI DEL failed', { id: rec.id, err }),
    );
    await removeNamespaces(rec.namespaces);
    if (rec.pidHolder) stopPidHolder(rec.pidHolder, rec.id);
    await rm(path.join(this.stateDir, 'ns', rec.id), { recursive: true, force: true });
    if (rec.ownsCgroup) await removeCgroup(rec.cgroupParent, this.#cgroupVersion);
    this.#sandboxes.delete(rec.id);
    await rm(this.#sandboxDir(rec.id), { recursive: true, force: true });
    return {};
  }

  #sandboxStatus(rec: SandboxRecord): cri.PodSandboxStatus {
    const [ip, ...more] = rec.ips;
    const ns = rec.config.linux?.securityContext?.namespaceOptions ?? {};
    return {
      id: rec.id,
      metadata: rec.config.metadata ?? {},
      state: rec.state,
      createdAt: rec.createdAt,
      network: { ip: ip ?? '', additionalIps: more.map((a) => ({ ip: a })) },
      linux: {
        namespaces: {
          options: {
            network: ns.network ?? 'POD',
            pid: ns.pid ?? 'CONTAINER',
            ipc: ns.ipc ?? 'POD',
            ...(ns.targetId ? { targetId: ns.targetId } : {}),
          },
        },
      },
      labels: rec.config.labels ?? {},
      annotations: rec.config.annotations ?? {},
      runtimeHandler: rec.runtimeHandler,
    };
  }

  async podSandboxStatus(request: cri.PodSandboxStatusRequest): Promise<cri.PodSandboxStatusResponse> {
    const rec = findById(this.#sandboxes, request.podSandboxId ?? '', 'sandbox');
    const status = this.#sandboxStatus(rec);
    const containers = await Promise.all(
      [...this.#containers.values()]
        .filter((c) => c.sandboxId === rec.id)
        .map((c) => this.#containerStatus(c)),
    );
    return { status, info: {}, containersStatuses: containers, timestamp: nsNow() };
  }

  listPodSandbox(request: cri.ListPodSandboxRequest): Promise<cri.ListPodSandboxResponse> {
    const f = request.filter ?? {};
    const items: cri.PodSandbox[] = [];
    for (const rec of this.#sandboxes.values()) {
      if (f.id && !rec.id.startsWith(f.id)) continue;
      if (f.state && (f.state.state ?? 'SANDBOX_READY') !== rec.state) continue;
      if (!matchesLabels(rec.config.labels, f.labelSelector)) continue;
      items.push({
        id: rec.id,
        metadata: rec.config.metadata ?? {},
        state: rec.state,
        createdAt: rec.createdAt,
        labels: rec.config.labels ?? {},
        annotations: rec.config.annotations ?? {},
        runtimeHandler: rec.runtimeHandler,
      });
    }
    return Promise.resolve({ items });
  }

  // ---- containers

  async createContainer(request: cri.CreateContainerRequest): Promise<cri.CreateContainerResponse> {
    const sandbox = findById(this.#sandboxes, request.podSandboxId ?? '', 'sandbox');
    if (sandbox.state !== 'SANDBOX_READY') {
      throw criErrors.failedPrecondition(`sandbox container "${sandbox.id}" is not running`);
    }
    const config = request.config ?? {};
    const meta = config.metadata ?? {};
    if (!meta.name) throw criErrors.invalidArgument('container config must include metadata');
    const sm = sandbox.config.metadata ?? {};
    const nameKey = `k8s_${meta.name}_${sm.name ?? ''}_${sm.namespace ?? ''}_${sm.uid ?? ''}_${meta.attempt ?? 0}`;
    for (const c of this.#containers.values()) {
      if (c.nameKey === nameKey) {
        throw new CriError(
          Code.Unknown,
          `failed to reserve container name "${nameKey}": name "${nameKey}" is reserved for "${c.id}"`,
        );
      }
    }
    const imageName = config.image?.image ?? '';
    const image = this.images.status(imageName);
    if (!image) throw new CriError(Code.NotFound, `failed to get image "${imageName}": not found`);
    const id = newId();
    const dir = this.#containerDir(id);
    const rec: ContainerRecord = {
      id,
      sandboxId: sandbox.id,
      config,
      nameKey,
      imageId: image.id,
      imageName,
      createdAt: nsNow(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      message: '',
      state: 'CONTAINER_CREATED',
      logPath:
        sandbox.config.logDirectory && config.logPath
          ? path.join(sandbox.config.logDirectory, config.logPath)
          : '',
      cgroupPath: path.posix.join(sandbox.cgroupParent, id),
      pid: 0,
      monitorPid: 0,
      stopSignal: 'SIGTERM',
    };
    this.#containers.set(id, rec); // reserves the name before the first await
    traceStep('begin', id);
    try {
      mkdirSync(dir, { recursive: true });
      // The rootfs is mounted while the image config is read and the stdio FIFOs are made.
      const [{ rootfs }, imageConfig] = await Promise.all([
        this.images.mountRootfs(id, image.id),
        this.#imageConfig(image.id),
        this.#fifos.make(
          (config.stdin || config.tty ? ['stdout', 'stderr', 'stdin'] : ['stdout', 'stderr']).map((s) =>
            path.join(dir, s),
          ),
        ),
        // As containerd does: a bind mount whose host path is missing gets a directory there.
        ...(config.mounts ?? [])
          .filter((m) => m.hostPath && !existsSync(m.hostPath))
          .map((m) => mkdir(m.hostPath!, { recursive: true })),
      ]);
      traceStep('rootfs mounted', id);
      const sc = config.linux?.securityContext ?? {};
      const user = await resolveUser(await this.#userFiles(image.id, rootfs), imageConfig.config?.User, {
        ...(sc.runAsUser ? { runAsUser: sc.runAsUser.value ?? 0 } : {}),
        ...(sc.runAsGroup ? { runAsGroup: sc.runAsGroup.value ?? 0 } : {}),
        ...(sc.runAsUsername ? { runAsUsername: sc.runAsUsername } : {}),
        supplementalGroups: sc.supplementalGroups ?? [],
      });
      const specSandbox: SpecSandbox = {
        namespaces: sandbox.namespaces,
        hostname: sandbox.hostname,
        files: {
          hosts: path.join(this.#sandboxDir(sandbox.id), 'hosts'),
          resolvConf: path.join(this.#sandboxDir(sandbox.id), 'resolv.conf'),
          hostname: path.join(this.#sandboxDir(sandbox.id), 'hostname'),
        },
        hostNetwork: sandbox.hostNetwork,
        hostPid: sandbox.hostPid,
        hostIpc: sandbox.hostIpc,
        ...(sandbox.pidHolder ? { podPidNamespace: `/proc/${sandbox.pidHolder}/ns/pid` } : {}),
        cgroupParent: sandbox.cgroupParent,
        ...(sandbox.config.linux?.sysctls ? { sysctls: sandbox.config.linux.sysctls } : {}),
      };
      const spec = buildSpec({
        containerId: id,
        rootfs,
        config,
        image: imageConfig,
        sandbox: specSandbox,
        user,
        minOomScoreAdj: this.#minOomScoreAdj,
      });
      const stop =
        config.stopSignal && config.stopSignal !== 'RUNTIME_DEFAULT'
          ? config.stopSignal
          : imageConfig.config?.StopSignal;
      rec.stopSignal =
        stop && signalNames.has(stop.toUpperCase())
          ? stop.toUpperCase()
          : /^\d+$/.test(stop ?? '')
            ? stop!
            : 'SIGTERM';
      // The bundle and the record (on disk before we answer: a restarted runtime finds the container).
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
      await this.#saveContainer(rec);
      traceStep('created', id);
    } catch (err) {
      this.#containers.delete(id);
      await this.images.removeRootfs(id).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      if (err instanceof CriError) throw err;
      throw new CriError(Code.Unknown, `failed to create containerd container: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return { containerId: id };
  }

  /** An image's config (immutable: its ID is its digest), read once for the containers made from it. */
  #imageConfig(imageId: string): Promise<ImageConfig> {
    return perImage(this.#imageConfigs, imageId, () => this.images.config(imageId));
  }

  /**
   * An image's /etc/passwd and /etc/group, read once from the first fresh rootfs of the image (a new
   * container's rootfs shows just the image's files).
   */
  #userFiles(imageId: string, rootfs: string): Promise<UserFiles> {
    return perImage(this.#imageUsers, imageId, () => readUserFiles(rootfs));
  }

  #startPump(rec: ContainerRecord): LogPump {
    const dir = this.#containerDir(rec.id);
    return new LogPump(rec.logPath, { stdout: path.join(dir, 'stdout'), stderr: path.join(dir, 'stderr') });
  }

  /** The container's stdio for its monitor: its FIFOs, opened read-write by the spawner's helper. */
  #monitorStdio(rec: ContainerRecord): [SpawnStdio, SpawnStdio, SpawnStdio] {
    const dir = this.#containerDir(rec.id);
    // A tty gets a stdin that never ends (script would pass an end of input on to the terminal).
    const stdin = rec.config.stdin || rec.config.tty ? { path: path.join(dir, 'stdin') } : 'ignore';
    return [stdin, { path: path.join(dir, 'stdout') }, { path: path.join(dir, 'stderr') }];
  }

  /** The last error the OCI runtime logged (its --log file), if any. */
  async #ociError(id: string): Promise<string | undefined> {
    const text = await readFile(path.join(this.#containerDir(id), 'oci.log'), 'utf8').catch(() => '');
    let message: string | undefined;
    for (const line of text.split('\n')) {
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string };
        if (entry.level === 'error' && entry.msg) message = entry.msg;
      } catch {
        // not JSON
      }
    }
    return message;
  }

  /** Drops what a start that failed had set up for the container: its log pump and its live entry. */
  #abandonStart(rec: ContainerRecord, live: LiveContainer): void {
    live.pump?.close();
    this.#live.delete(rec.id);
  }

  /** Records a failed start as containerd does: exited, exit code 128, reason StartError. */
  async #startFailed(rec: ContainerRecord, message: string): Promise<CriError> {
    rec.state = 'CONTAINER_EXITED';
    rec.exitCode = 128;
    rec.reason = 'StartError';
    rec.message = message;
    rec.finishedAt = nsNow();
    await this.#saveContainer(rec);
    return new CriError(Code.Unknown, `failed to create containerd task: ${message}`);
  }

  async startContainer(request: cri.StartContainerRequest): Promise<cri.StartContainerResponse> {
    const rec = findById(this.#containers, request.containerId ?? '', 'container');
    if (rec.state !== 'CONTAINER_CREATED' || rec.monitorPid > 0) {
      throw criErrors.failedPrecondition(`container "${rec.id}" is in ${rec.state} state, not created`);
    }
    const sandbox = this.#sandboxes.get(rec.sandboxId);
    if (!sandbox || sandbox.state !== 'SANDBOX_READY') {
      throw criErrors.failedPrecondition(`sandbox container "${rec.sandboxId}" is not running`);
    }
    traceStep('start', rec.id);
    const dir = this.#containerDir(rec.id);
    const live: LiveContainer = { pump: this.#startPump(rec) };
    this.#live.set(rec.id, live);
    const files = { bundle: dir, pidFile: this.#pidFile(rec.id), exitFile: this.#exitFile(rec.id) };
    if (rec.config.tty !== true && this.oci.canMonitor) {
      // Set before the start: a container may exit (and be finalised) before the start is reported.
      rec.startedAt = nsNow();
      rec.mode = 'monitor';
      let running: Promise<number>;
      try {
        const started = await this.oci.startMonitored(
          rec.id,
          { ...files, startedFile: path.join(dir, 'started'), logFile: path.join(dir, 'oci.log') },
          this.#monitorStdio(rec),
        );
        live.monitor = started.monitor;
        live.ended = started.ended;
        rec.monitorPid = started.monitor.pid;
        running = started.running;
      } catch (err) {
        this.#abandonStart(rec, live);
        rec.startedAt = 0;
        throw new CriError(Code.Unknown, `failed to start containerd task "${rec.id}": ${(err as Error).message}`, {
          cause: err,
        });
      }
      traceStep('monitor forked', rec.id);
      try {
        rec.pid = await running;
      } catch {
        this.#abandonStart(rec, live);
        const message = (await this.#ociError(rec.id)) ?? 'the OCI runtime failed to start the container';
        throw await this.#startFailed(rec, message);
      }
      traceStep('running', rec.id);
      if (rec.state === 'CONTAINER_CREATED') {
        // When the runtime reported it running (as containerd's StartedAt), within a millisecond or so of the
        // started file that a restarted runtime takes it from.
        rec.startedAt = nsNow();
        rec.state = 'CONTAINER_RUNNING';
      }
      // Not saved: the monitor writes its started file (init and monitor PIDs) right after its note, and a
      // restarted runtime reads it there (#recoverStart).
      void this.#watchExit(rec);
      return {};
    }
    rec.mode = 'run';
    try {
      live.monitor = await this.oci.run(rec.id, files, this.#monitorStdio(rec), rec.config.tty === true);
    } catch (err) {
      this.#abandonStart(rec, live);
      throw err;
    }
    rec.monitorPid = live.monitor.pid;
    // Started when runc wrote the pid file; failed when the monitor recorded a status without one.
    for (;;) {
      if (existsSync(this.#pidFile(rec.id))) break;
      if (existsSync(this.#exitFile(rec.id))) {
        await live.pump?.done;
        const log = rec.logPath ? await readFile(rec.logPath, 'utf8').catch(() => '') : '';
        const lastLine = log.trim().split('\n').pop() ?? '';
        const message =
          lastLine.replace(/^\S+ \S+ [FP] /, '') || 'the OCI runtime failed to start the container';
        throw await this.#startFailed(rec, message);
      }
      await sleep(2);
    }
    rec.pid = Number(readFileSync(this.#pidFile(rec.id), 'utf8').trim()) || 0;
    // When runc wrote the pid file: the process had started (a short one may be done before we look).
    rec.startedAt = Math.round(statSync(this.#pidFile(rec.id)).mtimeMs * 1e6);
    if (rec.state === 'CONTAINER_CREATED') rec.state = 'CONTAINER_RUNNING';
    await this.#saveContainer(rec);
    void this.#watchExit(rec);
    return {};
  }

  /** Waits for the container's exit file (polling; the monitor may not be our child), then finalises it. */
  async #watchExit(rec: ContainerRecord): Promise<void> {
    try {
      await this.#watchExitUnsafe(rec);
    } catch (err) {
      this.#log.warn('recording a container exit failed', { id: rec.id, err });
    }
  }

  async #watchExitUnsafe(rec: ContainerRecord): Promise<void> {
    const live = this.#live.get(rec.id);
    let monitorGone = false;
    const exited = new Promise<void>((resolve) => {
      const done = (): void => {
        monitorGone = true;
        resolve();
      };
      (live?.ended ?? live?.monitor?.exited)?.then(done, done);
    });
    // A monitor we started reports its exit at once; one found again after a restart is polled. A monitor
    // that ended without writing a status (killed) leaves the exit unknown (255).
    const pollMs = live?.monitor ? 2000 : 500;
    while (!this.#closed && this.#containers.has(rec.id) && !existsSync(this.#exitFile(rec.id))) {
      if (monitorGone || (!live?.monitor && !this.#monitorAlive(rec))) break;
      await Promise.race([exited, sleep(pollMs)]);
    }
    if (this.#closed || !this.#containers.has(rec.id)) return;
    traceStep('exit seen', rec.id);
    await this.#finalise(rec);
    traceStep('exit recorded', rec.id);
  }

  /** Records how a container ended: exit code, reason (Completed, Error, OOMKilled), finish time. */
  #finalise(rec: ContainerRecord): Promise<void> {
    let live = this.#live.get(rec.id);
    if (!live) {
      live = {};
      this.#live.set(rec.id, live);
    }
    live.finalising ??= (async () => {
      if (!watched(rec)) return;
      let code = 255;
      let stat: Stats | undefined;
      try {
        code = Number(readFileSync(this.#exitFile(rec.id), 'utf8').trim());
        stat = statSync(this.#exitFile(rec.id));
      } catch {
        // no status: unknown
      }
      const oom = oomKills(rec.cgroupPath, this.#cgroupVersion) > 0;
      rec.exitCode = code;
      rec.reason = oom ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error';
      rec.finishedAt = Math.max(rec.startedAt, stat ? Math.round(stat.mtimeMs * 1e6) : nsNow());
      rec.state = 'CONTAINER_EXITED';
      // The exit file is the durable record of the end (a restarted runtime reads it again, and the cgroup's
      // OOM counter stays until RemoveContainer): only an end without one is written down here.
      if (stat === undefined) await this.#saveContainer(rec);
      await live.pump?.done;
    })();
    return live.finalising;
  }

  async #waitExited(rec: ContainerRecord, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    // The monitor's exit note (or its own exit) ends a pause at once, once; the poll covers a monitor found
    // again after a restart, and one killed before it wrote a status.
    const live = this.#live.get(rec.id);
    let ended = (live?.ended ?? live?.monitor?.exited)?.then(
      () => 'ended' as const,
      () => 'ended' as const,
    );
    while (watched(rec)) {
      if (existsSync(this.#exitFile(rec.id))) {
        await this.#finalise(rec);
        return true;
      }
      if (Date.now() >= deadline) return false;
      const pause = sleep(Math.min(50, Math.max(1, deadline - Date.now()))).then(() => 'pause' as const);
      if ((await (ended ? Promise.race([pause, ended]) : pause)) === 'ended') ended = undefined;
    }
    return true;
  }

  /**
   * Sends a signal to the container's init itself, without an OCI runtime process (a Go start, some
   * milliseconds): only while the init is the child of its monitor (reparented to it once the runtime
   * returned), so the PID cannot be another process's. Returns false when that does not hold.
   */
  #signalInit(rec: ContainerRecord, signal: string): boolean {
    if (rec.mode !== 'monitor' || rec.pid <= 0 || rec.monitorPid <= 0) return false;
    try {
      const ppid = Number(readFileSync(`/proc/${rec.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (ppid !== rec.monitorPid) return false;
      process.kill(rec.pid, /^\d+$/.test(signal) ? Number(signal) : signal);
      return true;
    } catch {
      return false;
    }
  }

  async #stop(rec: ContainerRecord, timeoutSeconds: number): Promise<void> {
    if (rec.state === 'CONTAINER_CREATED' && rec.monitorPid > 0) {
      // Being started (StartContainer has not returned yet): kill what runs, and wait for its end.
      await this.oci.kill(rec.id, 'SIGKILL').catch(() => undefined);
      await this.#waitExited(rec, 30_000);
      return;
    }
    if (rec.state === 'CONTAINER_CREATED') {
      // Never started: it just becomes exited.
      rec.state = 'CONTAINER_EXITED';
      rec.finishedAt = nsNow();
      rec.exitCode = 0;
      await this.#saveContainer(rec);
      return;
    }
    if (rec.state !== 'CONTAINER_RUNNING') return;
    if (timeoutSeconds > 0) {
      try {
        if (!this.#signalInit(rec, rec.stopSignal)) await this.oci.kill(rec.id, rec.stopSignal);
      } catch (err) {
        this.#log.info('stop signal not delivered', { id: rec.id, err }, 2);
      }
      if (await this.#waitExited(rec, timeoutSeconds * 1000)) return;
    }
    try {
      await this.oci.kill(rec.id, 'SIGKILL', true);
    } catch (err) {
      this.#log.info('SIGKILL not delivered', { id: rec.id, err }, 2);
    }
    if (!(await this.#waitExited(rec, 30_000))) {
      throw new CriError(Code.DeadlineExceeded, `container "${rec.id}" did not exit after SIGKILL`);
    }
  }

  async stopContainer(request: cri.StopContainerRequest): Promise<cri.StopContainerResponse> {
    const rec = findById(this.#containers, request.containerId ?? '', 'container');
    await this.#stop(rec, request.timeout ?? 0);
    return {};
  }

  async removeContainer(request: cri.RemoveContainerRequest): Promise<cri.RemoveContainerResponse> {
    const rec = this.#containers.get(request.containerId ?? '');
    if (!rec) return {};
    await this.#remove(rec);
    return {};
  }

  /**
   * Removes a container: once its record is renamed to removed.json it is gone (a restarted runtime finishes
   * the removal from that file); what remains to clean up (rootfs, cgroups, OCI state, the directory) runs
   * on without the caller, as containerd's snapshots go by its garbage collector. Resolves with that cleanup.
   */
  async #remove(rec: ContainerRecord): Promise<{ cleanup: Promise<void> }> {
    await this.#stop(rec, 0);
    const live = this.#live.get(rec.id);
    live?.pump?.close();
    this.#live.delete(rec.id);
    this.#containers.delete(rec.id);
    await this.#writes.get(this.#containerFile(rec.id)); // a record write under way lands first
    try {
      renameSync(this.#containerFile(rec.id), path.join(this.#containerDir(rec.id), 'removed.json'));
    } catch {
      // never written (a failed create), or already renamed
    }
    const cleanup = this.#cleanUp(rec)
      .catch((err: unknown) => this.#log.warn('cleaning up a removed container failed', { id: rec.id, err }))
      .finally(() => this.#removals.delete(rec.id));
    this.#removals.set(rec.id, { sandboxId: rec.sandboxId, cleanup });
    traceStep('removed', rec.id);
    return { cleanup };
  }

  /**
   * A removed container's rootfs, cgroups, OCI state and directory. One that never started has no OCI state
   * (the runtime first runs at StartContainer); one that has exited needs no `runc delete` (another Go
   * process start): what it would do, remove the cgroup and the state directory, is done in one batch of the
   * spawner's file system operations with the removal of the container's directory, beside the unmount of
   * its rootfs.
   */
  async #cleanUp(rec: ContainerRecord): Promise<void> {
    const stopped = rec.monitorPid === 0 || (!watched(rec) && existsSync(this.#exitFile(rec.id)));
    const ours = async (): Promise<void> => {
      if (!stopped) await this.oci.delete(rec.id);
      if (!canDoFsOps) {
        if (stopped) await rm(path.join(this.oci.root, rec.id), { recursive: true, force: true });
        await removeCgroup(rec.cgroupPath, this.#cgroupVersion);
        await rm(this.#containerDir(rec.id), { recursive: true, force: true });
        await rm(this.#pidFile(rec.id), { force: true });
        return;
      }
      await runFsOps([
        ...(stopped ? [{ op: 'rmtree' as const, path: path.join(this.oci.root, rec.id) }] : []),
        ...cgroupDirsCached(rec.cgroupPath, this.#cgroupVersion).map((d) => ({ op: 'rmcgroup' as const, path: d })),
        { op: 'rmtree', path: this.#containerDir(rec.id) },
        { op: 'rmtree', path: this.#pidFile(rec.id) },
      ]);
    };
    await Promise.all([ours(), this.images.removeRootfs(rec.id)]);
    traceStep('cleaned up', rec.id);
  }

  async #containerStatus(rec: ContainerRecord): Promise<cri.ContainerStatus> {
    if (watched(rec) && existsSync(this.#exitFile(rec.id))) await this.#finalise(rec);
    const c = rec.config;
    return {
      id: rec.id,
      metadata: c.metadata ?? {},
      state: rec.state,
      createdAt: rec.createdAt,
      startedAt: rec.startedAt,
      finishedAt: rec.finishedAt,
      exitCode: rec.exitCode,
      image: { image: rec.imageName },
      imageRef: rec.imageId,
      imageId: rec.imageId,
      reason: rec.reason,
      message: rec.message,
      labels: c.labels ?? {},
      annotations: c.annotations ?? {},
      mounts: c.mounts ?? [],
      logPath: rec.logPath,
      ...(c.linux?.resources ? { resources: { linux: c.linux.resources } } : {}),
    };
  }

  async containerStatus(request: cri.ContainerStatusRequest): Promise<cri.ContainerStatusResponse> {
    const rec = findById(this.#containers, request.containerId ?? '', 'container');
    const info: Record<string, string> = {};
    if (request.verbose) info.info = JSON.stringify({ pid: rec.pid, sandboxID: rec.sandboxId });
    return { status: await this.#containerStatus(rec), info };
  }

  async listContainers(request: cri.ListContainersRequest): Promise<cri.ListContainersResponse> {
    const f = request.filter ?? {};
    const containers: cri.Container[] = [];
    for (const rec of this.#containers.values()) {
      if (f.id && !rec.id.startsWith(f.id)) continue;
      if (f.podSandboxId && !rec.sandboxId.startsWith(f.podSandboxId)) continue;
      if (!matchesLabels(rec.config.labels, f.labelSelector)) continue;
      if (watched(rec) && existsSync(this.#exitFile(rec.id))) await this.#finalise(rec);
      if (f.state && (f.state.state ?? 'CONTAINER_CREATED') !== rec.state) continue;
      containers.push({
        id: rec.id,
        podSandboxId: rec.sandboxId,
        metadata: rec.config.metadata ?? {},
        image: { image: rec.imageName },
        imageRef: rec.imageId,
        imageId: rec.imageId,
        state: rec.state,
        createdAt: rec.createdAt,
        labels: rec.config.labels ?? {},
        annotations: rec.config.annotations ?? {},
      });
    }
    return { containers };
  }

  async updateContainerResources(
    request: cri.UpdateContainerResourcesRequest,
  ): Promise<cri.UpdateContainerResourcesResponse> {
    const rec = findById(this.#containers, request.containerId ?? '', 'container');
    const r = request.linux ?? {};
    // The same cpu and memory settings as at creation (runc orders the memory and swap writes).
    const resources = ociCpuAndMemory(r);
    rec.config = {
      ...rec.config,
      linux: { ...rec.config.linux, resources: { ...rec.config.linux?.resources, ...r } },
    };
    if (rec.state === 'CONTAINER_RUNNING') {
      const file = path.join(this.#containerDir(rec.id), 'resources.json');
      await writeFile(file, JSON.stringify(resources));
      await this.#runOci(['update', '--resources', file, rec.id]);
    }
    await this.#saveContainer(rec);
    return {};
  }

  #runOci(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.oci.binary, ['--root', this.oci.root, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0
          ? resolve(Buffer.concat(out).toString())
          : reject(new CriError(Code.Unknown, Buffer.concat(err).toString().trim() || `exit status ${code}`)),
      );
    });
  }

  async reopenContainerLog(request: cri.ReopenContainerLogRequest): Promise<cri.ReopenContainerLogResponse> {
    const rec = findById(this.#containers, request.containerId ?? '', 'container');
    const live = this.#live.get(rec.id);
    if (rec.state !== 'CONTAINER_RUNNING' || !live?.pump) {
      throw criErrors.failedPrecondition('container is not running');
    }
    await live.pump.reopenLog();
    return {};
  }

  // ---- exec

  /** The process spec of an exec: the container's own process (user, env, cwd, caps) with another command. */
  async #execProcessFile(rec: ContainerRecord, cmd: string[], tty = false): Promise<string> {
    if (rec.state !== 'CONTAINER_RUNNING') {
      throw criErrors.failedPrecondition(`container ${rec.id} is not running`);
    }
    if (cmd.length === 0) throw criErrors.invalidArgument('cmd must not be empty');
    const spec = JSON.parse(
      await readFile(path.join(this.#containerDir(rec.id), 'config.json'), 'utf8'),
    ) as OciSpec;
    const processSpec = { ...spec.process, args: cmd, terminal: tty };
    delete processSpec.oomScoreAdj;
    const file = path.join(this.#containerDir(rec.id), `exec-${randomBytes(6).toString('hex')}.json`);
    await writeFile(file, JSON.stringify(processSpec));
    return file;
  }

  async execSync(request: cri.ExecSyncRequest): Promise<cri.ExecSyncResponse> {
    const rec = findById(this.#containers, request.containerId ?? '', 'container');
    const file = await this.#execProcessFile(rec, request.cmd ?? []);
    try {
      const child = this.oci.exec(rec.id, file, ['ignore', 'pipe', 'pipe']);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (b: Buffer) => out.push(b));
      child.stderr?.on('data', (b: Buffer) => err.push(b));
      const timeout = request.timeout ?? 0;
      let timedOut = false;
      const timer =
        timeout > 0
          ? setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, timeout * 1000)
          : undefined;
      const code = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (c, signal) => resolve(c ?? (signal ? 128 : 255)));
      });
      clearTimeout(timer);
      if (timedOut) {
        throw new CriError(
          Code.DeadlineExceeded,
          `command ${JSON.stringify(request.cmd)} timed out after ${timeout}s`,
        );
      }
      return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: code };
    } finally {
      await rm(file, { force: true });
    }
  }

  async exec(request: cri.ExecRequest): Promise<cri.ExecResponse> {
    findById(this.#containers, request.containerId ?? '', 'container');
    if (!this.#streaming) throw criErrors.unimplemented('Exec (no streaming server configured)');
    return this.#streaming.getExec(request);
  }

  async attach(request: cri.AttachRequest): Promise<cri.AttachResponse> {
    findById(this.#containers, request.containerId ?? '', 'container');
    if (!this.#streaming) throw criErrors.unimplemented('Attach (no streaming server configured)');
    return this.#streaming.getAttach(request);
  }

  async portForward(request: cri.PortForwardRequest): Promise<cri.PortForwardResponse> {
    findById(this.#sandboxes, request.podSandboxId ?? '', 'sandbox');
    if (!this.#streaming) throw criErrors.unimplemented('PortForward (no streaming server configured)');
    return this.#streaming.getPortForward(request);
  }

  // ---- StreamingRuntime (for the streaming server)

  /**
   * The in-process streaming API (CRI's Exec, Attach and PortForward only hand out URLs; the streaming server
   * behind them calls these). Exec with tty runs with pipes for now (no pty helper yet).
   */
  readonly streaming: StreamingRuntime = {
    exec: (containerId, cmd, streams) => this.#execStreams(containerId, cmd, streams),
    attach: (containerId, streams) => this.#attachStreams(containerId, streams),
    portForward: (podSandboxId, port, stream, signal) =>
      this.#portForwardStream(podSandboxId, port, stream, signal),
  };

  async #execStreams(containerId: string, cmd: string[], streams: StreamOptions): Promise<ExecResult> {
    const rec = findById(this.#containers, containerId, 'container');
    const file = await this.#execProcessFile(rec, cmd, streams.tty);
    // The first terminal size (clients send it at once) is the terminal's from the start.
    let sizes = streams.tty ? streams.resize : undefined;
    let initial: TerminalSize | undefined;
    if (sizes) ({ initial, rest: sizes } = await firstSize(sizes, 500));
    try {
      const child = this.oci.exec(rec.id, file, ['pipe', 'pipe', 'pipe'], streams.tty, initial);
      child.stdin?.on('error', () => undefined);
      if (streams.stdin && child.stdin) streams.stdin.pipe(child.stdin);
      else child.stdin?.end();
      const errOut: Writable | undefined = streams.tty ? streams.stdout : streams.stderr;
      if (streams.stdout) child.stdout?.pipe(streams.stdout, { end: false });
      else child.stdout?.resume();
      if (errOut) child.stderr?.pipe(errOut, { end: false });
      else child.stderr?.resume();
      if (sizes && child.pid !== undefined) void this.#followResize(child.pid, sizes);
      const onAbort = () => child.kill('SIGKILL');
      streams.signal?.addEventListener('abort', onAbort, { once: true });
      const exitCode = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (c) => resolve(c ?? 137));
      });
      streams.signal?.removeEventListener('abort', onAbort);
      streams.stdin?.unpipe();
      return { exitCode };
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Applies terminal sizes to the pseudo-terminal under `pid` until the sizes end. */
  async #followResize(pid: number, sizes: AsyncIterable<TerminalSize>): Promise<void> {
    try {
      for await (const size of sizes) {
        // The terminal exists once the OCI runtime runs; the first size may come before.
        for (let i = 0; i < 50 && findTerminal(pid) === undefined; i++) await sleep(20);
        await resizeTerminal(pid, size).catch(() => undefined);
      }
    } catch {
      // the session ended
    }
  }

  async #attachStreams(containerId: string, streams: StreamOptions): Promise<void> {
    const rec = findById(this.#containers, containerId, 'container');
    const live = this.#live.get(rec.id);
    if (rec.state !== 'CONTAINER_RUNNING' || !live?.pump) {
      throw criErrors.failedPrecondition(`container ${rec.id} is not running`);
    }
    const unsubscribe = live.pump.subscribe((stream, data) => {
      const target = stream === 'stdout' || streams.tty ? streams.stdout : streams.stderr;
      target?.write(data);
    });
    if (streams.tty && streams.resize && rec.monitorPid)
      void this.#followResize(rec.monitorPid, streams.resize);
    let stdinFd: number | undefined;
    if (streams.stdin && rec.config.stdin) {
      stdinFd = openFifoReadWrite(path.join(this.#containerDir(rec.id), 'stdin'));
      const sink = createWriteStream('', { fd: stdinFd, autoClose: true });
      sink.on('error', () => undefined);
      streams.stdin.pipe(sink, { end: false });
      // stdinOnce: the container's stdin closes when the first attach ends.
    }
    try {
      await Promise.race([
        live.pump.done,
        new Promise<void>((resolve) =>
          streams.signal?.addEventListener('abort', () => resolve(), { once: true }),
        ),
      ]);
    } finally {
      unsubscribe();
      streams.stdin?.unpipe();
    }
  }

  async #portForwardStream(
    podSandboxId: string,
    port: number,
    stream: Duplex,
    signal?: AbortSignal,
  ): Promise<void> {
    const rec = findById(this.#sandboxes, podSandboxId, 'sandbox');
    if (rec.state !== 'SANDBOX_READY') throw criErrors.failedPrecondition(`sandbox ${rec.id} is not ready`);
    const args = rec.namespaces.net ? [`--net=${rec.namespaces.net}`] : [];
    const child = spawn('nsenter', [...args, 'busybox', 'nc', '127.0.0.1', String(port)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => undefined);
    stream.pipe(child.stdin);
    child.stdout.pipe(stream);
    const errText: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => errText.push(b));
    const stop = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    stream.once('close', stop);
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, sig) => {
          if (code === 0 || sig !== null) resolve();
          else
            reject(
              new Error(
                `port forward to ${port} failed: ${Buffer.concat(errText).toString().trim() || `exit status ${code}`}`,
              ),
            );
        });
      });
    } finally {
      signal?.removeEventListener('abort', stop);
      stream.off('close', stop);
      stream.unpipe(child.stdin);
    }
  }

  // ---- stats

  async #stats(rec: ContainerRecord): Promise<{ stats: cri.ContainerStats; raw: CgroupStats }> {
    const raw = await readCgroupStats(rec.cgroupPath, this.#cgroupVersion);
    const at = nsNow();
    const live = this.#live.get(rec.id) ?? {};
    this.#live.set(rec.id, live);
    let nanoCores: number | undefined;
    if (live.lastCpu && at > live.lastCpu.at) {
      nanoCores = Math.round(((raw.cpuUsageNanos - live.lastCpu.ns) / (at - live.lastCpu.at)) * 1e9);
    }
    live.lastCpu = { ns: raw.cpuUsageNanos, at };
    const limit = rec.config.linux?.resources?.memoryLimitInBytes ?? 0;
    return {
      raw,
      stats: {
        attributes: {
          id: rec.id,
          metadata: rec.config.metadata ?? {},
          labels: rec.config.labels ?? {},
          annotations: rec.config.annotations ?? {},
        },
        cpu: {
          timestamp: at,
          usageCoreNanoSeconds: { value: raw.cpuUsageNanos },
          ...(nanoCores === undefined ? {} : { usageNanoCores: { value: Math.max(0, nanoCores) } }),
        },
        memory: {
          timestamp: at,
          workingSetBytes: { value: raw.memoryWorkingSetBytes },
          usageBytes: { value: raw.memoryUsageBytes },
          rssBytes: { value: raw.memoryRssBytes },
          pageFaults: { value: raw.pageFaults },
          majorPageFaults: { value: raw.majorPageFaults },
          ...(limit > 0 ? { availableBytes: { value: Math.max(0, limit - raw.memoryWorkingSetBytes) } } : {}),
        },
      },
    };
  }

  async containerStats(request: cri.ContainerStatsRequest): Promise<cri.ContainerStatsResponse> {
    const rec = findById(this.#containers, request.containerId ?? '', 'container');
    return { stats: (await this.#stats(rec)).stats };
  }

  async listContainerStats(request: cri.ListContainerStatsRequest): Promise<cri.ListContainerStatsResponse> {
    const f = request.filter ?? {};
    const stats: cri.ContainerStats[] = [];
    for (const rec of this.#containers.values()) {
      if (rec.state !== 'CONTAINER_RUNNING') continue;
      if (f.id && !rec.id.startsWith(f.id)) continue;
      if (f.podSandboxId && !rec.sandboxId.startsWith(f.podSandboxId)) continue;
      if (!matchesLabels(rec.config.labels, f.labelSelector)) continue;
      stats.push((await this.#stats(rec)).stats);
    }
    return { stats };
  }

  async #sandboxStats(rec: SandboxRecord): Promise<cri.PodSandboxStats> {
    const containers: cri.ContainerStats[] = [];
    let cpu = 0;
    let nanoCores = 0;
    let ws = 0;
    let usage = 0;
    for (const c of this.#containers.values()) {
      if (c.sandboxId !== rec.id || c.state !== 'CONTAINER_RUNNING') continue;
      const { stats } = await this.#stats(c);
      containers.push(stats);
      cpu += stats.cpu?.usageCoreNanoSeconds?.value ?? 0;
      nanoCores += stats.cpu?.usageNanoCores?.value ?? 0;
      ws += stats.memory?.workingSetBytes?.value ?? 0;
      usage += stats.memory?.usageBytes?.value ?? 0;
    }
    const at = nsNow();
    const network = await this.#networkUsage(rec, at);
    return {
      attributes: {
        id: rec.id,
        metadata: rec.config.metadata ?? {},
        labels: rec.config.labels ?? {},
        annotations: rec.config.annotations ?? {},
      },
      linux: {
        cpu: { timestamp: at, usageCoreNanoSeconds: { value: cpu }, usageNanoCores: { value: nanoCores } },
        memory: { timestamp: at, workingSetBytes: { value: ws }, usageBytes: { value: usage } },
        ...(network ? { network } : {}),
        containers,
      },
    };
  }

  /**
   * The pod's eth0 traffic, read from the host end of its veth (named in the CNI result) without entering
   * the namespace: what the host end receives, the pod sent.
   */
  async #networkUsage(rec: SandboxRecord, at: number): Promise<cri.NetworkUsage | undefined> {
    const ifaces = rec.cniResult?.interfaces ?? [];
    const podIndex = ifaces.findIndex((i) => i.sandbox !== undefined && i.sandbox !== '');
    const hostEnd = ifaces.find((i, n) => n !== podIndex && !i.sandbox && i.name.startsWith('veth'));
    if (!hostEnd) return undefined;
    const stat = async (name: string) =>
      Number(
        (await readFile(`/sys/class/net/${hostEnd.name}/statistics/${name}`, 'utf8').catch(() => '0')).trim(),
      );
    const [rxBytes, rxErrors, txBytes, txErrors] = await Promise.all(
      ['tx_bytes', 'tx_errors', 'rx_bytes', 'rx_errors'].map(stat),
    );
    const eth0: cri.NetworkInterfaceUsage = {
      name: ifaces[podIndex]?.name ?? 'eth0',
      rxBytes: { value: rxBytes ?? 0 },
      rxErrors: { value: rxErrors ?? 0 },
      txBytes: { value: txBytes ?? 0 },
      txErrors: { value: txErrors ?? 0 },
    };
    return { timestamp: at, defaultInterface: eth0, interfaces: [eth0] };
  }

  async podSandboxStats(request: cri.PodSandboxStatsRequest): Promise<cri.PodSandboxStatsResponse> {
    const rec = findById(this.#sandboxes, request.podSandboxId ?? '', 'sandbox');
    return { stats: await this.#sandboxStats(rec) };
  }

  async listPodSandboxStats(
    request: cri.ListPodSandboxStatsRequest,
  ): Promise<cri.ListPodSandboxStatsResponse> {
    const f = request.filter ?? {};
    const stats: cri.PodSandboxStats[] = [];
    for (const rec of this.#sandboxes.values()) {
      if (rec.state !== 'SANDBOX_READY') continue;
      if (f.id && !rec.id.startsWith(f.id)) continue;
      if (!matchesLabels(rec.config.labels, f.labelSelector)) continue;
      stats.push(await this.#sandboxStats(rec));
    }
    return { stats };
  }

  /** The cAdvisor-named metrics we export per container (CPU throttling is only visible here in CRI). */
  static readonly metricDescriptors: cri.MetricDescriptor[] = [
    { name: 'container_cpu_usage_seconds_total', help: 'Cumulative cpu time consumed in seconds.', labelKeys: ['container', 'pod', 'namespace'] },
    { name: 'container_memory_working_set_bytes', help: 'Current working set in bytes.', labelKeys: ['container', 'pod', 'namespace'] },
    { name: 'container_cpu_cfs_periods_total', help: 'Number of elapsed enforcement period intervals.', labelKeys: ['container', 'pod', 'namespace'] },
    { name: 'container_cpu_cfs_throttled_periods_total', help: 'Number of throttled period intervals.', labelKeys: ['container', 'pod', 'namespace'] },
    { name: 'container_cpu_cfs_throttled_seconds_total', help: 'Total time duration the container has been throttled.', labelKeys: ['container', 'pod', 'namespace'] },
    { name: 'container_oom_events_total', help: 'Count of out of memory events observed for the container.', labelKeys: ['container', 'pod', 'namespace'] },
  ]; // prettier-ignore

  listMetricDescriptors(): Promise<cri.ListMetricDescriptorsResponse> {
    return Promise.resolve({ descriptors: LinuxRuntime.metricDescriptors });
  }

  async listPodSandboxMetrics(): Promise<cri.ListPodSandboxMetricsResponse> {
    const podMetrics: cri.PodSandboxMetrics[] = [];
    for (const sandbox of this.#sandboxes.values()) {
      if (sandbox.state !== 'SANDBOX_READY') continue;
      const sm = sandbox.config.metadata ?? {};
      const containerMetrics: cri.ContainerMetrics[] = [];
      for (const c of this.#containers.values()) {
        if (c.sandboxId !== sandbox.id || c.state !== 'CONTAINER_RUNNING') continue;
        const raw = await readCgroupStats(c.cgroupPath, this.#cgroupVersion);
        const at = nsNow();
        const labels = [c.config.metadata?.name ?? '', sm.name ?? '', sm.namespace ?? ''];
        const m = (name: string, value: number, counter = true): cri.Metric => ({
          name,
          timestamp: at,
          metricType: counter ? 'COUNTER' : 'GAUGE',
          labelValues: labels,
          value: { value: Math.round(value) },
        });
        containerMetrics.push({
          containerId: c.id,
          metrics: [
            m('container_cpu_usage_seconds_total', raw.cpuUsageNanos / 1e9),
            m('container_memory_working_set_bytes', raw.memoryWorkingSetBytes, false),
            m('container_cpu_cfs_periods_total', raw.cfsPeriods),
            m('container_cpu_cfs_throttled_periods_total', raw.cfsThrottledPeriods),
            m('container_cpu_cfs_throttled_seconds_total', raw.cfsThrottledNanos / 1e9),
            m('container_oom_events_total', raw.oomKills),
          ],
        });
      }
      podMetrics.push({ podSandboxId: sandbox.id, metrics: [], containerMetrics });
    }
    return { podMetrics };
  }

  // ---- runtime

  version(_request: cri.VersionRequest): Promise<cri.VersionResponse> {
    return Promise.resolve({
      version: '0.1.0',
      runtimeName: 'k8ts',
      runtimeVersion: '0.1.0',
      runtimeApiVersion: 'v1',
    });
  }

  async status(_request: cri.StatusRequest): Promise<cri.StatusResponse> {
    let networkReady = true;
    let networkMessage = '';
    try {
      await this.#networkConfig();
    } catch (err) {
      networkReady = false;
      networkMessage = `Network plugin returns error: ${(err as Error).message}`;
    }
    return {
      status: {
        conditions: [
          { type: 'RuntimeReady', status: true, reason: '', message: '' },
          {
            type: 'NetworkReady',
            status: networkReady,
            reason: networkReady ? '' : 'NetworkPluginNotReady',
            message: networkMessage,
          },
        ],
      },
      info: {},
    };
  }

  async updateRuntimeConfig(
    request: cri.UpdateRuntimeConfigRequest,
  ): Promise<cri.UpdateRuntimeConfigResponse> {
    const cidr = request.runtimeConfig?.networkConfig?.podCidr ?? '';
    if (!cidr) return {};
    // Only k8ts' own default configuration follows the node's pod CIDRs; a user's configuration is theirs.
    // With no configuration at all (a runtime opened without ranges), the node's ranges make the first one.
    const ours = path.join(this.#network.confDir, defaultConfigFile);
    if (existsSync(ours) || !(await this.#networkConfig().then(() => true, () => false))) {
      await rm(ours, { force: true });
      await this.#writeDefaultNetwork(
        cidr
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean),
      );
    }
    return {};
  }

  runtimeConfig(_request: cri.RuntimeConfigRequest): Promise<cri.RuntimeConfigResponse> {
    return Promise.resolve({ linux: { cgroupDriver: 'CGROUPFS' } });
  }

  checkpointContainer(): Promise<cri.CheckpointContainerResponse> {
    return Promise.reject(criErrors.unimplemented('CheckpointContainer'));
  }

  updatePodSandboxResources(): Promise<cri.UpdatePodSandboxResourcesResponse> {
    return Promise.reject(criErrors.unimplemented('UpdatePodSandboxResources'));
  }
}
