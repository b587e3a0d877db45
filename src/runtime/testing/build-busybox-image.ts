// Builds a real, runnable image from Debian's busybox-static: a rootfs with /bin/busybox and the symlinks its
// `--install -s` makes when run inside that rootfs (chroot), packed by umoci into an OCI image layout.
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireTools } from './requirements.js';
import { run } from './run.js';

/** What to build. */
export interface BusyboxImageOptions {
  /** The OCI image layout directory; created if missing, else the tag is added to it. */
  layoutDir: string;
  tag: string;
  /** Scratch space for the rootfs. */
  workDir: string;
  /** The architecture the config names (the binary stays the host's); amd64 by default. */
  architecture?: string;
  /** Extra files for the rootfs: path (relative to /) → content. */
  files?: Record<string, string>;
}

/** Builds the image and tags it in the layout. */
export async function buildBusyboxImage(options: BusyboxImageOptions): Promise<void> {
  requireTools(['busybox', 'umoci', 'chroot'], { root: true });
  const rootfs = await mkdtemp(path.join(options.workDir, 'rootfs-'));
  try {
    for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'proc', 'sys', 'dev']) {
      await mkdir(path.join(rootfs, dir), { recursive: true });
    }
    await mkdir(path.join(rootfs, 'tmp'));
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    await copyFile('/bin/busybox', path.join(rootfs, 'bin/busybox'));
    await chmod(path.join(rootfs, 'bin/busybox'), 0o755);
    await run('chroot', [rootfs, '/bin/busybox', '--install', '-s']);
    await writeFile(
      path.join(rootfs, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    );
    await writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    for (const [file, content] of Object.entries(options.files ?? {})) {
      const target = path.join(rootfs, file);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    const image = `${options.layoutDir}:${options.tag}`;
    if (!existsSync(path.join(options.layoutDir, 'index.json'))) {
      await mkdir(path.dirname(options.layoutDir), { recursive: true });
      await run('umoci', ['init', '--layout', options.layoutDir]);
    }
    await run('umoci', ['new', '--image', image]);
    await run('umoci', ['insert', '--image', image, rootfs, '/']);
    await run('umoci', [
      'config',
      '--image',
      image,
      '--os',
      'linux',
      '--architecture',
      options.architecture ?? 'amd64',
      '--config.cmd',
      '/bin/sh',
      '--config.env',
      'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    await run('umoci', ['gc', '--layout', options.layoutDir]);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
