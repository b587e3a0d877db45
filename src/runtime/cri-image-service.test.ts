// CRI's ImageService over a unix socket, pulling from Debian's docker-registry on loopback: OCI and Docker
// manifests by tag and by digest, a corrupted blob that stores nothing, the errors the kubelet maps to
// ErrImagePull, and removal.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Code, isCriError } from '../cri/errors.js';
import { connectCri, serveCri, type CriClient, type CriServer } from '../cri/grpc.js';
import { CriImageService } from './cri-image-service.js';
import { ImageService } from './images/image-service.js';
import { buildBusyboxImage } from './testing/build-busybox-image.js';
import { layoutDescriptor, readLayoutImage } from './testing/oci-layout.js';
import { startRegistry, type TestRegistry } from './testing/registry-server.js';
import { runtimeSkipReason } from './testing/runtime-fixture.js';

describe('CRI ImageService through the socket', { skip: runtimeSkipReason() }, () => {
  let work: string;
  let layoutDir: string;
  let registry: TestRegistry;
  // Blobs are shared between a registry's repositories: the corrupted one lives in a registry of its own.
  let corrupt: TestRegistry;
  let store: ImageService;
  let server: CriServer;
  let client: CriClient;
  let reg: string;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'k8ts-cri-images-'));
    layoutDir = path.join(work, 'layout');
    await buildBusyboxImage({ layoutDir, tag: 'latest', workDir: work, files: { 'etc/motd': 'hi\n' } });
    registry = await startRegistry({ dir: path.join(work, 'registry') });
    reg = registry.host;
    await registry.push(layoutDir, 'latest', 'busybox:latest');
    await registry.push(layoutDir, 'latest', 'docker/busybox:v2s2', ['--format', 'v2s2']);
    corrupt = await startRegistry({ dir: path.join(work, 'corrupt') });
    await corrupt.push(layoutDir, 'latest', 'corrupt/busybox:latest');
    store = await ImageService.open({ root: path.join(work, 'store') });
    server = await serveCri({ address: `unix://${work}/cri.sock`, image: new CriImageService(store) });
    client = connectCri(`unix://${work}/cri.sock`);
  });

  after(async () => {
    client?.close();
    await server?.close();
    store?.close();
    await registry?.stop();
    await corrupt?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('stores nothing when a blob does not match its digest', async () => {
    const layout = await readLayoutImage(layoutDir, 'latest');
    const layer = layout.manifest.layers[0]!;
    const file = corrupt.blobDataPath(layer.digest);
    await writeFile(file, Buffer.alloc((await stat(file)).size, 0x61));
    await assert.rejects(
      client.image.pullImage({ image: { image: `${corrupt.host}/corrupt/busybox:latest` } }),
      (err) => isCriError(err, Code.Unknown) && /digest/.test(err.message),
    );
    assert.deepEqual((await client.image.listImages({})).images, []);
    const blobs = await readdir(path.join(work, 'store', 'blobs', 'sha256')).catch((): string[] => []);
    assert.ok(!blobs.includes(layer.digest.split(':')[1]!), 'the bad layer is not stored');
  });

  it('pulls an OCI image by tag and by digest', async () => {
    const manifest = (await layoutDescriptor(layoutDir, 'latest')).digest;
    const config = (await readLayoutImage(layoutDir, 'latest')).manifest.config.digest;
    const byTag = await client.image.pullImage({ image: { image: `${reg}/busybox:latest` } });
    assert.equal(byTag.imageRef, config);
    const byDigest = await client.image.pullImage({ image: { image: `${reg}/busybox@${manifest}` } });
    assert.equal(byDigest.imageRef, config);
    const { image } = await client.image.imageStatus({ image: { image: `${reg}/busybox:latest` } });
    assert.equal(image?.id, config);
    assert.deepEqual(image?.repoTags, [`${reg}/busybox:latest`]);
    assert.deepEqual(image?.repoDigests, [`${reg}/busybox@${manifest}`]);
    assert.equal(image?.uid?.value ?? 0, 0);
    assert.ok((image?.size ?? 0) > 0);
    const fs = await client.image.imageFsInfo({});
    assert.ok((fs.imageFilesystems?.[0]?.usedBytes?.value ?? 0) > 0);
  });

  it('pulls a Docker v2 schema 2 manifest', async () => {
    const res = await client.image.pullImage({ image: { image: `${reg}/docker/busybox:v2s2` } });
    assert.match(res.imageRef ?? '', /^sha256:[0-9a-f]{64}$/);
    const { images } = await client.image.listImages({});
    assert.ok(images?.some((i) => i.repoTags?.includes(`${reg}/docker/busybox:v2s2`)));
  });

  it('fails a missing image with NotFound and a bad reference with InvalidArgument', async () => {
    await assert.rejects(client.image.pullImage({ image: { image: `${reg}/nothing-here:latest` } }), (err) =>
      isCriError(err, Code.NotFound),
    );
    await assert.rejects(client.image.pullImage({ image: { image: 'Not/A:Valid:Ref' } }), (err) =>
      isCriError(err, Code.InvalidArgument),
    );
    assert.equal(
      (await client.image.imageStatus({ image: { image: `${reg}/nothing-here:latest` } })).image,
      undefined,
    );
  });

  it('removes an image, idempotently', async () => {
    await client.image.removeImage({ image: { image: `${reg}/docker/busybox:v2s2` } });
    assert.equal(
      (await client.image.imageStatus({ image: { image: `${reg}/docker/busybox:v2s2` } })).image,
      undefined,
    );
    await client.image.removeImage({ image: { image: `${reg}/docker/busybox:v2s2` } });
  });
});
