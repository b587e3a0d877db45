// The image store on disk, under one root directory:
//   blobs/<alg>/<hex>      every manifest, index, config and layer blob, by digest, shared between images
//   layers/<hex>/          each layer unpacked once, by its diff ID (digest of the uncompressed tar)
//   containers/<id>/       a container's overlay upper, work and merged directories (rootfs.ts)
//   tmp/                   ingests and unpacks in progress; emptied on open
//   images.json            the image records and the unpacked layers
//   leases/<id>.json       a container's lease on the layers of its image, one file each: a container's
//                          start and removal create and delete a file instead of rewriting images.json (a
//                          rename over an existing file makes ext4 start writing its data out at once)
// A blob appears under blobs/ only by rename after its size and digest were checked, so a reader never sees a
// partial or wrong blob. Blobs and layers have no reference counts of their own: a blob lives while an image
// record lists it, a hold of an operation in flight (a pull, an import) protects it, or, for layer
// directories, a container's lease uses it. Whatever none of these keeps is deleted by a sweep.
import { randomUUID } from 'node:crypto';
import { createReadStream, renameSync, unlinkSync, writeFileSync, type ReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digester, digestProblem, parseDigest } from './digest.js';
import { diskUsage } from './disk-usage.js';
import { ImageError, imageErrors } from './errors.js';
import type { Platform } from './oci.js';

/** One layer of an image, compressed (as pulled) and uncompressed (as unpacked). */
export interface LayerRecord {
  digest: string;
  size: number;
  mediaType: string;
  diffID: string;
}

/** What the store knows of one image: the CRI Image message's fields and what its removal must free. */
export interface ImageRecord {
  /** The image ID: the digest of its config, as containerd's CRI reports it. */
  id: string;
  /** Normalised references with a tag: "docker.io/library/busybox:latest". */
  repoTags: string[];
  /** Normalised references with the digest the image was pulled by: "docker.io/library/busybox@sha256:...". */
  repoDigests: string[];
  manifestDigest: string;
  manifestMediaType: string;
  configDigest: string;
  layers: LayerRecord[];
  /** Bytes of the image's blobs (manifest, config and compressed layers): CRI's Image.size. */
  size: number;
  platform: Platform;
  /** The config's User, from which CRI derives uid or username. */
  user?: string;
  /** Every blob the image keeps: indexes it was pulled through, its manifest, config and layers. */
  blobs: string[];
  /** When the store first recorded the image (ms since the epoch). */
  createdAt: number;
  /** When a container last started to use or stopped using the image, 0 if never. */
  lastUsedAt: number;
  /** Pinned images are never garbage collected (CRI's Image.pinned). */
  pinned: boolean;
}

/** A container's use of the layers of an image, kept until its rootfs is removed. */
export interface Lease {
  imageId: string;
  diffIDs: string[];
  createdAt: number;
}

interface IndexFile {
  version: 1;
  images: ImageRecord[];
  /** Unpacked layers: diff ID → bytes on disk. */
  layers: Record<string, { size: number }>;
  /** In memory; on disk each lease is a file of its own (leases/), and older stores kept them here. */
  leases: Record<string, Lease>;
}

/** What the garbage collector is given of the disk, as cAdvisor's ImagesFsInfo gives it to the kubelet. */
export interface DiskUsage {
  capacityBytes: number;
  availableBytes: number;
}

/** The kubelet's image GC policy (--image-gc-high-threshold, --image-gc-low-threshold, --minimum-image-ttl-duration). */
export interface GCPolicy {
  highThresholdPercent: number;
  lowThresholdPercent: number;
  minAgeMs: number;
}

/** The kubelet's defaults: 85, 80 and two minutes. */
export const defaultGCPolicy: GCPolicy = {
  highThresholdPercent: 85,
  lowThresholdPercent: 80,
  minAgeMs: 2 * 60_000,
};

/** What one garbage collection did. */
export interface GCResult {
  usagePercent: number;
  /** Bytes the collection wanted to free (0 below the high threshold). */
  amountToFree: number;
  freedBytes: number;
  removed: string[];
}

/** Where an ingest's bytes go and what they must be. */
export interface IngestExpectation {
  /** The digest the content must have; without one the digest is computed (sha256). */
  digest?: string;
  size?: number;
  /** How messages name the content: "layer-sha256:...". */
  ref: string;
}

/** Keeps content alive while an operation needs it; see ContentStore.holder. */
export interface Holder {
  add(keys: Iterable<string>): void;
  release(): Promise<void>;
}

/** Options of ContentStore.open. */
export interface ContentStoreOptions {
  now?: () => number;
}

/** Blobs by digest, unpacked layers by diff ID, image records, leases and garbage collection. */
export class ContentStore {
  readonly root: string;
  readonly #now: () => number;
  #index: IndexFile = { version: 1, images: [], layers: {}, leases: {} };
  #lock: Promise<unknown> = Promise.resolve();
  #saving: Promise<void> = Promise.resolve();
  readonly #holds = new Map<string, number>();
  /** Lease files being written, by container: a release waits for its lease's write. */
  readonly #leaseWrites = new Map<string, Promise<void>>();

  private constructor(root: string, now: () => number) {
    this.root = root;
    this.#now = now;
  }

  /** Opens (creating) the store at `root`, drops leftovers of interrupted work and sweeps what nothing keeps. */
  static async open(root: string, options: ContentStoreOptions = {}): Promise<ContentStore> {
    const store = new ContentStore(path.resolve(root), options.now ?? Date.now);
    await rm(path.join(store.root, 'tmp'), { recursive: true, force: true });
    for (const dir of ['blobs', 'layers', 'containers', 'tmp', 'leases']) {
      await mkdir(path.join(store.root, dir), { recursive: true, mode: 0o700 });
    }
    try {
      const text = await readFile(path.join(store.root, 'images.json'), 'utf8');
      const parsed = JSON.parse(text) as Partial<IndexFile>;
      store.#index = {
        version: 1,
        images: parsed.images ?? [],
        layers: parsed.layers ?? {},
        leases: parsed.leases ?? {},
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // Leases an older store kept in images.json become files (and leave images.json).
    const legacy = Object.entries(store.#index.leases);
    for (const [id, lease] of legacy) await store.#writeLease(id, lease);
    if (legacy.length > 0) await store.#save();
    for (const file of await readdir(store.#leasesDir)) {
      if (!file.endsWith('.json')) continue;
      store.#index.leases[file.slice(0, -'.json'.length)] = JSON.parse(
        await readFile(path.join(store.#leasesDir, file), 'utf8'),
      ) as Lease;
    }
    await store.#locked(() => store.#sweepAll());
    return store;
  }

  // ---- paths

  /** The path of a blob (whether or not it exists). */
  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.root, 'blobs', algorithm, hex);
  }

  /** The directory name of an unpacked layer, relative to layersRoot. */
  layerName(diffID: string): string {
    const { algorithm, hex } = parseDigest(diffID);
    return algorithm === 'sha256' ? hex : `${algorithm}-${hex}`;
  }

  /** The directory holding every unpacked layer. */
  get layersRoot(): string {
    return path.join(this.root, 'layers');
  }

  /** The directory of an unpacked layer (whether or not it exists). */
  layerPath(diffID: string): string {
    return path.join(this.layersRoot, this.layerName(diffID));
  }

  /** A fresh, empty directory under tmp/ for work that ends in a rename into the store. */
  async tempDir(prefix: string): Promise<string> {
    const dir = path.join(this.root, 'tmp', `${prefix}-${randomUUID()}`);
    await mkdir(dir, { mode: 0o700 });
    return dir;
  }

  // ---- blobs

  /** True when the blob is stored. */
  async hasBlob(digest: string): Promise<boolean> {
    try {
      return (await lstat(this.blobPath(digest))).isFile();
    } catch {
      return false;
    }
  }

  /** Reads a whole blob (manifests and configs). */
  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ImageError('NotFound', `content digest ${digest}: not found`, { cause: err });
      }
      throw err;
    }
  }

  /** A stream of a stored blob. */
  openBlob(digest: string): ReadStream {
    return createReadStream(this.blobPath(digest));
  }

  /**
   * Writes content to a temporary file while hashing it, checks size and digest, then renames it into
   * blobs/. On any mismatch the temporary file is deleted and DigestMismatch thrown: nothing is stored.
   * `onBytes` hears the running byte count; `holder` gets the blob before it becomes visible.
   */
  async ingest(
    source: Readable | AsyncIterable<Buffer>,
    expected: IngestExpectation,
    options: { onBytes?: (bytes: number) => void; holder?: Holder } = {},
  ): Promise<{ digest: string; size: number }> {
    const { onBytes, holder } = options;
    const { hash, algorithm } = digester(expected.digest);
    const tmp = path.join(this.root, 'tmp', `ingest-${randomUUID()}`);
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (expected.size !== undefined && size > expected.size) {
          callback(imageErrors.sizeMismatch(expected.ref, expected.size, size));
          return;
        }
        hash.update(chunk);
        onBytes?.(size);
        callback(null, chunk);
      },
    });
    const file = await open(tmp, 'wx', 0o644);
    try {
      await pipeline(source, counter, file.createWriteStream());
      if (expected.size !== undefined && size !== expected.size) {
        throw imageErrors.sizeMismatch(expected.ref, expected.size, size);
      }
      const digest = `${algorithm}:${hash.digest('hex')}`;
      if (expected.digest !== undefined && digest !== expected.digest) {
        throw imageErrors.digestMismatch(expected.ref, expected.digest, digest);
      }
      // Held before it appears, so that no sweep can take it between the rename and the caller's record.
      holder?.add([digest]);
      const target = this.blobPath(digest);
      await mkdir(path.dirname(target), { recursive: true });
      await rename(tmp, target);
      return { digest, size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    } finally {
      await file.close().catch(() => undefined);
    }
  }

  /** Stores a buffer (a manifest, an index, a config) under its digest, checking `expectedDigest` if given. */
  async writeBlob(data: Buffer, expected: IngestExpectation, holder?: Holder): Promise<string> {
    const result = await this.ingest(Readable.from([data]), expected, holder === undefined ? {} : { holder });
    return result.digest;
  }

  // ---- holds: protection of content that an operation in flight still needs

  /**
   * A hold protects blobs (by digest) and layers ("layer:" + diff ID) from sweeps until it is released;
   * releasing sweeps them if nothing else keeps them, which is how a failed pull leaves nothing behind.
   */
  holder(): Holder {
    const counts = this.#holds;
    const held = new Set<string>();
    let released = false;
    return {
      add: (keys) => {
        if (released) throw new Error('hold already released');
        for (const key of keys) {
          if (held.has(key)) continue;
          held.add(key);
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        for (const key of held) {
          const n = (counts.get(key) ?? 1) - 1;
          if (n === 0) counts.delete(key);
          else counts.set(key, n);
        }
        await this.#locked(() => this.#sweep(held));
      },
    };
  }

  // ---- layers

  /** True when the layer with this diff ID is unpacked. */
  hasLayer(diffID: string): boolean {
    return this.#index.layers[diffID] !== undefined;
  }

  /** Moves a finished unpack from tmp/ into layers/ and records it; a concurrent twin is kept instead. */
  async commitLayer(diffID: string, unpackedDir: string, size: number): Promise<void> {
    await this.#locked(async () => {
      if (this.#index.layers[diffID] !== undefined) {
        await rm(unpackedDir, { recursive: true, force: true });
        return;
      }
      const target = this.layerPath(diffID);
      await rm(target, { recursive: true, force: true });
      await rename(unpackedDir, target);
      this.#index.layers[diffID] = { size };
      await this.#save();
    });
  }

  // ---- image records

  /** Every image record. */
  list(): ImageRecord[] {
    return this.#index.images.map((r) => structuredClone(r));
  }

  /** The record with this image ID. */
  get(id: string): ImageRecord | undefined {
    const record = this.#index.images.find((r) => r.id === id);
    return record === undefined ? undefined : structuredClone(record);
  }

  /** The first record that `match` accepts. */
  find(match: (record: ImageRecord) => boolean): ImageRecord | undefined {
    const record = this.#index.images.find(match);
    return record === undefined ? undefined : structuredClone(record);
  }

  /** How many image records keep the blob: the blob's reference count. */
  blobReferences(digest: string): number {
    return this.#index.images.filter((r) => r.blobs.includes(digest)).length;
  }

  /**
   * Records an image, or merges it into the record with the same ID: names are added, blobs united. A tag
   * moves: it is taken from any other image that had it, as a registry tag points at one manifest.
   */
  async commitImage(
    image: Omit<ImageRecord, 'createdAt' | 'lastUsedAt' | 'pinned'> & { pinned?: boolean },
  ): Promise<ImageRecord> {
    return this.#locked(async () => {
      for (const other of this.#index.images) {
        if (other.id === image.id) continue;
        other.repoTags = other.repoTags.filter((t) => !image.repoTags.includes(t));
      }
      let record = this.#index.images.find((r) => r.id === image.id);
      if (record === undefined) {
        record = {
          ...structuredClone(image),
          pinned: image.pinned ?? false,
          createdAt: this.#now(),
          lastUsedAt: 0,
        };
        this.#index.images.push(record);
      } else {
        record.repoTags = union(record.repoTags, image.repoTags);
        record.repoDigests = union(record.repoDigests, image.repoDigests);
        record.blobs = union(record.blobs, image.blobs);
        record.manifestDigest = image.manifestDigest;
        record.manifestMediaType = image.manifestMediaType;
        record.layers = structuredClone(image.layers);
        record.size = image.size;
        if (image.pinned !== undefined) record.pinned = image.pinned;
      }
      await this.#save();
      return structuredClone(record);
    });
  }

  /** Marks an image pinned or not. */
  async setPinned(id: string, pinned: boolean): Promise<void> {
    await this.#locked(async () => {
      const record = this.#index.images.find((r) => r.id === id);
      if (record === undefined) throw new ImageError('ImageNotKnown', `image ${id}: not found`);
      record.pinned = pinned;
      await this.#save();
    });
  }

  /**
   * Deletes the image record and every blob and layer that nothing else keeps; layers a container's lease
   * still uses stay until the lease ends. Returns the bytes freed, or undefined if there was no such image.
   */
  async removeImage(id: string): Promise<number | undefined> {
    return this.#locked(() => this.#removeImage(id));
  }

  async #removeImage(id: string): Promise<number | undefined> {
    const at = this.#index.images.findIndex((r) => r.id === id);
    if (at === -1) return undefined;
    const [record] = this.#index.images.splice(at, 1);
    await this.#save();
    const keys = [...record!.blobs, ...record!.layers.map((l) => `layer:${l.diffID}`)];
    return this.#sweep(keys);
  }

  // ---- leases

  /** Gives a container the use of an image's layers; they outlive the image record until released. */
  async acquireLease(
    containerId: string,
    imageId: string,
  ): Promise<{ image: ImageRecord; lease: Lease; saved: Promise<void> }> {
    // (Not an async function: what it throws rejects the lock's promise all the same.)
    return this.#locked(() => {
      if (this.#index.leases[containerId] !== undefined) {
        throw new ImageError('Mount', `container ${containerId} already has a rootfs`);
      }
      const record = this.#index.images.find((r) => r.id === imageId);
      if (record === undefined) throw new ImageError('ImageNotKnown', `image ${imageId}: not found`);
      const missing = record.layers.find((l) => this.#index.layers[l.diffID] === undefined);
      if (missing !== undefined) {
        throw new ImageError('ImageNotKnown', `image ${imageId}: layer ${missing.diffID} is not unpacked`);
      }
      const lease: Lease = { imageId, diffIDs: record.layers.map((l) => l.diffID), createdAt: this.#now() };
      this.#index.leases[containerId] = lease;
      // (Written with the index's next save: a use lost in a crash only ages the image for its GC.)
      record.lastUsedAt = this.#now();
      // The caller mounts the layers while the lease is written, and waits for both.
      const saved = this.#writeLease(containerId, lease);
      saved.catch(() => undefined);
      return Promise.resolve({ image: structuredClone(record), lease: structuredClone(lease), saved });
    });
  }

  /** The lease of a container, if it has one. */
  lease(containerId: string): Lease | undefined {
    const lease = this.#index.leases[containerId];
    return lease === undefined ? undefined : structuredClone(lease);
  }

  /** Every container lease. */
  leases(): Record<string, Lease> {
    return structuredClone(this.#index.leases);
  }

  /** Ends a container's use of its layers and deletes those nothing else keeps. */
  async releaseLease(containerId: string): Promise<void> {
    await this.#locked(async () => {
      const lease = this.#index.leases[containerId];
      if (lease === undefined) return;
      delete this.#index.leases[containerId];
      const record = this.#index.images.find((r) => r.id === lease.imageId);
      if (record !== undefined) record.lastUsedAt = this.#now();
      await this.#leaseWrites.get(containerId)?.catch(() => undefined);
      try {
        unlinkSync(this.#leaseFile(containerId));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      await this.#sweep(lease.diffIDs.map((d) => `layer:${d}`));
    });
  }

  // ---- garbage collection

  /**
   * The kubelet's image garbage collection: when disk usage is at or over the high threshold, remove unused
   * images, least recently used first (then oldest), until the bytes freed would bring usage down to the low
   * threshold. Images in `inUse` (by ID), leased by a container, pinned, or younger than the minimum age are
   * kept. Throws GCFailed, after removing what it could, when not enough was eligible.
   */
  async garbageCollect(
    usage: DiskUsage,
    policy: GCPolicy = defaultGCPolicy,
    inUse: Iterable<string> = [],
  ): Promise<GCResult> {
    const { capacityBytes: capacity } = usage;
    if (!(capacity > 0)) throw new ImageError('GCFailed', `invalid capacity ${capacity} on image filesystem`);
    const available = Math.min(usage.availableBytes, capacity);
    const usagePercent = 100 - Math.floor((available * 100) / capacity);
    if (usagePercent < policy.highThresholdPercent)
      return { usagePercent, amountToFree: 0, freedBytes: 0, removed: [] };
    const amountToFree = Math.floor((capacity * (100 - policy.lowThresholdPercent)) / 100) - available;
    const result = await this.#locked(async () => {
      const used = new Set(inUse);
      for (const lease of Object.values(this.#index.leases)) used.add(lease.imageId);
      const now = this.#now();
      const candidates = this.#index.images
        .filter((r) => !r.pinned && !used.has(r.id) && now - r.createdAt >= policy.minAgeMs)
        .sort((a, b) => a.lastUsedAt - b.lastUsedAt || a.createdAt - b.createdAt)
        .map((r) => r.id);
      let freedBytes = 0;
      const removed: string[] = [];
      for (const id of candidates) {
        if (freedBytes >= amountToFree) break;
        freedBytes += (await this.#removeImage(id)) ?? 0;
        removed.push(id);
      }
      return { usagePercent, amountToFree, freedBytes, removed };
    });
    if (result.freedBytes < amountToFree) {
      throw new ImageError(
        'GCFailed',
        `Failed to garbage collect required amount of images. Attempted to free ${amountToFree} bytes, but only found ${result.freedBytes} bytes eligible to free.`,
      );
    }
    return result;
  }

  /** Capacity and free space of the file system that holds the store. */
  async diskUsage(): Promise<DiskUsage> {
    const s = await statfs(this.root);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  }

  /** Bytes and inodes the store uses on disk (hard links counted once). */
  async usage(): Promise<{ usedBytes: number; inodesUsed: number }> {
    const { bytes, inodes } = await diskUsage(this.root);
    return { usedBytes: bytes, inodesUsed: inodes };
  }

  // ---- internals

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes the index. Writes are chained, each serialising the index when its turn comes, so the file always
   * ends with the latest state even when a caller does not wait for its write.
   */
  #save(): Promise<void> {
    const next = this.#saving.then(() => this.#write());
    this.#saving = next.catch(() => undefined);
    return next;
  }

  async #write(): Promise<void> {
    const file = path.join(this.root, 'images.json');
    const tmp = `${file}.${randomUUID()}.tmp`;
    await writeFile(tmp, JSON.stringify({ ...this.#index, leases: undefined }, null, 1), { mode: 0o600 });
    await rename(tmp, file);
  }

  get #leasesDir(): string {
    return path.join(this.root, 'leases');
  }

  #leaseFile(containerId: string): string {
    return path.join(this.#leasesDir, `${containerId}.json`);
  }

  /** Writes a lease's file (complete or not at all: written aside, then renamed to a name not yet taken). */
  #writeLease(containerId: string, lease: Lease): Promise<void> {
    const tmp = path.join(this.root, 'tmp', `lease-${containerId}-${randomUUID()}`);
    // Synchronous (a few hundred bytes, no fsync): cheaper than two trips through the thread pool.
    const written = Promise.resolve()
      .then(() => {
        writeFileSync(tmp, JSON.stringify(lease), { mode: 0o600 });
        renameSync(tmp, this.#leaseFile(containerId));
      })
      .finally(() => {
        if (this.#leaseWrites.get(containerId) === written) this.#leaseWrites.delete(containerId);
      });
    this.#leaseWrites.set(containerId, written);
    return written;
  }

  #keeps(key: string): boolean {
    if ((this.#holds.get(key) ?? 0) > 0) return true;
    if (key.startsWith('layer:')) {
      const diffID = key.slice('layer:'.length);
      return (
        this.#index.images.some((r) => r.layers.some((l) => l.diffID === diffID)) ||
        Object.values(this.#index.leases).some((l) => l.diffIDs.includes(diffID))
      );
    }
    return this.#index.images.some((r) => r.blobs.includes(key));
  }

  /** Deletes the given blobs and layers if nothing keeps them; returns the bytes freed. */
  async #sweep(keys: Iterable<string>): Promise<number> {
    let freed = 0;
    let changed = false;
    for (const key of new Set(keys)) {
      if (this.#keeps(key)) continue;
      if (key.startsWith('layer:')) {
        const diffID = key.slice('layer:'.length);
        const entry = this.#index.layers[diffID];
        if (entry !== undefined) {
          delete this.#index.layers[diffID];
          changed = true;
          freed += entry.size;
        }
        await rm(this.layerPath(diffID), { recursive: true, force: true });
      } else {
        const file = this.blobPath(key);
        try {
          freed += (await lstat(file)).size;
          await rm(file, { force: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
    if (changed) await this.#save();
    return freed;
  }

  /** Sweeps everything on disk that no record, lease or hold keeps (after a crash, or at open). */
  async #sweepAll(): Promise<void> {
    const keys: string[] = [];
    const blobsRoot = path.join(this.root, 'blobs');
    for (const algorithm of await readdir(blobsRoot)) {
      for (const hex of await readdir(path.join(blobsRoot, algorithm))) keys.push(`${algorithm}:${hex}`);
    }
    const byName = new Map<string, string>();
    for (const diffID of Object.keys(this.#index.layers)) byName.set(this.layerName(diffID), diffID);
    for (const name of await readdir(this.layersRoot)) {
      const diffID = byName.get(name);
      if (diffID === undefined) await rm(path.join(this.layersRoot, name), { recursive: true, force: true });
    }
    for (const diffID of Object.keys(this.#index.layers)) {
      let present = false;
      try {
        present = (await lstat(this.layerPath(diffID))).isDirectory();
      } catch {
        present = false;
      }
      if (!present) {
        delete this.#index.layers[diffID];
        await this.#save();
      } else {
        keys.push(`layer:${diffID}`);
      }
    }
    await this.#sweep(keys.filter((k) => k.startsWith('layer:') || digestProblem(k) === undefined));
  }
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}
