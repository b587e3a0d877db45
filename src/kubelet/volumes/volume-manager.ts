// Sets up a pod's volumes under the kubelet's root folder, as upstream lays them out
// (<root>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>): emptyDir folders (tmpfs for medium Memory when
// the kubelet may mount), hostPath with its type checks, and the API-backed volumes through the atomic
// writer, rewritten on every sync so that ConfigMap and Secret changes reach the files.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type * as cri from '../../cri/index.js';
import type { EnvNodeInfo } from '../pod/env.js';
import { writeAtomically } from './atomic-writer.js';
import type { VolumeSources } from './payload.js';
import { volumePayload, VolumeSetupError } from './payload.js';

const run = promisify(execFile);

/** The plugin folder name of a volume, or undefined for hostPath (used in place). */
export function pluginName(v: Volume): string | undefined {
  if (v.emptyDir) return 'empty-dir';
  if (v.configMap) return 'configmap';
  if (v.secret) return 'secret';
  if (v.downwardAPI) return 'downward-api';
  if (v.projected) return 'projected';
  return undefined;
}

/** Where a pod's files live. */
export function podDir(rootDir: string, uid: string): string {
  return path.join(rootDir, 'pods', uid);
}

async function checkHostPath(p: string, type: string): Promise<void> {
  const st = await lstat(p).catch(() => undefined);
  const fail = (what: string): never => {
    throw new VolumeSetupError(`hostPath type check failed: ${p} is not a ${what}`);
  };
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!st) await mkdir(p, { recursive: true, mode: 0o755 });
      else if (!st.isDirectory()) fail('directory');
      return;
    case 'Directory':
      if (!st?.isDirectory()) fail('directory');
      return;
    case 'FileOrCreate':
      if (!st) await (await open(p, constants.O_CREAT | constants.O_WRONLY, 0o644)).close();
      else if (!st.isFile()) fail('file');
      return;
    case 'File':
      if (!st?.isFile()) fail('file');
      return;
    case 'Socket':
      if (!st?.isSocket()) fail('socket');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) fail('character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) fail('block device');
      return;
    default:
      throw new VolumeSetupError(`hostPath type check failed: unknown type ${type}`);
  }
}

async function isMountPoint(dir: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([stat(dir), stat(path.dirname(dir))]);
    return a.dev !== b.dev;
  } catch {
    return false;
  }
}

/** Sets up and tears down one pod's volumes. */
export class VolumeManager {
  readonly #rootDir: string;
  readonly #sources: VolumeSources;

  constructor(rootDir: string, sources: VolumeSources) {
    this.#rootDir = rootDir;
    this.#sources = sources;
  }

  /** The pod's folder under the kubelet's root. */
  podDir(uid: string): string {
    return podDir(this.#rootDir, uid);
  }

  /** The host folder of a pod volume. */
  volumeDir(pod: Pod, v: Volume): string {
    if (v.hostPath) return v.hostPath.path;
    return path.join(podDir(this.#rootDir, pod.metadata!.uid!), 'volumes', `kubernetes.io~${pluginName(v) ?? 'unsupported'}`, v.name);
  }

  /** Makes every volume ready; throws VolumeSetupError with the volume's name in the message. */
  async setUp(pod: Pod, node: EnvNodeInfo): Promise<void> {
    for (const v of pod.spec?.volumes ?? []) {
      try {
        await this.#setUpOne(pod, v, node);
      } catch (err) {
        throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${v.name}" : ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  async #setUpOne(pod: Pod, v: Volume, node: EnvNodeInfo): Promise<void> {
    if (v.hostPath) return checkHostPath(v.hostPath.path, v.hostPath.type ?? '');
    const dir = this.volumeDir(pod, v);
    if (v.emptyDir) {
      await mkdir(dir, { recursive: true, mode: 0o777 });
      if (v.emptyDir.medium === 'Memory' && process.getuid?.() === 0 && !(await isMountPoint(dir))) {
        const size = v.emptyDir.sizeLimit ? `,size=${String(v.emptyDir.sizeLimit).replace(/i$/, '')}` : '';
        await run('mount', ['-t', 'tmpfs', '-o', `mode=0777${size}`, 'tmpfs', dir]);
      }
      return;
    }
    const payload = await volumePayload(pod, v, this.#sources, node);
    if (payload === undefined) throw new VolumeSetupError('volume type not supported by this kubelet');
    await writeAtomically(dir, payload);
  }

  /** The CRI mounts of a container. */
  mounts(pod: Pod, c: Container): cri.Mount[] {
    const byName = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    const out: cri.Mount[] = [];
    for (const m of c.volumeMounts ?? []) {
      const v = byName.get(m.name);
      if (!v) continue;
      const readOnlyKind = !!(v.configMap || v.secret || v.downwardAPI || v.projected);
      out.push({
        containerPath: m.mountPath,
        hostPath: m.subPath ? path.join(this.volumeDir(pod, v), m.subPath) : this.volumeDir(pod, v),
        readonly: m.readOnly === true || readOnlyKind,
        propagation:
          m.mountPropagation === 'Bidirectional' ? 'PROPAGATION_BIDIRECTIONAL' : m.mountPropagation === 'HostToContainer' ? 'PROPAGATION_HOST_TO_CONTAINER' : 'PROPAGATION_PRIVATE',
      });
    }
    return out;
  }

  /** Removes the pod's folder, unmounting tmpfs volumes first. */
  async tearDown(uid: string): Promise<void> {
    this.#sources.forgetPod?.(uid);
    const dir = podDir(this.#rootDir, uid);
    const emptyDirs = path.join(dir, 'volumes', 'kubernetes.io~empty-dir');
    try {
      for (const name of await readdir(emptyDirs)) {
        const d = path.join(emptyDirs, name);
        if (await isMountPoint(d)) await run('umount', [d]).catch(() => undefined);
      }
    } catch {
      // no emptyDir volumes
    }
    await rm(dir, { recursive: true, force: true });
  }
}
