// Import of images from files: an OCI image layout (a directory, or a tar of one, as `skopeo copy oci-archive:`
// and `docker save` since Docker 25 write) and the `docker save` archive (manifest.json, a config JSON and a
// layer tar per layer). Both may be gzip-compressed. Every blob goes through the content store's checks; a
// docker-save image, which has no manifest of its own, gets a Docker v2 schema 2 manifest made for it, so that
// it is stored and unpacked like a pulled one.
import { createReadStream } from 'node:fs';
import { lstat, open, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { ContentStore, Holder } from './content-store.js';
import { parseDigest, sha256Digest } from './digest.js';
import { ImageError, isImageError } from './errors.js';
import {
  checkDescriptor,
  mediaTypes,
  parseImageConfig,
  parseManifestDocument,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from './oci.js';
import { formatPlatform, selectPlatformManifest } from './platform.js';
import { isValidTag, parseDockerRef, referenceName, referenceString } from './reference.js';

/** One image found in an archive, its blobs stored and held, not yet unpacked or recorded. */
export interface ImportedImage {
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
  repoTags: string[];
  repoDigests: string[];
  /** Every blob of the image, indexes it came through included. */
  blobs: string[];
}

/** Options of importArchive. */
export interface ImportOptions {
  platform: Platform;
  /** The repository for OCI layout entries whose ref.name annotation is only a tag ("docker.io/library/app"). */
  baseName?: string;
}

const smallFileLimit = 4 << 20;
const bufferedTotalLimit = 64 << 20;

function invalidArchive(message: string): ImageError {
  return new ImageError('InvalidArchive', message);
}

/** Reads named files out of an archive, wherever it keeps them. */
interface ArchiveReader {
  has(name: string): boolean;
  read(name: string): Promise<Buffer>;
  /** Stores the named files, checking each against its expectation; returns digest and size of each. */
  ingest(
    store: ContentStore,
    wanted: Map<string, { digest?: string; size?: number; ref: string }>,
    holder: Holder,
  ): Promise<Map<string, { digest: string; size: number }>>;
}

/** Normalises a path inside an archive: "./a//b" → "a/b"; undefined when it climbs out. */
function archivePath(name: string): string | undefined {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

class DirectoryReader implements ArchiveReader {
  readonly root: string;
  readonly names: Set<string>;

  constructor(root: string, names: Set<string>) {
    this.root = root;
    this.names = names;
  }

  static async open(dir: string): Promise<DirectoryReader> {
    const root = await realpath(dir);
    const names = new Set<string>();
    for (const name of ['oci-layout', 'index.json', 'manifest.json']) {
      if ((await lstat(path.join(root, name)).catch(() => undefined)) !== undefined) names.add(name);
    }
    return new DirectoryReader(root, names);
  }

  async #resolve(name: string): Promise<string> {
    const rel = archivePath(name);
    if (rel === undefined || rel === '')
      throw invalidArchive(`path ${JSON.stringify(name)} leaves the image directory`);
    let real: string;
    try {
      real = await realpath(path.join(this.root, rel));
    } catch {
      throw invalidArchive(`${name}: not found in ${this.root}`);
    }
    if (!real.startsWith(this.root + path.sep))
      throw invalidArchive(`path ${JSON.stringify(name)} leaves the image directory`);
    return real;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  async read(name: string): Promise<Buffer> {
    const file = await this.#resolve(name);
    const st = await lstat(file);
    if (st.size > smallFileLimit) throw invalidArchive(`${name} is too large for a metadata file`);
    return readFile(file);
  }

  async ingest(
    store: ContentStore,
    wanted: Map<string, { digest?: string; size?: number; ref: string }>,
    holder: Holder,
  ) {
    const out = new Map<string, { digest: string; size: number }>();
    for (const [name, expected] of wanted) {
      if (expected.digest !== undefined) {
        holder.add([expected.digest]);
        if (await store.hasBlob(expected.digest)) {
          out.set(name, {
            digest: expected.digest,
            size: expected.size ?? (await lstat(store.blobPath(expected.digest))).size,
          });
          continue;
        }
      }
      out.set(name, await store.ingest(createReadStream(await this.#resolve(name)), expected, { holder }));
    }
    return out;
  }
}

interface TarEntryInfo {
  type: string;
  linkname: string;
  size: number;
}

class TarReader implements ArchiveReader {
  readonly file: string;
  readonly entries = new Map<string, TarEntryInfo>();
  readonly buffered = new Map<string, Buffer>();

  constructor(file: string) {
    this.file = file;
  }

  static async open(file: string): Promise<TarReader> {
    const reader = new TarReader(file);
    let total = 0;
    await reader.#scan(async (name, header, body) => {
      reader.entries.set(name, {
        type: header.type,
        linkname: header.linkname ?? '',
        size: header.size ?? 0,
      });
      // Metadata and small blobs (manifests, configs) are kept from this first pass; layers are read again.
      if (
        header.type === 'file' &&
        (header.size ?? 0) <= smallFileLimit &&
        total + (header.size ?? 0) <= bufferedTotalLimit
      ) {
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk);
        const data = Buffer.concat(chunks);
        total += data.length;
        reader.buffered.set(name, data);
      }
    });
    return reader;
  }

  async #scan(
    onEntry: (name: string, header: tar.Header, body: AsyncIterable<Buffer>) => Promise<void>,
  ): Promise<void> {
    const handle = await open(this.file, 'r');
    const head = Buffer.alloc(2);
    await handle.read(head, 0, 2, 0);
    await handle.close();
    const extract = tar.extract();
    const input = createReadStream(this.file);
    const stages =
      head[0] === 0x1f && head[1] === 0x8b
        ? pipeline(input, createGunzip(), extract)
        : pipeline(input, extract);
    stages.catch(() => undefined);
    try {
      for await (const entry of extract) {
        const name = archivePath(entry.header.name);
        if (name !== undefined && name !== '')
          await onEntry(name, entry.header, entry as unknown as AsyncIterable<Buffer>);
        entry.resume();
      }
      await stages;
    } catch (err) {
      input.destroy();
      extract.destroy();
      await stages.catch(() => undefined);
      if (err instanceof ImageError) throw err;
      throw invalidArchive(
        `${this.file}: not a readable tar archive: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** Follows symlinks and hard links inside the archive to the regular file a name stands for. */
  #target(name: string): string {
    let current = archivePath(name);
    for (let hops = 0; hops < 16 && current !== undefined; hops++) {
      const entry = this.entries.get(current);
      if (entry === undefined) throw invalidArchive(`${name}: not found in ${this.file}`);
      if (entry.type === 'file' || entry.type === 'contiguous-file') return current;
      if (entry.type === 'symlink')
        current = archivePath(path.posix.join(path.posix.dirname(current), entry.linkname));
      else if (entry.type === 'link') current = archivePath(entry.linkname);
      else throw invalidArchive(`${name}: not a regular file in ${this.file}`);
    }
    throw invalidArchive(`${name}: unresolvable link in ${this.file}`);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  read(name: string): Promise<Buffer> {
    const target = this.#target(name);
    const data = this.buffered.get(target);
    if (data === undefined) return Promise.reject(invalidArchive(`${name} is too large for a metadata file`));
    return Promise.resolve(data);
  }

  async ingest(
    store: ContentStore,
    wanted: Map<string, { digest?: string; size?: number; ref: string }>,
    holder: Holder,
  ) {
    const out = new Map<string, { digest: string; size: number }>();
    const byTarget = new Map<string, string[]>();
    for (const [name, expected] of wanted) {
      if (expected.digest !== undefined) {
        holder.add([expected.digest]);
        if (await store.hasBlob(expected.digest)) {
          out.set(name, {
            digest: expected.digest,
            size: expected.size ?? (await lstat(store.blobPath(expected.digest))).size,
          });
          continue;
        }
      }
      const target = this.#target(name);
      const data = this.buffered.get(target);
      if (data !== undefined) {
        out.set(name, await store.ingest(Readable.from([data]), expected, { holder }));
        continue;
      }
      byTarget.set(target, [...(byTarget.get(target) ?? []), name]);
    }
    if (byTarget.size === 0) return out;
    await this.#scan(async (entryName, _header, body) => {
      const names = byTarget.get(entryName);
      if (names === undefined) return;
      byTarget.delete(entryName);
      const first = names[0]!;
      // Through a generator: node's pipeline would destroy tar-stream's entry, which stalls the extractor.
      const chunks = (async function* () {
        for await (const chunk of body) yield chunk;
      })();
      const result = await store.ingest(chunks, wanted.get(first)!, { holder });
      for (const n of names) out.set(n, result);
    });
    if (byTarget.size > 0)
      throw invalidArchive(`${[...byTarget.keys()].join(', ')}: not found in ${this.file}`);
    return out;
  }
}

function blobName(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

function parseJson(data: Buffer, what: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw invalidArchive(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function readVerified(reader: ArchiveReader, d: Descriptor): Promise<Buffer> {
  const data = await reader.read(blobName(d.digest));
  const { algorithm } = parseDigest(d.digest);
  const actual = algorithm === 'sha256' ? sha256Digest(data) : d.digest;
  if (actual !== d.digest || data.length !== d.size) {
    throw new ImageError(
      'DigestMismatch',
      `${blobName(d.digest)}: content does not match its descriptor (digest ${actual}, ${data.length} bytes)`,
    );
  }
  return data;
}

/** The names an OCI layout gives a manifest through its annotations. */
function layoutNames(d: Descriptor, baseName: string | undefined): string[] {
  const full = d.annotations?.['io.containerd.image.name'];
  const refName = d.annotations?.['org.opencontainers.image.ref.name'];
  const candidates: string[] = [];
  if (full !== undefined) candidates.push(full);
  else if (refName !== undefined) {
    if (isValidTag(refName)) {
      if (baseName !== undefined) candidates.push(`${baseName}:${refName}`);
    } else candidates.push(refName);
  }
  const names: string[] = [];
  for (const c of candidates) {
    try {
      names.push(referenceString(parseDockerRef(c)));
    } catch (err) {
      if (!isImageError(err, 'InvalidReference')) throw err;
    }
  }
  return names;
}

async function importLayout(
  reader: ArchiveReader,
  store: ContentStore,
  options: ImportOptions,
  holder: Holder,
): Promise<ImportedImage[]> {
  if (reader.has('oci-layout')) {
    const layout = parseJson(await reader.read('oci-layout'), 'oci-layout') as {
      imageLayoutVersion?: unknown;
    };
    if (typeof layout.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.')) {
      throw invalidArchive(
        `unsupported OCI image layout version ${JSON.stringify(layout.imageLayoutVersion)}`,
      );
    }
  }
  const indexDoc = parseJson(await reader.read('index.json'), 'index.json') as { manifests?: unknown };
  if (!Array.isArray(indexDoc.manifests)) throw invalidArchive('index.json: manifests is not a list');
  const images: ImportedImage[] = [];
  for (const raw of indexDoc.manifests) {
    const top = checkDescriptor('index.json', raw);
    const names = layoutNames(top, options.baseName);
    const through: string[] = [];
    let descriptor = top;
    let body = await readVerified(reader, descriptor);
    let doc = parseManifestDocument(body, descriptor.mediaType);
    for (let depth = 0; doc.kind === 'index'; depth++) {
      if (depth > 3) throw invalidArchive(`${top.digest}: indexes nested too deep`);
      through.push(descriptor.digest);
      await store.writeBlob(
        body,
        { digest: descriptor.digest, size: descriptor.size, ref: `index-${descriptor.digest}` },
        holder,
      );
      const chosen = selectPlatformManifest(doc.index.manifests, options.platform);
      if (chosen === undefined) {
        throw new ImageError(
          'NotFound',
          `no match for platform ${formatPlatform(options.platform)} in manifest ${descriptor.digest}: not found`,
        );
      }
      descriptor = chosen;
      body = await readVerified(reader, descriptor);
      doc = parseManifestDocument(body, descriptor.mediaType);
    }
    const manifest = doc.manifest;
    await store.writeBlob(
      body,
      { digest: descriptor.digest, size: descriptor.size, ref: `manifest-${descriptor.digest}` },
      holder,
    );
    const configBody = await readVerified(reader, manifest.config);
    const config = parseImageConfig(configBody);
    await store.writeBlob(
      configBody,
      { digest: manifest.config.digest, size: manifest.config.size, ref: `config-${manifest.config.digest}` },
      holder,
    );
    const wanted = new Map(
      manifest.layers.map((l) => [
        blobName(l.digest),
        { digest: l.digest, size: l.size, ref: `layer-${l.digest}` },
      ]),
    );
    await reader.ingest(store, wanted, holder);
    images.push({
      manifestDescriptor: { mediaType: manifest.mediaType, digest: descriptor.digest, size: descriptor.size },
      manifest,
      configDescriptor: manifest.config,
      config,
      repoTags: names,
      repoDigests: names.map((n) => `${referenceName(parseDockerRef(n))}@${top.digest}`),
      blobs: [...through, descriptor.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
    });
  }
  return images;
}

async function importDockerSave(
  reader: ArchiveReader,
  store: ContentStore,
  holder: Holder,
): Promise<ImportedImage[]> {
  const entries = parseJson(await reader.read('manifest.json'), 'manifest.json');
  if (!Array.isArray(entries)) throw invalidArchive('manifest.json: not a list');
  const images: ImportedImage[] = [];
  for (const [i, raw] of entries.entries()) {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as {
      Config?: unknown;
      RepoTags?: unknown;
      Layers?: unknown;
    };
    if (typeof entry.Config !== 'string') throw invalidArchive(`manifest.json[${i}]: Config is missing`);
    if (!Array.isArray(entry.Layers) || !entry.Layers.every((l) => typeof l === 'string')) {
      throw invalidArchive(`manifest.json[${i}]: Layers is not a list of paths`);
    }
    const layerPaths = entry.Layers;
    const configBody = await reader.read(entry.Config);
    const config = parseImageConfig(configBody);
    if (config.rootfs.diff_ids.length !== layerPaths.length) {
      throw invalidArchive(
        `manifest.json[${i}]: ${layerPaths.length} layers, but the config lists ${config.rootfs.diff_ids.length} diff IDs`,
      );
    }
    const configDigest = sha256Digest(configBody);
    await store.writeBlob(configBody, { digest: configDigest, ref: `config-${configDigest}` }, holder);
    // The layer tars of docker save are uncompressed, so their digest is the diff ID the config names;
    // compressed ones (some tools write them) are checked against the diff ID when unpacked.
    const wanted = new Map(layerPaths.map((p, j) => [p, { ref: `layer-${config.rootfs.diff_ids[j]!}` }]));
    const stored = await reader.ingest(store, wanted, holder);
    const layers: Descriptor[] = [];
    for (const [j, p] of layerPaths.entries()) {
      const blob = stored.get(p)!;
      const head = Buffer.alloc(2);
      const handle = await open(store.blobPath(blob.digest), 'r');
      await handle.read(head, 0, 2, 0);
      await handle.close();
      const gzip = head[0] === 0x1f && head[1] === 0x8b;
      if (!gzip && blob.digest !== config.rootfs.diff_ids[j]) {
        throw new ImageError(
          'DigestMismatch',
          `${p}: layer digest ${blob.digest} does not match the config's diff ID ${config.rootfs.diff_ids[j]!}`,
        );
      }
      layers.push({
        mediaType: gzip ? mediaTypes.dockerLayerGzip : mediaTypes.dockerLayer,
        digest: blob.digest,
        size: blob.size,
      });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: mediaTypes.dockerManifest,
      config: { mediaType: mediaTypes.dockerConfig, digest: configDigest, size: configBody.length },
      layers,
    };
    const manifestBody = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = await store.writeBlob(manifestBody, { ref: 'manifest' }, holder);
    const tags: string[] = [];
    for (const t of Array.isArray(entry.RepoTags) ? entry.RepoTags : []) {
      if (typeof t !== 'string') continue;
      try {
        tags.push(referenceString(parseDockerRef(t)));
      } catch (err) {
        if (!isImageError(err, 'InvalidReference')) throw err;
        throw invalidArchive(`manifest.json[${i}]: invalid RepoTag ${JSON.stringify(t)}: ${err.message}`);
      }
    }
    images.push({
      manifestDescriptor: {
        mediaType: mediaTypes.dockerManifest,
        digest: manifestDigest,
        size: manifestBody.length,
      },
      manifest,
      configDescriptor: manifest.config,
      config,
      repoTags: tags,
      repoDigests: [],
      blobs: [manifestDigest, configDigest, ...layers.map((l) => l.digest)],
    });
  }
  return images;
}

/**
 * Stores the blobs of every image in an OCI layout or docker-save archive (directory or tar, gzip or not),
 * holding them in `holder`, and describes the images found. A layout with both index.json and manifest.json
 * (Docker 25's docker save) is read through manifest.json, which carries the tags.
 */
export async function importArchive(
  store: ContentStore,
  file: string,
  options: ImportOptions,
  holder: Holder,
): Promise<ImportedImage[]> {
  const st = await lstat(file).catch(() => undefined);
  if (st === undefined) throw invalidArchive(`${file}: no such file or directory`);
  const reader = st.isDirectory() ? await DirectoryReader.open(file) : await TarReader.open(file);
  if (reader.has('manifest.json')) return importDockerSave(reader, store, holder);
  if (reader.has('index.json')) return importLayout(reader, store, options, holder);
  throw invalidArchive(
    `${file}: neither an OCI image layout (index.json) nor a docker save archive (manifest.json)`,
  );
}
