import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeLayer, type LayerEntry } from '../testing/make-layer.js';
import { requireTools } from '../testing/requirements.js';
import { isImageError } from './errors.js';
import { mediaTypes } from './oci.js';
import { isMounted, mountRootfs, removeRootfs } from './rootfs.js';
import { unpackLayer } from './unpack.js';

describe('overlay rootfs', () => {
  let dir: string;
  let layersRoot: string;
  const names: string[] = [];

  const addLayer = async (name: string, entries: LayerEntry[]) => {
    const layer = await writeLayer(path.join(dir, `${name}.tar.gz`), entries);
    await unpackLayer({
      blobPath: layer.path,
      mediaType: mediaTypes.ociLayerGzip,
      diffID: layer.diffID,
      target: path.join(layersRoot, name),
      parents: [...names].reverse().map((n) => path.join(layersRoot, n)),
    });
    names.push(name);
  };

  before(async () => {
    requireTools(['mount', 'umount', 'setfattr', 'mknod', 'xargs'], { root: true });
    dir = await mkdtemp(path.join(tmpdir(), 'k8ts-rootfs-'));
    layersRoot = path.join(dir, 'layers');
    await mkdir(layersRoot);
    await addLayer('base', [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/motd', content: 'welcome\n' },
      { name: 'opt/keep/a', content: 'a' },
      { name: 'opt/keep/b', content: 'b' },
      { name: 'bin/x', content: 'x', mode: 0o755 },
    ]);
    await addLayer('change', [
      { name: 'etc/.wh.motd' },
      { name: 'opt/keep/.wh..wh..opq' },
      { name: 'opt/keep/c', content: 'c' },
      { name: 'new.txt', content: 'new' },
    ]);
  });

  after(async () => {
    for (const name of ['c1', 'c2', 'c3']) {
      await removeRootfs(path.join(dir, name)).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('mounts the merged view of the layers, writes go to the upper directory, and unmounts cleanly', async () => {
    const containerDir = path.join(dir, 'c1');
    const paths = await mountRootfs({ layersRoot, layers: names, containerDir });
    assert.ok(await isMounted(paths.rootfs));
    assert.equal(existsSync(path.join(paths.rootfs, 'etc/motd')), false, 'the whiteout hides the lower file');
    assert.deepEqual(
      await readdir(path.join(paths.rootfs, 'opt/keep')),
      ['c'],
      'the opaque directory hides the lower entries',
    );
    assert.equal(await readFile(path.join(paths.rootfs, 'bin/x'), 'utf8'), 'x');
    assert.equal(await readFile(path.join(paths.rootfs, 'new.txt'), 'utf8'), 'new');

    await writeFile(path.join(paths.rootfs, 'written.txt'), 'w');
    await unlink(path.join(paths.rootfs, 'bin/x'));
    assert.equal(await readFile(path.join(paths.upper, 'written.txt'), 'utf8'), 'w');
    assert.ok(
      (await lstat(path.join(paths.upper, 'bin/x'))).isCharacterDevice(),
      'the kernel whites out the deleted lower file',
    );
    assert.equal(await readFile(path.join(layersRoot, 'base/bin/x'), 'utf8'), 'x', 'layers stay untouched');

    await removeRootfs(containerDir);
    assert.equal(await isMounted(paths.rootfs), false);
    assert.equal(existsSync(containerDir), false);
    await removeRootfs(containerDir);
  });

  it('gives each container its own upper directory over shared layers', async () => {
    const a = await mountRootfs({ layersRoot, layers: names, containerDir: path.join(dir, 'c2') });
    const b = await mountRootfs({
      layersRoot,
      layers: [...names, 'base'],
      containerDir: path.join(dir, 'c3'),
    });
    await writeFile(path.join(a.rootfs, 'only-a'), 'a');
    assert.equal(existsSync(path.join(b.rootfs, 'only-a')), false);
    // The repeated base layer is stacked once, at its uppermost place.
    assert.equal(await readFile(path.join(b.rootfs, 'etc/motd'), 'utf8'), 'welcome\n');
    await removeRootfs(path.join(dir, 'c2'));
    await removeRootfs(path.join(dir, 'c3'));
  });

  it('mounts read-only when asked', async () => {
    const containerDir = path.join(dir, 'c1');
    const paths = await mountRootfs({ layersRoot, layers: names, containerDir, readonly: true });
    await assert.rejects(writeFile(path.join(paths.rootfs, 'nope'), 'x'), /EROFS/);
    await removeRootfs(containerDir);
    const single = await mountRootfs({ layersRoot, layers: ['base'], containerDir, readonly: true });
    assert.equal(await readFile(path.join(single.rootfs, 'etc/motd'), 'utf8'), 'welcome\n');
    await assert.rejects(writeFile(path.join(single.rootfs, 'nope'), 'x'), /EROFS/);
    await removeRootfs(containerDir);
    assert.equal(await isMounted(single.rootfs), false);
  });

  it('fails with a Mount error when a layer is missing', async () => {
    await assert.rejects(
      mountRootfs({ layersRoot, layers: ['base', 'absent'], containerDir: path.join(dir, 'c1') }),
      (err: unknown) => isImageError(err, 'Mount'),
    );
    await removeRootfs(path.join(dir, 'c1'));
  });
});
