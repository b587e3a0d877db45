// A stand-in for the kubelet in tests that need pods to run but have no real nodes. By default the cluster's
// scheduler binds pods: `startFakeKubelet` registers one roomy node (fake-node) when the cluster has none,
// and `startFakeNodes` plays several nodes: it registers their Node objects (Ready, with a kube-node-lease
// Lease renewed like the kubelet's heartbeat). Tests against an API server without a scheduler pass
// `bind: true`, and the stand-in then binds new pods itself, on a healthy node that admits them (taints,
// cordon, nodeSelector, a DaemonSet pod's node affinity). Pods bound to a node are reported Running and Ready
// through pods/status. A node's heartbeats can be stopped, which also stops its "kubelet" from touching its
// pods, as when a machine drops off the network; resuming makes it post Ready again and finish the deletions
// it missed. Pods being deleted are removed at once, as a kubelet would after their containers stopped (a pod
// that still has finalizers is first marked Failed, as the kubelet marks a deleted pod's terminal phase).
// Pods can also finish: by default a pod whose containers' command ends in `exit N` (e.g. `sh -c "exit 1"`)
// ends Succeeded (N = 0) or Failed with that exit code; `outcome` can decide otherwise.
import { tolerationsTolerate } from '../../src/api/node-scheduling.js';
import type { KubeObject } from '../../src/client/index.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';

/** What becomes of a bound pod: it runs, or its containers exit with this code. */
export type PodOutcome = 'Running' | { exitCode: number };

export interface FakeKubeletOptions {
  /** Bind unscheduled pods (for API servers that run no scheduler); default false: the scheduler binds. */
  bind?: boolean;
  /** Decides each pod's fate; default `exitCodeFromCommand`. */
  outcome?: (pod: KubeObject) => PodOutcome;
  /** The node pods are bound to when no nodes are simulated; default "fake-node". */
  nodeName?: string;
  /** Whether a running pod becomes Ready (its readiness probe passes); default: every pod does. */
  ready?: (pod: KubeObject) => boolean;
  /**
   * Whether a deleted pod that finalizers keep is marked Failed at once, as the kubelet marks it once its
   * containers stopped (default true); false keeps it running and terminating, as during its grace period.
   */
  failDeletedPods?: boolean;
  /** The addresses a pod gets; default: from its node's podCIDRs, else `nextTestPodIPs()`. */
  podIPs?: (pod: KubeObject) => string[];
}

let podCounter = 0;

/** The next test pod addresses: 10.42.x.y and fd42::x:y, unique in this process. */
export function nextTestPodIPs(): string[] {
  const n = ++podCounter + 1;
  return [`10.42.${(n >> 8) & 0xff}.${n & 0xff}`, `fd42::${(n >> 8).toString(16)}:${(n & 0xff).toString(16)}`];
}

/** The default rule: a container command ending in `exit N` finishes the pod with N; otherwise it runs. */
export function exitCodeFromCommand(pod: KubeObject): PodOutcome {
  const containers = (pod.spec as { containers?: { command?: string[]; args?: string[] }[] } | undefined)?.containers ?? [];
  for (const c of containers) {
    const m = /\bexit (\d+)\s*$/.exec([...(c.command ?? []), ...(c.args ?? [])].join(' '));
    if (m) return { exitCode: Number(m[1]) };
  }
  return 'Running';
}

const podsRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const leasesRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

interface Taint {
  key: string;
  value?: string;
  effect: string;
}
interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}
interface FakePod extends KubeObject {
  spec?: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    tolerations?: Toleration[];
    affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchFields?: { key: string; values?: string[] }[] }[] } } };
  };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}
interface FakeContainer {
  name: string;
  image?: string;
}
interface FakeNode extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: Taint[]; podCIDRs?: string[] };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Shortened node timings: 5 s grace, 0.5 s monitor period, 2 s tolerations, fast NoExecute tainting. */
export const fastNodeFlags = [
  '--node-monitor-grace-period', '5s',
  '--node-monitor-period', '500ms',
  '--node-eviction-rate', '10',
  '--default-not-ready-toleration-seconds', '2',
  '--default-unreachable-toleration-seconds', '2',
];

/** Options of the simulated nodes. */
export interface FakeNodesOptions extends FakeKubeletOptions {
  /** How often each node renews its Lease; default 1 s (the kubelet: 10 s). */
  heartbeatMs?: number;
  /** The Lease's leaseDurationSeconds; default 40 as the kubelet's. */
  leaseDurationSeconds?: number;
  /** Each node's capacity (and allocatable); default 4 cpu, 8Gi memory, 110 pods. */
  capacity?: Record<string, string>;
}

/** Simulated nodes with their kubelets; see the file comment. */
export interface FakeNodes {
  /** Registers another node and starts its heartbeats. */
  addNode(name: string, labels?: Record<string, string>): Promise<void>;
  /** Stops a node's heartbeats and its kubelet (its pods are left as they are). */
  stopHeartbeats(name: string): void;
  /** Resumes a node's heartbeats: it posts Ready again at once. */
  resumeHeartbeats(name: string): Promise<void>;
  /** Stops the node's kubelet and deletes its Node and Lease. */
  removeNode(name: string): Promise<void>;
  /** When (Date.now()) the node's Lease was last renewed. */
  lastHeartbeatAt(name: string): number | undefined;
  /** The node each pod (namespace/name) was bound to by this helper or found on. */
  nodeOf(namespace: string, name: string): string | undefined;
  stop(): Promise<void>;
}

const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const microNow = (): string => new Date().toISOString().replace(/Z$/, '000Z');

/** The node a pod's required node affinity pins it to (a DaemonSet pod's matchFields metadata.name). */
function pinnedNode(pod: FakePod): string | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.values?.length === 1) return f.values[0];
  return undefined;
}

function runKubelet(kubeconfig: string | RESTClient, nodeNames: string[] | undefined, options: FakeNodesOptions): FakeNodes {
  const client = typeof kubeconfig === 'string' ? new RESTClient({ ...loadKubeconfig(kubeconfig), qps: 1000, burst: 1000 }) : kubeconfig;
  const outcome = options.outcome ?? exitCodeFromCommand;
  const ac = new AbortController();
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const leaseDurationSeconds = options.leaseDurationSeconds ?? 40;
  const live = new Set<string>();
  const nodes = new Map<string, FakeNode>();
  const podNode = new Map<string, string>();
  const pending = new Map<string, FakePod>();
  const timers = new Map<string, NodeJS.Timeout>();
  const lastHeartbeat = new Map<string, number>();
  let rr = 0;

  const admits = (node: FakeNode, pod: FakePod): boolean => {
    if (node.spec?.unschedulable && !tolerationsTolerate(pod.spec?.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) return false;
    for (const t of node.spec?.taints ?? []) if (t.effect !== 'PreferNoSchedule' && !tolerationsTolerate(pod.spec?.tolerations, t)) return false;
    const labels = node.metadata?.labels ?? {};
    return Object.entries(pod.spec?.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
  };

  const chooseNode = (pod: FakePod): string | undefined => {
    if (!nodeNames) return options.nodeName ?? 'fake-node';
    const pinned = pinnedNode(pod);
    if (pinned !== undefined) return live.has(pinned) && nodes.has(pinned) ? pinned : undefined;
    const fits = [...live].filter((n) => nodes.has(n) && admits(nodes.get(n)!, pod)).sort();
    if (fits.length === 0) return undefined;
    return fits[rr++ % fits.length];
  };

  // Pods whose status this kubelet reported (by uid): a test may change their status afterwards (readiness
  // flipped through pods/status), and the kubelet leaves it alone until it resyncs after heartbeats resume.
  const reported = new Set<string>();

  const handle = async (pod: FakePod, resync = false): Promise<void> => {
    const namespace = pod.metadata?.namespace ?? 'default';
    const ref = { ...podsRef, namespace };
    const name = pod.metadata?.name ?? '';
    const key = `${namespace}/${name}`;
    const nodeName = pod.spec?.nodeName;
    if (nodeName) {
      podNode.set(key, nodeName);
      pending.delete(key);
    }
    // A stopped node's kubelet does nothing for its pods.
    if (nodeNames && nodeName && !live.has(nodeName)) return;
    const phase = pod.status?.phase;
    if (pod.metadata?.deletionTimestamp) {
      const finalizers = (pod.metadata.finalizers as string[] | undefined) ?? [];
      if (finalizers.length > 0 && phase !== 'Succeeded' && phase !== 'Failed' && options.failDeletedPods !== false) {
        await client.patch(ref, name, { status: { phase: 'Failed' } }, 'merge', { subresource: 'status' }).catch(() => undefined);
      }
      await client.delete(ref, name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    if (!nodeName) {
      if (!options.bind) return;
      const target = chooseNode(pod);
      if (target === undefined) {
        pending.set(key, pod);
        return;
      }
      pending.delete(key);
      await client
        .create(ref, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: target } }, { subresource: 'binding', name })
        .catch(() => undefined);
      return;
    }
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const becomesReady = options.ready?.(pod) ?? true;
    const uid = pod.metadata?.uid ?? '';
    if (phase === 'Running' && (ready === becomesReady || (reported.has(uid) && !resync))) return;
    reported.add(uid);
    const t = now();
    const fate = outcome(pod);
    if (fate !== 'Running') {
      const containers = (pod.spec as { containers?: FakeContainer[] } | undefined)?.containers ?? [];
      const ok = fate.exitCode === 0;
      const terminated = { exitCode: fate.exitCode, reason: ok ? 'Completed' : 'Error', startedAt: t, finishedAt: t };
      const status = {
        phase: ok ? 'Succeeded' : 'Failed',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          { type: 'Initialized', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'False', reason: 'PodCompleted', lastTransitionTime: t },
          { type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: t },
        ],
        containerStatuses: containers.map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: 0, started: false, state: { terminated } })),
        podIP: podAddresses(pod, nodeName)[0]!.ip,
        startTime: t,
      };
      await client.patch(ref, name, { status }, 'merge', { subresource: 'status' }).catch(() => undefined);
      return;
    }
    const conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
      type,
      status: becomesReady || type === 'PodScheduled' || type === 'Initialized' ? 'True' : 'False',
      lastTransitionTime: t,
    }));
    const podIPs = podAddresses(pod, nodeName);
    await client
      .patch(ref, name, { status: { phase: 'Running', conditions, podIP: podIPs[0]!.ip, podIPs, startTime: t } }, 'merge', { subresource: 'status' })
      .catch(() => undefined);
  };

  // Addresses from the node's podCIDRs (a /24 and a /64 as nodeipam hands out), else unique test ones.
  const nextHost = new Map<string, number>();
  const podAddresses = (pod: FakePod, nodeName: string): { ip: string }[] => {
    if (options.podIPs) return options.podIPs(pod).map((ip) => ({ ip }));
    const host = (nextHost.get(nodeName) ?? 1) + 1;
    nextHost.set(nodeName, host > 250 ? 1 : host);
    const ips: { ip: string }[] = [];
    for (const cidr of nodes.get(nodeName)?.spec?.podCIDRs ?? []) {
      if (/^\d+\.\d+\.\d+\.0\/24$/.test(cidr)) ips.push({ ip: cidr.replace(/0\/24$/, String(host)) });
      else if (/::\/64$/.test(cidr)) ips.push({ ip: cidr.replace(/::\/64$/, `::${host.toString(16)}`) });
    }
    return ips.length > 0 ? ips : nextTestPodIPs().map((ip) => ({ ip }));
  };

  const retryPending = (): void => {
    for (const pod of [...pending.values()]) void handle(pod);
  };

  const watchLoop = async <T extends KubeObject>(ref: typeof podsRef, onEvent: (type: string, obj: T) => void): Promise<void> => {
    while (!ac.signal.aborted) {
      try {
        for await (const e of client.watch<T>(ref, {}, ac.signal)) onEvent(e.type, e.object);
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  const nodeStatus = (): Record<string, unknown> => {
    const t = now();
    const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: t, lastTransitionTime: t });
    return {
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      capacity: options.capacity ?? { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: options.capacity ?? { cpu: '4', memory: '8Gi', pods: '110' },
    };
  };

  const postReady = async (name: string): Promise<void> => {
    await client.patch(nodesRef, name, { status: nodeStatus() }, 'merge', { subresource: 'status' }).catch(() => undefined);
  };

  const heartbeat = async (name: string): Promise<void> => {
    if (!live.has(name)) return;
    const spec = { holderIdentity: name, leaseDurationSeconds, renewTime: microNow() };
    try {
      await client.patch(leasesRef, name, { spec }, 'merge');
      lastHeartbeat.set(name, Date.now());
    } catch {
      await client.create(leasesRef, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec }).then(
        () => lastHeartbeat.set(name, Date.now()),
        () => undefined,
      );
    }
    // As the kubelet does when its status differs from what it would post: the node controller marked it Unknown.
    const ready = nodes.get(name)?.status?.conditions?.find((c) => c.type === 'Ready');
    if (live.has(name) && nodes.has(name) && ready?.status !== 'True') await postReady(name);
  };

  const startHeartbeats = (name: string): void => {
    live.add(name);
    clearInterval(timers.get(name));
    timers.set(name, setInterval(() => void heartbeat(name), heartbeatMs));
    void heartbeat(name);
  };

  const stopHeartbeats = (name: string): void => {
    live.delete(name);
    clearInterval(timers.get(name));
    timers.delete(name);
  };

  const addNode = async (name: string, labels: Record<string, string> = {}): Promise<void> => {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...labels } },
      status: nodeStatus(),
    };
    await client.create(nodesRef, node).catch((err: unknown) => {
      // A node of that name left by an earlier stand-in in the same cluster: take it over.
      if (!(err instanceof Error && /already exists/.test(err.message))) throw err;
    });
    nodeNames?.push(name);
    startHeartbeats(name);
  };

  const watches: Promise<void>[] = [
    watchLoop<FakePod>(podsRef, (type, pod) => {
      const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
      if (type === 'DELETED') {
        pending.delete(key);
        podNode.delete(key);
        reported.delete(pod.metadata?.uid ?? '');
      } else if (type !== 'BOOKMARK' && type !== 'ERROR') void handle(pod);
    }),
  ];
  if (nodeNames) {
    watches.push(
      watchLoop<FakeNode>(nodesRef, (type, node) => {
        const name = node.metadata?.name ?? '';
        if (type === 'DELETED') nodes.delete(name);
        else if (type !== 'BOOKMARK' && type !== 'ERROR') nodes.set(name, node);
        retryPending();
      }),
    );
  }
  const retryTimer = setInterval(retryPending, 500);

  return {
    addNode,
    stopHeartbeats,
    async resumeHeartbeats(name) {
      startHeartbeats(name);
      await postReady(name);
      // Finish what this kubelet missed while it was away.
      const list = await client.list<FakePod>(podsRef, { fieldSelector: `spec.nodeName=${name}` });
      for (const pod of list.items) void handle(pod, true);
    },
    async removeNode(name) {
      stopHeartbeats(name);
      await client.delete(nodesRef, name).catch(() => undefined);
      await client.delete(leasesRef, name).catch(() => undefined);
    },
    lastHeartbeatAt: (name) => lastHeartbeat.get(name),
    nodeOf: (namespace, name) => podNode.get(`${namespace}/${name}`),
    async stop() {
      ac.abort();
      clearInterval(retryTimer);
      for (const name of [...live]) stopHeartbeats(name);
      await Promise.all(watches);
    },
  };
}

/** Starts playing the kubelet for every namespace on one made-up node; stop with the returned function. */
export function startFakeKubelet(kubeconfig: string | RESTClient, options: FakeKubeletOptions = {}): () => Promise<void> {
  if (options.bind) {
    const k = runKubelet(kubeconfig, undefined, options);
    return () => k.stop();
  }
  // The scheduler binds: it needs a node, a roomy one with heartbeats so the node controllers keep it Ready.
  const k = runKubelet(kubeconfig, [], { ...options, capacity: { cpu: '1000', memory: '4Ti', pods: '100000' } });
  const added = k.addNode(options.nodeName ?? 'fake-node');
  return async () => {
    await added.catch(() => undefined);
    await k.stop();
  };
}

/** Registers `names` as Ready nodes with heartbeats and plays their kubelets until stop(). */
export async function startFakeNodes(kubeconfig: string, names: string[], options: FakeNodesOptions = {}): Promise<FakeNodes> {
  const k = runKubelet(kubeconfig, [], options);
  for (const n of names) await k.addNode(n);
  return k;
}
