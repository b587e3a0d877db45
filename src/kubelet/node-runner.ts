// Runs kubelets: one for a real machine (its NodeAgent plus a Kubelet fed by an informer on the pods bound
// to it), or a fleet of simulated nodes in one process as kwok does: one shared pod informer routes pods to
// per-node kubelets by spec.nodeName, one Service informer serves every node's environment variables, and
// each node's lease and status run on its own cheap timer.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../base/log.js';
import type { EventRecorder, RESTClient } from '../client/index.js';
import { DeletedFinalStateUnknown, EventRecorder as Recorder, RESTClient as Client, SharedInformer } from '../client/index.js';
import type * as cri from '../cri/index.js';
import type { Kube } from './api-types.js';
import { Kubelet } from './kubelet.js';
import type { HostInfo } from './node/host-info.js';
import { pressure, readHostInfo, readPressureSignals, simulatedHostInfo } from './node/host-info.js';
import { NodeAgent } from './node/node-agent.js';
import { nodeResources } from './node/node-status.js';
import { ApiPodObjects } from './objects.js';
import { isMirrorPod, removePostedManifest, StaticPodSource, writePostedManifest } from './static-pods.js';
import type { CriStreamingRuntime } from './server/cri-bridge.js';
import { streamingRuntimeFromCri } from './server/cri-bridge.js';
import { criNames } from './server/cri-names.js';
import { criStatsProvider } from './server/cri-stats.js';
import type { PostedManifests } from './server/kubelet-server.js';
import { defaultKubeletPort, KubeletServer } from './server/kubelet-server.js';
import type { StreamingRuntime } from './server/streaming-runtime.js';
import { remoteStreamingRuntime } from './server/remote-streaming.js';

const podsRef = { group: '', version: 'v1', resource: 'pods' };
const servicesRef = { group: '', version: 'v1', resource: 'services' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };

/** A runtime behind CRI, with the name its container IDs carry. */
export interface RuntimeHandle {
  runtime: cri.RuntimeService;
  images: cri.ImageService;
  name: string;
  /**
   * The runtime's streaming operations by CRI IDs, when it runs in this process (LinuxRuntime's
   * `streaming`): the kubelet's server then calls them directly. Without it the kubelet asks CRI's Exec,
   * Attach and PortForward for a URL and connects to the runtime's streaming server (remote-streaming.ts).
   */
  streaming?: CriStreamingRuntime;
}

/** The kubelet server's TLS material: a serving certificate for the node, and the CA of allowed callers. */
export interface KubeletServing {
  cert: string;
  key: string;
  clientCA: string;
}

function podOf(obj: Kube<Pod> | DeletedFinalStateUnknown<Kube<Pod>>): Kube<Pod> {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

async function runtimeHealth(rt: cri.RuntimeService): Promise<string> {
  try {
    const st = await rt.status({});
    const bad = (st.status?.conditions ?? []).filter((c) => !c.status);
    if (bad.length === 0) return '';
    return bad.map((c) => `${c.type === 'NetworkReady' ? 'container runtime network not ready' : 'container runtime not ready'}: ${c.type}=false reason:${c.reason ?? ''} message:${c.message ?? ''}`).join('; ');
  } catch (err) {
    return `container runtime is down: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** One node: its agent (registration, lease, status) and its kubelet. */
export interface RunningNode {
  agent: NodeAgent;
  kubelet: Kubelet;
}

function makeNode(o: {
  client: RESTClient;
  name: string;
  host: HostInfo;
  handle: RuntimeHandle;
  objects: ApiPodObjects;
  recorder: EventRecorder;
  log: Logger;
  kubeletVersion: string;
  runtimeVersion: string;
  simulated: boolean;
  rootDir?: string;
  podLogsDir?: string;
  startOffset: number;
  health: () => string;
  /** Memory, disk and PID pressure now (none on simulated nodes). */
  pressure?: () => { memoryPressure: boolean; diskPressure: boolean; pidPressure: boolean };
  clusterDNS?: string[];
  clusterDomain?: string;
}): RunningNode {
  const { capacity, allocatable } = nodeResources(o.host);
  const agent = new NodeAgent({
    client: o.client,
    nodeName: o.name,
    host: o.host,
    versions: { kubeletVersion: o.kubeletVersion, containerRuntimeVersion: o.runtimeVersion },
    health: () => ({ notReadyMessage: o.health(), ...(o.pressure?.() ?? { memoryPressure: false, diskPressure: false, pidPressure: false }) }),
    log: o.log,
    startOffset: o.startOffset,
    ...(o.simulated ? { labels: { type: 'kwok', 'node.k8ts.io/simulated': 'true' } } : {}),
  });
  const kubelet = new Kubelet({
    nodeName: o.name,
    client: o.client,
    runtime: o.handle.runtime,
    images: o.handle.images,
    runtimeName: o.handle.name,
    objects: o.objects,
    recorder: o.recorder,
    log: o.log.with({ node: o.name }),
    hostIPs: o.host.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address),
    allocatable,
    memoryCapacityBytes: o.host.memoryBytes,
    simulated: o.simulated,
    ...(o.rootDir ? { rootDir: o.rootDir } : {}),
    ...(o.podLogsDir ? { podLogsDir: o.podLogsDir } : {}),
    ...(o.clusterDNS ? { clusterDNS: o.clusterDNS } : {}),
    ...(o.clusterDomain ? { clusterDomain: o.clusterDomain } : {}),
  });
  void capacity;
  return { agent, kubelet };
}

/** Options of runNodeKubelet. */
export interface NodeKubeletOptions {
  client: RESTClient;
  nodeName?: string;
  runtime: RuntimeHandle;
  kubeletVersion: string;
  rootDir: string;
  podLogsDir: string;
  nodeIPs?: string[];
  clusterDNS?: string[];
  clusterDomain?: string;
  /** Folder of static pod manifests (--pod-manifest-path). */
  podManifestPath?: string;
  /** The kubelet server's port (--kubelet-port; default 10250, 0 a free one). */
  kubeletPort?: number;
  /** The kubelet server's certificates for the node's name and addresses; without it no server runs. */
  serving?: (nodeName: string, addresses: string[]) => Promise<KubeletServing>;
  log: Logger;
}

/** Runs the kubelet of this machine until `signal` aborts. */
export async function runNodeKubelet(o: NodeKubeletOptions, signal: AbortSignal): Promise<void> {
  const host = readHostInfo({ ...(o.nodeName ? { hostname: o.nodeName } : {}), rootDir: o.rootDir, ...(o.nodeIPs ? { nodeIPs: o.nodeIPs } : {}) });
  const name = host.hostname;
  // The server's pods are the informer's below; it starts first, so the Node names its real port.
  let podList: () => Kube<Pod>[] = () => [];
  // Static pods come from --pod-manifest-path (config.source "file") and from manifests posted to the
  // kubelet's server (kept in <root>/posted-manifests, config.source "http"); both are mirrored into the API.
  const postedDir = path.join(o.rootDir, 'posted-manifests');
  await mkdir(postedDir, { recursive: true });
  const sourcePods = { file: new Map<string, Kube<Pod>>(), http: new Map<string, Kube<Pod>>() };
  let applyStaticPods = (): void => undefined;
  const onSource = (which: 'file' | 'http') => (pods: Map<string, Kube<Pod>>): void => {
    sourcePods[which] = pods;
    applyStaticPods();
  };
  const posted = new StaticPodSource(postedDir, name, o.log, onSource('http'), 'http');
  const manifests: PostedManifests = {
    post: async (text) => {
      const { namespace, name: podName } = await writePostedManifest(postedDir, text);
      await posted.scan();
      return [...sourcePods.http.values()].find((p) => p.metadata?.namespace === namespace && p.metadata?.name === `${podName}-${name}`);
    },
    remove: async (namespace, podName) => {
      const removed = await removePostedManifest(postedDir, namespace, podName);
      if (removed) await posted.scan();
      return removed;
    },
  };
  const server = o.serving ? await startKubeletServer(o, name, host, () => podList(), manifests) : undefined;
  if (server) host.kubeletPort = server.port;
  const version = await o.runtime.runtime.version({}).catch(() => ({ runtimeName: o.runtime.name, runtimeVersion: 'unknown' }));
  let health = 'container runtime status check may not have completed yet';
  const refreshHealth = async (): Promise<void> => {
    health = await runtimeHealth(o.runtime.runtime);
  };
  await refreshHealth();
  const healthTimer = setInterval(() => void refreshHealth(), 5000);
  healthTimer.unref();
  const services = SharedInformer.forResource<Kube<Service>>(o.client, servicesRef);
  const objects = new ApiPodObjects(o.client, services);
  // Events get a client and rate limit of their own, as upstream's kubelet (eventRecordQPS 50, eventBurst
  // 100): when many pods start at once, their events must not hold back the pods' status updates.
  const eventClient = new Client({ ...o.client.config, qps: 50, burst: 100 });
  const recorder = new Recorder({ client: eventClient, component: 'kubelet', host: name });
  const node = makeNode({
    client: o.client,
    name,
    host,
    // Container IDs carry the runtime's own name (containerd://..., k8ts://...), as upstream's do.
    handle: { ...o.runtime, name: version.runtimeName || o.runtime.name },
    objects,
    recorder,
    log: o.log,
    kubeletVersion: o.kubeletVersion,
    runtimeVersion: `${version.runtimeName}://${version.runtimeVersion}`,
    simulated: false,
    rootDir: o.rootDir,
    podLogsDir: o.podLogsDir,
    startOffset: 0,
    health: () => health,
    pressure: () => pressure(readPressureSignals(o.rootDir)),
    ...(o.clusterDNS ? { clusterDNS: o.clusterDNS } : {}),
    ...(o.clusterDomain ? { clusterDomain: o.clusterDomain } : {}),
  });
  const registered = await node.agent.register();
  node.kubelet.setNode(name, registered.metadata?.uid ?? '');
  node.agent.start();
  let staticUIDs = new Set<string>();
  applyStaticPods = () => {
    const all = new Map([...sourcePods.file, ...sourcePods.http]);
    staticUIDs = new Set(all.keys());
    node.kubelet.setStaticPods(all);
  };
  // A manifest posted while the node registered was read then, but could not be handed over yet.
  if (sourcePods.http.size > 0) applyStaticPods();
  const staticPods = o.podManifestPath ? new StaticPodSource(o.podManifestPath, name, o.log, onSource('file')) : undefined;
  await staticPods?.start();
  await posted.start();
  // The node IPAM controller gives the Node its pod ranges; the runtime's network follows them.
  const self = SharedInformer.forResource<Kube<Node>>(o.client, nodesRef, { fieldSelector: `metadata.name=${name}` });
  let podCIDRs = '';
  const followCIDRs = (n: Kube<Node>): void => {
    const cidrs = (n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])).join(',');
    if (cidrs === '' || cidrs === podCIDRs) return;
    podCIDRs = cidrs;
    o.runtime.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: cidrs } } }).then(
      async () => {
        o.log.info('updated the runtime pod CIDR', { node: name, podCIDRs: cidrs });
        // A runtime whose network waited for these ranges is ready now: say so without waiting a period.
        await refreshHealth();
        await node.agent.reportStatus().catch(() => undefined);
      },
      (err: unknown) => o.log.warn('could not update the runtime pod CIDR', { error: err instanceof Error ? err.message : String(err) }),
    );
  };
  self.addEventHandler({ onAdd: followCIDRs, onUpdate: (_a, n) => followCIDRs(n) });
  void self.run(signal);
  const pods = SharedInformer.forResource<Kube<Pod>>(o.client, podsRef, { fieldSelector: `spec.nodeName=${name}` });
  // As upstream's /pods: the API's pods without the mirrors, and the static pods themselves (their own UIDs).
  podList = () => [...pods.lister.list().filter((p) => !isMirrorPod(p)), ...node.kubelet.staticPods()];
  pods.addEventHandler({
    onAdd: (p) => node.kubelet.upsertPod(p),
    onUpdate: (_o, p) => node.kubelet.upsertPod(p),
    onDelete: (p) => node.kubelet.removePod(podOf(p)),
  });
  void services.run(signal);
  void pods.run(signal);
  await pods.waitForSync(signal).catch(() => undefined);
  await node.kubelet.cleanupOrphans(new Set([...pods.lister.list().map((p) => p.metadata?.uid ?? ''), ...staticUIDs])).catch(() => undefined);
  node.kubelet.start();
  o.log.info('kubelet running', { node: name, runtime: `${version.runtimeName}://${version.runtimeVersion}` });
  if (!signal.aborted) await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
  clearInterval(healthTimer);
  await server?.server.stop();
  staticPods?.stop();
  posted.stop();
  node.kubelet.stop();
  node.agent.stop();
  void recorder.flush().then(() => eventClient.close());
}

/** What the kubelet server streams through: the runtime's in-process operations if it has them, else CRI's URLs. */
export function kubeletStreamingRuntime(handle: RuntimeHandle): StreamingRuntime {
  return streamingRuntimeFromCri(handle.streaming ?? remoteStreamingRuntime(handle.runtime), criNames(handle.runtime));
}

/** Starts the kubelet's HTTPS server for this node on the runtime (in process or through CRI's streaming URLs). */
async function startKubeletServer(
  o: NodeKubeletOptions,
  name: string,
  host: HostInfo,
  pods: () => Kube<Pod>[],
  manifests: PostedManifests,
): Promise<{ server: KubeletServer; port: number }> {
  const addresses = host.addresses.filter((a) => a.type !== 'Hostname').map((a) => a.address);
  const tls = await o.serving!(name, addresses);
  const rt = o.runtime.runtime;
  const server = new KubeletServer({
    runtime: kubeletStreamingRuntime(o.runtime),
    pods: { pods: () => Promise.resolve(pods() as unknown as Record<string, unknown>[]) },
    stats: criStatsProvider(rt, name),
    tls,
    port: o.kubeletPort ?? defaultKubeletPort,
    manifests,
    log: o.log.with({ component: 'kubelet-server' }),
  });
  const port = await server.start();
  o.log.info('kubelet server listening', { node: name, port });
  return { server, port };
}

/** Options of a simulated fleet. */
export interface SimulatedFleetOptions {
  client: RESTClient;
  count: number;
  /** Node names are PREFIX-0, PREFIX-1, ... */
  namePrefix?: string;
  kubeletVersion: string;
  /** Makes the in-process runtime of node `index`. */
  runtimeFor: (index: number) => RuntimeHandle;
  log: Logger;
}

/** A running fleet of simulated nodes. */
export class SimulatedFleet {
  readonly nodes = new Map<string, RunningNode>();
  readonly #o: SimulatedFleetOptions;

  constructor(o: SimulatedFleetOptions) {
    this.#o = o;
  }

  /** Registers every node, then runs them until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const prefix = o.namePrefix ?? 'sim-node';
    const services = SharedInformer.forResource<Kube<Service>>(o.client, servicesRef);
    const objects = new ApiPodObjects(o.client, services);
    const recorder = new Recorder({ client: o.client, component: 'kubelet' });
    for (let i = 0; i < o.count; i++) {
      const name = `${prefix}-${i}`;
      const handle = o.runtimeFor(i);
      this.nodes.set(
        name,
        makeNode({
          client: o.client,
          name,
          host: simulatedHostInfo(name, i),
          handle,
          objects,
          recorder,
          log: o.log,
          kubeletVersion: o.kubeletVersion,
          runtimeVersion: `${handle.name}://0.1.0`,
          simulated: true,
          startOffset: o.count > 1 ? i / o.count : 0,
          health: () => '',
        }),
      );
    }
    // Register a few at a time: a thousand creates at once would only queue up in the client.
    const all = [...this.nodes.values()];
    const batch = 50;
    for (let i = 0; i < all.length && !signal.aborted; i += batch) {
      await Promise.all(all.slice(i, i + batch).map(async (n) => n.kubelet.setNode(n.kubelet.nodeName, (await n.agent.register()).metadata?.uid ?? '')));
    }
    for (const n of all) n.agent.start();
    const pods = SharedInformer.forResource<Kube<Pod>>(o.client, podsRef, { fieldSelector: 'spec.nodeName!=' });
    const route = (p: Kube<Pod>): RunningNode | undefined => this.nodes.get(p.spec?.nodeName ?? '');
    pods.addEventHandler({
      onAdd: (p) => route(p)?.kubelet.upsertPod(p),
      onUpdate: (_o, p) => route(p)?.kubelet.upsertPod(p),
      onDelete: (p) => route(podOf(p))?.kubelet.removePod(podOf(p)),
    });
    void services.run(signal);
    void pods.run(signal);
    for (const n of all) n.kubelet.start();
    o.log.info('simulated nodes running', { count: o.count, prefix });
    if (!signal.aborted) await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    for (const n of all) {
      n.kubelet.stop();
      n.agent.stop();
    }
  }
}
