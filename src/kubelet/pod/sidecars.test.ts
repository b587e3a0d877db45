// Sidecar containers (init containers with restartPolicy Always) in the pod worker, on the simulated runtime
// with a stand-in for the API: started in order without waiting for them to finish, the pod Initialized
// once they have started, restarted when they exit, stopped after the containers (when those complete and
// when the pod is deleted), the last sidecar first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { logger } from '../../base/log.js';
import type { EventRecorder, RESTClient } from '../../client/index.js';
import { realClock } from '../../client/index.js';
import type * as cri from '../../cri/index.js';
import { SimulatedRuntime } from '../../runtime/simulated/simulated-runtime.js';
import type { Kube } from '../api-types.js';
import type { KubeletContext } from '../context.js';
import { Backoff } from './backoff.js';
import { PodWorker } from './pod-worker.js';

/** A pod worker on a simulated runtime; statuses written and stop calls are recorded. */
function harness(spec: Partial<NonNullable<Pod['spec']>>) {
  const runtime = new SimulatedRuntime();
  const stops: string[] = [];
  const starts: string[] = [];
  const names = new Map<string, string>();
  const overrides: Partial<cri.RuntimeService> = {
    async createContainer(req) {
      const r = await runtime.createContainer(req);
      names.set(r.containerId!, req.config?.metadata?.name ?? '');
      return r;
    },
    startContainer(req) {
      starts.push(names.get(req.containerId!) ?? '?');
      return runtime.startContainer(req);
    },
    stopContainer(req) {
      stops.push(names.get(req.containerId!) ?? '?');
      return runtime.stopContainer(req);
    },
  };
  const rt = new Proxy(runtime, {
    get: (target, key: string) => (overrides as Record<string, unknown>)[key] ?? ((target as unknown as Record<string, unknown>)[key] as (...a: unknown[]) => unknown).bind(target),
  }) as cri.RuntimeService;
  let status: PodStatus = {};
  let deleted = false;
  const client = {
    updateStatus: (_ref: unknown, p: Kube<Pod>) => {
      status = p.status ?? {};
      return Promise.resolve({ ...p, metadata: { ...p.metadata, resourceVersion: String(Number(p.metadata?.resourceVersion ?? 1) + 1) } });
    },
    delete: () => {
      deleted = true;
      return Promise.resolve({});
    },
  } as unknown as RESTClient;
  const ctx: KubeletContext = {
    client,
    runtime: rt,
    images: runtime,
    runtimeName: 'simulated',
    objects: { configMap: () => Promise.resolve(undefined), secret: () => Promise.resolve(undefined), services: () => [] },
    recorder: { event: () => undefined } as unknown as EventRecorder,
    log: logger('test'),
    clock: realClock,
    node: { nodeName: 'n', hostIPs: ['10.0.0.1'], allocatable: {} },
    memoryCapacityBytes: 1 << 30,
    volumes: undefined,
    podLogsDir: '',
    simulated: true,
    backoff: new Backoff(),
    resyncMs: 200,
    rfc3339: (ms) => new Date(ms).toISOString(),
    dnsConfig: () => ({}),
    forget: () => undefined,
    mirrorPod: () => undefined,
    nodeRef: () => undefined,
  };
  const pod: Kube<Pod> = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-1', resourceVersion: '1' }, spec: { containers: [], ...spec } };
  const worker = new PodWorker(ctx, pod);
  const until = async <T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { worker, starts, stops, status: () => status, deleted: () => deleted, until };
}

const c = (name: string, script?: string, extra: Partial<Container> = {}): Container => ({ name, image: 'img:1', ...(script ? { command: ['sh', '-c', script] } : {}), ...extra });
const cond = (st: PodStatus, type: string): string | undefined => st.conditions?.find((x) => x.type === type)?.status;

describe('sidecar containers', () => {
  it('starts sidecars in order without waiting for them, then the containers; the pod is Initialized and Running', async () => {
    const h = harness({ initContainers: [c('init', 'exit 0'), c('side-a', undefined, { restartPolicy: 'Always' }), c('side-b', undefined, { restartPolicy: 'Always' })], containers: [c('main')] });
    h.worker.kick();
    try {
      const st = await h.until('Running with every container', () => {
        const s = h.status();
        return s.phase === 'Running' && s.containerStatuses?.[0]?.state?.running && s.initContainerStatuses?.[2]?.state?.running ? s : undefined;
      });
      assert.deepEqual(h.starts.slice(0, 4), ['init', 'side-a', 'side-b', 'main']);
      assert.equal(cond(st, 'Initialized'), 'True');
      assert.equal(cond(st, 'Ready'), 'True');
      assert.deepEqual(st.initContainerStatuses?.map((x) => [x.name, Object.keys(x.state ?? {})[0], x.started]), [
        ['init', 'terminated', false],
        ['side-a', 'running', true],
        ['side-b', 'running', true],
      ]);
    } finally {
      h.worker.stop();
    }
  });

  it('restarts a sidecar that exits while the containers keep running', async () => {
    const h = harness({ restartPolicy: 'Never', initContainers: [c('side', 'sleep 0.2; exit 1', { restartPolicy: 'Always' })], containers: [c('main')] });
    h.worker.kick();
    try {
      const st = await h.until('a sidecar restart', () => {
        const s = h.status();
        return (s.initContainerStatuses?.[0]?.restartCount ?? 0) >= 1 ? s : undefined;
      });
      assert.equal(st.phase, 'Running');
      assert.equal(st.containerStatuses?.[0]?.restartCount, 0);
      assert.equal(cond(st, 'Initialized'), 'True');
    } finally {
      h.worker.stop();
    }
  });

  it('stops the sidecars, the last first, once the containers have completed; the pod Succeeds', async () => {
    const h = harness({ restartPolicy: 'Never', initContainers: [c('side-a', undefined, { restartPolicy: 'Always' }), c('side-b', undefined, { restartPolicy: 'Always' })], containers: [c('main', 'sleep 0.3')] });
    h.worker.kick();
    try {
      const st = await h.until('Succeeded', () => (h.status().phase === 'Succeeded' ? h.status() : undefined));
      assert.deepEqual(h.stops, ['side-b', 'side-a']);
      assert.deepEqual(st.initContainerStatuses?.map((x) => Object.keys(x.state ?? {})[0]), ['terminated', 'terminated']);
      assert.equal(st.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    } finally {
      h.worker.stop();
    }
  });

  it('on deletion stops the containers first, then the sidecars in reverse order', async () => {
    const h = harness({ terminationGracePeriodSeconds: 5, initContainers: [c('side-a', undefined, { restartPolicy: 'Always' }), c('side-b', undefined, { restartPolicy: 'Always' })], containers: [c('main-1'), c('main-2')] });
    h.worker.kick();
    await h.until('Running', () => (h.status().phase === 'Running' && h.status().containerStatuses?.every((x) => x.state?.running) ? true : undefined));
    h.worker.update({ ...h.worker.pod, metadata: { ...h.worker.pod.metadata, resourceVersion: '100', deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 5 } });
    await h.until('the final delete', () => h.deleted() || undefined);
    assert.deepEqual(h.stops.slice(0, 2).sort(), ['main-1', 'main-2']);
    assert.deepEqual(h.stops.slice(2), ['side-b', 'side-a']);
  });
});
