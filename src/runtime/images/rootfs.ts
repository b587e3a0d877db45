// A container's root file system: an overlay mount whose lower directories are the image's unpacked layers
// and whose upper and work directories belong to the container alone, so that containers of one image share
// its layers and write only into their own upper directory.
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ImageError } from './errors.js';
import { execFileChecked } from './exec.js';

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
  await mkdir(paths.rootfs, { recursive: true, mode: 0o755 });
  let data: string;
  if (options.readonly === true) {
    // Without an upper directory overlayfs needs two lower ones; a single layer is then bound read-only.
    data = lower.length === 1 ? '' : `lowerdir=${lower.join(':')}`;
  } else {
    await mkdir(paths.upper, { recursive: true, mode: 0o755 });
    await mkdir(paths.work, { recursive: true, mode: 0o700 });
    data = `lowerdir=${lower.join(':')},upperdir=${paths.upper},workdir=${paths.work}`;
  }
  if (data.length > maxMountData) {
    throw new ImageError('Mount', `image has too many layers (${lower.length}) for one overlay mount`);
  }
  try {
    if (data === '') {
      await execFileChecked('mount', [
        '--bind',
        '-o',
        'ro',
        path.join(options.layersRoot, lower[0]!),
        paths.rootfs,
      ]);
    } else {
      await execFileChecked('mount', ['-t', 'overlay', 'overlay', '-o', data, paths.rootfs], {
        cwd: options.layersRoot,
      });
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

/** Unmounts a container's rootfs (if mounted) and deletes its directory with the upper layer. */
export async function removeRootfs(containerDir: string): Promise<void> {
  const paths = rootfsPaths(containerDir);
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
