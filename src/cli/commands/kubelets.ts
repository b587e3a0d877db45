// Starts the kubelets a k8ts process runs: this machine's kubelet behind a CRI endpoint, and/or a fleet of
// simulated nodes on the in-process simulated runtime. Shared by `k8ts server` and `k8ts agent`.
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../base/log.js';
import type { ClientConfig } from '../../client/index.js';
import { RESTClient } from '../../client/index.js';
import type { KubeletServing } from '../../kubelet/node-runner.js';
export type { KubeletServing } from '../../kubelet/node-runner.js';
import { runNodeKubelet, SimulatedFleet } from '../../kubelet/node-runner.js';
import { SimulatedRuntime } from '../../runtime/simulated/simulated-runtime.js';
import type { FlagSpec } from '../flags.js';
import { kubernetesVersion } from '../version.js';

/** The kubelet flags `server` and `agent` share (upstream's kubelet names). */
export const kubeletFlags: FlagSpec = {
  'container-runtime-endpoint': {
    type: 'string',
    help: "CRI endpoint of this machine's runtime (unix:///run/containerd/containerd.sock); without it no kubelet runs for this machine",
    default: '',
  },
  'simulate-nodes': {
    type: 'string',
    help: 'also run N simulated nodes (no containers run) in this process',
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

/** Starts the kubelets the flags ask for; resolves when they stop after `signal` aborts. */
export function startKubelets(
  values: Record<string, string | boolean | undefined>,
  clientConfig: (nodeName: string) => Promise<ClientConfig>,
  dataDir: string,
  log: Logger,
  signal: AbortSignal,
  /** The kubelet server's certificates for a node (its name and addresses); without it no kubelet server runs. */
  serving?: (nodeName: string, addresses: string[]) => Promise<KubeletServing>,
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
  if (endpoint !== '') {
    running.push(
      (async () => {
        const nodeName = ((values['node-name'] as string) || os.hostname()).toLowerCase();
        const config = await clientConfig(nodeName);
        const client = new RESTClient({ ...config, qps: 50, burst: 100, userAgent: `kubelet/${version}` });
        const { connectCri } = await import('../../cri/grpc.js');
        const cri = connectCri(endpoint);
        const name = endpoint.includes('containerd') ? 'containerd' : 'k8ts';
        const rootDir = path.resolve((values['kubelet-root-dir'] as string) || path.join(dataDir, 'kubelet'));
        const nodeIPs = ((values['node-ip'] as string) || '').split(',').filter((s) => s !== '');
        await runNodeKubelet(
          {
            client,
            nodeName,
            runtime: { runtime: cri.runtime, images: cri.image, name },
            kubeletVersion: version,
            rootDir,
            podLogsDir: (values['pod-logs-dir'] as string) || '/var/log/pods',
            ...(nodeIPs.length > 0 ? { nodeIPs } : {}),
            clusterDNS: ((values['cluster-dns'] as string) || '').split(',').filter((x) => x !== ''),
            clusterDomain: (values['cluster-domain'] as string) || 'cluster.local',
            ...(values['pod-manifest-path']
              ? { podManifestPath: path.resolve(values['pod-manifest-path'] as string) }
              : {}),
            kubeletPort,
            ...(serving ? { serving } : {}),
            log: log.with({ component: 'kubelet' }),
          },
          signal,
        );
        cri.close();
        client.close();
      })(),
    );
  }
  return running;
}
