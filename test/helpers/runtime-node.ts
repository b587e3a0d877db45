// A one-node cluster on a real container runtime, for the kubelet's end-to-end tests: the busybox test image,
// a runtime serving CRI on a socket in a temporary directory (`k8ts runtime`, or Debian's containerd 1.6
// with its own config, root, state and CNI configuration), and `k8ts server --container-runtime-endpoint`
// running this machine's kubelet against it, with this test's own node name, bridge, pod ranges and cgroup
// root; and the complete cleanup (sandboxes, bridge, masquerade table, cgroups, files).
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { connectCri } from '../../src/cri/grpc.js';
import { removeCgroup } from '../../src/runtime/cgroups.js';
import { masqueradeTable } from '../../src/runtime/cni.js';
import { buildBusyboxImage } from '../../src/runtime/testing/build-busybox-image.js';
import { requireTools } from '../../src/runtime/testing/requirements.js';
import { K8tsProcess, runK8ts } from './k8ts-process.js';
import { kubectl, kubectlPath } from './kubectl.js';

const execFileAsync = promisify(execFile);
/** containerd's sandbox image in these tests. */
const pauseImage = 'k8ts.test/pause:3.6';

/** The runtime under the kubelet. */
export type NodeRuntime = 'k8ts' | 'containerd';

/** A running one-node cluster; see the file comment. */
export interface RuntimeNode {
  dir: string;
  node: string;
  /** The busybox image's reference (imagePullPolicy Never: it is imported, not pulled). */
  image: string;
  kubeconfig: string;
  /** The CRI socket. */
  socket: string;
  /** A byte that makes this run's ranges unique: pods get 10.43.N.0/24 and fd43:0:0:N::/64. */
  n: number;
  server: K8tsProcess;
  /** The agent running the kubelet (with `agent: true`). */
  agent: K8tsProcess | undefined;
  client: RESTClient;
  /** kubectl (default 1.33) against the cluster. */
  k(args: string[], stdin?: string, minor?: number): ReturnType<typeof kubectl>;
  /** Stops the server and starts it again (the kubelet restarts; containers keep running). */
  restartServer(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of startRuntimeNode. */
export interface RuntimeNodeOptions {
  runtime: NodeRuntime;
  /** Prefix of the temporary directory and the node name. */
  name: string;
  /** Folders to make under the directory before the server starts (e.g. a static pod folder). */
  dirs?: string[];
  /** More `k8ts server` flags; `{dir}` in them is replaced by the temporary directory. */
  serverArgs?: string[];
  /** Run the kubelet in a `k8ts agent` that joins the server with its token, instead of in the server. */
  agent?: boolean;
}

/** Starts the runtime and the server; see the file comment. */
export async function startRuntimeNode(o: RuntimeNodeOptions): Promise<RuntimeNode> {
  const dir = await mkdtemp(path.join(tmpdir(), `k8ts-${o.name}-`));
  for (const d of o.dirs ?? []) await mkdir(path.join(dir, d), { recursive: true });
  const n = 64 + Math.floor(Math.random() * 190);
  const bridge = `k8tsk${process.pid % 1000}${n}`.slice(0, 15);
  const cgroupRoot = `/k8ts-${o.name}-${process.pid}`;
  const node = `${o.name}-${process.pid}`;
  const image = 'k8ts.test/busybox:kubelet';
  const socket = path.join(dir, 'cri.sock');
  const kubeconfig = path.join(dir, 'server', 'kubeconfig.yaml');
  const ranges = `10.43.${n}.0/24,fd43:0:0:${n.toString(16)}::/64`;
  let runtime: K8tsProcess | undefined;
  let containerd: ChildProcess | undefined;
  let server: K8tsProcess | undefined;
  let agent: K8tsProcess | undefined;
  let client: RESTClient | undefined;
  const kubeletArgs = [
    '--container-runtime-endpoint', `unix://${socket}`, '--node-name', node, '--kubelet-root-dir', path.join(dir, 'kubelet'),
    '--pod-logs-dir', path.join(dir, 'pod-logs'),
  ]; // prettier-ignore
  const serverArgs = (): string[] => [
    'server', '--data-dir', path.join(dir, 'server'), '--https-listen-port', '0', '--bind-address', '127.0.0.1',
    ...(o.agent ? [] : kubeletArgs),
    // The node IPAM controller hands the node this run's ranges, which the kubelet passes to the runtime.
    '--cluster-cidr', ranges, '--disable-kube-proxy', '--disable', 'coredns,servicelb',
    ...(o.serverArgs ?? []).map((a) => a.replaceAll('{dir}', dir)),
  ]; // prettier-ignore
  const startServer = async (): Promise<void> => {
    server = new K8tsProcess(serverArgs());
    if (o.agent) {
      const ready = await server.waitForLog(/"msg":"API server ready","port":(\d+)/, 60_000);
      const token = await runK8ts(['token', 'create', '--data-dir', path.join(dir, 'server')]);
      if (token.code !== 0) throw new Error(`k8ts token create: ${token.stderr}`);
      agent = new K8tsProcess(['agent', '--server', `https://127.0.0.1:${ready[1]}`, '--token', token.stdout.trim(), '--data-dir', path.join(dir, 'agent'), ...kubeletArgs]);
      await agent.waitForLog(/"msg":"kubelet running"/, 60_000);
    } else await server.waitForLog(/"msg":"kubelet running"/, 60_000);
    client = new RESTClient(loadKubeconfig(kubeconfig));
  };
  const stop = async (): Promise<void> => {
    client?.close();
    const agentCode = agent ? await agent.stop() : 0;
    const code = server ? await server.stop() : 0;
    // The kubelet leaves containers running when it stops (a restarted kubelet adopts them): remove them.
    if (existsSync(socket)) {
      const cri = connectCri(socket);
      const { items } = await cri.runtime.listPodSandbox({}).catch(() => ({ items: [] }));
      for (const sb of items ?? []) {
        await cri.runtime.stopPodSandbox({ podSandboxId: sb.id! }).catch(() => undefined);
        await cri.runtime.removePodSandbox({ podSandboxId: sb.id! }).catch(() => undefined);
      }
      cri.close();
    }
    await runtime?.stop();
    if (containerd?.pid !== undefined && containerd.exitCode === null) {
      const exited = new Promise((r) => containerd!.once('exit', r));
      process.kill(containerd.pid, 'SIGTERM');
      await exited;
    }
    await execFileAsync('ip', ['link', 'del', bridge]).catch(() => undefined);
    await execFileAsync('nft', ['delete', 'table', 'inet', masqueradeTable(bridge)]).catch(() => undefined);
    await removeCgroup(cgroupRoot).catch(() => undefined);
    // containerd puts pods without a cgroup parent under k8s.io/ in every hierarchy: remove it once empty
    // (rmdir refuses while another run's containers are there).
    if (containerd) await execFileAsync('sh', ['-c', 'rmdir /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io 2>/dev/null; true']).catch(() => undefined);
    // containerd's root holds the image store's mounts of stopped tasks no longer; anything left is unmounted with the tree.
    await execFileAsync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`k8ts server exited with ${code}:\n${server?.output ?? ''}`);
    if (agentCode !== 0) throw new Error(`k8ts agent exited with ${agentCode}:\n${agent?.output ?? ''}`);
  };
  try {
    const layout = path.join(dir, 'layout');
    await buildBusyboxImage({ layoutDir: layout, tag: 'latest', workDir: dir });
    const archive = path.join(dir, 'busybox.tar');
    await execFileAsync('skopeo', ['copy', '--quiet', `oci:${layout}:latest`, `docker-archive:${archive}:${image}`]);
    if (o.runtime === 'k8ts') {
      const imp = await runK8ts(['images', 'import', archive, '--data-dir', path.join(dir, 'runtime')]);
      if (imp.code !== 0) throw new Error(`k8ts images import: ${imp.stderr}`);
      runtime = new K8tsProcess([
        'runtime', '--listen', `unix://${socket}`, '--data-dir', path.join(dir, 'runtime'), '--state-dir', path.join(dir, 'run'),
        '--pod-cidr', ranges, '--cni-bridge', bridge, '--cgroup-root', cgroupRoot, '--private-registry', '',
      ]); // prettier-ignore
      await runtime.waitForLog(/CRI runtime ready/, 60_000);
    } else {
      containerd = await startContainerd(dir, socket, bridge, `10.43.${n}.0/24`);
      await execFileAsync('umoci', ['config', '--image', `${layout}:latest`, '--tag', 'pause', '--config.cmd', 'sleep', '--config.cmd', '2147483647']);
      const pause = path.join(dir, 'pause.tar');
      await execFileAsync('skopeo', ['copy', '--quiet', `oci:${layout}:pause`, `docker-archive:${pause}:${pauseImage}`]);
      for (const a of [archive, pause]) await execFileAsync('ctr', ['--address', socket, '-n', 'k8s.io', 'images', 'import', a]);
    }
    await startServer();
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return {
    dir,
    node,
    image,
    kubeconfig,
    socket,
    n,
    get server() {
      return server!;
    },
    get client() {
      return client!;
    },
    get agent() {
      return agent;
    },
    k: (args, stdin, minor = 33) => kubectl(kubectlPath(minor), kubeconfig, args, stdin),
    restartServer: async () => {
      if (o.agent) throw new Error('restartServer: not with an agent');
      client?.close();
      const code = await server!.stop();
      if (code !== 0) throw new Error(`k8ts server exited with ${code}:\n${server!.output}`);
      await startServer();
    },
    stop,
  };
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
      // No pause image from the network: a busybox that sleeps holds the sandbox.
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
