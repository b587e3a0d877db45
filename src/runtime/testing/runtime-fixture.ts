// A built-in runtime for tests: an image store with the busybox test image imported, the Linux runtime with
// its own CNI configuration (a bridge and pod ranges picked at random so that parallel runs do not clash),
// served over CRI gRPC on a unix socket in a temporary directory; and its complete cleanup.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectCri, serveCri, type CriClient, type CriServer } from '../../cri/grpc.js';
import type * as cri from '../../cri/types.js';
import { removeCgroup } from '../cgroups.js';
import { masqueradeTable } from '../cni.js';
import { CriImageService } from '../cri-image-service.js';
import { ImageService } from '../images/image-service.js';
import { LinuxRuntime } from '../linux-runtime.js';
import { buildBusyboxImage } from './build-busybox-image.js';
import { onPath, requireTools } from './requirements.js';

const execFileAsync = promisify(execFile);

/** Why the runtime tests cannot run here, or undefined when they can. */
export function runtimeSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the runtime tests need root (namespaces, mounts, cgroups, CNI)';
  return undefined;
}

/** Why the runtime tests cannot run here with OCI runtime `binary` (runc, crun), or undefined when they can. */
export function ociRuntimeSkipReason(binary: string): string | undefined {
  const reason = runtimeSkipReason();
  if (reason !== undefined) return reason;
  if (!onPath(binary)) return `${binary} is not installed (apt-get install -y ${binary})`;
  return undefined;
}

/** A runtime under test. */
export interface RuntimeFixture {
  dir: string;
  /** The runtime's state directory (on tmpfs when /dev/shm is one). */
  stateDir: string;
  images: ImageService;
  runtime: LinuxRuntime;
  server: CriServer;
  client: CriClient;
  socket: string;
  /** The busybox image's reference in the store. */
  image: string;
  bridge: string;
  podCIDRs: string[];
  cgroupParent: string;
  /** Opens a new runtime over the same state (a restart of k8ts). */
  restart(): Promise<void>;
  /** A sandbox config with a unique name; logs under the fixture's directory. */
  sandboxConfig(name: string, extra?: cri.PodSandboxConfig): cri.PodSandboxConfig;
  /** Runs a sandbox and one container in it (created and started). */
  runPod(
    name: string,
    container: cri.ContainerConfig,
    sandboxExtra?: cri.PodSandboxConfig,
  ): Promise<{ podId: string; containerId: string; sandboxConfig: cri.PodSandboxConfig }>;
  /** Waits until `check` returns a value (not undefined), polling, within `ms`. */
  waitFor<T>(what: string, check: () => Promise<T | undefined>, ms?: number): Promise<T>;
  /** Reads a container's CRI log. */
  readLog(sandboxConfig: cri.PodSandboxConfig, container: cri.ContainerConfig): Promise<string>;
  close(): Promise<void>;
}

/** True when /dev/shm is a tmpfs mount. */
function shmIsTmpfs(): boolean {
  try {
    return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => / \/dev\/shm tmpfs /.test(l));
  } catch {
    return false;
  }
}

/** Builds the busybox image layout once per process. */
let layoutPromise: Promise<string> | undefined;
async function busyboxLayout(): Promise<string> {
  layoutPromise ??= (async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'k8ts-busybox-'));
    const layoutDir = path.join(work, 'layout');
    await buildBusyboxImage({ layoutDir, tag: 'latest', workDir: work });
    // An exit handler runs no more callbacks: the removal must be synchronous (an rm() here never ran, and
    // every test process left its image layout in the temporary directory).
    process.once('exit', () => rmSync(work, { recursive: true, force: true }));
    return layoutDir;
  })();
  return layoutPromise;
}

/** Starts the fixture. */
export async function startRuntimeFixture(options: { ociRuntime?: string } = {}): Promise<RuntimeFixture> {
  requireTools(
    [
      options.ociRuntime ?? 'runc',
      'unshare',
      'nsenter',
      'mkfifo',
      'busybox',
      'umoci',
      'ip',
      'iptables',
      'nft',
      'mount',
      'script',
      'stty',
      'perl',
    ],
    {
      root: true,
    },
  );
  if (!existsSync('/usr/lib/cni/bridge')) {
    throw new Error('CNI plugins missing: apt-get install -y containernetworking-plugins');
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'k8ts-rt-'));
  // The state directory on tmpfs when there is one, as `k8ts runtime`'s default (/run/k8ts/runtime) is on a
  // usual host: runc writes its pid files there with O_SYNC.
  const stateDir = shmIsTmpfs() ? await mkdtemp('/dev/shm/k8ts-rt-run-') : path.join(dir, 'run');
  const n = 64 + Math.floor(Math.random() * 190);
  const tag = `${process.pid % 1000}${n}`;
  const bridge = `k8tst${tag}`.slice(0, 15);
  const podCIDRs = [`10.42.${n}.0/24`, `fd42:0:0:${n.toString(16)}::/64`];
  const cgroupParent = `/k8ts-test-${tag}`;
  const socket = path.join(dir, 'cri.sock');
  const images = await ImageService.open({ root: path.join(dir, 'images') });
  const [imported] = await images.import(await busyboxLayout(), { baseName: 'k8ts.test/busybox' });
  const image = imported?.repoTags[0] ?? imported?.id ?? '';
  const open = () =>
    LinuxRuntime.open({
      root: path.join(dir, 'runtime'),
      stateDir,
      images,
      network: {
        confDir: path.join(dir, 'net.d'),
        binDirs: ['/usr/lib/cni'],
        podCIDRs,
        bridge,
        ipamDataDir: path.join(dir, 'ipam'),
      },
      defaultCgroupParent: cgroupParent,
      ...(options.ociRuntime === undefined ? {} : { ociRuntime: options.ociRuntime }),
    });
  let runtime = await open();
  const imageService = new CriImageService(images);
  let server = await serveCri({ address: `unix://${socket}`, runtime, image: imageService });
  const client = connectCri(socket, { timeoutMs: 60_000 });
  let counter = 0;

  const fixture: RuntimeFixture = {
    dir,
    stateDir,
    images,
    get runtime() {
      return runtime;
    },
    get server() {
      return server;
    },
    client,
    socket,
    image,
    bridge,
    podCIDRs,
    cgroupParent,
    async restart() {
      await server.close();
      await runtime.close();
      runtime = await open();
      server = await serveCri({ address: `unix://${socket}`, runtime, image: imageService });
    },
    sandboxConfig(name, extra = {}) {
      counter++;
      return {
        metadata: { name, namespace: 'default', uid: `uid-${name}-${counter}`, attempt: 0 },
        logDirectory: path.join(dir, 'logs', `${name}-${counter}`),
        ...extra,
      };
    },
    async runPod(name, container, sandboxExtra) {
      const sandboxConfig = fixture.sandboxConfig(name, sandboxExtra);
      const { podSandboxId } = await client.runtime.runPodSandbox({ config: sandboxConfig });
      const { containerId } = await client.runtime.createContainer({
        podSandboxId: podSandboxId!,
        config: { image: { image }, logPath: `${container.metadata?.name ?? 'c'}/0.log`, ...container },
        sandboxConfig,
      });
      await client.runtime.startContainer({ containerId: containerId! });
      return { podId: podSandboxId!, containerId: containerId!, sandboxConfig };
    },
    async waitFor(what, check, ms = 20_000) {
      const deadline = Date.now() + ms;
      let last: unknown;
      for (;;) {
        try {
          const v = await check();
          if (v !== undefined) return v;
        } catch (err) {
          last = err;
        }
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async readLog(sandboxConfig, container) {
      const file = path.join(
        sandboxConfig.logDirectory!,
        container.logPath ?? `${container.metadata?.name ?? 'c'}/0.log`,
      );
      return readFile(file, 'utf8').catch(() => '');
    },
    async close() {
      try {
        const { items } = await client.runtime.listPodSandbox({});
        for (const s of items ?? []) {
          await client.runtime.stopPodSandbox({ podSandboxId: s.id! }).catch(() => undefined);
          await client.runtime.removePodSandbox({ podSandboxId: s.id! }).catch(() => undefined);
        }
      } finally {
        client.close();
        await server.close();
        await runtime.close();
        images.close();
        await execFileAsync('ip', ['link', 'del', bridge]).catch(() => undefined);
        await execFileAsync('nft', ['delete', 'table', 'inet', masqueradeTable(bridge)]).catch(
          () => undefined,
        );
        await removeCgroup(cgroupParent);
        await mkdir(dir, { recursive: true });
        await rm(dir, { recursive: true, force: true });
        await rm(stateDir, { recursive: true, force: true });
      }
    },
  };
  return fixture;
}
