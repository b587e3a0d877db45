// One worker per pod: a level-triggered sync that compares the pod's spec with what the runtime has and
// takes the next steps (upstream's SyncPod and computePodActions): the sandbox first, init containers in
// order and each to completion, then the containers; restarts by restartPolicy with CrashLoopBackOff; probes
// and lifecycle hooks; and termination with preStop and the grace period, ending with the final delete.
// Everything it knows about running containers it reads back from the runtime by label, so a restarted
// kubelet adopts what is running.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type * as cri from '../../cri/index.js';
import type { TimerHandle } from '../../client/index.js';
import { isStatus } from '../../client/index.js';
import type { Kube } from '../api-types.js';
import type { KubeletContext } from '../context.js';
import { runAction } from '../prober/probe-runner.js';
import type { ProbeType } from '../prober/probe-worker.js';
import { ProbeWorker } from '../prober/probe-worker.js';
import { isStaticPod, mirrorPodFor } from '../static-pods.js';
import { ContainerConfigError, makeContainerEnv } from './env.js';
import { goDuration } from '../../base/go-duration.js';
import {
  containerHash,
  containerHashAnnotation,
  containerNameLabel,
  containerPortsAnnotation,
  containerRestartCountAnnotation,
  podNameLabel,
  podNamespaceLabel,
  podTerminationGracePeriodAnnotation,
  podUIDLabel,
  preStopHandlerAnnotation,
  terminationMessagePathAnnotation,
  terminationMessagePolicyAnnotation,
} from './labels.js';
import type { RuntimePod, Waiting } from './pod-status.js';
import { computePodStatus, isSidecar } from './pod-status.js';
import { containerResources } from './resources.js';

const podsRef = (ns: string): { group: string; version: string; resource: string; namespace: string } => ({ group: '', version: 'v1', resource: 'pods', namespace: ns });

/** The pod's name as upstream's format.Pod prints it. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

function containerRef(pod: Pod, c: Container, init: boolean, index: number): Record<string, string> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    uid: pod.metadata?.uid ?? '',
    fieldPath: `spec.${init ? 'initContainers' : 'containers'}{${c.name}}`,
    ...(index >= 0 ? {} : {}),
  };
}

/** Whether two versions of a pod differ in what its sync acts on (upstream's podsDifferSemantically). */
function differsForSync(a: Pod, b: Pod): boolean {
  const key = (p: Pod): string =>
    JSON.stringify([p.spec, p.metadata?.labels, p.metadata?.annotations, p.metadata?.deletionTimestamp, p.metadata?.deletionGracePeriodSeconds]);
  return key(a) !== key(b);
}

/** The level-triggered worker of one pod. */
export class PodWorker {
  readonly uid: string;
  pod: Kube<Pod>;
  /** The pod left the API (or its source): stop everything and forget it. */
  gone = false;
  /** A static pod from a manifest file: its status goes to its mirror pod. */
  readonly isStatic: boolean;
  readonly #ctx: KubeletContext;
  readonly #waiting = new Map<string, Waiting>();
  readonly #ready = new Map<string, boolean>();
  readonly #started = new Map<string, boolean>();
  readonly #live = new Map<string, boolean>();
  readonly #probes = new Map<string, ProbeWorker>();
  readonly #preStopDone = new Set<string>();
  readonly #startTime: string;
  #lastStatusJSON = '';
  #busy = false;
  #again = false;
  #timer: TimerHandle | undefined;
  #wakeAt = Infinity;
  #finished = false;

  constructor(ctx: KubeletContext, pod: Kube<Pod>) {
    this.#ctx = ctx;
    this.pod = pod;
    this.uid = pod.metadata!.uid!;
    this.isStatic = isStaticPod(pod);
    this.#startTime = ctx.rfc3339(ctx.clock.now());
  }

  /** True once the worker has terminated the pod and can be dropped. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Asks for a sync soon (coalesced with one in progress). */
  kick(): void {
    if (this.#finished) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#wake(0);
  }

  #wake(ms: number): void {
    const at = this.#ctx.clock.now() + ms;
    if (this.#timer && at >= this.#wakeAt) return;
    if (this.#timer) this.#ctx.clock.clearTimeout(this.#timer);
    this.#wakeAt = at;
    this.#timer = this.#ctx.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#wakeAt = Infinity;
      void this.#runSync();
    }, ms);
  }

  async #runSync(): Promise<void> {
    if (this.#busy || this.#finished) return;
    this.#busy = true;
    try {
      do {
        this.#again = false;
        try {
          await this.#sync();
        } catch (err) {
          this.#ctx.log.info('pod sync failed, will retry', { pod: formatPod(this.pod), error: err instanceof Error ? err.message : String(err) });
          this.#wake(1000);
        }
      } while (this.#again && !this.#finished);
    } finally {
      this.#busy = false;
    }
    if (!this.#finished) this.#wake(this.#ctx.resyncMs);
  }

  /** Stops timers and probes (the kubelet is shutting down; containers keep running). */
  stop(): void {
    this.#finished = true;
    if (this.#timer) this.#ctx.clock.clearTimeout(this.#timer);
    for (const p of this.#probes.values()) p.stop();
    this.#probes.clear();
  }

  async #runtimePod(): Promise<RuntimePod> {
    const rt = this.#ctx.runtime;
    const selector = { [podUIDLabel]: this.uid };
    const [sbs, cs] = await Promise.all([rt.listPodSandbox({ filter: { labelSelector: selector } }), rt.listContainers({ filter: { labelSelector: selector } })]);
    const sandboxes = (
      await Promise.all((sbs.items ?? []).map((s) => rt.podSandboxStatus({ podSandboxId: s.id! }).then((r) => r.status, () => undefined)))
    ).filter((s): s is cri.PodSandboxStatus => s !== undefined);
    sandboxes.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
    const containers = (
      await Promise.all((cs.containers ?? []).map((c) => rt.containerStatus({ containerId: c.id! }).then((r) => r.status, () => undefined)))
    ).filter((s): s is cri.ContainerStatus => s !== undefined);
    containers.sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0) || (b.createdAt ?? 0) - (a.createdAt ?? 0));
    if (this.#ctx.volumes) await this.#readTerminationMessages(containers);
    return { sandboxes, containers };
  }

  #event(type: 'Normal' | 'Warning', reason: string, message: string, c?: Container, init = false): void {
    const obj = c ? containerRef(this.pod, c, init, 0) : this.pod;
    this.#ctx.recorder.event(obj, type, reason, message);
  }

  /** Milliseconds spent in each step of the current sync (logged at -v 4, for latency work). */
  #steps: [string, number][] = [];
  #t = 0;

  #step(name: string): void {
    const now = performance.now();
    this.#steps.push([name, Math.round(now - this.#t)]);
    this.#t = now;
  }

  async #sync(): Promise<void> {
    this.#steps = [];
    this.#t = performance.now();
    await this.#syncSteps();
    if (this.#steps.length > 1) this.#ctx.log.info('synced pod', { pod: formatPod(this.pod), steps: Object.fromEntries(this.#steps) }, 4);
  }

  async #syncSteps(): Promise<void> {
    let rp = await this.#runtimePod();
    this.#step('runtimeState');
    const pod = this.pod;
    if (this.gone || pod.metadata?.deletionTimestamp) {
      await this.#terminate(rp);
      return;
    }
    const spec = pod.spec!;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      await this.#stopAll(rp, 0);
      this.#stopProbes();
      return;
    }
    if (this.#ctx.volumes) {
      try {
        await this.#ctx.volumes.setUp(pod, this.#ctx.node);
      } catch (err) {
        this.#event('Warning', 'FailedMount', err instanceof Error ? err.message : String(err));
        await this.#writeStatus(rp);
        this.#wake(2000);
        return;
      }
    }
    let sandbox = rp.sandboxes[0];
    if (!sandbox || sandbox.state !== 'SANDBOX_READY') {
      if (sandbox) {
        this.#event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
        await this.#stopAll(rp, 0);
      }
      const attempt = sandbox ? (sandbox.metadata?.attempt ?? 0) + 1 : 0;
      let podSandboxId: string | undefined;
      try {
        ({ podSandboxId } = await this.#ctx.runtime.runPodSandbox({ config: this.#sandboxConfig(attempt) }));
        this.#step('runPodSandbox');
      } catch (err) {
        this.#event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${err instanceof Error ? err.message : String(err)}`);
        await this.#writeStatus(rp);
        this.#wake(2000);
        return;
      }
      // A pod's first sandbox: nothing else changed, so its status is all there is to read back.
      const fresh = !sandbox && podSandboxId ? (await this.#ctx.runtime.podSandboxStatus({ podSandboxId })).status : undefined;
      rp = fresh ? { ...rp, sandboxes: [fresh, ...rp.sandboxes] } : await this.#runtimePod();
      sandbox = rp.sandboxes[0]!;
    }
    const podIPs = [sandbox.network?.ip ?? '', ...(sandbox.network?.additionalIps ?? []).map((x) => x.ip ?? '')].filter((x) => x !== '');
    const policy = spec.restartPolicy ?? 'Always';
    let changed = false;
    const current = (c: Container): cri.ContainerStatus | undefined => rp.containers.find((x) => x.metadata?.name === c.name);
    // Once a container of spec.containers has run, the pod stays initialized: sidecars restart beside them.
    const initialized = spec.containers.some((c) => current(c) !== undefined);
    // Every container has finished for good (restartPolicy Never or OnFailure): sidecars are not restarted.
    const finishedForGood = (): boolean =>
      policy !== 'Always' && spec.containers.every((c) => { const cur = current(c); return cur?.state === 'CONTAINER_EXITED' && (policy === 'Never' || cur.exitCode === 0); });
    const completing = finishedForGood();
    // Init containers in order: a regular one must succeed before the next starts; a sidecar (restartPolicy
    // Always) must have started (its startup probe passed, if it has one), and then keeps running.
    let initDone = true;
    for (const [i, c] of (spec.initContainers ?? []).entries()) {
      const cur = current(c);
      if (isSidecar(c)) {
        if (completing) continue;
        if (cur?.state === 'CONTAINER_RUNNING') {
          const r = await this.#keepRunning(c, cur, i, true, 'Always', sandbox, podIPs);
          changed = r.changed || changed;
          if (r.running && (!c.startupProbe || this.#started.get(cur.id!) === true)) continue;
        } else {
          const started = await this.#maybeStart(c, cur, i, true, sandbox, podIPs);
          changed = started || changed;
          if (started && !c.startupProbe) continue;
        }
        if (initialized) continue;
        initDone = false;
        break;
      }
      if (cur?.state === 'CONTAINER_EXITED' && cur.exitCode === 0) continue;
      if (initialized && cur === undefined) continue; // removed since, long done
      initDone = false;
      if (cur?.state === 'CONTAINER_RUNNING') {
        this.#ensureProbes(c, cur, podIPs, true);
        break;
      }
      if (cur?.state === 'CONTAINER_EXITED' && policy === 'Never') break;
      changed = (await this.#maybeStart(c, cur, i, true, sandbox, podIPs)) || changed;
      break;
    }
    if (initDone) {
      for (const [i, c] of spec.containers.entries()) {
        const cur = current(c);
        if (cur?.state === 'CONTAINER_RUNNING') {
          changed = (await this.#keepRunning(c, cur, i, false, policy, sandbox, podIPs)).changed || changed;
          continue;
        }
        if (cur?.state === 'CONTAINER_EXITED') {
          const restart = policy === 'Always' || (policy === 'OnFailure' && cur.exitCode !== 0);
          if (!restart) {
            this.#waiting.delete(c.name);
            continue;
          }
        }
        changed = (await this.#maybeStart(c, cur, i, false, sandbox, podIPs)) || changed;
      }
      // Every container has finished for good: the sidecars stop too (in reverse order), and the pod completes.
      if (changed) rp = await this.#runtimePod();
      if (finishedForGood()) {
        changed = (await this.#stopSidecars(rp, this.#gracePeriod())) || changed;
      }
    }
    if (changed) rp = await this.#runtimePod();
    await this.#gcContainers(rp);
    this.#step('containers');
    await this.#writeStatus(rp);
    this.#step('status');
  }

  /**
   * A running container: probes for it, or (definition changed, liveness or startup probe failed) a kill and,
   * unless `policy` is Never, a restart. `running` when it still runs unchanged.
   */
  async #keepRunning(c: Container, cur: cri.ContainerStatus, i: number, init: boolean, policy: string, sandbox: cri.PodSandboxStatus, podIPs: string[]): Promise<{ running: boolean; changed: boolean }> {
    const reason = this.#killReason(c, cur);
    if (reason === undefined) {
      this.#waiting.delete(c.name);
      this.#ensureProbes(c, cur, podIPs, init);
      return { running: true, changed: false };
    }
    this.#event('Normal', 'Killing', reason, c, init);
    await this.#killContainer(cur, c, this.#gracePeriod());
    if (policy === 'Never') return { running: false, changed: true };
    const fresh = (await this.#ctx.runtime.containerStatus({ containerId: cur.id! })).status ?? cur;
    await this.#maybeStart(c, fresh, i, init, sandbox, podIPs);
    return { running: false, changed: true };
  }

  /** Stops the running sidecars, the last one first; true when one was running. */
  async #stopSidecars(rp: RuntimePod, graceSeconds: number): Promise<boolean> {
    const started = this.#ctx.clock.now();
    let any = false;
    for (const c of [...(this.pod.spec?.initContainers ?? [])].reverse()) {
      if (!isSidecar(c)) continue;
      for (const cur of rp.containers.filter((x) => x.metadata?.name === c.name && (x.state === 'CONTAINER_RUNNING' || x.state === 'CONTAINER_CREATED'))) {
        any = true;
        const left = Math.max(0, graceSeconds - Math.floor((this.#ctx.clock.now() - started) / 1000));
        if (left > 0) this.#event('Normal', 'Killing', `Stopping container ${c.name}`, c, true);
        await this.#killContainer(cur, left > 0 ? c : undefined, left);
      }
    }
    return any;
  }

  #killReason(c: Container, cur: cri.ContainerStatus): string | undefined {
    const id = cur.id!;
    if (cur.annotations?.[containerHashAnnotation] && cur.annotations[containerHashAnnotation] !== containerHash(c)) {
      return `Container ${c.name} definition changed, will be restarted`;
    }
    if (this.#started.get(id) === false) return `Container ${c.name} failed startup probe, will be restarted`;
    if (this.#live.get(id) === false) return `Container ${c.name} failed liveness probe, will be restarted`;
    return undefined;
  }

  #gracePeriod(): number {
    const p = this.pod;
    return p.metadata?.deletionGracePeriodSeconds ?? p.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /** Starts (or restarts) a container unless its backoff holds it; true when the runtime changed. */
  async #maybeStart(c: Container, cur: cri.ContainerStatus | undefined, index: number, init: boolean, sandbox: cri.PodSandboxStatus, podIPs: string[]): Promise<boolean> {
    const now = this.#ctx.clock.now();
    const key = `${this.pod.metadata?.name}_${this.pod.metadata?.namespace}_${this.uid}_${c.name}_${containerHash(c)}`;
    if (cur?.state === 'CONTAINER_EXITED') {
      const finished = Math.floor((cur.finishedAt ?? 0) / 1e6);
      if (this.#ctx.backoff.isInBackOffSince(key, finished, now)) {
        const delay = this.#ctx.backoff.get(key);
        this.#event('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${formatPod(this.pod)}`, c, init);
        this.#waiting.set(c.name, { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(delay)} restarting failed container=${c.name} pod=${formatPod(this.pod)}` });
        this.#wake(Math.max(0, finished + delay - now) + 50);
        return false;
      }
      this.#ctx.backoff.next(key, now);
    }
    // Image
    const imageRef = await this.#ensureImage(c, init);
    this.#step(`image:${c.name}`);
    if (imageRef === undefined) return false;
    // Environment
    const podWithIPs: Pod = { ...this.pod, status: { ...this.pod.status, podIP: podIPs[0], podIPs: podIPs.map((ip) => ({ ip })) } };
    let env;
    try {
      env = await makeContainerEnv(podWithIPs, c, this.#ctx.objects, this.#ctx.node);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.#waiting.set(c.name, { reason: 'CreateContainerConfigError', message: err.message });
      this.#event('Warning', 'Failed', `Error: ${err.message}`, c, init);
      this.#wake(2000);
      return false;
    }
    for (const w of env.warnings) this.#event('Warning', w.reason, w.message);
    const attempt = cur ? (cur.metadata?.attempt ?? 0) + 1 : 0;
    const config: cri.ContainerConfig = {
      metadata: { name: c.name, attempt },
      image: { image: imageRef, userSpecifiedImage: c.image ?? '' },
      command: env.command,
      args: env.args,
      workingDir: c.workingDir ?? '',
      envs: env.env.map((e) => ({ key: e.name, value: e.value })),
      mounts: [...(this.#ctx.volumes?.mounts(this.pod, c) ?? []), ...(await this.#terminationMessageMount(c))],
      labels: this.#podLabels({ [containerNameLabel]: c.name }),
      annotations: {
        [containerHashAnnotation]: containerHash(c),
        [containerRestartCountAnnotation]: String(attempt),
        [terminationMessagePathAnnotation]: c.terminationMessagePath ?? '/dev/termination-log',
        [terminationMessagePolicyAnnotation]: c.terminationMessagePolicy ?? 'File',
        [podTerminationGracePeriodAnnotation]: String(this.pod.spec?.terminationGracePeriodSeconds ?? 30),
        ...(c.ports ? { [containerPortsAnnotation]: JSON.stringify(c.ports) } : {}),
        ...(c.lifecycle?.preStop ? { [preStopHandlerAnnotation]: JSON.stringify(c.lifecycle.preStop) } : {}),
      },
      logPath: `${c.name}/${attempt}.log`,
      stdin: c.stdin ?? false,
      stdinOnce: c.stdinOnce ?? false,
      tty: c.tty ?? false,
      linux: {
        resources: containerResources(this.pod, c, this.#ctx.memoryCapacityBytes),
        securityContext: {
          privileged: c.securityContext?.privileged ?? false,
          readonlyRootfs: c.securityContext?.readOnlyRootFilesystem ?? false,
          namespaceOptions: {
            network: this.pod.spec?.hostNetwork ? 'NODE' : 'POD',
            pid: this.pod.spec?.hostPID ? 'NODE' : this.pod.spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
            ipc: this.pod.spec?.hostIPC ? 'NODE' : 'POD',
          },
          ...(c.securityContext?.runAsUser ?? this.pod.spec?.securityContext?.runAsUser) !== undefined
            ? { runAsUser: { value: c.securityContext?.runAsUser ?? this.pod.spec?.securityContext?.runAsUser } }
            : {},
          ...(c.securityContext?.runAsGroup ?? this.pod.spec?.securityContext?.runAsGroup) !== undefined
            ? { runAsGroup: { value: c.securityContext?.runAsGroup ?? this.pod.spec?.securityContext?.runAsGroup } }
            : {},
          ...(c.securityContext?.capabilities
            ? { capabilities: { addCapabilities: c.securityContext.capabilities.add ?? [], dropCapabilities: c.securityContext.capabilities.drop ?? [] } }
            : {}),
        },
      },
    };
    let id: string;
    try {
      id = (await this.#ctx.runtime.createContainer({ podSandboxId: sandbox.id!, config, sandboxConfig: this.#sandboxConfig(sandbox.metadata?.attempt ?? 0) })).containerId!;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.#waiting.set(c.name, { reason: 'CreateContainerError', message: msg });
      this.#event('Warning', 'Failed', `Error: ${msg}`, c, init);
      this.#wake(2000);
      return false;
    }
    this.#step(`create:${c.name}`);
    this.#event('Normal', 'Created', `Created container: ${c.name}`, c, init);
    try {
      await this.#ctx.runtime.startContainer({ containerId: id });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.#waiting.set(c.name, { reason: 'RunContainerError', message: msg });
      this.#event('Warning', 'Failed', `Error: ${msg}`, c, init);
      return true;
    }
    this.#step(`start:${c.name}`);
    this.#waiting.delete(c.name);
    this.#event('Normal', 'Started', `Started container ${c.name}`, c, init);
    if (c.lifecycle?.postStart) {
      const r = await runAction(c.lifecycle.postStart, this.#probeContext(c, id, podIPs, 30_000));
      if (!r.ok) {
        this.#event('Warning', 'FailedPostStartHook', `PostStartHook failed: ${r.output}`, c, init);
        this.#event('Normal', 'Killing', `FailedPostStartHook`, c, init);
        await this.#ctx.runtime.stopContainer({ containerId: id, timeout: this.#gracePeriod() }).catch(() => undefined);
      }
    }
    return true;
  }

  /**
   * The file the container may write its termination message to, as upstream makes it: an empty file under
   * the pod's folder mounted at terminationMessagePath (none on simulated nodes).
   */
  async #terminationMessageMount(c: Container): Promise<cri.Mount[]> {
    const root = this.#ctx.volumes?.podDir(this.uid);
    if (!root || c.terminationMessagePath === '') return [];
    const dir = path.join(root, 'containers', c.name);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, randomBytes(4).toString('hex'));
    await writeFile(file, '', { mode: 0o666 });
    await chmod(file, 0o666);
    return [{ containerPath: c.terminationMessagePath ?? '/dev/termination-log', hostPath: file, readonly: false }];
  }

  /** Fills in the termination message of exited containers from their message file (up to 4 KiB). */
  async #readTerminationMessages(containers: cri.ContainerStatus[]): Promise<void> {
    for (const c of containers) {
      if (c.state !== 'CONTAINER_EXITED' || c.message) continue;
      const at = c.annotations?.[terminationMessagePathAnnotation];
      const m = (c.mounts ?? []).find((x) => x.containerPath === at);
      if (!m?.hostPath) continue;
      try {
        const fh = await open(m.hostPath, 'r');
        try {
          const buf = Buffer.alloc(4096);
          const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
          if (bytesRead > 0) c.message = buf.subarray(0, bytesRead).toString('utf8');
        } finally {
          await fh.close();
        }
      } catch {
        // removed with the pod
      }
    }
  }

  /** Pulls the image as its pull policy says; undefined (with a waiting reason) when it cannot. */
  async #ensureImage(c: Container, init: boolean): Promise<string | undefined> {
    const image = c.image ?? '';
    const policy = c.imagePullPolicy ?? (image.endsWith(':latest') || !/:[^/]+$/.test(image) ? 'Always' : 'IfNotPresent');
    const present = policy === 'Always' ? undefined : (await this.#ctx.images.imageStatus({ image: { image } })).image;
    if (present?.id) {
      if (this.#waiting.get(c.name)?.reason !== 'CrashLoopBackOff') this.#event('Normal', 'Pulled', `Container image "${image}" already present on machine`, c, init);
      return present.id;
    }
    if (policy === 'Never') {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.#waiting.set(c.name, { reason: 'ErrImageNeverPull', message });
      this.#event('Warning', 'ErrImageNeverPull', message, c, init);
      return undefined;
    }
    const key = `${this.uid}_${image}`;
    const now = this.#ctx.clock.now();
    const prev = this.#waiting.get(c.name);
    if ((prev?.reason === 'ErrImagePull' || prev?.reason === 'ImagePullBackOff') && this.#ctx.backoff.isInBackOffSince(key, now, now)) {
      this.#waiting.set(c.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      this.#event('Normal', 'BackOff', `Back-off pulling image "${image}"`, c, init);
      this.#wake(this.#ctx.backoff.get(key));
      return undefined;
    }
    this.#event('Normal', 'Pulling', `Pulling image "${image}"`, c, init);
    const t0 = this.#ctx.clock.now();
    try {
      const ref = (await this.#ctx.images.pullImage({ image: { image } })).imageRef ?? '';
      const secs = ((this.#ctx.clock.now() - t0) / 1000).toFixed(3);
      this.#event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${secs}s (${secs}s including waiting)`, c, init);
      this.#ctx.backoff.reset(key);
      return ref;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.#ctx.backoff.next(key, now);
      this.#waiting.set(c.name, { reason: 'ErrImagePull', message: msg });
      this.#event('Warning', 'Failed', `Failed to pull image "${image}": ${msg}`, c, init);
      this.#event('Warning', 'Failed', 'Error: ErrImagePull', c, init);
      this.#wake(this.#ctx.backoff.get(key));
      return undefined;
    }
  }

  #podLabels(extra: Record<string, string> = {}): Record<string, string> {
    return {
      [podNameLabel]: this.pod.metadata?.name ?? '',
      [podNamespaceLabel]: this.pod.metadata?.namespace ?? '',
      [podUIDLabel]: this.uid,
      ...extra,
    };
  }

  #sandboxConfig(attempt: number): cri.PodSandboxConfig {
    const p = this.pod;
    const spec = p.spec!;
    const ports: cri.PortMapping[] = [];
    for (const c of spec.containers) {
      for (const port of c.ports ?? []) {
        if (!port.hostPort) continue;
        ports.push({ protocol: (port.protocol ?? 'TCP') as cri.Protocol, containerPort: port.containerPort, hostPort: port.hostPort, hostIp: port.hostIP ?? '' });
      }
    }
    return {
      metadata: { name: p.metadata?.name ?? '', uid: this.uid, namespace: p.metadata?.namespace ?? '', attempt },
      hostname: spec.hostname ?? (spec.hostNetwork ? this.#ctx.node.nodeName : (p.metadata?.name ?? '')).slice(0, 63),
      logDirectory: this.#ctx.podLogsDir ? `${this.#ctx.podLogsDir}/${p.metadata?.namespace}_${p.metadata?.name}_${this.uid}` : '',
      dnsConfig: this.#ctx.dnsConfig(p),
      portMappings: ports,
      labels: { ...p.metadata?.labels, ...this.#podLabels() },
      annotations: { ...p.metadata?.annotations },
      linux: {
        cgroupParent: '',
        securityContext: {
          namespaceOptions: {
            network: spec.hostNetwork ? 'NODE' : 'POD',
            pid: spec.hostPID ? 'NODE' : spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
            ipc: spec.hostIPC ? 'NODE' : 'POD',
          },
        },
        sysctls: Object.fromEntries((spec.securityContext?.sysctls ?? []).map((s) => [s.name, s.value])),
      },
    };
  }

  #probeContext(c: Container, id: string, podIPs: string[], timeoutMs: number): Parameters<typeof runAction>[1] {
    return { pod: this.pod, container: c, containerId: id, podIP: podIPs[0] ?? '127.0.0.1', runtime: this.#ctx.runtime, timeoutMs, simulated: this.#ctx.simulated };
  }

  #ensureProbes(c: Container, cur: cri.ContainerStatus, podIPs: string[], init: boolean): void {
    const id = cur.id!;
    const kinds: [ProbeType, Container['livenessProbe']][] = [
      ['startup', c.startupProbe],
      ['liveness', c.livenessProbe],
      ['readiness', c.readinessProbe],
    ];
    for (const [type, probe] of kinds) {
      if (!probe) continue;
      const key = `${id}/${type}`;
      if (this.#probes.has(key)) continue;
      // Drop the workers of this container's earlier instances.
      for (const [k, w] of this.#probes) {
        if (k.endsWith(`/${type}`) && (w as unknown as { container?: string }).container === c.name) {
          w.stop();
          this.#probes.delete(k);
        }
      }
      const results = type === 'readiness' ? this.#ready : type === 'liveness' ? this.#live : this.#started;
      const label = type === 'readiness' ? 'Readiness' : type === 'liveness' ? 'Liveness' : 'Startup';
      const w = new ProbeWorker({
        type,
        probe,
        clock: this.#ctx.clock,
        run: (timeoutMs) => runAction(probe, this.#probeContext(c, id, podIPs, timeoutMs)),
        gate: () => !c.startupProbe || type === 'startup' || this.#started.get(id) === true,
        onFailure: (output) => this.#event('Warning', 'Unhealthy', `${label} probe failed: ${output}`, c, init),
        onChange: (ok) => {
          results.set(id, ok);
          this.kick();
        },
      });
      (w as unknown as { container?: string }).container = c.name;
      this.#probes.set(key, w);
      w.start();
    }
  }

  #stopProbes(ids?: Set<string>): void {
    for (const [k, w] of this.#probes) {
      if (ids && !ids.has(k.split('/')[0]!)) continue;
      w.stop();
      this.#probes.delete(k);
    }
  }

  async #killContainer(cur: cri.ContainerStatus, c: Container | undefined, graceSeconds: number): Promise<void> {
    const id = cur.id!;
    this.#stopProbes(new Set([id]));
    const started = this.#ctx.clock.now();
    const preStop = c?.lifecycle?.preStop;
    if (preStop && !this.#preStopDone.has(id)) {
      this.#preStopDone.add(id);
      const r = await Promise.race([
        runAction(preStop, this.#probeContext(c, id, [], graceSeconds * 1000)),
        new Promise<{ ok: boolean; output: string }>((r2) => setTimeout(() => r2({ ok: true, output: '' }), graceSeconds * 1000).unref()),
      ]);
      if (!r.ok) this.#event('Warning', 'FailedPreStopHook', `PreStopHook failed: ${r.output}`, c);
    }
    const left = Math.max(2, graceSeconds - Math.floor((this.#ctx.clock.now() - started) / 1000));
    await this.#ctx.runtime.stopContainer({ containerId: id, timeout: left }).catch((err: unknown) => {
      if (!(err instanceof Error && /not found/i.test(err.message))) throw err;
    });
    this.#ready.delete(id);
    this.#live.delete(id);
    this.#started.delete(id);
  }

  /** Stops the containers together, then the sidecars one by one, the last first, in what is left of the grace period. */
  async #stopAll(rp: RuntimePod, graceSeconds: number): Promise<void> {
    const inits = this.pod.spec?.initContainers ?? [];
    const all = [...inits, ...(this.pod.spec?.containers ?? [])];
    const sidecars = new Set(inits.filter(isSidecar).map((c) => c.name));
    const started = this.#ctx.clock.now();
    await Promise.all(
      rp.containers
        .filter((c) => (c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED') && !sidecars.has(c.metadata?.name ?? ''))
        .map((c) => {
          const spec = all.find((x) => x.name === c.metadata?.name);
          const init = inits.includes(spec!);
          if (spec && graceSeconds > 0) this.#event('Normal', 'Killing', `Stopping container ${spec.name}`, spec, init);
          return this.#killContainer(c, graceSeconds > 0 ? spec : undefined, graceSeconds);
        }),
    );
    await this.#stopSidecars(rp, Math.max(0, graceSeconds - Math.floor((this.#ctx.clock.now() - started) / 1000)));
    for (const s of rp.sandboxes) if (s.state === 'SANDBOX_READY') await this.#ctx.runtime.stopPodSandbox({ podSandboxId: s.id! });
  }

  /** Stops everything, reports the final status, deletes the pod from the API and cleans up. */
  async #terminate(rp: RuntimePod): Promise<void> {
    const grace = this.gone && !this.isStatic ? 0 : this.#gracePeriod();
    await this.#stopAll(rp, grace);
    this.#stopProbes();
    const after = await this.#runtimePod();
    if (this.isStatic) {
      const mirror = this.#ctx.mirrorPod(this.pod.metadata!.namespace!, this.pod.metadata!.name!);
      if (mirror) await this.#ctx.client.delete(podsRef(mirror.metadata!.namespace!), mirror.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: mirror.metadata!.uid! } }).catch(() => undefined);
    } else if (!this.gone) {
      await this.#writeStatus(after, true);
      await this.#ctx.client
        .delete(podsRef(this.pod.metadata!.namespace!), this.pod.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: this.uid } })
        .catch((err: unknown) => {
          if (!isStatus(err, 'NotFound') && !isStatus(err, 'Conflict')) throw err;
        });
    }
    for (const c of after.containers) await this.#ctx.runtime.removeContainer({ containerId: c.id! }).catch(() => undefined);
    for (const s of after.sandboxes) await this.#ctx.runtime.removePodSandbox({ podSandboxId: s.id! }).catch(() => undefined);
    await this.#ctx.volumes?.tearDown(this.uid);
    const logs = this.#sandboxConfig(0).logDirectory;
    if (logs) await rm(logs, { recursive: true, force: true });
    this.stop();
    this.#ctx.forget(this.uid);
  }

  /** Keeps the newest two instances of each container (the current one and the last terminated). */
  async #gcContainers(rp: RuntimePod): Promise<void> {
    const seen = new Map<string, number>();
    for (const c of rp.containers) {
      const name = c.metadata?.name ?? '';
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      if (n > 2 && c.state === 'CONTAINER_EXITED') await this.#ctx.runtime.removeContainer({ containerId: c.id! }).catch(() => undefined);
    }
    for (const s of rp.sandboxes.slice(1)) if (s.state !== 'SANDBOX_READY') await this.#ctx.runtime.removePodSandbox({ podSandboxId: s.id! }).catch(() => undefined);
  }

  async #writeStatus(rp: RuntimePod, terminating = false): Promise<void> {
    const now = this.#ctx.rfc3339(this.#ctx.clock.now());
    const status = computePodStatus(this.pod, rp, {
      runtimeName: this.#ctx.runtimeName,
      hostIPs: this.#ctx.node.hostIPs,
      waiting: this.#waiting,
      ready: this.#ready,
      started: this.#started,
      startTime: this.#startTime,
      now,
    });
    if (terminating) {
      // A deleted pod ends terminal: Succeeded when every container exited 0, Failed otherwise.
      const all = status.containerStatuses ?? [];
      const stopped = all.every((s) => s.state?.terminated || (s.state?.waiting && !s.lastState?.terminated) || s.state?.waiting);
      if (stopped) status.phase = all.every((s) => s.state?.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
      for (const s of all) {
        if (s.state?.waiting) s.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: null as unknown as string, finishedAt: null as unknown as string } };
        s.ready = false;
      }
    }
    const json = JSON.stringify(status);
    if (this.isStatic) {
      this.pod = { ...this.pod, status };
      await this.#writeMirrorStatus(status, json);
      return;
    }
    if (json === this.#lastStatusJSON) return;
    const ns = this.pod.metadata!.namespace!;
    const merged = { ...this.pod.status, ...status };
    try {
      this.pod = await this.#ctx.client.updateStatus<Kube<Pod>>(podsRef(ns), { ...this.pod, status: merged });
    } catch (err) {
      if (isStatus(err, 'NotFound')) {
        this.gone = true;
        return;
      }
      if (!isStatus(err, 'Conflict')) throw err;
      const fresh = await this.#ctx.client.get<Kube<Pod>>(podsRef(ns), this.pod.metadata!.name!);
      if (fresh.metadata?.uid !== this.uid) {
        this.gone = true;
        return;
      }
      this.pod = await this.#ctx.client.updateStatus<Kube<Pod>>(podsRef(ns), { ...fresh, status: { ...fresh.status, ...status } });
    }
    this.#lastStatusJSON = json;
  }

  /** Creates the mirror pod when missing (or stale) and writes the static pod's status to it. */
  async #writeMirrorStatus(status: NonNullable<Pod['status']>, json: string): Promise<void> {
    const ns = this.pod.metadata!.namespace!;
    const name = this.pod.metadata!.name!;
    let mirror = this.#ctx.mirrorPod(ns, name);
    // A stale mirror pod, or one being deleted (the static pod goes on), is replaced.
    if (mirror && (mirror.metadata?.annotations?.['kubernetes.io/config.mirror'] !== this.uid || mirror.metadata?.deletionTimestamp)) {
      await this.#ctx.client.delete(podsRef(ns), name, { gracePeriodSeconds: 0, preconditions: { uid: mirror.metadata!.uid! } }).catch(() => undefined);
      mirror = undefined;
    }
    if (!mirror) {
      const node = this.#ctx.nodeRef();
      if (!node) return;
      try {
        mirror = await this.#ctx.client.create<Kube<Pod>>(podsRef(ns), mirrorPodFor(this.pod, node));
      } catch (err) {
        if (!isStatus(err, 'AlreadyExists')) throw err;
        this.#wake(500); // the old one is still going away
        return;
      }
      this.#lastStatusJSON = '';
    }
    if (json === this.#lastStatusJSON) return;
    try {
      await this.#ctx.client.updateStatus<Kube<Pod>>(podsRef(ns), { ...mirror, status: { ...mirror.status, ...status } });
      this.#lastStatusJSON = json;
    } catch (err) {
      if (!isStatus(err, 'Conflict') && !isStatus(err, 'NotFound')) throw err;
      this.#wake(500);
    }
  }

  /** The mirror pod changed or went away: make it right. */
  mirrorChanged(): void {
    this.#lastStatusJSON = '';
    this.kick();
  }

  /**
   * The latest pod from the source. As upstream's pod config does, only a change that matters to the pod's
   * sync (spec, labels, annotations, deletion) triggers one: a status change (most often the kubelet's own
   * write coming back through the watch) just updates the copy.
   */
  update(pod: Kube<Pod>): void {
    const cur = Number(this.pod.metadata?.resourceVersion ?? 0);
    const next = Number(pod.metadata?.resourceVersion ?? 0);
    const changed = this.isStatic || differsForSync(this.pod, pod);
    if (this.isStatic) this.pod = { ...pod, status: this.pod.status };
    else if (next >= cur || Number.isNaN(next)) this.pod = pod;
    if (changed) this.kick();
  }
}
