/* eslint-disable @typescript-eslint/require-await -- an in-memory runtime answers at once, behind an async interface */
// A CRI runtime without processes, for simulated nodes (kwok-style scale tests) and machines without root:
// sandboxes get made-up IPs, containers "run" the simsh script of their command (script.ts), ExecSync reads
// and changes the container's pretend file set, images pull instantly unless their name says they do not
// exist, and stats are made up. Everything lives in memory, so a kubelet restart in the same process
// finds the containers still "running".
import { createHash, randomBytes } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type * as cri from '../../cri/index.js';
import { criErrors } from '../../cri/index.js';
import type { Step } from './script.js';
import { parseScript, scriptOf } from './script.js';

interface SimSandbox {
  id: string;
  config: cri.PodSandboxConfig;
  state: cri.PodSandboxState;
  createdAt: number;
  ips: string[];
}

interface SimContainer {
  id: string;
  sandboxId: string;
  config: cri.ContainerConfig;
  state: cri.ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  imageRef: string;
  files: Set<string>;
  timer: NodeJS.Timeout | undefined;
}

/** Options of a SimulatedRuntime. */
export interface SimulatedRuntimeOptions {
  /** Index of the node, for distinct pod IPs across a simulated fleet. */
  nodeIndex?: number;
}

const nowNs = (): number => Date.now() * 1_000_000;

function matches(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(selector ?? {})) if (labels?.[k] !== v) return false;
  return true;
}

/** The in-process simulated runtime: both CRI services. */
export class SimulatedRuntime implements cri.RuntimeService, cri.ImageService {
  readonly #sandboxes = new Map<string, SimSandbox>();
  readonly #containers = new Map<string, SimContainer>();
  readonly #images = new Map<string, cri.Image>();
  readonly #nodeIndex: number;
  #nextIP = 2;

  constructor(options: SimulatedRuntimeOptions = {}) {
    this.#nodeIndex = options.nodeIndex ?? 0;
  }

  #newId(): string {
    return randomBytes(32).toString('hex');
  }

  async version(): Promise<cri.VersionResponse> {
    return { version: '0.1.0', runtimeName: 'simulated', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  }

  async status(): Promise<cri.StatusResponse> {
    return {
      status: {
        conditions: [
          { type: 'RuntimeReady', status: true },
          { type: 'NetworkReady', status: true },
        ],
      },
    };
  }

  async runPodSandbox(req: cri.RunPodSandboxRequest): Promise<cri.RunPodSandboxResponse> {
    const id = this.#newId();
    const n = this.#nextIP++;
    const i = this.#nodeIndex;
    const ips = [`10.${(i >> 8) & 255}.${i & 255}.${n & 255}`, `fd00:${(i + 1).toString(16)}::${n.toString(16)}`];
    if (n >= 254) this.#nextIP = 2;
    this.#sandboxes.set(id, { id, config: req.config ?? {}, state: 'SANDBOX_READY', createdAt: nowNs(), ips });
    return { podSandboxId: id };
  }

  async stopPodSandbox(req: cri.StopPodSandboxRequest): Promise<cri.StopPodSandboxResponse> {
    const s = this.#sandboxes.get(req.podSandboxId ?? '');
    if (!s) return {};
    for (const c of this.#containers.values()) if (c.sandboxId === s.id && c.state === 'CONTAINER_RUNNING') this.#exit(c, 137, 'Error');
    s.state = 'SANDBOX_NOTREADY';
    return {};
  }

  async removePodSandbox(req: cri.RemovePodSandboxRequest): Promise<cri.RemovePodSandboxResponse> {
    const id = req.podSandboxId ?? '';
    for (const c of [...this.#containers.values()]) if (c.sandboxId === id) await this.removeContainer({ containerId: c.id });
    this.#sandboxes.delete(id);
    return {};
  }

  #sandboxStatus(s: SimSandbox): cri.PodSandboxStatus {
    return {
      id: s.id,
      metadata: s.config.metadata ?? {},
      state: s.state,
      createdAt: s.createdAt,
      network: { ip: s.ips[0] ?? '', additionalIps: s.ips.slice(1).map((ip) => ({ ip })) },
      labels: s.config.labels ?? {},
      annotations: s.config.annotations ?? {},
    };
  }

  async podSandboxStatus(req: cri.PodSandboxStatusRequest): Promise<cri.PodSandboxStatusResponse> {
    const s = this.#sandboxes.get(req.podSandboxId ?? '');
    if (!s) throw criErrors.notFound(`an error occurred when try to find sandbox: not found: ${req.podSandboxId}`);
    return { status: this.#sandboxStatus(s) };
  }

  async listPodSandbox(req: cri.ListPodSandboxRequest): Promise<cri.ListPodSandboxResponse> {
    const f = req.filter;
    const items: cri.PodSandbox[] = [];
    for (const s of this.#sandboxes.values()) {
      if (f?.id && f.id !== s.id) continue;
      if (f?.state && f.state.state !== s.state) continue;
      if (!matches(s.config.labels, f?.labelSelector)) continue;
      items.push({ id: s.id, metadata: s.config.metadata ?? {}, state: s.state, createdAt: s.createdAt, labels: s.config.labels ?? {}, annotations: s.config.annotations ?? {} });
    }
    return { items };
  }

  async createContainer(req: cri.CreateContainerRequest): Promise<cri.CreateContainerResponse> {
    const s = this.#sandboxes.get(req.podSandboxId ?? '');
    if (!s || s.state !== 'SANDBOX_READY') throw criErrors.notFound(`sandbox ${req.podSandboxId} not found or not ready`);
    const id = this.#newId();
    const image = req.config?.image?.image ?? '';
    this.#containers.set(id, {
      id,
      sandboxId: s.id,
      config: req.config ?? {},
      state: 'CONTAINER_CREATED',
      createdAt: nowNs(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      message: '',
      imageRef: this.#images.get(image)?.id ?? imageId(image),
      files: new Set(),
      timer: undefined,
    });
    return { containerId: id };
  }

  #get(id: string | undefined): SimContainer {
    const c = this.#containers.get(id ?? '');
    if (!c) throw criErrors.notFound(`container "${id}" not found`);
    return c;
  }

  async startContainer(req: cri.StartContainerRequest): Promise<cri.StartContainerResponse> {
    const c = this.#get(req.containerId);
    if (c.state !== 'CONTAINER_CREATED') throw criErrors.failedPrecondition(`container ${c.id} is not in created state`);
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nowNs();
    this.#run(c, parseScript(scriptOf([...(c.config.command ?? []), ...(c.config.args ?? [])])), 0);
    return {};
  }

  /** Runs the script's steps from `i` until a sleep (scheduled), an exit, or its end. */
  #run(c: SimContainer, steps: Step[], i: number): void {
    for (; i < steps.length; i++) {
      if (c.state !== 'CONTAINER_RUNNING') return;
      const s = steps[i]!;
      switch (s.op) {
        case 'sleep':
          if (s.seconds === Infinity) return;
          if (s.seconds > 0) {
            c.timer = setTimeout(() => this.#run(c, steps, i + 1), s.seconds * 1000);
            c.timer.unref();
            return;
          }
          break;
        case 'exit':
          this.#exit(c, s.code, s.code === 0 ? 'Completed' : 'Error');
          return;
        case 'touch':
          c.files.add(s.path);
          break;
        case 'rm':
          c.files.delete(s.path);
          break;
        case 'echo':
          this.#log(c, s.text);
          break;
        case 'test':
          if (!c.files.has(s.path)) {
            this.#exit(c, 1, 'Error');
            return;
          }
          break;
        case 'forever':
          return;
      }
    }
    this.#exit(c, 0, 'Completed');
  }

  #log(c: SimContainer, text: string): void {
    if (!c.config.logPath) return;
    const sb = this.#sandboxes.get(c.sandboxId);
    const dir = sb?.config.logDirectory;
    if (!dir) return;
    void appendFile(`${dir}/${c.config.logPath}`, `${new Date().toISOString()} stdout F ${text}\n`).catch(() => undefined);
  }

  #exit(c: SimContainer, code: number, reason: string): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = undefined;
    c.state = 'CONTAINER_EXITED';
    c.exitCode = code;
    c.reason = reason;
    c.finishedAt = nowNs();
  }

  async stopContainer(req: cri.StopContainerRequest): Promise<cri.StopContainerResponse> {
    const c = this.#get(req.containerId);
    // The simulated process dies of the SIGTERM at once: 128 + 15.
    if (c.state === 'CONTAINER_RUNNING') this.#exit(c, 143, 'Error');
    else if (c.state === 'CONTAINER_CREATED') this.#exit(c, 0, 'Completed');
    return {};
  }

  async removeContainer(req: cri.RemoveContainerRequest): Promise<cri.RemoveContainerResponse> {
    const c = this.#containers.get(req.containerId ?? '');
    if (c?.timer) clearTimeout(c.timer);
    this.#containers.delete(req.containerId ?? '');
    return {};
  }

  #container(c: SimContainer): cri.Container {
    return {
      id: c.id,
      podSandboxId: c.sandboxId,
      metadata: c.config.metadata ?? {},
      image: c.config.image ?? {},
      imageRef: c.imageRef,
      state: c.state,
      createdAt: c.createdAt,
      labels: c.config.labels ?? {},
      annotations: c.config.annotations ?? {},
    };
  }

  async listContainers(req: cri.ListContainersRequest): Promise<cri.ListContainersResponse> {
    const f = req.filter;
    const containers: cri.Container[] = [];
    for (const c of this.#containers.values()) {
      if (f?.id && f.id !== c.id) continue;
      if (f?.podSandboxId && f.podSandboxId !== c.sandboxId) continue;
      if (f?.state && f.state.state !== c.state) continue;
      if (!matches(c.config.labels, f?.labelSelector)) continue;
      containers.push(this.#container(c));
    }
    return { containers };
  }

  async containerStatus(req: cri.ContainerStatusRequest): Promise<cri.ContainerStatusResponse> {
    const c = this.#get(req.containerId);
    return {
      status: {
        id: c.id,
        metadata: c.config.metadata ?? {},
        state: c.state,
        createdAt: c.createdAt,
        startedAt: c.startedAt,
        finishedAt: c.finishedAt,
        exitCode: c.exitCode,
        image: c.config.image ?? {},
        imageRef: c.imageRef,
        reason: c.reason,
        message: c.message,
        labels: c.config.labels ?? {},
        annotations: c.config.annotations ?? {},
        mounts: c.config.mounts ?? [],
        logPath: c.config.logPath ?? '',
      },
    };
  }

  async updateContainerResources(): Promise<cri.UpdateContainerResourcesResponse> {
    return {};
  }

  async reopenContainerLog(): Promise<cri.ReopenContainerLogResponse> {
    return {};
  }

  async execSync(req: cri.ExecSyncRequest): Promise<cri.ExecSyncResponse> {
    const c = this.#get(req.containerId);
    if (c.state !== 'CONTAINER_RUNNING') throw criErrors.failedPrecondition(`container ${c.id} is not running`);
    let stdout = '';
    for (const s of (req.cmd ?? []).length === 0 ? [] : parseScript(scriptOf(req.cmd ?? []))) {
      switch (s.op) {
        case 'exit':
          return { stdout: Buffer.from(stdout), stderr: Buffer.alloc(0), exitCode: s.code };
        case 'touch':
          c.files.add(s.path);
          break;
        case 'rm':
          c.files.delete(s.path);
          break;
        case 'echo':
          stdout += s.text + '\n';
          break;
        case 'test':
          if (!c.files.has(s.path)) return { stdout: Buffer.from(stdout), stderr: Buffer.from(`${s.path}: No such file or directory\n`), exitCode: 1 };
          break;
        case 'sleep':
        case 'forever':
          break;
      }
    }
    return { stdout: Buffer.from(stdout), stderr: Buffer.alloc(0), exitCode: 0 };
  }

  async exec(): Promise<cri.ExecResponse> {
    throw criErrors.unimplemented('Exec');
  }

  async attach(): Promise<cri.AttachResponse> {
    throw criErrors.unimplemented('Attach');
  }

  async portForward(): Promise<cri.PortForwardResponse> {
    throw criErrors.unimplemented('PortForward');
  }

  #stats(c: SimContainer): cri.ContainerStats {
    const ts = nowNs();
    const runningNs = c.state === 'CONTAINER_RUNNING' ? ts - c.startedAt : c.finishedAt - c.startedAt;
    return {
      attributes: { id: c.id, metadata: c.config.metadata ?? {}, labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {} },
      // A made-up load: one millicore and 8 MiB per running container.
      cpu: { timestamp: ts, usageCoreNanoSeconds: { value: Math.max(0, Math.floor(runningNs / 1000)) }, usageNanoCores: { value: c.state === 'CONTAINER_RUNNING' ? 1_000_000 : 0 } },
      memory: { timestamp: ts, workingSetBytes: { value: 8 * 1024 * 1024 }, usageBytes: { value: 8 * 1024 * 1024 } },
      writableLayer: { timestamp: ts, fsId: { mountpoint: '/' }, usedBytes: { value: 4096 }, inodesUsed: { value: 1 } },
    };
  }

  async containerStats(req: cri.ContainerStatsRequest): Promise<cri.ContainerStatsResponse> {
    return { stats: this.#stats(this.#get(req.containerId)) };
  }

  async listContainerStats(req: cri.ListContainerStatsRequest): Promise<cri.ListContainerStatsResponse> {
    const f = req.filter;
    const stats = [...this.#containers.values()]
      .filter((c) => (!f?.id || f.id === c.id) && (!f?.podSandboxId || f.podSandboxId === c.sandboxId) && matches(c.config.labels, f?.labelSelector))
      .map((c) => this.#stats(c));
    return { stats };
  }

  async podSandboxStats(req: cri.PodSandboxStatsRequest): Promise<cri.PodSandboxStatsResponse> {
    const s = this.#sandboxes.get(req.podSandboxId ?? '');
    if (!s) throw criErrors.notFound(`sandbox ${req.podSandboxId} not found`);
    const containers = [...this.#containers.values()].filter((c) => c.sandboxId === s.id).map((c) => this.#stats(c));
    return { stats: { attributes: { id: s.id, metadata: s.config.metadata ?? {}, labels: s.config.labels ?? {}, annotations: s.config.annotations ?? {} }, linux: { containers } } };
  }

  async listPodSandboxStats(): Promise<cri.ListPodSandboxStatsResponse> {
    const stats: cri.PodSandboxStats[] = [];
    for (const id of this.#sandboxes.keys()) stats.push((await this.podSandboxStats({ podSandboxId: id })).stats!);
    return { stats };
  }

  async updateRuntimeConfig(): Promise<cri.UpdateRuntimeConfigResponse> {
    return {};
  }

  async checkpointContainer(): Promise<cri.CheckpointContainerResponse> {
    throw criErrors.unimplemented('CheckpointContainer');
  }

  async listMetricDescriptors(): Promise<cri.ListMetricDescriptorsResponse> {
    return { descriptors: [] };
  }

  async listPodSandboxMetrics(): Promise<cri.ListPodSandboxMetricsResponse> {
    return { podMetrics: [] };
  }

  async runtimeConfig(): Promise<cri.RuntimeConfigResponse> {
    return { linux: { cgroupDriver: 'CGROUPFS' } };
  }

  async updatePodSandboxResources(): Promise<cri.UpdatePodSandboxResourcesResponse> {
    return {};
  }

  // ImageService

  async listImages(): Promise<cri.ListImagesResponse> {
    return { images: [...this.#images.values()] };
  }

  async imageStatus(req: cri.ImageStatusRequest): Promise<cri.ImageStatusResponse> {
    const img = this.#images.get(req.image?.image ?? '');
    return img ? { image: img } : {};
  }

  async pullImage(req: cri.PullImageRequest): Promise<cri.PullImageResponse> {
    const name = req.image?.image ?? '';
    if (name.includes('does-not-exist')) {
      throw criErrors.notFound(`failed to pull and unpack image "${name}": failed to resolve reference "${name}": ${name}: not found`);
    }
    const id = imageId(name);
    this.#images.set(name, { id, repoTags: [name], repoDigests: [], size: 1024 * 1024, spec: { image: name }, pinned: false });
    return { imageRef: id };
  }

  async removeImage(req: cri.RemoveImageRequest): Promise<cri.RemoveImageResponse> {
    this.#images.delete(req.image?.image ?? '');
    return {};
  }

  async imageFsInfo(): Promise<cri.ImageFsInfoResponse> {
    return { imageFilesystems: [{ timestamp: nowNs(), fsId: { mountpoint: '/' }, usedBytes: { value: this.#images.size * 1024 * 1024 }, inodesUsed: { value: this.#images.size } }] };
  }
}

/** The made-up image ID of a reference. */
function imageId(name: string): string {
  return 'sha256:' + createHash('sha256').update(name).digest('hex');
}
