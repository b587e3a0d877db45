// Small tools on OCI image layouts for tests: read a tagged manifest, add a multi-platform index, and write
// the same image as a `docker save` archive.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';

/** A descriptor as an OCI layout writes it. */
export interface LayoutDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

interface LayoutIndex {
  schemaVersion: number;
  manifests: LayoutDescriptor[];
}

/** The parts of a tagged image in a layout. */
export interface LayoutImage {
  descriptor: LayoutDescriptor;
  manifest: { config: LayoutDescriptor; layers: LayoutDescriptor[]; mediaType?: string };
  config: { architecture: string; os: string; rootfs: { diff_ids: string[] } };
  configBytes: Buffer;
}

/** The path of a blob in a layout. */
export function layoutBlobPath(layoutDir: string, digest: string): string {
  const [algorithm = '', hex = ''] = digest.split(':');
  return path.join(layoutDir, 'blobs', algorithm, hex);
}

async function readIndex(layoutDir: string): Promise<LayoutIndex> {
  return JSON.parse(await readFile(path.join(layoutDir, 'index.json'), 'utf8')) as LayoutIndex;
}

/** The descriptor index.json lists under a tag (org.opencontainers.image.ref.name). */
export async function layoutDescriptor(layoutDir: string, tag: string): Promise<LayoutDescriptor> {
  const index = await readIndex(layoutDir);
  const found = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (found === undefined) throw new Error(`tag ${tag} not in ${layoutDir}`);
  return found;
}

/** Reads the manifest and config of a tagged image manifest. */
export async function readLayoutImage(layoutDir: string, tag: string): Promise<LayoutImage> {
  const descriptor = await layoutDescriptor(layoutDir, tag);
  const manifest = JSON.parse(
    await readFile(layoutBlobPath(layoutDir, descriptor.digest), 'utf8'),
  ) as LayoutImage['manifest'];
  const configBytes = await readFile(layoutBlobPath(layoutDir, manifest.config.digest));
  const config = JSON.parse(configBytes.toString('utf8')) as LayoutImage['config'];
  return { descriptor, manifest, config, configBytes };
}

/** Writes a blob into the layout and returns its descriptor fields. */
export async function writeLayoutBlob(
  layoutDir: string,
  data: Buffer,
): Promise<{ digest: string; size: number }> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await writeFile(layoutBlobPath(layoutDir, digest), data);
  return { digest, size: data.length };
}

/**
 * Adds an OCI index under `tag` that lists the tagged manifests for their platforms, as a multi-arch image
 * has them. Returns the index digest.
 */
export async function addPlatformIndex(
  layoutDir: string,
  tag: string,
  entries: { tag: string; platform: { architecture: string; os: string; variant?: string } }[],
): Promise<string> {
  const manifests: LayoutDescriptor[] = [];
  for (const entry of entries) {
    const d = await layoutDescriptor(layoutDir, entry.tag);
    manifests.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, platform: entry.platform });
  }
  const body = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
  );
  const { digest, size } = await writeLayoutBlob(layoutDir, body);
  const index = await readIndex(layoutDir);
  index.manifests.push({
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest,
    size,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  });
  await writeFile(path.join(layoutDir, 'index.json'), JSON.stringify(index));
  return digest;
}

/**
 * Writes a tagged image of a layout as `docker save` (before Docker 25) writes one: manifest.json, the
 * config as <hex>.json, each layer uncompressed as <diffid-hex>/layer.tar, and the legacy repositories file.
 */
export async function writeDockerSaveArchive(
  layoutDir: string,
  tag: string,
  repoTag: string,
  out: string,
): Promise<void> {
  const image = await readLayoutImage(layoutDir, tag);
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(out));
  const add = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => {
      pack.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  const configHex = image.manifest.config.digest.split(':')[1]!;
  const layerPaths: string[] = [];
  for (const [i, layer] of image.manifest.layers.entries()) {
    const compressed = await readFile(layoutBlobPath(layoutDir, layer.digest));
    const data = layer.mediaType.endsWith('gzip') ? gunzipSync(compressed) : compressed;
    const dir = image.config.rootfs.diff_ids[i]!.split(':')[1]!;
    layerPaths.push(`${dir}/layer.tar`);
    await add(`${dir}/VERSION`, Buffer.from('1.0'));
    await add(`${dir}/layer.tar`, data);
  }
  await add(`${configHex}.json`, image.configBytes);
  await add(
    'manifest.json',
    Buffer.from(JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [repoTag], Layers: layerPaths }])),
  );
  const [repo = '', repoTagName = ''] = [
    repoTag.slice(0, repoTag.lastIndexOf(':')),
    repoTag.slice(repoTag.lastIndexOf(':') + 1),
  ];
  const top = image.config.rootfs.diff_ids.at(-1)!.split(':')[1]!;
  await add('repositories', Buffer.from(JSON.stringify({ [repo]: { [repoTagName]: top } })));
  pack.finalize();
  await done;
}
