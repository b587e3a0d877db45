// A node on the built-in runtime for end-to-end tests: the busybox test image imported into a runtime data
// directory, `k8ts runtime` serving CRI on a unix socket and `k8ts server --container-runtime-endpoint`
// running this machine's kubelet against it, optionally both inside a network namespace the test made (then
// the pods' bridge and the server's kube-proxy live there too). stop() removes the pods, the processes, the
// bridge, the masquerade table, the cgroups and the folder.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectCri } from '../../src/cri/grpc.js';
import type { CriClient } from '../../src/cri/grpc.js';
import { removeCgroup } from '../../src/runtime/cgroups.js';
import { masqueradeTable } from '../../src/runtime/cni.js';
import { buildBusyboxImage } from '../../src/runtime/testing/build-busybox-image.js';
import { K8tsProcess, runK8ts } from './k8ts-process.js';
import type { KubectlResult } from './kubectl.js';
import { kubectl, kubectlPath } from './kubectl.js';

const execFileAsync = promisify(execFile);

/** What kind of node to start. */
export interface RuntimeNodeOptions {
  /** A short word for names (folder, bridge, cgroup). */
  tag: string;
  nodeName: string;
  /** The runtime's pod ranges (`--pod-cidr`). */
  podCIDRs: string[];
  /** Server flags besides the data, kubelet and runtime ones (e.g. --cluster-cidr, --disable ...). */
  serverArgs?: string[];
  /** Run the runtime and the server inside this network namespace (kube-proxy on); else on the host. */
  netns?: string;
  /** The CNI bridge; default a name unique to the process (inside a namespace of its own, k8ts0 is fine). */
  bridge?: string;
}

/** The result of a command run in a container. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A running node. */
export class RuntimeNode {
  /** The busybox image's name in the runtime's store (pods use it with imagePullPolicy Never). */
  static readonly image = 'k8ts.test/busybox:kubelet';
  readonly dir: string;
  readonly options: RuntimeNodeOptions;
  readonly bridge: string;
  readonly cgroupRoot: string;
  runtime: K8tsProcess | undefined;
  server: K8tsProcess | undefined;
  #cri: CriClient | undefined;

  private constructor(dir: string, options: RuntimeNodeOptions) {
    this.dir = dir;
    this.options = options;
    const n = process.pid % 10000;
    this.bridge = options.bridge ?? `k8ts${options.tag.slice(0, 5)}${n}`.slice(0, 15);
    this.cgroupRoot = `/k8ts-${options.tag}-${process.pid}`;
  }

  /** Builds and imports the image, starts the runtime and the server, and waits for the kubelet. */
  static async start(options: RuntimeNodeOptions): Promise<RuntimeNode> {
    const node = new RuntimeNode(await mkdtemp(path.join(tmpdir(), `k8ts-${options.tag}-`)), options);
    try {
      await node.#start();
    } catch (err) {
      await node.stop().catch(() => undefined);
      throw err;
    }
    return node;
  }

  get socket(): string {
    return path.join(this.dir, 'cri.sock');
  }

  get kubeconfig(): string {
    return path.join(this.dir, 'server', 'kubeconfig.yaml');
  }

  async #start(): Promise<void> {
    const { dir } = this;
    await mkdir(path.join(dir, 'manifests'));
    const layout = path.join(dir, 'layout');
    await buildBusyboxImage({ layoutDir: layout, tag: 'latest', workDir: dir });
    const archive = path.join(dir, 'busybox.tar');
    await execFileAsync('skopeo', ['copy', '--quiet', `oci:${layout}:latest`, `docker-archive:${archive}:${RuntimeNode.image}`]);
    const imp = await runK8ts(['images', 'import', archive, '--data-dir', path.join(dir, 'runtime')]);
    if (imp.code !== 0) throw new Error(`k8ts images import failed: ${imp.stderr}`);
    await rm(archive, { force: true });
    // The runtime needs the host's cgroup mounts, which `ip netns exec` hides.
    const netns = this.options.netns === undefined ? {} : { netns: this.options.netns, hostMounts: true };
    this.runtime = new K8tsProcess([
      'runtime', '--listen', `unix://${this.socket}`, '--data-dir', path.join(dir, 'runtime'), '--state-dir', path.join(dir, 'run'),
      '--pod-cidr', this.options.podCIDRs.join(','), '--cni-bridge', this.bridge, '--cgroup-root', this.cgroupRoot, '--private-registry', '',
    ], netns); // prettier-ignore
    await this.runtime.waitForLog(/CRI runtime ready/, 60_000);
    await this.startServer();
  }

  /** The server's command line. */
  serverArgs(): string[] {
    const { dir } = this;
    return [
      'server', '--data-dir', path.join(dir, 'server'), '--https-listen-port', '0', '--bind-address', '127.0.0.1',
      '--container-runtime-endpoint', `unix://${this.socket}`, '--node-name', this.options.nodeName, '--kubelet-root-dir', path.join(dir, 'kubelet'),
      '--pod-logs-dir', path.join(dir, 'pod-logs'), '--pod-manifest-path', path.join(dir, 'manifests'),
      ...(this.options.serverArgs ?? []),
    ]; // prettier-ignore
  }

  /** Starts the server (again) and waits until its kubelet runs. */
  async startServer(): Promise<K8tsProcess> {
    this.server = new K8tsProcess(this.serverArgs(), this.options.netns === undefined ? {} : { netns: this.options.netns });
    await this.server.waitForLog(/"msg":"kubelet running"/, 60_000);
    return this.server;
  }

  /** Runs kubectl 1.MINOR against the server (inside the namespace when the server runs in one). */
  kubectl(minor: number, args: string[], stdin?: string): Promise<KubectlResult> {
    const bin = kubectlPath(minor);
    if (this.options.netns === undefined) return kubectl(bin, this.kubeconfig, args, stdin);
    return kubectl('ip', this.kubeconfig, ['netns', 'exec', this.options.netns, bin, ...args], stdin);
  }

  /** A CRI client of the runtime (one per node, closed by stop()). */
  get cri(): CriClient {
    this.#cri ??= connectCri(this.socket, { timeoutMs: 60_000 });
    return this.#cri;
  }

  /** Runs a command in a container through CRI ExecSync ("k8ts://ID" or the bare ID). */
  async exec(containerID: string, cmd: string[], timeoutSeconds = 60): Promise<ExecResult> {
    const r = await this.cri.runtime.execSync({ containerId: containerID.replace(/^\w+:\/\//, ''), cmd, timeout: timeoutSeconds });
    return { code: r.exitCode ?? 0, stdout: Buffer.from(r.stdout ?? []).toString('utf8'), stderr: Buffer.from(r.stderr ?? []).toString('utf8') };
  }

  /** Stops the server, removes every pod sandbox, stops the runtime and removes what they left. */
  async stop(): Promise<number | null | undefined> {
    let serverCode: number | null | undefined;
    try {
      serverCode = await this.server?.stop();
    } finally {
      // The kubelet leaves containers running when it stops (a restarted kubelet adopts them): remove them.
      if (this.runtime?.child.exitCode === null) {
        const { items } = await this.cri.runtime.listPodSandbox({}).catch(() => ({ items: [] }));
        for (const sb of items ?? []) await this.cri.runtime.removePodSandbox({ podSandboxId: sb.id! }).catch(() => undefined);
      }
      this.#cri?.close();
      await this.runtime?.stop();
      const inNetns = this.options.netns === undefined ? [] : ['ip', 'netns', 'exec', this.options.netns];
      const quietly = (cmd: string[]): Promise<unknown> => execFileAsync(cmd[0]!, cmd.slice(1)).catch(() => undefined);
      await quietly([...inNetns, 'ip', 'link', 'del', this.bridge]);
      await quietly([...inNetns, 'nft', 'delete', 'table', 'inet', masqueradeTable(this.bridge)]);
      await removeCgroup(this.cgroupRoot).catch(() => undefined);
      await rm(this.dir, { recursive: true, force: true });
    }
    return serverCode;
  }
}
