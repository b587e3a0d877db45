// The pod half of the kubelet for one node: receives the pods bound to it (from an informer, a shared
// informer of a simulated fleet, or static manifests), runs one PodWorker per pod, relists the runtime every
// second (upstream's PLEG) to wake the workers whose containers changed, and cleans up containers of pods it
// no longer knows.
import { readFileSync } from 'node:fs';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../base/log.js';
import type { Clock, EventRecorder, RESTClient, TimerHandle } from '../client/index.js';
import { realClock } from '../client/index.js';
import type * as cri from '../cri/index.js';
import type { Kube } from './api-types.js';
import type { KubeletContext } from './context.js';
import { rfc3339 } from './node/node-status.js';
import type { PodObjects } from './objects.js';
import { Backoff } from './pod/backoff.js';
import type { EnvNodeInfo } from './pod/env.js';
import { podUIDLabel } from './pod/labels.js';
import { podDNSConfig } from './pod/dns.js';
import { PodWorker } from './pod/pod-worker.js';
import { isMirrorPod } from './static-pods.js';
import { VolumeManager } from './volumes/volume-manager.js';

/** Options of a Kubelet. */
export interface KubeletOptions {
  nodeName: string;
  client: RESTClient;
  runtime: cri.RuntimeService;
  images: cri.ImageService;
  runtimeName: string;
  objects: PodObjects;
  recorder: EventRecorder;
  log: Logger;
  hostIPs: string[];
  allocatable: Record<string, string>;
  memoryCapacityBytes: number;
  /** The kubelet's folder (/var/lib/kubelet); unset on simulated nodes (no volumes on disk). */
  rootDir?: string;
  podLogsDir?: string;
  simulated?: boolean;
  clock?: Clock;
  /** The cluster DNS servers (--cluster-dns) and domain (--cluster-domain) for ClusterFirst pods. */
  clusterDNS?: string[];
  clusterDomain?: string;
  /** PLEG relist period (1 s). */
  relistMs?: number;
  /** Periodic sync of each pod (upstream: 1 min plus events; 10 s keeps volumes fresh sooner). */
  resyncMs?: number;
}

function hostDNS(): cri.DNSConfig {
  try {
    const text = readFileSync('/etc/resolv.conf', 'utf8');
    const servers: string[] = [];
    const searches: string[] = [];
    const options: string[] = [];
    for (const line of text.split('\n')) {
      const [k, ...v] = line.trim().split(/\s+/);
      if (k === 'nameserver' && v[0]) servers.push(v[0]);
      else if (k === 'search') searches.push(...v);
      else if (k === 'options') options.push(...v);
    }
    return { servers, searches, options };
  } catch {
    return {};
  }
}

/** Runs the pods of one node. */
export class Kubelet {
  readonly nodeName: string;
  readonly #ctx: KubeletContext;
  readonly #workers = new Map<string, PodWorker>();
  readonly #relistMs: number;
  #relistTimer: TimerHandle | undefined;
  #lastRelist = new Map<string, string>();
  #stopped = false;
  #relisting = false;
  #relists = 0;
  readonly #mirrors = new Map<string, Kube<Pod>>();
  #nodeRef: { name: string; uid: string } | undefined;

  constructor(o: KubeletOptions) {
    this.nodeName = o.nodeName;
    const clock = o.clock ?? realClock;
    const node: EnvNodeInfo = { nodeName: o.nodeName, hostIPs: o.hostIPs, allocatable: o.allocatable };
    const dns = o.simulated ? {} : hostDNS();
    this.#relistMs = o.relistMs ?? 1000;
    this.#ctx = {
      client: o.client,
      runtime: o.runtime,
      images: o.images,
      runtimeName: o.runtimeName,
      objects: o.objects,
      recorder: o.recorder,
      log: o.log,
      clock,
      node,
      memoryCapacityBytes: o.memoryCapacityBytes,
      volumes: o.rootDir ? new VolumeManager(o.rootDir, o.objects) : undefined,
      podLogsDir: o.podLogsDir ?? '',
      simulated: o.simulated ?? false,
      backoff: new Backoff(),
      resyncMs: o.resyncMs ?? 10_000,
      rfc3339,
      dnsConfig: (pod) => podDNSConfig(pod, { clusterDNS: o.clusterDNS ?? [], clusterDomain: o.clusterDomain ?? 'cluster.local', host: dns }),
      forget: (uid) => this.#workers.delete(uid),
      mirrorPod: (ns, name) => this.#mirrors.get(`${ns}/${name}`),
      nodeRef: () => this.#nodeRef,
    };
  }

  /** Number of pods with a worker. */
  get podCount(): number {
    return this.#workers.size;
  }

  /** The registered Node (mirror pods are owned by it). */
  setNode(name: string, uid: string): void {
    this.#nodeRef = { name, uid };
    for (const w of this.#workers.values()) if (w.isStatic) w.kick();
  }

  #staticWorker(ns: string, name: string): PodWorker | undefined {
    for (const w of this.#workers.values()) if (w.isStatic && w.pod.metadata?.namespace === ns && w.pod.metadata?.name === name) return w;
    return undefined;
  }

  /** The static pods from the manifest folder, all of them: new ones start, missing ones stop. */
  setStaticPods(pods: ReadonlyMap<string, Kube<Pod>>): void {
    if (this.#stopped) return;
    for (const [uid, w] of this.#workers) {
      if (!w.isStatic || pods.has(uid)) continue;
      w.gone = true;
      w.kick();
    }
    for (const pod of pods.values()) this.upsertPod(pod);
  }

  /** The static pods it runs, each with the status it last computed (as upstream's GetPods lists them). */
  staticPods(): Kube<Pod>[] {
    return [...this.#workers.values()].filter((w) => w.isStatic && !w.gone).map((w) => w.pod);
  }

  /** A pod bound to this node was added or changed. */
  upsertPod(pod: Kube<Pod>): void {
    if (this.#stopped) return;
    if (isMirrorPod(pod)) {
      const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      this.#mirrors.set(key, pod);
      this.#staticWorker(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '')?.mirrorChanged();
      return;
    }
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const w = this.#workers.get(uid);
    if (w) {
      w.update(pod);
      return;
    }
    // A pod already terminal when first seen needs no worker (a restarted kubelet's finished pods) unless it is being deleted.
    const phase = pod.status?.phase;
    if ((phase === 'Succeeded' || phase === 'Failed') && !pod.metadata?.deletionTimestamp) return;
    const nw = new PodWorker(this.#ctx, pod);
    this.#workers.set(uid, nw);
    nw.kick();
  }

  /** A pod left the API: its containers are stopped and removed. */
  removePod(pod: Kube<Pod>): void {
    if (isMirrorPod(pod)) {
      const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      if (this.#mirrors.get(key)?.metadata?.uid === pod.metadata?.uid) this.#mirrors.delete(key);
      // A static pod's mirror that someone deleted comes back.
      this.#staticWorker(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '')?.mirrorChanged();
      return;
    }
    const w = this.#workers.get(pod.metadata?.uid ?? '');
    if (!w) return;
    w.gone = true;
    w.kick();
  }

  /** Starts the relist loop. */
  start(): void {
    this.#stopped = false;
    const tick = (): void => {
      if (this.#stopped) return;
      void this.#relist()
        .catch((err: unknown) => this.#ctx.log.info('relist failed', { error: err instanceof Error ? err.message : String(err) }, 2))
        .finally(() => {
          if (!this.#stopped) this.#relistTimer = this.#ctx.clock.setTimeout(tick, this.#relistMs);
        });
    };
    this.#relistTimer = this.#ctx.clock.setTimeout(tick, this.#relistMs);
  }

  /** Stops the workers and timers; containers keep running (a new kubelet adopts them). */
  stop(): void {
    this.#stopped = true;
    if (this.#relistTimer) this.#ctx.clock.clearTimeout(this.#relistTimer);
    for (const w of this.#workers.values()) w.stop();
    this.#workers.clear();
  }

  async #relist(): Promise<void> {
    if (this.#relisting) return;
    this.#relisting = true;
    try {
      const { containers = [] } = await this.#ctx.runtime.listContainers({});
      const sig = new Map<string, string>();
      for (const c of containers) {
        const uid = c.labels?.[podUIDLabel];
        if (!uid) continue;
        sig.set(uid, (sig.get(uid) ?? '') + `${c.id}:${c.state};`);
      }
      for (const [uid, s] of sig) {
        if (this.#lastRelist.get(uid) !== s) this.#workers.get(uid)?.kick();
      }
      for (const uid of this.#lastRelist.keys()) if (!sig.has(uid)) this.#workers.get(uid)?.kick();
      this.#lastRelist = sig;
      // Forget backoff entries that have expired (untouched for 10 minutes), about once a minute.
      if (++this.#relists % 60 === 0) this.#ctx.backoff.gc(this.#ctx.clock.now());
    } finally {
      this.#relisting = false;
    }
  }

  /** Removes containers and sandboxes of pods this kubelet has no worker for (deleted while it was down). */
  async cleanupOrphans(knownUIDs: Set<string>): Promise<void> {
    const rt = this.#ctx.runtime;
    const { containers = [] } = await rt.listContainers({});
    for (const c of containers) {
      const uid = c.labels?.[podUIDLabel];
      if (!uid || knownUIDs.has(uid) || this.#workers.has(uid)) continue;
      await rt.stopContainer({ containerId: c.id!, timeout: 0 }).catch(() => undefined);
      await rt.removeContainer({ containerId: c.id! }).catch(() => undefined);
    }
    const { items = [] } = await rt.listPodSandbox({});
    for (const s of items) {
      const uid = s.labels?.[podUIDLabel];
      if (!uid || knownUIDs.has(uid) || this.#workers.has(uid)) continue;
      await rt.stopPodSandbox({ podSandboxId: s.id! }).catch(() => undefined);
      await rt.removePodSandbox({ podSandboxId: s.id! }).catch(() => undefined);
      await this.#ctx.volumes?.tearDown(uid);
    }
  }
}
