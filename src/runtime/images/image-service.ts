// The image half of the built-in runtime, shaped for CRI's ImageService (PullImage, ListImages, ImageStatus,
// RemoveImage, ImageFsInfo) and for the container half, which needs a config and a rootfs per container.
// It composes the registry client, the content store, layer unpacking, import and overlay mounts.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  ContentStore,
  defaultGCPolicy,
  type DiskUsage,
  type GCPolicy,
  type GCResult,
  type Holder,
  type ImageRecord,
  type LayerRecord,
} from './content-store.js';
import { digestProblem } from './digest.js';
import { ImageError, isImageError } from './errors.js';
import { importArchive, type ImportedImage } from './import.js';
import {
  layerCompression,
  parseImageConfig,
  type Descriptor,
  type ImageConfig,
  type Platform,
} from './oci.js';
import { formatPlatform, hostPlatform, selectPlatformManifest } from './platform.js';
import { parseDockerRef, referenceName, referenceString } from './reference.js';
import { RegistryClient, type RegistryCredentials } from './registry-client.js';
import type { RegistriesConfig, RegistryEndpoint } from './registry-config.js';
import { mountRootfs, removeRootfs, type RootfsPaths } from './rootfs.js';
import { unpackLayer } from './unpack.js';

/** One step of a pull or import, for progress reports. */
export interface PullProgress {
  /** The normalised reference being pulled (or the file being imported). */
  ref: string;
  kind: 'index' | 'manifest' | 'config' | 'layer';
  digest: string;
  status: 'resolved' | 'exists' | 'downloading' | 'downloaded' | 'unpacking' | 'unpacked';
  /** Bytes received so far (downloading) or in all (downloaded). */
  completedBytes: number;
  totalBytes: number;
}

/** Options of a pull. */
export interface PullOptions {
  /** Credentials, as CRI's AuthConfig carries them from imagePullSecrets. */
  auth?: RegistryCredentials;
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
  /** The platform to pick from an index; the host's by default. */
  platform?: Platform;
}

/** CRI's FilesystemUsage of the image file system, with the figures the garbage collector needs. */
export interface ImageFsInfo {
  /** Nanoseconds since the epoch. */
  timestamp: bigint;
  mountpoint: string;
  usedBytes: number;
  inodesUsed: number;
  capacityBytes: number;
  availableBytes: number;
}

/** Options of ImageService.open. */
export interface ImageServiceOptions {
  /** The store's directory, e.g. /var/lib/k8ts/images. */
  root: string;
  registries?: RegistriesConfig;
  platform?: Platform;
  /** Layers downloaded at once by one pull (Docker's max-concurrent-downloads default is 3). */
  maxConcurrentDownloads?: number;
  gcPolicy?: GCPolicy;
  userAgent?: string;
  now?: () => number;
}

const blobAttempts = 3;

function isIdLike(value: string): boolean {
  return (
    /^[a-f0-9]{64}$/.test(value) ||
    (value.includes(':') && !value.includes('/') && digestProblem(value) === undefined)
  );
}

/** Runs `fn` over `items` with at most `limit` running at once; results in input order, started eagerly. */
function startLimited<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R>[] {
  let running = 0;
  const queue: (() => void)[] = [];
  const promises = items.map(async (item, index) => {
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await fn(item, index);
    } finally {
      running--;
      queue.shift()?.();
    }
  });
  // The caller awaits them in order and may stop at the first failure; later failures are not unhandled.
  for (const p of promises) p.catch(() => undefined);
  return promises;
}

/** Pulls, imports, lists and removes images, and mounts container rootfs from them. */
export class ImageService {
  readonly store: ContentStore;
  readonly #client: RegistryClient;
  readonly #platform: Platform;
  readonly #maxDownloads: number;
  readonly #gcPolicy: GCPolicy;
  readonly #downloads = new Map<string, Promise<void>>();
  readonly #unpacks = new Map<string, Promise<void>>();

  private constructor(store: ContentStore, options: ImageServiceOptions) {
    this.store = store;
    this.#client = new RegistryClient({
      ...(options.registries === undefined ? {} : { config: options.registries }),
      ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
    });
    this.#platform = options.platform ?? hostPlatform();
    this.#maxDownloads = options.maxConcurrentDownloads ?? 3;
    this.#gcPolicy = options.gcPolicy ?? defaultGCPolicy;
  }

  /** Opens the store under `options.root`. */
  static async open(options: ImageServiceOptions): Promise<ImageService> {
    const store = await ContentStore.open(
      options.root,
      options.now === undefined ? {} : { now: options.now },
    );
    return new ImageService(store, options);
  }

  /** Closes the registry connections. */
  close(): void {
    this.#client.close();
  }

  // ---- CRI ImageService

  /**
   * Pulls an image and unpacks its layers; returns its record (whose id is CRI's image_ref). A pull by digest
   * of an image already stored does not touch the network. A failed pull stores nothing.
   */
  async pull(image: string, options: PullOptions = {}): Promise<ImageRecord> {
    const ref = parseDockerRef(image);
    const name = referenceName(ref);
    const display = referenceString(ref);
    if (ref.digest !== undefined) {
      const existing = this.store.find((r) => r.repoDigests.includes(`${name}@${ref.digest}`));
      if (existing !== undefined && existing.layers.every((l) => this.store.hasLayer(l.diffID)))
        return existing;
    }
    const platform = options.platform ?? this.#platform;
    const report = (p: Omit<PullProgress, 'ref'>) => options.onProgress?.({ ref: display, ...p });
    const holder = this.store.holder();
    const controller = new AbortController();
    const abort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', abort, { once: true });
    const signal = controller.signal;
    try {
      const top = await this.#client.resolve(ref, options.auth, signal);
      const blobs: string[] = [];
      let fetched = top;
      if (top.document.kind === 'index') {
        report({
          kind: 'index',
          digest: top.descriptor.digest,
          status: 'resolved',
          completedBytes: top.body.length,
          totalBytes: top.body.length,
        });
        const chosen = selectPlatformManifest(top.document.index.manifests, platform);
        if (chosen === undefined) {
          throw new ImageError(
            'NotFound',
            `failed to resolve reference "${display}": no match for platform ${formatPlatform(platform)} in manifest ${top.descriptor.digest}: not found`,
          );
        }
        fetched = await this.#client.fetchManifest(
          top.endpoint,
          chosen.digest,
          options.auth,
          signal,
          `${name}@${chosen.digest}`,
        );
        if (fetched.document.kind !== 'manifest')
          throw new ImageError(
            'Unsupported',
            `${name}@${chosen.digest}: an index inside an index is not supported`,
          );
        await this.store.writeBlob(
          top.body,
          { digest: top.descriptor.digest, size: top.body.length, ref: `index-${top.descriptor.digest}` },
          holder,
        );
        blobs.push(top.descriptor.digest);
      }
      if (fetched.document.kind !== 'manifest')
        throw new ImageError('InvalidManifest', `${display}: not an image manifest`);
      const manifest = fetched.document.manifest;
      report({
        kind: 'manifest',
        digest: fetched.descriptor.digest,
        status: 'resolved',
        completedBytes: fetched.body.length,
        totalBytes: fetched.body.length,
      });
      await this.store.writeBlob(
        fetched.body,
        {
          digest: fetched.descriptor.digest,
          size: fetched.body.length,
          ref: `manifest-${fetched.descriptor.digest}`,
        },
        holder,
      );
      await this.#ensureBlob(top.endpoint, manifest.config, 'config', options.auth, signal, holder, report);
      const config = parseImageConfig(await this.store.readBlob(manifest.config.digest));
      const layers = this.#layerRecords(manifest.layers, config, display);
      const downloads = startLimited(manifest.layers, this.#maxDownloads, (d) =>
        this.#ensureBlob(top.endpoint, d, 'layer', options.auth, signal, holder, report),
      );
      try {
        await this.#unpackAll(layers, downloads, holder, signal, report);
      } catch (err) {
        controller.abort();
        await Promise.allSettled(downloads);
        throw err;
      }
      const repoTags = ref.tag === undefined ? [] : [`${name}:${ref.tag}`];
      const repoDigests = [`${name}@${ref.digest ?? top.descriptor.digest}`];
      return await this.#commit(
        {
          manifestDescriptor: fetched.descriptor,
          manifest,
          configDescriptor: manifest.config,
          config,
          repoTags,
          repoDigests,
          blobs: [
            ...blobs,
            fetched.descriptor.digest,
            manifest.config.digest,
            ...manifest.layers.map((l) => l.digest),
          ],
        },
        layers,
      );
    } catch (err) {
      if (signal.aborted && options.signal?.aborted === true && !isImageError(err, 'Aborted')) {
        throw new ImageError('Aborted', `pulling ${display}: operation aborted`, { cause: err });
      }
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', abort);
      await holder.release();
    }
  }

  /** Every image, as CRI's ListImages returns them. */
  list(): ImageRecord[] {
    return this.store.list();
  }

  /**
   * The image a reference or ID names, or undefined (CRI's ImageStatus answers an empty image then). Accepts
   * an image ID ("sha256:<hex>" or the bare hex), a tag reference or a digest reference.
   */
  status(image: string): ImageRecord | undefined {
    if (isIdLike(image)) {
      const id = image.includes(':') ? image : `sha256:${image}`;
      return this.store.get(id);
    }
    let ref;
    try {
      ref = parseDockerRef(image);
    } catch (err) {
      if (isImageError(err, 'InvalidReference')) return undefined;
      throw err;
    }
    const name = referenceName(ref);
    if (ref.digest !== undefined)
      return this.store.find((r) => r.repoDigests.includes(`${name}@${ref.digest}`));
    return this.store.find((r) => r.repoTags.includes(`${name}:${ref.tag}`));
  }

  /**
   * Removes an image with all its names, as containerd's RemoveImage does; removing an absent image is not an
   * error (CRI requires the call to be idempotent). Returns whether an image was removed.
   */
  async remove(image: string): Promise<boolean> {
    const record = this.status(image);
    if (record === undefined) return false;
    return (await this.store.removeImage(record.id)) !== undefined;
  }

  /** The image file system's usage (CRI ImageFsInfo) and the figures the garbage collector works from. */
  async fsInfo(): Promise<ImageFsInfo> {
    const [{ usedBytes, inodesUsed }, disk] = await Promise.all([this.store.usage(), this.store.diskUsage()]);
    return {
      timestamp: BigInt(Date.now()) * 1_000_000n,
      mountpoint: this.store.root,
      usedBytes,
      inodesUsed,
      capacityBytes: disk.capacityBytes,
      availableBytes: disk.availableBytes,
    };
  }

  /** Imports every image of an OCI layout or docker-save archive (directory or tar); returns their records. */
  async import(
    file: string,
    options: { baseName?: string; platform?: Platform; onProgress?: (p: PullProgress) => void } = {},
  ): Promise<ImageRecord[]> {
    const holder = this.store.holder();
    const report = (p: Omit<PullProgress, 'ref'>) => options.onProgress?.({ ref: file, ...p });
    try {
      const found = await importArchive(
        this.store,
        file,
        {
          platform: options.platform ?? this.#platform,
          ...(options.baseName === undefined ? {} : { baseName: options.baseName }),
        },
        holder,
      );
      const records: ImageRecord[] = [];
      for (const image of found) {
        const layers = this.#layerRecords(image.manifest.layers, image.config, file);
        await this.#unpackAll(
          layers,
          layers.map(() => Promise.resolve()),
          holder,
          undefined,
          report,
        );
        records.push(await this.#commit(image, layers));
      }
      return records;
    } finally {
      await holder.release();
    }
  }

  /**
   * Runs the kubelet's image garbage collection against the store's file system (or the usage given):
   * above the high threshold, unused images go, least recently used first, until usage is at the low one.
   */
  async garbageCollect(
    options: { inUse?: Iterable<string>; usage?: DiskUsage; policy?: GCPolicy } = {},
  ): Promise<GCResult> {
    const usage = options.usage ?? (await this.store.diskUsage());
    return this.store.garbageCollect(usage, options.policy ?? this.#gcPolicy, options.inUse ?? []);
  }

  // ---- for the container runtime

  /** The parsed config of an image (entrypoint, env, user, working dir...). */
  async config(image: string): Promise<ImageConfig> {
    const record = this.status(image);
    if (record === undefined) throw new ImageError('ImageNotKnown', `image "${image}": not found`);
    return parseImageConfig(await this.store.readBlob(record.configDigest));
  }

  /**
   * Mounts a container's rootfs: an overlay of the image's layers with an upper directory of its own. The
   * container holds a lease on the layers, so removing the image meanwhile leaves them in place.
   */
  async mountRootfs(
    containerId: string,
    image: string,
    options: { readonly?: boolean } = {},
  ): Promise<RootfsPaths> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(containerId)) {
      throw new ImageError('Mount', `invalid container ID ${JSON.stringify(containerId)}`);
    }
    const record = this.status(image);
    if (record === undefined) throw new ImageError('ImageNotKnown', `image "${image}": not found`);
    const { lease, saved } = await this.store.acquireLease(containerId, record.id);
    try {
      const [paths] = await Promise.all([
        mountRootfs({
          layersRoot: this.store.layersRoot,
          layers: lease.diffIDs.map((d) => this.store.layerName(d)),
          containerDir: this.#containerDir(containerId),
          ...(options.readonly === undefined ? {} : { readonly: options.readonly }),
        }),
        saved,
      ]);
      return paths;
    } catch (err) {
      await rm(this.#containerDir(containerId), { recursive: true, force: true });
      await this.store.releaseLease(containerId);
      throw err;
    }
  }

  /** Unmounts and deletes a container's rootfs and ends its lease; a no-op for an unknown container. */
  async removeRootfs(containerId: string): Promise<void> {
    if (this.store.lease(containerId) === undefined) return;
    await removeRootfs(this.#containerDir(containerId));
    await this.store.releaseLease(containerId);
  }

  // ---- internals

  #containerDir(containerId: string): string {
    return path.join(this.store.root, 'containers', containerId);
  }

  #layerRecords(descriptors: Descriptor[], config: ImageConfig, display: string): LayerRecord[] {
    if (descriptors.length !== config.rootfs.diff_ids.length) {
      throw new ImageError(
        'InvalidManifest',
        `${display}: the manifest has ${descriptors.length} layers, but the config lists ${config.rootfs.diff_ids.length} diff IDs`,
      );
    }
    return descriptors.map((d, i) => {
      if (layerCompression(d.mediaType) === undefined) {
        throw new ImageError('Unsupported', `${display}: unsupported layer media type ${d.mediaType}`);
      }
      return { digest: d.digest, size: d.size, mediaType: d.mediaType, diffID: config.rootfs.diff_ids[i]! };
    });
  }

  async #commit(image: ImportedImage, layers: LayerRecord[]): Promise<ImageRecord> {
    const platform: Platform = { os: image.config.os, architecture: image.config.architecture };
    if (image.config.variant !== undefined) platform.variant = image.config.variant;
    const user = image.config.config?.User;
    return this.store.commitImage({
      id: image.configDescriptor.digest,
      repoTags: image.repoTags,
      repoDigests: image.repoDigests,
      manifestDigest: image.manifestDescriptor.digest,
      manifestMediaType: image.manifest.mediaType,
      configDigest: image.configDescriptor.digest,
      layers,
      size:
        image.manifestDescriptor.size + image.configDescriptor.size + layers.reduce((n, l) => n + l.size, 0),
      platform,
      ...(user === undefined || user === '' ? {} : { user }),
      blobs: image.blobs,
    });
  }

  /** Downloads a blob unless stored, sharing a download already under way for the same digest. */
  async #ensureBlob(
    endpoint: RegistryEndpoint,
    d: Descriptor,
    kind: PullProgress['kind'],
    auth: RegistryCredentials | undefined,
    signal: AbortSignal,
    holder: Holder,
    report: (p: Omit<PullProgress, 'ref'>) => void,
  ): Promise<void> {
    holder.add([d.digest]);
    for (;;) {
      if (await this.store.hasBlob(d.digest)) {
        report({ kind, digest: d.digest, status: 'exists', completedBytes: d.size, totalBytes: d.size });
        return;
      }
      const running = this.#downloads.get(d.digest);
      if (running === undefined) break;
      // Someone else's download of the same blob: wait for it, and try ourselves if it failed.
      if (
        await running.then(
          () => true,
          () => false,
        )
      )
        continue;
      signal.throwIfAborted();
    }
    const download = this.#download(endpoint, d, kind, auth, signal, report);
    this.#downloads.set(d.digest, download);
    try {
      await download;
    } finally {
      if (this.#downloads.get(d.digest) === download) this.#downloads.delete(d.digest);
    }
  }

  async #download(
    endpoint: RegistryEndpoint,
    d: Descriptor,
    kind: PullProgress['kind'],
    auth: RegistryCredentials | undefined,
    signal: AbortSignal,
    report: (p: Omit<PullProgress, 'ref'>) => void,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        report({ kind, digest: d.digest, status: 'downloading', completedBytes: 0, totalBytes: d.size });
        const { stream } = await this.#client.fetchBlob(endpoint, d, auth, signal);
        await this.store.ingest(
          stream,
          { digest: d.digest, size: d.size, ref: `${kind}-${d.digest}` },
          {
            onBytes: (n) =>
              report({
                kind,
                digest: d.digest,
                status: 'downloading',
                completedBytes: n,
                totalBytes: d.size,
              }),
          },
        );
        report({ kind, digest: d.digest, status: 'downloaded', completedBytes: d.size, totalBytes: d.size });
        return;
      } catch (raw) {
        if (signal.aborted)
          throw new ImageError('Aborted', `${kind}-${d.digest}: operation aborted`, { cause: raw });
        const err =
          raw instanceof ImageError
            ? raw
            : new ImageError(
                'Network',
                `failed to copy ${kind}-${d.digest}: ${raw instanceof Error ? raw.message : String(raw)}`,
                { cause: raw },
              );
        // Only a broken connection is worth another try; a wrong digest would be wrong again.
        if (err.code !== 'Network' || attempt >= blobAttempts) throw err;
      }
    }
  }

  /** Unpacks the layers in order, each once its blob is downloaded; a layer already unpacked is reused. */
  async #unpackAll(
    layers: LayerRecord[],
    downloads: Promise<void>[],
    holder: Holder,
    signal: AbortSignal | undefined,
    report: (p: Omit<PullProgress, 'ref'>) => void,
  ): Promise<void> {
    holder.add(layers.map((l) => `layer:${l.diffID}`));
    for (const [i, layer] of layers.entries()) {
      await downloads[i];
      const parents = layers
        .slice(0, i)
        .reverse()
        .map((l) => this.store.layerPath(l.diffID));
      for (;;) {
        if (this.store.hasLayer(layer.diffID)) break;
        const running = this.#unpacks.get(layer.diffID);
        if (running !== undefined) {
          await running.catch(() => undefined);
          continue;
        }
        const unpack = this.#unpack(layer, parents, signal, report);
        this.#unpacks.set(layer.diffID, unpack);
        try {
          await unpack;
        } finally {
          if (this.#unpacks.get(layer.diffID) === unpack) this.#unpacks.delete(layer.diffID);
        }
      }
    }
  }

  async #unpack(
    layer: LayerRecord,
    parents: string[],
    signal: AbortSignal | undefined,
    report: (p: Omit<PullProgress, 'ref'>) => void,
  ): Promise<void> {
    report({
      kind: 'layer',
      digest: layer.digest,
      status: 'unpacking',
      completedBytes: 0,
      totalBytes: layer.size,
    });
    const tmp = await this.store.tempDir('unpack');
    try {
      const target = path.join(tmp, 'layer');
      const result = await unpackLayer({
        blobPath: this.store.blobPath(layer.digest),
        mediaType: layer.mediaType,
        diffID: layer.diffID,
        target,
        parents,
        ...(signal === undefined ? {} : { signal }),
      });
      await this.store.commitLayer(layer.diffID, target, result.size);
      report({
        kind: 'layer',
        digest: layer.digest,
        status: 'unpacked',
        completedBytes: layer.size,
        totalBytes: layer.size,
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
