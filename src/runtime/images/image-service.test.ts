// Pulls from Debian's docker-registry on loopback: OCI and Docker manifests, indexes and lists, by tag and by
// digest, corrupted blobs, missing images, token and basic authentication, mirrors, and rootfs mounts of the
// pulled image, which then runs busybox.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAuthProxy, type AuthProxy } from '../testing/auth-proxy.js';
import { buildBusyboxImage } from '../testing/build-busybox-image.js';
import { freePort } from '../testing/free-port.js';
import { buildImageFixture, type ImageFixture } from '../testing/image-fixture.js';
import { layoutDescriptor, readLayoutImage } from '../testing/oci-layout.js';
import { startRegistry, type TestRegistry } from '../testing/registry-server.js';
import { requireTools } from '../testing/requirements.js';
import { run } from '../testing/run.js';
import { startTokenServer, type TokenServer } from '../testing/token-server.js';
import { isImageError, type ImageErrorCode } from './errors.js';
import { ImageService, type ImageServiceOptions, type PullProgress } from './image-service.js';
import { mediaTypes } from './oci.js';
import { hostPlatform } from './platform.js';
import { isMounted } from './rootfs.js';

function failsWith(code: ImageErrorCode, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(isImageError(err, code), `expected ImageError ${code}, got ${String(err)}`);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  };
}

describe('ImageService against a registry', () => {
  let work: string;
  let fixture: ImageFixture;
  let registry: TestRegistry;
  let tokenRegistry: TestRegistry;
  let tokens: TokenServer;
  let corruptRegistry: TestRegistry;
  let proxy: AuthProxy;
  let reg: string;
  const services: ImageService[] = [];
  const stops: (() => Promise<void>)[] = [];
  let n = 0;

  const newService = async (options: Partial<ImageServiceOptions> = {}) => {
    const service = await ImageService.open({ root: path.join(work, `store-${++n}`), ...options });
    services.push(service);
    return service;
  };

  before(async () => {
    requireTools(['docker-registry', 'skopeo', 'umoci', 'busybox', 'setfattr', 'mknod', 'openssl', 'mount'], {
      root: true,
    });
    work = await mkdtemp(path.join(tmpdir(), 'k8ts-images-'));
    fixture = await buildImageFixture(work);
    registry = await startRegistry({ dir: path.join(work, 'registry') });
    stops.push(registry.stop);
    reg = registry.host;
    const L = fixture.layoutDir;
    await registry.push(L, 'latest', 'busybox:latest');
    await registry.push(L, 'latest', 'busybox:v2s2', ['--format', 'v2s2']);
    await registry.push(L, 'multi', 'multi:latest', ['--all']);
    await registry.push(L, 'multi', 'multilist:latest', ['--all', '--format', 'v2s2']);
    await registry.push(L, 'layered', 'layered:latest');

    tokens = await startTokenServer({
      dir: work,
      users: { alice: 'wonderland' },
      refreshTokens: { 'refresh-alice': 'alice' },
      publicRepositories: ['public/busybox'],
    });
    stops.push(tokens.stop);
    tokenRegistry = await startRegistry({
      dir: path.join(work, 'token-registry'),
      token: {
        realm: tokens.realm,
        service: tokens.service,
        issuer: tokens.issuer,
        certFile: tokens.certFile,
      },
    });
    stops.push(tokenRegistry.stop);
    await tokenRegistry.push(L, 'latest', 'private/busybox:latest', ['--dest-creds', 'alice:wonderland']);
    await tokenRegistry.push(L, 'latest', 'public/busybox:latest', ['--dest-creds', 'alice:wonderland']);

    corruptRegistry = await startRegistry({ dir: path.join(work, 'corrupt-registry') });
    stops.push(corruptRegistry.stop);
    proxy = await startAuthProxy({
      upstream: registry.host,
      username: 'mirror-user',
      password: 'mirror-pass',
      redirectBlobs: true,
    });
    stops.push(proxy.stop);
  });

  after(async () => {
    for (const service of services) {
      for (const id of Object.keys(service.store.leases()))
        await service.removeRootfs(id).catch(() => undefined);
      service.close();
    }
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('pulls an OCI image by tag, reports progress, and runs busybox from its rootfs', async () => {
    const service = await newService();
    const progress: PullProgress[] = [];
    const image = await service.pull(`${reg}/busybox`, { onProgress: (p) => progress.push(p) });
    const layout = await readLayoutImage(fixture.layoutDir, 'latest');
    assert.equal(image.id, fixture.configs.latest);
    assert.deepEqual(image.repoTags, [`${reg}/busybox:latest`]);
    assert.deepEqual(image.repoDigests, [`${reg}/busybox@${fixture.manifests.latest}`]);
    assert.equal(image.manifestMediaType, mediaTypes.ociManifest);
    assert.deepEqual(
      image.layers.map((l) => l.digest),
      layout.manifest.layers.map((l) => l.digest),
    );
    assert.deepEqual(image.platform, { os: 'linux', architecture: 'amd64' });
    const layer = layout.manifest.layers[0]!;
    const layerBytes = progress
      .filter((p) => p.digest === layer.digest && p.status === 'downloading')
      .map((p) => p.completedBytes);
    assert.ok(
      layerBytes.length >= 2 && layerBytes.at(-1) === layer.size,
      'layer progress counts up to its size',
    );
    assert.ok(progress.some((p) => p.digest === layer.digest && p.status === 'unpacked'));
    assert.ok(progress.every((p) => p.ref === `${reg}/busybox:latest`));

    const rootfs = await service.mountRootfs('ctr-busybox', image.id);
    const out = await run('chroot', [
      rootfs.rootfs,
      '/bin/sh',
      '-c',
      'echo hello from $(cat /etc/motd | head -c 7); ls /opt/keep',
    ]);
    assert.equal(out, 'hello from welcome\na\nb\n');
    await service.removeRootfs('ctr-busybox');
    assert.equal(await isMounted(rootfs.rootfs), false);
  });

  it('pulls by digest, and by tag and digest, naming the image by its digest only', async () => {
    const service = await newService();
    const byDigest = await service.pull(`${reg}/busybox@${fixture.manifests.latest}`);
    assert.equal(byDigest.id, fixture.configs.latest);
    assert.deepEqual(byDigest.repoTags, []);
    assert.deepEqual(byDigest.repoDigests, [`${reg}/busybox@${fixture.manifests.latest}`]);
    const both = await service.pull(`${reg}/busybox:whatever@${fixture.manifests.latest}`);
    assert.equal(both.id, byDigest.id);
    assert.equal(service.list().length, 1);
  });

  it('pulls a Docker v2 schema 2 image; the same config makes it the same image', async () => {
    const service = await newService();
    const docker = await service.pull(`${reg}/busybox:v2s2`);
    assert.equal(docker.manifestMediaType, mediaTypes.dockerManifest);
    assert.ok(docker.layers.every((l) => l.mediaType === mediaTypes.dockerLayerGzip));
    assert.equal(docker.id, fixture.configs.latest);
    const oci = await service.pull(`${reg}/busybox:latest`);
    assert.equal(oci.id, docker.id);
    assert.deepEqual(
      service.list().map((r) => r.repoTags.sort()),
      [[`${reg}/busybox:latest`, `${reg}/busybox:v2s2`]],
    );
  });

  it("picks the host's platform from an OCI index, or the one asked for", async () => {
    const service = await newService();
    assert.equal(hostPlatform().architecture, 'amd64', 'these machines are amd64');
    const image = await service.pull(`${reg}/multi:latest`);
    assert.equal(image.id, fixture.configs.latest);
    assert.equal(image.manifestDigest, fixture.manifests.latest);
    assert.deepEqual(
      image.repoDigests,
      [`${reg}/multi@${fixture.indexDigest}`],
      'the repo digest is the index digest',
    );
    assert.ok(image.blobs.includes(fixture.indexDigest));
    const arm = await service.pull(`${reg}/multi:latest`, {
      platform: { os: 'linux', architecture: 'arm64' },
    });
    assert.equal(arm.id, fixture.configs.arm64);
    assert.equal(arm.manifestDigest, fixture.manifests.arm64);
    await assert.rejects(
      service.pull(`${reg}/multi:latest`, { platform: { os: 'linux', architecture: 's390x' } }),
      failsWith('NotFound', /no match for platform linux\/s390x/),
    );
  });

  it('picks the platform from a Docker manifest list', async () => {
    const service = await newService();
    const image = await service.pull(`${reg}/multilist:latest`);
    assert.equal(image.id, fixture.configs.latest);
    assert.equal(image.manifestMediaType, mediaTypes.dockerManifest);
    assert.equal(image.platform.architecture, 'amd64');
  });

  it('fails distinguishably: bad reference, missing repository or tag, unreachable registry', async () => {
    const service = await newService();
    await assert.rejects(service.pull('Busybox'), failsWith('InvalidReference', /must be lowercase/));
    await assert.rejects(
      service.pull(`${reg}/nope:latest`),
      failsWith('NotFound', new RegExp(`failed to resolve reference "${reg}/nope:latest".*not found`)),
    );
    await assert.rejects(service.pull(`${reg}/busybox:nope`), failsWith('NotFound'));
    await assert.rejects(service.pull(`${reg}/busybox@sha256:${'0'.repeat(64)}`), failsWith('NotFound'));
    const dead = await freePort();
    await assert.rejects(
      service.pull(`127.0.0.1:${dead}/busybox:latest`),
      failsWith('Network', /ECONNREFUSED/),
    );
    assert.deepEqual(service.list(), []);
  });

  it('stores nothing and fails with DigestMismatch when the registry serves a corrupted layer or manifest', async () => {
    const L = fixture.layoutDir;
    await buildBusyboxImage({
      layoutDir: L,
      tag: 'unique',
      workDir: work,
      files: { 'etc/unique': `${Date.now()}\n` },
    });
    await corruptRegistry.push(L, 'unique', 'victim:latest');
    const image = await readLayoutImage(L, 'unique');
    const layer = image.manifest.layers[0]!;
    const data = await readFile(corruptRegistry.blobDataPath(layer.digest));
    const flipped = Buffer.from(data);
    flipped[flipped.length - 100] = flipped[flipped.length - 100]! ^ 0xff;
    await writeFile(corruptRegistry.blobDataPath(layer.digest), flipped);

    const service = await newService();
    await assert.rejects(
      service.pull(`${corruptRegistry.host}/victim:latest`),
      failsWith('DigestMismatch', new RegExp(`layer-${layer.digest}.*unexpected commit digest`)),
    );
    assert.deepEqual(service.list(), []);
    assert.deepEqual(
      await readdir(path.join(service.store.root, 'blobs', 'sha256')),
      [],
      'no blob of the image stays',
    );
    assert.deepEqual(await readdir(service.store.layersRoot), []);
    assert.deepEqual(await readdir(path.join(service.store.root, 'tmp')), []);

    // A layer that grew: the size check fails first.
    await writeFile(corruptRegistry.blobDataPath(layer.digest), Buffer.concat([data, Buffer.from('extra')]));
    await assert.rejects(
      service.pull(`${corruptRegistry.host}/victim:latest`),
      failsWith('DigestMismatch', /failed size validation/),
    );

    const manifestDigest = (await layoutDescriptor(L, 'unique')).digest;
    const manifestData = await readFile(corruptRegistry.blobDataPath(manifestDigest), 'utf8');
    await writeFile(
      corruptRegistry.blobDataPath(manifestDigest),
      manifestData.replace('"schemaVersion":2', '"schemaVersion": 2'),
    );
    await assert.rejects(
      service.pull(`${corruptRegistry.host}/victim@${manifestDigest}`),
      failsWith('DigestMismatch'),
    );
    await assert.rejects(service.pull(`${corruptRegistry.host}/victim:latest`), failsWith('DigestMismatch'));
    assert.deepEqual(await readdir(path.join(service.store.root, 'blobs', 'sha256')), []);
  });

  describe('authentication', () => {
    it('is refused without credentials and with a wrong password', async () => {
      const service = await newService();
      await assert.rejects(
        service.pull(`${tokenRegistry.host}/private/busybox:latest`),
        failsWith('Unauthorized', /pull access denied/),
      );
      await assert.rejects(
        service.pull(`${tokenRegistry.host}/private/busybox:latest`, {
          auth: { username: 'alice', password: 'wrong' },
        }),
        failsWith('Unauthorized', /failed to fetch token: unexpected status.*401/),
      );
      assert.deepEqual(service.list(), []);
    });

    it('pulls anonymously where the token service allows it', async () => {
      const service = await newService();
      const before = tokens.requests.length;
      const image = await service.pull(`${tokenRegistry.host}/public/busybox:latest`);
      assert.equal(image.id, fixture.configs.latest);
      assert.ok(tokens.requests.slice(before).includes('GET anonymous'));
    });

    it('pulls with username and password, with base64 auth, with an identity token and with a registry token', async () => {
      const ref = `${tokenRegistry.host}/private/busybox:latest`;
      const cases = [
        { auth: { username: 'alice', password: 'wonderland' }, seen: 'GET alice' },
        { auth: { auth: Buffer.from('alice:wonderland').toString('base64') }, seen: 'GET alice' },
        { auth: { identityToken: 'refresh-alice' }, seen: 'POST refresh' },
        {
          auth: { registryToken: tokens.issue('alice', ['repository:private/busybox:pull']) },
          seen: undefined,
        },
      ];
      for (const c of cases) {
        const service = await newService();
        const before = tokens.requests.length;
        const image = await service.pull(ref, { auth: c.auth });
        assert.equal(image.id, fixture.configs.latest);
        const seen = tokens.requests.slice(before);
        if (c.seen === undefined) assert.deepEqual(seen, [], 'a registry token is used as it is');
        else
          assert.deepEqual([...new Set(seen)], [c.seen], 'one kind of token request, cached for the blobs');
      }
    });
  });

  it('answers a basic challenge with the pull credentials, and does not send them along a redirect', async () => {
    const service = await newService();
    await assert.rejects(service.pull(`${proxy.host}/busybox:latest`), failsWith('Unauthorized'));
    const seen = proxy.requests.length;
    const image = await service.pull(`${proxy.host}/busybox:latest`, {
      auth: { username: 'mirror-user', password: 'mirror-pass' },
    });
    assert.equal(image.id, fixture.configs.latest);
    assert.ok(proxy.requests.slice(seen).some((r) => /^GET \/v2\/busybox\/blobs\/.* authorized$/.test(r)));
  });

  it('garbage-collects unused images oldest first and keeps the layers the remaining images share', async () => {
    let clock = Date.now();
    const service = await newService({ now: () => clock });
    const base = await service.pull(`${reg}/busybox:latest`);
    clock += 1000;
    const layered = await service.pull(`${reg}/layered:latest`);
    clock += 1000;
    assert.equal(base.layers[0]!.diffID, layered.layers[0]!.diffID);
    const policy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 0 };
    const calm = await service.garbageCollect({
      usage: { capacityBytes: 1000, availableBytes: 200 },
      policy,
    });
    assert.deepEqual(calm.removed, [], 'at 80% nothing is collected');
    const result = await service.garbageCollect({
      usage: { capacityBytes: 1000, availableBytes: 100 },
      policy,
      inUse: [layered.id],
    });
    assert.equal(result.amountToFree, 100);
    assert.deepEqual(result.removed, [base.id]);
    assert.equal(service.status(`${reg}/busybox:latest`), undefined);
    assert.ok(service.store.hasLayer(base.layers[0]!.diffID), 'the shared base layer stays');
    assert.equal(await service.store.hasBlob(base.manifestDigest), false);
  });

  it('pulls through a mirror with basic auth from the registries config, rewrites and blob redirects', async () => {
    const dead = await freePort();
    const deadMirror = await freePort();
    const service = await newService({
      registries: {
        mirrors: {
          [`127.0.0.1:${dead}`]: {
            endpoint: [`http://127.0.0.1:${deadMirror}`, `http://${proxy.host}`],
            rewrite: { '^mirrored/(.*)$': '$1' },
          },
        },
        configs: { [proxy.host]: { auth: { username: 'mirror-user', password: 'mirror-pass' } } },
      },
    });
    const seen = proxy.requests.length;
    // Pull credentials without a server address belong to the image's own registry, not to the mirror.
    const image = await service.pull(`127.0.0.1:${dead}/mirrored/busybox:latest`, {
      auth: { username: 'someone', password: 'else' },
    });
    assert.equal(image.id, fixture.configs.latest);
    assert.deepEqual(
      image.repoTags,
      [`127.0.0.1:${dead}/mirrored/busybox:latest`],
      'stored under the name asked for',
    );
    const requests = proxy.requests.slice(seen);
    assert.ok(requests.includes('GET /v2/busybox/manifests/latest anonymous'));
    assert.ok(requests.includes('GET /v2/busybox/manifests/latest authorized'));
    assert.ok(requests.some((r) => /^GET \/v2\/busybox\/blobs\/sha256:[a-f0-9]{64} authorized$/.test(r)));
  });

  it('mounts the rootfs of a layered image with whiteouts and opaque directories applied', async () => {
    const service = await newService();
    const image = await service.pull(`${reg}/layered:latest`);
    assert.equal(image.layers.length, 3);
    const rootfs = await service.mountRootfs('ctr-layered', `${reg}/layered:latest`);
    assert.equal(existsSync(path.join(rootfs.rootfs, 'etc/motd')), false);
    assert.deepEqual(await readdir(path.join(rootfs.rootfs, 'opt/keep')), ['c']);
    assert.equal(
      await run('chroot', [rootfs.rootfs, '/bin/sh', '-c', 'echo written > /tmp/x; cat /opt/keep/c']),
      'c\n',
    );
    assert.equal(await readFile(path.join(rootfs.upper, 'tmp/x'), 'utf8'), 'written\n');

    // Removing the image while a container uses it keeps the layers until the rootfs goes.
    assert.equal(await service.remove(image.id), true);
    assert.equal(service.status(`${reg}/layered:latest`), undefined);
    assert.ok(image.layers.every((l) => service.store.hasLayer(l.diffID)));
    assert.equal(await readFile(path.join(rootfs.rootfs, 'opt/keep/c'), 'utf8'), 'c\n');
    await service.removeRootfs('ctr-layered');
    assert.equal(await isMounted(rootfs.rootfs), false);
    assert.deepEqual(await readdir(service.store.layersRoot), []);
    assert.deepEqual(await readdir(path.join(service.store.root, 'containers')), []);
  });

  it('finds images by ID, tag and digest, removes them with all their names, and reports fs usage', async () => {
    const service = await newService();
    const [a, b] = await Promise.all([
      service.pull(`${reg}/busybox:latest`),
      service.pull(`${reg}/busybox:latest`),
    ]);
    assert.equal(a.id, b.id, 'concurrent pulls of one image agree');
    await service.pull(`${reg}/busybox:v2s2`);
    assert.equal(service.list().length, 1);
    const id = a.id;
    for (const name of [
      id,
      id.slice('sha256:'.length),
      `${reg}/busybox`,
      `${reg}/busybox:v2s2`,
      `${reg}/busybox@${fixture.manifests.latest}`,
    ]) {
      assert.equal(service.status(name)?.id, id, name);
    }
    assert.equal(service.status(`${reg}/busybox:other`), undefined);
    assert.equal(service.status('Not A Reference'), undefined);
    const info = await service.fsInfo();
    assert.ok(info.usedBytes > a.size, 'unpacked layers count too');
    assert.ok(info.inodesUsed > 250, 'busybox has hundreds of links');
    assert.ok(info.capacityBytes > info.availableBytes && info.availableBytes > 0);
    assert.equal(await service.remove(`${reg}/busybox:v2s2`), true);
    assert.deepEqual(service.list(), []);
    assert.equal(await service.remove(`${reg}/busybox:v2s2`), false);
    assert.ok((await service.fsInfo()).usedBytes < info.usedBytes);
  });
});
