// A stand-in for scheduler and kubelet in tests that need pods to run but have no nodes: it binds every new
// pod to a made-up node and reports it Running and Ready through pods/status, as the kubelet would; pods
// being deleted are removed at once, as a kubelet would after their containers stopped.
import type { KubeObject } from '../../src/client/index.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';

/** Options of the stand-in. */
export interface FakeKubeletOptions {
  /** The node pods are bound to; default "fake-node". */
  nodeName?: string;
  /** The addresses a pod gets; default one IPv4 address from 10.42.0.0/16 and one IPv6 from fd42::/64, in turn. */
  podIPs?: (pod: KubeObject) => string[];
}

let podCounter = 0;

/** The next test pod addresses: 10.42.x.y and fd42::x:y, unique in this process. */
export function nextTestPodIPs(): string[] {
  const n = ++podCounter + 1;
  return [`10.42.${(n >> 8) & 0xff}.${n & 0xff}`, `fd42::${(n >> 8).toString(16)}:${(n & 0xff).toString(16)}`];
}

/** Starts playing the kubelet for every namespace; stop with the returned function. */
export function startFakeKubelet(kubeconfig: string, options: FakeKubeletOptions = {}): () => Promise<void> {
  const nodeName = options.nodeName ?? 'fake-node';
  const ipsFor = options.podIPs ?? (() => nextTestPodIPs());
  const client = new RESTClient({ ...loadKubeconfig(kubeconfig), qps: 1000, burst: 1000 });
  const pods = { group: '', version: 'v1', resource: 'pods' };
  const ac = new AbortController();
  const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const handle = async (pod: KubeObject): Promise<void> => {
    const ref = { ...pods, namespace: pod.metadata?.namespace ?? 'default' };
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp) {
      await client.delete(ref, name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (!spec.nodeName) {
      await client
        .create(ref, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } }, {
          subresource: 'binding',
          name,
        })
        .catch(() => undefined);
      return;
    }
    if ((pod.status as { phase?: string } | undefined)?.phase === 'Running') return;
    const t = now();
    const conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: t }));
    const ips = ipsFor(pod);
    const status = { phase: 'Running', conditions, podIP: ips[0], podIPs: ips.map((ip) => ({ ip })), startTime: t };
    await client.patch(ref, name, { status }, 'merge', { subresource: 'status' }).catch(() => undefined);
  };
  const done = (async () => {
    while (!ac.signal.aborted) {
      try {
        for await (const e of client.watch(pods, {}, ac.signal)) if (e.type !== 'DELETED') void handle(e.object);
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  return async () => {
    ac.abort();
    await done;
  };
}
