// Starts the kubelets a k8ts process runs: this machine's kubelet behind a CRI endpoint, and/or a fleet of
// simulated nodes on the in-process simulated runtime. Shared by `k8ts server` and `k8ts agent`.
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../base/log.js';
import type { ClientConfig } from '../../client/index.js';
import { RESTClient } from '../../client/index.js';
import type { KubeletServing, RuntimeHandle } from '../../kubelet/node-runner.js';
export type { KubeletServing } from '../../kubelet/node-runner.js';
import type { FlagSpec } from '../flags.js';
import { runtimeFlags } from './runtime-flags.js';
import { kubernetesVersion } from '../version.js';

/** The kubelet flags `server` and `agent` share (upstream's kubelet names). */
export const kubeletFlags: FlagSpec = {
  'container-runtime-endpoint': {
    type: 'string',
    help: "CRI endpoint of this machine's runtime (unix:///run/containerd/containerd.sock); without it the server's kubelet uses the built-in runtime in process, and an agent runs none for this machine",
    default: '',
  },
  'simulate-nodes': {
    type: 'string',
    help: "also run N simulated nodes (no containers run) in this process; in a server they stand in for this machine's kubelet unless --container-runtime-endpoint is given",
    default: '0',
  },
  'simulated-node-prefix': {
    type: 'string',
    help: 'name prefix of simulated nodes (PREFIX-0, PREFIX-1, ...)',
    default: 'sim-node',
  },
  'node-name': { type: 'string', help: "this machine's node name (default: the host name)", default: '' },
  'node-ip': {
    type: 'string',
    help: "this node's IP addresses, comma-separated (default: the first IPv4 and IPv6 of the host)",
    default: '',
  },
  'kubelet-port': {
    type: 'string',
    help: "the kubelet server's port (upstream kubelet's --port; 0 picks a free one)",
    default: '10250',
  },
  'pod-manifest-path': { type: 'string', help: 'folder of static pod manifests, watched', default: '' },
  'pod-logs-dir': { type: 'string', help: 'where container logs are kept', default: '/var/log/pods' },
  'kubelet-root-dir': {
    type: 'string',
    help: "the kubelet's folder (default: kubelet/ in the data directory)",
    default: '',
  },
};

/**
 * Starts the kubelets the flags ask for; each resolves when it has stopped after `signal` aborts. With
 * `builtInRuntime` (`k8ts server`), no --container-runtime-endpoint and no simulated nodes, this machine's
 * kubelet runs on the built-in runtime in process.
 */
export function startKubelets(
  values: Record<string, string | boolean | undefined>,
  clientConfig: (nodeName: string) => Promise<ClientConfig>,
  dataDir: string,
  log: Logger,
  signal: AbortSignal,
  options: {
    /** Without --container-runtime-endpoint, run this machine's kubelet on the built-in runtime in process. */
    builtInRuntime?: boolean;
    /** The kubelet server's certificates for a node (its name and addresses); without it no kubelet server runs. */
    serving?: (nodeName: string, addresses: string[]) => Promise<KubeletServing>;
  } = {},
): Promise<void>[] {
  const running: Promise<void>[] = [];
  setMaxListeners(0, signal);
  const n = Number(values['simulate-nodes'] ?? 0);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`invalid --simulate-nodes: ${String(values['simulate-nodes'])}`);
  const version = `${kubernetesVersion}-k8ts`;
  if (n > 0) {
    running.push(
      (async () => {
        // The kubelet's and the runtime's modules load when a kubelet starts, not with the server.
        const [{ SimulatedFleet }, { SimulatedRuntime }] = await Promise.all([
          import('../../kubelet/node-runner.js'),
          import('../../runtime/simulated/simulated-runtime.js'),
        ]);
        const config = await clientConfig('simulated');
        const client = new RESTClient({
          ...config,
          qps: 1000,
          burst: 2000,
          userAgent: `kubelet/${version} (simulated)`,
        });
        const fleet = new SimulatedFleet({
          client,
          count: n,
          namePrefix: (values['simulated-node-prefix'] as string) || 'sim-node',
          kubeletVersion: version,
          runtimeFor: (index) => {
            const rt = new SimulatedRuntime({ nodeIndex: index });
            return { runtime: rt, images: rt, name: 'simulated' };
          },
          log: log.with({ component: 'kubelet' }),
        });
        await fleet.run(signal);
        client.close();
      })(),
    );
  }
  const endpoint = (values['container-runtime-endpoint'] as string) || '';
  const kubeletPort = Number(values['kubelet-port'] ?? 10250);
  if (!Number.isInteger(kubeletPort) || kubeletPort < 0 || kubeletPort > 65535)
    throw new Error(`invalid --kubelet-port: ${String(values['kubelet-port'])}`);
  // This machine's kubelet: against the runtime at --container-runtime-endpoint, else (in `k8ts server`,
  // unless simulated nodes stand in for this machine) against the built-in runtime in this process.
  const machine = async (runtime: RuntimeHandle): Promise<void> => {
    const nodeName = ((values['node-name'] as string) || os.hostname()).toLowerCase();
    const { runNodeKubelet } = await import('../../kubelet/node-runner.js');
    const config = await clientConfig(nodeName);
    const client = new RESTClient({ ...config, qps: 50, burst: 100, userAgent: `kubelet/${version}` });
    const rootDir = path.resolve((values['kubelet-root-dir'] as string) || path.join(dataDir, 'kubelet'));
    const nodeIPs = ((values['node-ip'] as string) || '').split(',').filter((s) => s !== '');
    try {
      await runNodeKubelet(
        {
          client,
          nodeName,
          runtime,
          kubeletVersion: version,
          rootDir,
          podLogsDir: (values['pod-logs-dir'] as string) || '/var/log/pods',
          ...(nodeIPs.length > 0 ? { nodeIPs } : {}),
          clusterDNS: ((values['cluster-dns'] as string) || '').split(',').filter((x) => x !== ''),
          clusterDomain: (values['cluster-domain'] as string) || 'cluster.local',
          ...(values['pod-manifest-path'] ? { podManifestPath: path.resolve(values['pod-manifest-path'] as string) } : {}),
          kubeletPort,
          ...(options.serving ? { serving: options.serving } : {}),
          log: log.with({ component: 'kubelet' }),
        },
        signal,
      );
    } finally {
      client.close();
    }
  };
  if (endpoint !== '') {
    running.push(
      (async () => {
        const { connectCri } = await import('../../cri/grpc.js');
        const cri = connectCri(endpoint);
        try {
          await machine({ runtime: cri.runtime, images: cri.image, name: endpoint.includes('containerd') ? 'containerd' : 'k8ts' });
        } finally {
          cri.close();
        }
      })(),
    );
  } else if (options.builtInRuntime === true && n === 0) {
    running.push(runOnBuiltInRuntime(values, dataDir, log, signal, machine));
  }
  return running;
}

/**
 * This machine's kubelet on the built-in runtime, in process (no CRI socket): state under `<data-dir>/agent`
 * as k3s keeps its agent's, image archives in `<data-dir>/agent/images` imported at start, the pod network
 * on the bridge --cni-bridge (cni0) over the pod ranges the node IPAM controller gives the node. Where the
 * runtime cannot run (not root, runc or the CNI plugins missing) the server logs why and goes on as a
 * control plane only ("control-plane-only fallback"). On stop the kubelet stops and the containers keep
 * running: the next start adopts them.
 */
async function runOnBuiltInRuntime(
  values: Record<string, string | boolean | undefined>,
  dataDir: string,
  log: Logger,
  signal: AbortSignal,
  machine: (runtime: RuntimeHandle) => Promise<void>,
): Promise<void> {
  // Loaded here, not at start-up: the runtime's code is not needed before the API server answers.
  const { builtInRuntimeProblem, createLinuxRuntime } = await import('./embedded-runtime.js');
  const problem = builtInRuntimeProblem(values);
  if (problem !== undefined) {
    log.warn('not running a kubelet for this machine: the built-in container runtime cannot run here; serving as control plane only (give --container-runtime-endpoint for another runtime, or --disable-agent to silence this)', { reason: problem });
    return;
  }
  const agentDir = path.join(dataDir, 'agent');
  let built;
  try {
    built = await createLinuxRuntime(values, {
      dataDir: agentDir,
      stateDir: (values['runtime-state-dir'] as string) || '/run/k8ts/agent',
      podCIDRs: [],
      defaultBridge: 'cni0',
      defaultConfDir: path.join(agentDir, 'etc', 'cni', 'net.d'),
      log: log.with({ component: 'runtime' }),
    });
  } catch (err) {
    log.error('not running a kubelet for this machine: the built-in container runtime failed to start; serving as control plane only', { error: err instanceof Error ? err.message : String(err) });
    return;
  }
  log.info('built-in container runtime ready', { dataDir: agentDir, ociRuntime: built.runtime.oci.binary });
  if (signal.aborted) {
    await built.close(); // stopped while the runtime was opening (importing images)
    return;
  }
  try {
    await machine({ runtime: built.runtime, images: built.images, name: 'k8ts', streaming: built.runtime.streaming });
  } finally {
    await built.close();
  }
}

/** The built-in runtime's flags in `k8ts server`: `k8ts runtime`'s, with the server's folders and bridge. */
export const builtInRuntimeFlags: FlagSpec = {
  'runtime-state-dir': { ...runtimeFlags['state-dir']!, default: '/run/k8ts/agent' },
  'oci-runtime': runtimeFlags['oci-runtime']!,
  'cni-conf-dir': { ...runtimeFlags['cni-conf-dir']!, help: 'CNI configuration folder (default: agent/etc/cni/net.d in the data directory)' },
  'cni-bin-dir': runtimeFlags['cni-bin-dir']!,
  'cni-bridge': { ...runtimeFlags['cni-bridge']!, default: 'cni0' },
  'cgroup-root': runtimeFlags['cgroup-root']!,
  'private-registry': runtimeFlags['private-registry']!,
  'images-dir': { ...runtimeFlags['images-dir']!, help: 'folder of image archives imported at start (default: agent/images in the data directory)' },
}; // prettier-ignore
