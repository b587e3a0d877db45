import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { buildImageFixture, type ImageFixture } from '../testing/image-fixture.js';
import { layoutBlobPath, readLayoutImage, writeDockerSaveArchive } from '../testing/oci-layout.js';
import { requireTools } from '../testing/requirements.js';
import { run } from '../testing/run.js';
import { isImageError } from './errors.js';
import { ImageService } from './image-service.js';
import { mediaTypes } from './oci.js';

describe('ImageService.import', () => {
  let work: string;
  let fixture: ImageFixture;
  const services: ImageService[] = [];
  let n = 0;
  const newService = async () => {
    const service = await ImageService.open({ root: path.join(work, `store-${++n}`) });
    services.push(service);
    return service;
  };
  const storeIsEmpty = async (service: ImageService) => {
    assert.deepEqual(service.list(), []);
    const blobs = await readdir(path.join(service.store.root, 'blobs'), {
      recursive: true,
      withFileTypes: true,
    });
    assert.deepEqual(
      blobs.filter((e) => !e.isDirectory()).map((e) => e.name),
      [],
    );
    assert.deepEqual(await readdir(service.store.layersRoot), []);
    assert.deepEqual(await readdir(path.join(service.store.root, 'tmp')), []);
  };

  before(async () => {
    requireTools(['umoci', 'busybox', 'setfattr', 'mknod', 'tar', 'mount'], { root: true });
    work = await mkdtemp(path.join(tmpdir(), 'k8ts-import-'));
    fixture = await buildImageFixture(work);
  });
  after(async () => {
    for (const service of services) {
      for (const id of Object.keys(service.store.leases()))
        await service.removeRootfs(id).catch(() => undefined);
      service.close();
    }
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('imports an OCI layout directory, naming tags after the base name and picking the platform of an index', async () => {
    const service = await newService();
    const records = await service.import(fixture.layoutDir, { baseName: 'docker.io/library/busybox' });
    const byId = new Map(service.list().map((r) => [r.id, r]));
    assert.equal(records.length, 4, 'latest, arm64, layered and multi');
    assert.equal(byId.size, 3, 'multi resolves to the same image as latest');
    const latest = byId.get(fixture.configs.latest)!;
    assert.deepEqual(latest.repoTags.sort(), [
      'docker.io/library/busybox:latest',
      'docker.io/library/busybox:multi',
    ]);
    assert.deepEqual(
      latest.repoDigests.sort(),
      [
        `docker.io/library/busybox@${fixture.indexDigest}`,
        `docker.io/library/busybox@${fixture.manifests.latest}`,
      ].sort(),
    );
    assert.deepEqual(byId.get(fixture.configs.arm64)?.platform, { os: 'linux', architecture: 'arm64' });
    assert.equal(byId.get(fixture.configs.layered)?.layers.length, 3);
    assert.ok(latest.layers.every((l) => service.store.hasLayer(l.diffID)));
  });

  it('imports an OCI layout tar; tags without a base name leave the image unnamed', async () => {
    const archive = path.join(work, 'layout.tar');
    await run('tar', ['-C', fixture.layoutDir, '-cf', archive, '.']);
    const service = await newService();
    await service.import(archive);
    const latest = service.status(fixture.configs.latest);
    assert.ok(latest !== undefined);
    assert.deepEqual(latest.repoTags, []);
    const rootfs = await service.mountRootfs('ctr-oci-tar', latest.id);
    assert.equal(await run('chroot', [rootfs.rootfs, '/bin/cat', '/etc/motd']), 'welcome to busybox\n');
    await service.removeRootfs('ctr-oci-tar');
  });

  it('imports a docker save archive, plain or gzip-compressed, and runs busybox from it', async () => {
    const archive = path.join(work, 'saved.tar');
    await writeDockerSaveArchive(fixture.layoutDir, 'latest', 'saved:1.0', archive);
    await pipeline(createReadStream(archive), createGzip(), createWriteStream(`${archive}.gz`));
    for (const file of [archive, `${archive}.gz`]) {
      const service = await newService();
      const [record] = await service.import(file);
      assert.ok(record !== undefined);
      const layout = await readLayoutImage(fixture.layoutDir, 'latest');
      assert.equal(record.id, fixture.configs.latest, 'the same config makes the same image ID');
      assert.deepEqual(record.repoTags, ['docker.io/library/saved:1.0']);
      assert.deepEqual(record.repoDigests, [], 'a docker save archive carries no registry digest');
      assert.equal(record.manifestMediaType, mediaTypes.dockerManifest);
      assert.deepEqual(
        record.layers.map((l) => l.digest),
        layout.config.rootfs.diff_ids,
        'uncompressed layers: digest = diff ID',
      );
      assert.ok(record.layers.every((l) => l.mediaType === mediaTypes.dockerLayer));
      assert.equal(service.status('saved:1.0')?.id, record.id);
      const rootfs = await service.mountRootfs('ctr-saved', 'saved:1.0');
      assert.equal(await run('chroot', [rootfs.rootfs, '/bin/sh', '-c', 'echo $((6 * 7))']), '42\n');
      await service.removeRootfs('ctr-saved');
    }
  });

  it('stores nothing from an archive whose layer does not match the config', async () => {
    const good = path.join(work, 'saved-good.tar');
    await writeDockerSaveArchive(fixture.layoutDir, 'latest', 'bad:1', good);
    // Rewrite the archive with one byte changed in the layer tar (its size stays).
    const bad = path.join(work, 'saved-bad.tar');
    const extract = tar.extract();
    const pack = tar.pack();
    const written = pipeline(pack, createWriteStream(bad));
    const reading = pipeline(createReadStream(good), extract);
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      const data = Buffer.concat(chunks);
      if (entry.header.name.endsWith('layer.tar')) data[600] = data[600]! ^ 0x01;
      await new Promise<void>((resolve, reject) =>
        pack.entry({ ...entry.header, size: data.length }, data, (err) => (err ? reject(err) : resolve())),
      );
    }
    await reading;
    pack.finalize();
    await written;
    const service = await newService();
    await assert.rejects(service.import(bad), (err: unknown) => isImageError(err, 'DigestMismatch'));
    await storeIsEmpty(service);
  });

  it('stores nothing from an OCI layout with a tampered blob', async () => {
    const copy = path.join(work, 'tampered-layout');
    await cp(fixture.layoutDir, copy, { recursive: true });
    const image = await readLayoutImage(copy, 'latest');
    await appendFile(layoutBlobPath(copy, image.manifest.layers[0]!.digest), 'junk');
    const service = await newService();
    await assert.rejects(service.import(copy, { baseName: 'example.com/x' }), (err: unknown) =>
      isImageError(err, 'DigestMismatch'),
    );
    await storeIsEmpty(service);
  });

  it('rejects files that are not image archives', async () => {
    const service = await newService();
    const junk = path.join(work, 'junk.bin');
    await writeFile(junk, 'this is not a tar archive at all, nor a gzip stream'.repeat(20));
    await assert.rejects(service.import(junk), (err: unknown) => isImageError(err, 'InvalidArchive'));
    const empty = path.join(work, 'empty.tar');
    await run('tar', ['-C', work, '-cf', empty, '--files-from', '/dev/null']);
    await assert.rejects(
      service.import(empty),
      (err: unknown) =>
        isImageError(err, 'InvalidArchive') && /neither an OCI image layout/.test(err.message),
    );
    await assert.rejects(service.import(path.join(work, 'absent.tar')), (err: unknown) =>
      isImageError(err, 'InvalidArchive'),
    );
    await storeIsEmpty(service);
  });
});
