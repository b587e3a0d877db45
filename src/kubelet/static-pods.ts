// Static pods: manifests in --pod-manifest-path run without the API server, as upstream's file source
// does. Each file holds one Pod (YAML or JSON); the kubelet names it <name>-<node>, gives it a UID hashed
// from the manifest and the node, the config.* annotations, and a toleration of every NoExecute taint, and
// re-reads the folder on changes (and every 20 s). Each static pod is mirrored into the API as a mirror pod
// (annotation kubernetes.io/config.mirror) owned by the Node, which carries its status. Manifests posted to
// the kubelet's HTTP server (POST /pods) are kept in a folder of the kubelet's own and run the same way,
// with config.source "http" (upstream's name for its HTTP source).
import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { yaml } from '../base/lazy-yaml.js';
import type { Logger } from '../base/log.js';
import type { Kube } from './api-types.js';

export const configHashAnnotation = 'kubernetes.io/config.hash';
export const configMirrorAnnotation = 'kubernetes.io/config.mirror';
export const configSeenAnnotation = 'kubernetes.io/config.seen';
export const configSourceAnnotation = 'kubernetes.io/config.source';
/** How often the folder is read even without change notifications (upstream's --file-check-frequency). */
export const fileCheckFrequencyMs = 20_000;

/** True for a mirror pod (the API copy of a static pod). */
export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[configMirrorAnnotation] !== undefined;
}

/** True for a pod that came from a file. */
export function isStaticPod(pod: Pod): boolean {
  const src = pod.metadata?.annotations?.[configSourceAnnotation];
  return src !== undefined && src !== 'api';
}

/** Reads one manifest: exactly one Pod (YAML or JSON) with a name and containers, else an error saying why. */
export function parseManifest(text: string): Pod {
  const docs = yaml().parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(d.errors[0]!.message);
    return d.toJS() as Pod | null;
  }).filter((d): d is Pod => d !== null);
  const manifest = docs[0];
  if (docs.length !== 1 || !manifest || manifest.kind !== 'Pod' || !manifest.metadata?.name || !manifest.spec?.containers?.length) {
    throw new Error('the manifest must hold exactly one Pod with a name and containers');
  }
  return manifest;
}

/** Where a posted manifest is kept in the kubelet's folder of posted manifests. */
function postedFile(dir: string, namespace: string, name: string): string {
  return path.join(dir, `${namespace}_${name}.json`);
}

/** Keeps a posted manifest (replacing one of the same namespace and name); returns its namespace and name. */
export async function writePostedManifest(dir: string, text: string): Promise<{ namespace: string; name: string }> {
  const manifest = parseManifest(text);
  const namespace = manifest.metadata?.namespace || 'default';
  const name = manifest.metadata!.name!;
  const file = postedFile(dir, namespace, name);
  // Written whole, then renamed, so that a scan never reads half a manifest.
  await writeFile(`${file}.tmp`, JSON.stringify(manifest));
  await rename(`${file}.tmp`, file);
  return { namespace, name };
}

/** Forgets a posted manifest; false when there was none. */
export async function removePostedManifest(dir: string, namespace: string, name: string): Promise<boolean> {
  const file = postedFile(dir, namespace, name);
  try {
    await readFile(file);
  } catch {
    return false;
  }
  await rm(file, { force: true });
  return true;
}

/** Turns a manifest into the static pod the kubelet runs; `sourceName` is config.source ("file" or "http"). */
export function staticPodFromManifest(manifest: Pod, nodeName: string, source: string, now: Date, sourceName = 'file'): Kube<Pod> {
  const meta = manifest.metadata ?? {};
  const name = `${meta.name ?? ''}-${nodeName}`;
  const namespace = meta.namespace || 'default';
  const uid = createHash('md5').update(JSON.stringify(manifest)).update(nodeName).update(source).digest('hex');
  const tolerations = [...(manifest.spec?.tolerations ?? [])];
  if (!tolerations.some((t) => t.operator === 'Exists' && !t.key && t.effect === 'NoExecute')) tolerations.push({ operator: 'Exists', effect: 'NoExecute' });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      name,
      namespace,
      uid,
      annotations: { ...meta.annotations, [configHashAnnotation]: uid, [configSeenAnnotation]: now.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z'), [configSourceAnnotation]: sourceName },
    },
    spec: { ...manifest.spec!, nodeName, tolerations, restartPolicy: manifest.spec?.restartPolicy ?? 'Always', terminationGracePeriodSeconds: manifest.spec?.terminationGracePeriodSeconds ?? 30 },
    status: { phase: 'Pending' },
  };
}

/** The mirror pod of a static pod, as the kubelet creates it in the API. */
export function mirrorPodFor(pod: Pod, node: { name: string; uid: string }): Kube<Pod> {
  const { uid: _uid, resourceVersion: _rv, ...meta } = pod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      annotations: { ...meta.annotations, [configMirrorAnnotation]: meta.annotations?.[configHashAnnotation] ?? '' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: pod.spec!,
  };
}

/** Watches a manifest folder and reports the static pods it holds. */
export class StaticPodSource {
  readonly #dir: string;
  readonly #nodeName: string;
  readonly #log: Logger;
  readonly #onChange: (pods: Map<string, Kube<Pod>>) => void;
  readonly #sourceName: string;
  #current = new Map<string, { text: string; pod: Kube<Pod> }>();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pending: NodeJS.Timeout | undefined;

  constructor(dir: string, nodeName: string, log: Logger, onChange: (pods: Map<string, Kube<Pod>>) => void, sourceName = 'file') {
    this.#dir = dir;
    this.#sourceName = sourceName;
    this.#nodeName = nodeName;
    this.#log = log;
    this.#onChange = onChange;
  }

  /** Reads the folder now and then on every change. */
  async start(): Promise<void> {
    await this.scan();
    try {
      this.#watcher = watch(this.#dir, () => {
        // Editors write in steps: read once things settle.
        if (this.#pending) clearTimeout(this.#pending);
        this.#pending = setTimeout(() => void this.scan(), 100);
      });
    } catch (err) {
      this.#log.warn('unable to watch the static pod folder', { dir: this.#dir, error: err instanceof Error ? err.message : String(err) });
    }
    this.#timer = setInterval(() => void this.scan(), fileCheckFrequencyMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#watcher?.close();
    if (this.#timer) clearInterval(this.#timer);
    if (this.#pending) clearTimeout(this.#pending);
  }

  /** Reads every manifest; reports when the set of pods changed. */
  async scan(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.#dir)).filter((n) => !n.startsWith('.') && !n.endsWith('.tmp')).sort();
    } catch {
      names = [];
    }
    const next = new Map<string, { text: string; pod: Kube<Pod> }>();
    for (const name of names) {
      const file = path.join(this.#dir, name);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue;
      }
      const prev = this.#current.get(file);
      if (prev && prev.text === text) {
        next.set(file, prev);
        continue;
      }
      try {
        next.set(file, { text, pod: staticPodFromManifest(parseManifest(text), this.#nodeName, file, new Date(), this.#sourceName) });
      } catch (err) {
        this.#log.warn('could not read static pod manifest', { file, error: err instanceof Error ? err.message : String(err) });
      }
    }
    const changed = next.size !== this.#current.size || [...next].some(([f, v]) => this.#current.get(f) !== v);
    this.#current = next;
    if (changed) this.#onChange(new Map([...next.values()].map((v) => [v.pod.metadata!.uid!, v.pod])));
  }
}
