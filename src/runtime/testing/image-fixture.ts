// The OCI layout most image tests share: a busybox image, the same image labelled arm64, a two-platform
// index of both, and an image with two more layers that delete a file and make a directory opaque.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildBusyboxImage } from './build-busybox-image.js';
import { addPlatformIndex, layoutDescriptor, readLayoutImage } from './oci-layout.js';
import { run } from './run.js';

/** The layout and the digests tests compare against. */
export interface ImageFixture {
  layoutDir: string;
  /** Manifest digests by tag. */
  manifests: Record<'latest' | 'arm64' | 'layered', string>;
  /** Config digests (image IDs) by tag. */
  configs: Record<'latest' | 'arm64' | 'layered', string>;
  /** The digest of the index tagged "multi". */
  indexDigest: string;
}

/** Builds the fixture layout under `workDir`. */
export async function buildImageFixture(workDir: string): Promise<ImageFixture> {
  const layoutDir = path.join(workDir, 'layout');
  await buildBusyboxImage({
    layoutDir,
    tag: 'latest',
    workDir,
    files: { 'etc/motd': 'welcome to busybox\n', 'opt/keep/a': 'a\n', 'opt/keep/b': 'b\n' },
  });
  await run('umoci', [
    'config',
    '--image',
    `${layoutDir}:latest`,
    '--architecture',
    'arm64',
    '--tag',
    'arm64',
  ]);
  await run('umoci', [
    'insert',
    '--image',
    `${layoutDir}:latest`,
    '--tag',
    'layered',
    '--whiteout',
    '/etc/motd',
  ]);
  const opaqueSource = path.join(workDir, 'opaque-source');
  await mkdir(opaqueSource, { recursive: true });
  await writeFile(path.join(opaqueSource, 'c'), 'c\n');
  await run('umoci', ['insert', '--image', `${layoutDir}:layered`, '--opaque', opaqueSource, '/opt/keep']);
  const indexDigest = await addPlatformIndex(layoutDir, 'multi', [
    { tag: 'latest', platform: { architecture: 'amd64', os: 'linux' } },
    { tag: 'arm64', platform: { architecture: 'arm64', os: 'linux' } },
  ]);
  const manifests = { latest: '', arm64: '', layered: '' };
  const configs = { latest: '', arm64: '', layered: '' };
  for (const tag of ['latest', 'arm64', 'layered'] as const) {
    manifests[tag] = (await layoutDescriptor(layoutDir, tag)).digest;
    configs[tag] = (await readLayoutImage(layoutDir, tag)).manifest.config.digest;
  }
  return { layoutDir, manifests, configs, indexDigest };
}
