// A container's root file system: an overlay mount whose lower directories are the image's unpacked layers
// and whose upper and work directories belong to the container alone, so that containers of one image share
// its layers and write only into their own upper directory.
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ImageError } from './errors.js';
import { execFileChecked } from './exec.js';
import { canDoFsOps, MNT_DETACH, MS_BIND, MS_RDONLY, MS_REMOUNT, runFsOps, type FsOp } from '../spawner.js';

/** The directories of one container rootfs. */
export interface RootfsPaths {
  /** Where the merged view is mounted: the container's root. */
  rootfs: string;
  upper: string;
  work: string;
}

/** How to build a rootfs. */
export interface MountRootfsOptions {
  /** The directory that holds every layer directory; lowerdir paths are given relative to it. */
  layersRoot: string;
  /** Layer directory names under layersRoot, the base layer first (the order of the manifest). */
  layers: string[];
  /** The container's own directory; upper/, work/ and rootfs/ are made in it. */
  containerDir: string;
  /** Mount without an upper directory, as a read-only root. */
  readonly?: boolean;
}

// The kernel takes mount options of at most one page; lowerdir paths are given relative to the layers
// directory (mount runs there) to fit more layers, as Docker's overlay2 driver does with its short links.
const maxMountData = 4000;

/** The paths a container directory uses. */
export function rootfsPaths(containerDir: string): RootfsPaths {
  return {
    rootfs: path.join(containerDir, 'rootfs'),
    upper: path.join(containerDir, 'upper'),
    work: path.join(containerDir, 'work'),
  };
}

/** True when `target` is a mount point in this mount namespace. */
export async function isMounted(target: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const wanted = path.resolve(target);
  return info.split('\n').some((line) => unescapeMountPath(line.split(' ')[4] ?? '') === wanted);
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mounts the overlay rootfs of a container and returns its paths. */
export async function mountRootfs(options: MountRootfsOptions): Promise<RootfsPaths> {
  if (options.layers.length === 0) throw new ImageError('Mount', 'cannot mount a rootfs without layers');
  const paths = rootfsPaths(options.containerDir);
  for (const name of options.layers) {
    if (name.includes(':') || name.includes(',') || name.includes('/')) {
      throw new ImageError(
        'Mount',
        `layer directory name ${JSON.stringify(name)} cannot be given to overlayfs`,
      );
    }
  }
  // overlayfs lists the uppermost lower directory first. A layer that occurs twice (an empty layer repeated)
  // is kept at its uppermost place only: overlayfs refuses a directory twice, and the lower copy adds nothing.
  const lower: string[] = [];
  for (const name of [...options.layers].reverse()) if (!lower.includes(name)) lower.push(name);
  let data: string;
  if (options.readonly === true) {
    // Without an upper directory overlayfs needs two lower ones; a single layer is then bound read-only.
    data = lower.length === 1 ? '' : `lowerdir=${lower.join(':')}`;
  } else {
    data = `lowerdir=${lower.join(':')},upperdir=${paths.upper},workdir=${paths.work}`;
  }
  if (data.length > maxMountData) {
    throw new ImageError('Mount', `image has too many layers (${lower.length}) for one overlay mount`);
  }
  try {
    if (canDoFsOps) {
      await mountWithOps(options, paths, lower, data);
    } else {
      await mkdir(paths.rootfs, { recursive: true, mode: 0o755 });
      if (options.readonly !== true) {
        await mkdir(paths.upper, { recursive: true, mode: 0o755 });
        await mkdir(paths.work, { recursive: true, mode: 0o700 });
      }
      if (data === '') {
        const source = path.join(options.layersRoot, lower[0]!);
        await execFileChecked('mount', ['--bind', '-o', 'ro', source, paths.rootfs]);
      } else {
        await execFileChecked('mount', ['-t', 'overlay', 'overlay', '-o', data, paths.rootfs], {
          cwd: options.layersRoot,
        });
      }
    }
  } catch (err) {
    throw new ImageError(
      'Mount',
      `failed to mount rootfs at ${paths.rootfs}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return paths;
}

/** Whether the kernel refused overlayfs' `volatile` option (before Linux 5.10): then it is not asked again. */
let volatileRefused = false;

/**
 * Makes the directories and mounts the rootfs in one batch of the spawner's file system operations. A
 * container's own upper directory is mounted `volatile`, as podman does for transient containers: overlayfs
 * then never syncs it, so that unmounting it does not wait for a sync of the whole file system underneath (a
 * volatile upper directory cannot be mounted again after a crash of the machine, and never is: a rebooted
 * node's containers have ended).
 */
async function mountWithOps(
  options: MountRootfsOptions,
  paths: RootfsPaths,
  lower: string[],
  data: string,
): Promise<void> {
  const dirs: FsOp[] = [
    { op: 'mkdir', path: options.containerDir, mode: 0o755 },
    { op: 'mkdir', path: paths.rootfs, mode: 0o755 },
  ];
  if (data === '') {
    const source = path.join(options.layersRoot, lower[0]!);
    await runFsOps([
      ...dirs,
      { op: 'mount', source, target: paths.rootfs, type: '', flags: MS_BIND, data: '' },
      {
        op: 'mount',
        source: '',
        target: paths.rootfs,
        type: '',
        flags: MS_BIND | MS_REMOUNT | MS_RDONLY,
        data: '',
      },
    ]);
    return;
  }
  if (options.readonly !== true) {
    dirs.push(
      { op: 'mkdir', path: paths.upper, mode: 0o755 },
      { op: 'mkdir', path: paths.work, mode: 0o700 },
    );
  }
  const mount = (extra: string): FsOp => ({
    op: 'mount',
    source: 'overlay',
    target: paths.rootfs,
    type: 'overlay',
    flags: 0,
    data: data + extra,
  });
  if (options.readonly === true || volatileRefused) {
    await runFsOps([...dirs, mount('')], options.layersRoot);
    return;
  }
  try {
    await runFsOps([...dirs, mount(',volatile')], options.layersRoot);
  } catch (err) {
    if (!/invalid argument/i.test((err as Error).message)) throw err;
    await runFsOps([mount('')], options.layersRoot);
    volatileRefused = true;
  }
}

/** Unmounts a container's rootfs (if mounted) and deletes its directory with the upper layer. */
export async function removeRootfs(containerDir: string): Promise<void> {
  const paths = rootfsPaths(containerDir);
  if (canDoFsOps) {
    try {
      // Unmounted (if mounted) and removed in one batch; the removal does not enter another file system. The
      // unmount is lazy (MNT_DETACH): the container's processes are gone, nothing else uses the mount, and the
      // kernel then tears it down without making us wait.
      await runFsOps([
        { op: 'umount', target: paths.rootfs, flags: MNT_DETACH },
        { op: 'rmtree', path: containerDir },
      ]);
    } catch (err) {
      throw new ImageError(
        'Mount',
        `failed to unmount rootfs ${paths.rootfs}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return;
  }
  if (await isMounted(paths.rootfs)) {
    try {
      await execFileChecked('umount', [paths.rootfs]);
    } catch (err) {
      throw new ImageError(
        'Mount',
        `failed to unmount rootfs ${paths.rootfs}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
  await rm(containerDir, { recursive: true, force: true });
}
