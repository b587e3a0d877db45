import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ContentStore, type ImageRecord } from './content-store.js';
import { sha256Digest } from './digest.js';
import { isImageError } from './errors.js';
import { mediaTypes } from './oci.js';

const minute = 60_000;

/** Stores a synthetic image: random manifest, config and layers of the given sizes (layers may be shared). */
async function addImage(
  store: ContentStore,
  name: string,
  layers: Buffer[],
  options: { layerDirBytes?: number } = {},
): Promise<ImageRecord> {
  const config = Buffer.from(
    JSON.stringify({ name, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256Digest(l)) } }),
  );
  const manifest = Buffer.from(JSON.stringify({ name, n: randomBytes(4).toString('hex') }));
  const hold = store.holder();
  const configDigest = await store.writeBlob(config, { ref: 'config' }, hold);
  const manifestDigest = await store.writeBlob(manifest, { ref: 'manifest' }, hold);
  const layerRecords = [];
  for (const layer of layers) {
    const digest = await store.writeBlob(layer, { ref: 'layer' }, hold);
    const diffID = `sha256:${digest.slice(7).split('').reverse().join('')}`;
    hold.add([`layer:${diffID}`]);
    if (!store.hasLayer(diffID)) {
      const dir = path.join(await store.tempDir('test'), 'layer');
      await mkdir(dir);
      await writeFile(path.join(dir, 'content'), layer);
      await store.commitLayer(diffID, dir, options.layerDirBytes ?? layer.length);
    }
    layerRecords.push({ digest, size: layer.length, mediaType: mediaTypes.ociLayerGzip, diffID });
  }
  const record = await store.commitImage({
    id: configDigest,
    repoTags: [`docker.io/library/${name}:latest`],
    repoDigests: [`docker.io/library/${name}@${manifestDigest}`],
    manifestDigest,
    manifestMediaType: mediaTypes.ociManifest,
    configDigest,
    layers: layerRecords,
    size: manifest.length + config.length + layers.reduce((n, l) => n + l.length, 0),
    platform: { os: 'linux', architecture: 'amd64' },
    blobs: [manifestDigest, configDigest, ...layerRecords.map((l) => l.digest)],
  });
  await hold.release();
  return record;
}

describe('ContentStore', () => {
  let dir: string;
  let n = 0;
  let clock = 1_000_000;
  const now = () => clock;
  const open = async () => ContentStore.open(path.join(dir, `store-${++n}`), { now });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'k8ts-content-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a blob under its digest only after checking digest and size', async () => {
    const store = await open();
    const data = randomBytes(100_000);
    const digest = sha256Digest(data);
    const seen: number[] = [];
    await store.ingest(
      Readable.from([data.subarray(0, 50_000), data.subarray(50_000)]),
      { digest, size: data.length, ref: 'layer' },
      {
        onBytes: (b) => seen.push(b),
      },
    );
    assert.deepEqual(await readFile(store.blobPath(digest)), data);
    assert.deepEqual(seen, [50_000, 100_000]);

    const other = randomBytes(1000);
    await assert.rejects(
      store.ingest(Readable.from([other]), {
        digest: sha256Digest(randomBytes(1000)),
        size: 1000,
        ref: 'layer-x',
      }),
      (err: unknown) => isImageError(err, 'DigestMismatch') && /unexpected commit digest/.test(err.message),
    );
    await assert.rejects(
      store.ingest(Readable.from([other]), { digest: sha256Digest(other), size: 999, ref: 'layer-y' }),
      (err: unknown) =>
        isImageError(err, 'DigestMismatch') && /failed size validation: 1000 != 999/.test(err.message),
    );
    await assert.rejects(
      store.ingest(Readable.from([other]), { digest: sha256Digest(other), size: 1001, ref: 'layer-z' }),
      (err: unknown) =>
        isImageError(err, 'DigestMismatch') && /failed size validation: 1000 != 1001/.test(err.message),
    );
    assert.equal(await store.hasBlob(sha256Digest(other)), false, 'a mismatch stores nothing');
    assert.deepEqual(await readdir(path.join(store.root, 'tmp')), [], 'and leaves no temporary file');
  });

  it('counts references of shared blobs and deletes a blob with its last image', async () => {
    const store = await open();
    const shared = randomBytes(2000);
    const a = await addImage(store, 'a', [shared, randomBytes(1000)]);
    const b = await addImage(store, 'b', [shared, randomBytes(1500)]);
    const sharedDigest = a.layers[0]!.digest;
    assert.equal(sharedDigest, b.layers[0]!.digest);
    assert.equal(store.blobReferences(sharedDigest), 2);
    assert.equal(store.hasLayer(a.layers[0]!.diffID), true);

    const freed = await store.removeImage(a.id);
    assert.ok(freed !== undefined && freed >= 1000, 'freed the unshared layer at least');
    assert.equal(await store.hasBlob(a.layers[1]!.digest), false);
    assert.equal(await store.hasBlob(a.manifestDigest), false);
    assert.equal(await store.hasBlob(sharedDigest), true, 'the shared blob stays');
    assert.equal(store.hasLayer(a.layers[0]!.diffID), true, 'and so does its unpacked layer');
    assert.equal(store.hasLayer(a.layers[1]!.diffID), false);
    assert.equal(existsSync(store.layerPath(a.layers[1]!.diffID)), false);
    assert.equal(store.blobReferences(sharedDigest), 1);

    await store.removeImage(b.id);
    assert.equal(await store.hasBlob(sharedDigest), false);
    assert.deepEqual(await readdir(path.join(store.root, 'blobs', 'sha256')), []);
    assert.deepEqual(await readdir(store.layersRoot), []);
    assert.equal(await store.removeImage(b.id), undefined);
  });

  it('keeps held blobs from a sweep until the hold is released', async () => {
    const store = await open();
    const shared = randomBytes(500);
    const a = await addImage(store, 'a', [shared]);
    const hold = store.holder();
    hold.add([a.layers[0]!.digest]);
    await store.removeImage(a.id);
    assert.equal(await store.hasBlob(a.layers[0]!.digest), true);
    await hold.release();
    assert.equal(await store.hasBlob(a.layers[0]!.digest), false);
  });

  it('moves a tag to the image committed last', async () => {
    const store = await open();
    const a = await addImage(store, 'app', [randomBytes(10)]);
    const b = await addImage(store, 'app', [randomBytes(10)]);
    assert.deepEqual(store.get(a.id)?.repoTags, []);
    assert.deepEqual(store.get(b.id)?.repoTags, ['docker.io/library/app:latest']);
    assert.equal(store.get(a.id)?.repoDigests.length, 1, 'the old image keeps its digest name');
  });

  it('keeps leased layers after the image is removed, until the lease ends', async () => {
    const store = await open();
    const a = await addImage(store, 'a', [randomBytes(300)]);
    const diffID = a.layers[0]!.diffID;
    await store.acquireLease('ctr1', a.id);
    await assert.rejects(store.acquireLease('ctr1', a.id), (err: unknown) => isImageError(err, 'Mount'));
    await store.removeImage(a.id);
    assert.equal(store.hasLayer(diffID), true);
    assert.equal(await store.hasBlob(a.layers[0]!.digest), false, 'blobs are not needed by a mounted rootfs');
    await store.releaseLease('ctr1');
    assert.equal(store.hasLayer(diffID), false);
    assert.equal(existsSync(store.layerPath(diffID)), false);
  });

  it('keeps its records across a reopen and sweeps what no record keeps', async () => {
    const root = path.join(dir, 'reopen');
    const first = await ContentStore.open(root, { now });
    const a = await addImage(first, 'a', [randomBytes(100)]);
    const stray = randomBytes(50);
    await writeFile(first.blobPath(sha256Digest(stray)), stray);
    await mkdir(path.join(first.layersRoot, 'f'.repeat(64)));
    await writeFile(path.join(root, 'tmp', 'ingest-leftover'), 'x');
    await first.acquireLease('kept', a.id);
    await first.acquireLease('released', a.id);
    await first.releaseLease('released');
    const second = await ContentStore.open(root, { now });
    assert.deepEqual(Object.keys(second.leases()), ['kept'], 'leases outlive a reopen, released ones do not');
    await second.releaseLease('kept');
    assert.deepEqual(second.get(a.id)?.repoTags, a.repoTags);
    assert.equal(await second.hasBlob(a.layers[0]!.digest), true);
    assert.equal(await second.hasBlob(sha256Digest(stray)), false);
    assert.deepEqual(await readdir(second.layersRoot), [second.layerName(a.layers[0]!.diffID)]);
    assert.deepEqual(await readdir(path.join(root, 'tmp')), []);
  });

  it('moves the leases an older store kept in images.json into files of their own', async () => {
    const root = path.join(dir, 'legacy');
    const first = await ContentStore.open(root, { now });
    const a = await addImage(first, 'a', [randomBytes(100)]);
    const index = JSON.parse(await readFile(path.join(root, 'images.json'), 'utf8')) as Record<string, unknown>;
    const lease = { imageId: a.id, diffIDs: a.layers.map((l) => l.diffID), createdAt: now() };
    await writeFile(path.join(root, 'images.json'), JSON.stringify({ ...index, leases: { old: lease } }));
    const second = await ContentStore.open(root, { now });
    assert.deepEqual(second.lease('old'), lease);
    await second.releaseLease('old');
    const third = await ContentStore.open(root, { now });
    assert.equal(third.lease('old'), undefined, 'a released legacy lease does not come back');
  });

  describe('garbage collection', () => {
    const capacity = 1_000_000;
    const policy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 2 * minute };

    it('does nothing below the high threshold', async () => {
      const store = await open();
      await addImage(store, 'a', [randomBytes(1000)]);
      clock += 10 * minute;
      const result = await store.garbageCollect({ capacityBytes: capacity, availableBytes: 160_000 }, policy);
      assert.deepEqual(result, { usagePercent: 84, amountToFree: 0, freedBytes: 0, removed: [] });
      assert.equal(store.list().length, 1);
    });

    it('removes unused images least recently used first until usage reaches the low threshold', async () => {
      const store = await open();
      const old = await addImage(store, 'old', [randomBytes(20_000)], { layerDirBytes: 30_000 });
      clock += minute;
      const used = await addImage(store, 'used', [randomBytes(20_000)], { layerDirBytes: 30_000 });
      clock += minute;
      const middle = await addImage(store, 'middle', [randomBytes(20_000)], { layerDirBytes: 30_000 });
      clock += minute;
      const pinned = await addImage(store, 'pinned', [randomBytes(20_000)], { layerDirBytes: 30_000 });
      await store.setPinned(pinned.id, true);
      clock += minute;
      const running = await addImage(store, 'running', [randomBytes(20_000)], { layerDirBytes: 30_000 });
      await store.acquireLease('ctr', running.id);
      // "used" was used by a container more recently than "middle" was pulled: it goes after "middle".
      clock += minute;
      await store.acquireLease('tmp', used.id);
      await store.releaseLease('tmp');
      clock += minute;
      const young = await addImage(store, 'young', [randomBytes(20_000)], { layerDirBytes: 30_000 });
      clock += minute;

      // 86% used: to reach 80%, 60,000 bytes must go; each image frees about 50,000 (blobs + layer dir).
      const result = await store.garbageCollect(
        { capacityBytes: capacity, availableBytes: 140_000 },
        policy,
        [],
      );
      assert.equal(result.usagePercent, 86);
      assert.equal(result.amountToFree, 60_000);
      assert.deepEqual(result.removed, [old.id, middle.id]);
      assert.ok(result.freedBytes >= 60_000);
      assert.deepEqual(
        store
          .list()
          .map((r) => r.id)
          .sort(),
        [used.id, pinned.id, running.id, young.id].sort(),
      );
    });

    it('skips images the caller names as in use, and fails when not enough can be freed', async () => {
      const store = await open();
      const a = await addImage(store, 'a', [randomBytes(10_000)]);
      const b = await addImage(store, 'b', [randomBytes(10_000)]);
      clock += 10 * minute;
      await assert.rejects(
        store.garbageCollect({ capacityBytes: capacity, availableBytes: 50_000 }, policy, [b.id]),
        (err: unknown) =>
          isImageError(err, 'GCFailed') &&
          /^Failed to garbage collect required amount of images\. Attempted to free 150000 bytes, but only found \d+ bytes eligible to free\.$/.test(
            err.message,
          ),
      );
      assert.deepEqual(
        store.list().map((r) => r.id),
        [b.id],
        'what could go went',
      );
      assert.equal(store.get(a.id), undefined);
      await assert.rejects(
        store.garbageCollect({ capacityBytes: 0, availableBytes: 0 }, policy),
        (err: unknown) => isImageError(err, 'GCFailed'),
      );
    });
  });
});
