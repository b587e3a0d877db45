// A stand-in for scheduler and kubelet in tests that need pods to run but have no nodes: it binds every new
// pod to a made-up node and reports it Running and Ready through pods/status, as the kubelet would; pods
// being deleted are removed at once, as a kubelet would after their containers stopped (a pod that still
// has finalizers is first marked Failed, as the kubelet marks a deleted pod's terminal phase).
// Pods can also finish: by default a pod whose containers' command ends in `exit N` (e.g.
// `sh -c "exit 1"`) ends Succeeded (N = 0) or Failed with that exit code; `outcome` can decide otherwise.
import type { KubeObject } from '../../src/client/index.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';

/** What becomes of a bound pod: it runs, or its containers exit with this code. */
export type PodOutcome = 'Running' | { exitCode: number };

export interface FakeKubeletOptions {
  /** Decides each pod's fate; default `exitCodeFromCommand`. */
  outcome?: (pod: KubeObject) => PodOutcome;
  /** The node pods are bound to; default "fake-node". */
  nodeName?: string;
}

/** The default rule: a container command ending in `exit N` finishes the pod with N; otherwise it runs. */
export function exitCodeFromCommand(pod: KubeObject): PodOutcome {
  const containers = ((pod.spec as { containers?: { command?: string[]; args?: string[] }[] } | undefined)?.containers ?? []);
  for (const c of containers) {
    const m = /\bexit (\d+)\s*$/.exec([...(c.command ?? []), ...(c.args ?? [])].join(' '));
    if (m) return { exitCode: Number(m[1]) };
  }
  return 'Running';
}

/** Starts playing the kubelet for every namespace; stop with the returned function. */
export function startFakeKubelet(kubeconfig: string | RESTClient, options: FakeKubeletOptions = {}): () => Promise<void> {
  const outcome = options.outcome ?? exitCodeFromCommand;
  const nodeName = options.nodeName ?? 'fake-node';
  const client = typeof kubeconfig === 'string' ? new RESTClient({ ...loadKubeconfig(kubeconfig), qps: 1000, burst: 1000 }) : kubeconfig;
  const pods = { group: '', version: 'v1', resource: 'pods' };
  const ac = new AbortController();
  const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const handle = async (pod: KubeObject): Promise<void> => {
    const ref = { ...pods, namespace: pod.metadata?.namespace ?? 'default' };
    const name = pod.metadata?.name ?? '';
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (pod.metadata?.deletionTimestamp) {
      const finalizers = (pod.metadata.finalizers as string[] | undefined) ?? [];
      if (finalizers.length > 0 && phase !== 'Succeeded' && phase !== 'Failed') {
        await client.patch(ref, name, { status: { phase: 'Failed' } }, 'merge', { subresource: 'status' }).catch(() => undefined);
      }
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
    if (phase === 'Running' || phase === 'Succeeded' || phase === 'Failed') return;
    const t = now();
    const fate = outcome(pod);
    if (fate !== 'Running') {
      const containers = ((pod.spec as { containers?: { name: string; image?: string }[] }).containers ?? []);
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
        podIP: '10.42.0.9',
        startTime: t,
      };
      await client.patch(ref, name, { status }, 'merge', { subresource: 'status' }).catch(() => undefined);
      return;
    }
    const conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: t }));
    await client.patch(ref, name, { status: { phase: 'Running', conditions, podIP: '10.42.0.9', startTime: t } }, 'merge', { subresource: 'status' }).catch(() => undefined);
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
