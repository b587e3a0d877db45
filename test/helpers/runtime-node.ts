// A one-node cluster on a real container runtime for end-to-end tests: the busybox test image, a runtime
// serving CRI on a unix socket in a temporary directory (`k8ts runtime`, or Debian's containerd 1.6 with its
// own config, root, state and CNI configuration), and `k8ts server --container-runtime-endpoint` running
// this machine's kubelet against it (or a `k8ts agent` that joins the server with its token), with this
// test's own node name, bridge, pod ranges and cgroup root; optionally all inside a network namespace the
// test made (then the pods' bridge and the server's kube-proxy live there too). stop() removes the pods, the
// processes, the bridge, the masquerade table, the cgroups and the folder.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { connectCri } from '../../src/cri/grpc.js';
import type { CriClient } from '../../src/cri/grpc.js';
import { removeCgroup } from '../../src/runtime/cgroups.js';
import { masqueradeTable } from '../../src/runtime/cni.js';
import { buildBusyboxImage } from '../../src/runtime/testing/build-busybox-image.js';
import { requireTools } from '../../src/runtime/testing/requirements.js';
import { K8tsProcess, runK8ts } from './k8ts-process.js';
import type { KubectlResult } from './kubectl.js';
import { kubectl, kubectlPath } from './kubectl.js';

const execFileAsync = promisify(execFile);
/** containerd's sandbox image in these tests (no pause image from the network: a busybox that sleeps). */
const pauseImage = 'k8ts.test/pause:3.6';

/** What kind of node to start. */
export interface RuntimeNodeOptions {
  /** A short word for names (folder, node, bridge, cgroup). */
  tag: string;
  /** The node's name; default `TAG-PID`. */
  nodeName?: string;
  /** The runtime under the kubelet; default `k8ts` (the built-in runtime in `k8ts runtime`). */
  runtime?: 'k8ts' | 'containerd';
  /** The pod ranges; default a /24 of 10.43.0.0/16 and a /64 of fd43::/48 unique to the run. */
  podCIDRs?: string[];
  /**
   * Server flags besides the data, kubelet and runtime ones; `{dir}` in them is the temporary directory.
   * Without any, the server gets --cluster-cidr (the pod ranges), --disable-kube-proxy and --disable
   * coredns,servicelb.
   */
  serverArgs?: string[];
  /** Run the runtime and the server inside this network namespace (kube-proxy on); else on the host. */
  netns?: string;
  /** The CNI bridge; default a name unique to the process (inside a namespace of its own, k8ts0 is fine). */
  bridge?: string;
  /** Run the kubelet in a `k8ts agent` that joins the server with its token, instead of in the server. */
  agent?: boolean;
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
  readonly image = RuntimeNode.image;
  readonly dir: string;
  readonly options: RuntimeNodeOptions;
  readonly node: string;
  readonly podCIDRs: string[];
  readonly bridge: string;
  readonly cgroupRoot: string;
  runtime: K8tsProcess | undefined;
  containerd: ChildProcess | undefined;
  server: K8tsProcess | undefined;
  agent: K8tsProcess | undefined;
  #client: RESTClient | undefined;
  #cri: CriClient | undefined;

  private constructor(dir: string, options: RuntimeNodeOptions) {
    this.dir = dir;
    this.options = options;
    this.node = options.nodeName ?? `${options.tag}-${process.pid}`;
    const n = 64 + Math.floor(Math.random() * 190);
    this.podCIDRs = options.podCIDRs ?? [`10.43.${n}.0/24`, `fd43:0:0:${n.toString(16)}::/64`];
    this.bridge = options.bridge ?? `k8ts${options.tag.slice(0, 3)}${process.pid % 1000}${n}`.slice(0, 15);
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

  /** A client of the API server (one per node, closed by stop()). */
  get client(): RESTClient {
    this.#client ??= new RESTClient(loadKubeconfig(this.kubeconfig));
    return this.#client;
  }

  async #start(): Promise<void> {
    const { dir } = this;
    await mkdir(path.join(dir, 'manifests'));
    const layout = path.join(dir, 'layout');
    await buildBusyboxImage({ layoutDir: layout, tag: 'latest', workDir: dir });
    const archive = path.join(dir, 'busybox.tar');
    await execFileAsync('skopeo', ['copy', '--quiet', `oci:${layout}:latest`, `docker-archive:${archive}:${RuntimeNode.image}`]);
    if (this.options.runtime === 'containerd') {
      this.containerd = await startContainerd(dir, this.socket, this.bridge, this.podCIDRs[0]!);
      await execFileAsync('umoci', ['config', '--image', `${layout}:latest`, '--tag', 'pause', '--config.cmd', 'sleep', '--config.cmd', '2147483647']);
      const pause = path.join(dir, 'pause.tar');
      await execFileAsync('skopeo', ['copy', '--quiet', `oci:${layout}:pause`, `docker-archive:${pause}:${pauseImage}`]);
      for (const a of [archive, pause]) await execFileAsync('ctr', ['--address', this.socket, '-n', 'k8s.io', 'images', 'import', a]);
    } else {
      const imp = await runK8ts(['images', 'import', archive, '--data-dir', path.join(dir, 'runtime')]);
      if (imp.code !== 0) throw new Error(`k8ts images import failed: ${imp.stderr}`);
      // The runtime needs the host's cgroup mounts, which `ip netns exec` hides.
      const netns = this.options.netns === undefined ? {} : { netns: this.options.netns, hostMounts: true };
      this.runtime = new K8tsProcess([
        'runtime', '--listen', `unix://${this.socket}`, '--data-dir', path.join(dir, 'runtime'), '--state-dir', path.join(dir, 'run'),
        '--pod-cidr', this.podCIDRs.join(','), '--cni-bridge', this.bridge, '--cgroup-root', this.cgroupRoot, '--private-registry', '',
      ], netns); // prettier-ignore
      await this.runtime.waitForLog(/CRI runtime ready/, 60_000);
    }
    await rm(archive, { force: true });
    await this.startServer();
  }

  /** The kubelet's flags, in the server or in the agent. */
  kubeletArgs(): string[] {
    const { dir } = this;
    return [
      '--container-runtime-endpoint', `unix://${this.socket}`, '--node-name', this.node, '--kubelet-root-dir', path.join(dir, 'kubelet'),
      '--pod-logs-dir', path.join(dir, 'pod-logs'), '--pod-manifest-path', path.join(dir, 'manifests'),
    ]; // prettier-ignore
  }

  /** The server's command line. */
  serverArgs(): string[] {
    const { dir } = this;
    // The node IPAM controller hands the node the pod ranges, which the kubelet passes to the runtime.
    const extra = this.options.serverArgs ?? ['--cluster-cidr', this.podCIDRs.join(','), '--disable-kube-proxy', '--disable', 'coredns,servicelb'];
    return [
      'server', '--data-dir', path.join(dir, 'server'), '--https-listen-port', '0', '--bind-address', '127.0.0.1',
      ...(this.options.agent ? [] : this.kubeletArgs()),
      ...extra.map((a) => a.replaceAll('{dir}', dir)),
    ]; // prettier-ignore
  }

  /** Starts the server (again) and waits until its kubelet (or the agent's) runs. */
  async startServer(): Promise<K8tsProcess> {
    const netns = this.options.netns === undefined ? {} : { netns: this.options.netns };
    // In agent mode the server gets no kubelet flags, so K8tsProcess gives it --disable-agent.
    this.server = new K8tsProcess(this.serverArgs(), netns);
    if (this.options.agent) {
      const ready = await this.server.waitForLog(/"msg":"API server ready","port":(\d+)/, 60_000);
      const token = await runK8ts(['token', 'create', '--data-dir', path.join(this.dir, 'server')]);
      if (token.code !== 0) throw new Error(`k8ts token create: ${token.stderr}`);
      const args = ['agent', '--server', `https://127.0.0.1:${ready[1]}`, '--token', token.stdout.trim(), '--data-dir', path.join(this.dir, 'agent'), ...this.kubeletArgs()];
      this.agent = new K8tsProcess(args, netns);
      await this.agent.waitForLog(/"msg":"kubelet running"/, 60_000);
    } else await this.server.waitForLog(/"msg":"kubelet running"/, 60_000);
    return this.server;
  }

  /** Stops the server and starts it again (the kubelet restarts; containers keep running). */
  async restartServer(): Promise<void> {
    if (this.options.agent) throw new Error('restartServer: not with an agent');
    const code = await this.server!.stop();
    if (code !== 0) throw new Error(`k8ts server exited with ${code}:\n${this.server!.output}`);
    // The new server listens on another port: the next `client` reads the rewritten kubeconfig.
    this.#client?.close();
    this.#client = undefined;
    await this.startServer();
  }

  /** Runs kubectl 1.MINOR against the server (inside the namespace when the server runs in one). */
  kubectl(minor: number, args: string[], stdin?: string): Promise<KubectlResult> {
    const bin = kubectlPath(minor);
    if (this.options.netns === undefined) return kubectl(bin, this.kubeconfig, args, stdin);
    return kubectl('ip', this.kubeconfig, ['netns', 'exec', this.options.netns, bin, ...args], stdin);
  }

  /** kubectl with the arguments first (default 1.33). */
  k(args: string[], stdin?: string, minor = 33): Promise<KubectlResult> {
    return this.kubectl(minor, args, stdin);
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

  /** Stops the agent and the server, removes every pod sandbox, stops the runtime and removes what they left; the server's exit code. */
  async stop(): Promise<number | null | undefined> {
    let serverCode: number | null | undefined;
    let agentCode: number | null | undefined = 0;
    this.#client?.close();
    try {
      agentCode = await this.agent?.stop();
      serverCode = await this.server?.stop();
    } finally {
      // The kubelet leaves containers running when it stops (a restarted kubelet adopts them): remove them.
      if (existsSync(this.socket) && (this.runtime?.child.exitCode === null || this.containerd?.exitCode === null)) {
        const { items } = await this.cri.runtime.listPodSandbox({}).catch(() => ({ items: [] }));
        for (const sb of items ?? []) {
          await this.cri.runtime.stopPodSandbox({ podSandboxId: sb.id! }).catch(() => undefined);
          await this.cri.runtime.removePodSandbox({ podSandboxId: sb.id! }).catch(() => undefined);
        }
      }
      this.#cri?.close();
      await this.runtime?.stop();
      const containerd = this.containerd;
      if (containerd?.pid !== undefined && containerd.exitCode === null) {
        const exited = new Promise((r) => containerd.once('exit', r));
        process.kill(containerd.pid, 'SIGTERM');
        await exited;
      }
      const inNetns = this.options.netns === undefined ? [] : ['ip', 'netns', 'exec', this.options.netns];
      const quietly = (cmd: string[]): Promise<unknown> => execFileAsync(cmd[0]!, cmd.slice(1)).catch(() => undefined);
      await quietly([...inNetns, 'ip', 'link', 'del', this.bridge]);
      await quietly([...inNetns, 'nft', 'delete', 'table', 'inet', masqueradeTable(this.bridge)]);
      await removeCgroup(this.cgroupRoot).catch(() => undefined);
      if (containerd) {
        // containerd puts pods without a cgroup parent under k8s.io/ in every hierarchy: remove it once empty
        // (rmdir refuses while another run's containers are there).
        await quietly(['sh', '-c', 'rmdir /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io 2>/dev/null; true']);
        // Whatever containerd left mounted under the folder goes with it.
        await quietly(['sh', '-c', `grep -o " ${this.dir}[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]);
      }
      await rm(this.dir, { recursive: true, force: true });
    }
    if (agentCode !== 0 && agentCode !== undefined) throw new Error(`k8ts agent exited with ${agentCode}:\n${this.agent?.output ?? ''}`);
    return serverCode;
  }
}

/**
 * Starts Debian's containerd with its CRI plugin on `socket`: its own root and state, cgroupfs (no systemd
 * here), oom_score_adj restricted (root lacks CAP_SYS_RESOURCE here), and a CNI bridge configuration of
 * our own in its conf dir with plugins from /usr/lib/cni.
 */
async function startContainerd(dir: string, socket: string, bridge: string, subnet: string): Promise<ChildProcess> {
  requireTools(['containerd', 'ctr']);
  const netd = path.join(dir, 'containerd-net.d');
  await mkdir(netd, { recursive: true });
  await writeFile(
    path.join(netd, '10-test.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'test',
      plugins: [
        { type: 'bridge', bridge, isGateway: true, ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(dir, 'cni-ipam') } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  await writeFile(
    path.join(dir, 'containerd.toml'),
    [
      'version = 2',
      `root = "${dir}/containerd-root"`,
      `state = "${dir}/containerd-state"`,
      '[grpc]',
      `  address = "${socket}"`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      '  restrict_oom_score_adj = true',
      `  sandbox_image = "${pauseImage}"`,
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      '    bin_dir = "/usr/lib/cni"',
      `    conf_dir = "${netd}"`,
      '',
    ].join('\n'),
  );
  const child = spawn('containerd', ['--config', path.join(dir, 'containerd.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const deadline = Date.now() + 30_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`containerd did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}
