import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { writeLayer, tarEntries } from '../testing/make-layer.js';
import { requireTools } from '../testing/requirements.js';
import { run } from '../testing/run.js';
import { isImageError } from './errors.js';
import { mediaTypes } from './oci.js';
import { unpackLayer } from './unpack.js';

async function getXattr(file: string, name: string): Promise<string | undefined> {
  try {
    return (await run('getfattr', ['--only-values', '--absolute-names', '-n', name, file])).trim();
  } catch {
    return undefined;
  }
}

describe('unpackLayer', () => {
  let dir: string;
  let n = 0;
  const fresh = () => path.join(dir, `case-${++n}`);

  before(async () => {
    requireTools(['setfattr', 'getfattr', 'mknod', 'xargs'], { root: true });
    dir = await mkdtemp(path.join(tmpdir(), 'k8ts-unpack-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies files, directories, symlinks, hard links, devices, modes, owners, times and xattrs', async () => {
    const mtime = new Date('2023-05-06T07:08:09Z');
    const layer = await writeLayer(fresh() + '.tar.gz', [
      { name: 'etc/', type: 'directory', mode: 0o755 },
      {
        name: 'etc/hosts',
        content: '127.0.0.1 localhost\n',
        mode: 0o644,
        mtime,
        pax: { 'SCHILY.xattr.user.k8ts': 'hello', 'SCHILY.xattr.trusted.overlay.redirect': '/elsewhere' },
      },
      { name: 'home/user/', type: 'directory', mode: 0o700, uid: 1000, gid: 1001 },
      { name: 'home/user/secret', content: 's', mode: 0o600, uid: 1000, gid: 1001 },
      { name: 'bin/tool', content: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
      { name: 'bin/tool2', type: 'link', linkname: 'bin/tool' },
      { name: 'run/fifo', type: 'fifo', mode: 0o600 },
      { name: 'dev/null2', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: './tmp/', type: 'directory', mode: 0o1777 },
    ]);
    const target = fresh();
    const result = await unpackLayer({
      blobPath: layer.path,
      mediaType: mediaTypes.ociLayerGzip,
      diffID: layer.diffID,
      target,
    });
    assert.equal(await readFile(path.join(target, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n');
    assert.equal((await stat(path.join(target, 'etc/hosts'))).mtime.getTime(), mtime.getTime());
    const home = await stat(path.join(target, 'home/user'));
    assert.equal(home.mode & 0o7777, 0o700);
    assert.deepEqual([home.uid, home.gid], [1000, 1001]);
    const secret = await stat(path.join(target, 'home/user/secret'));
    assert.deepEqual([secret.uid, secret.gid, secret.mode & 0o7777], [1000, 1001, 0o600]);
    const tool = await stat(path.join(target, 'bin/tool'));
    assert.equal(tool.mode & 0o7777, 0o4755, 'setuid survives chown');
    assert.equal((await stat(path.join(target, 'bin/tool2'))).ino, tool.ino, 'a hard link shares the inode');
    assert.equal(
      await readlink(path.join(target, 'bin/sh')),
      '/bin/busybox',
      'absolute symlinks are stored, not followed',
    );
    assert.ok((await lstat(path.join(target, 'run/fifo'))).isFIFO());
    const dev = await lstat(path.join(target, 'dev/null2'));
    assert.ok(dev.isCharacterDevice());
    assert.equal(dev.rdev, (1 << 8) | 3);
    assert.equal((await stat(path.join(target, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal((await stat(path.join(target, 'bin'))).mode & 0o7777, 0o755, 'implicit parents get 0755');
    assert.equal(await getXattr(path.join(target, 'etc/hosts'), 'user.k8ts'), 'hello');
    assert.equal(await getXattr(path.join(target, 'etc/hosts'), 'trusted.overlay.redirect'), undefined);
    assert.ok(result.warnings.some((w) => w.includes('trusted.overlay.redirect')));
    assert.ok(result.size > 0);
  });

  it('turns OCI whiteouts into 0:0 character devices and opaque markers into the overlay xattr', async () => {
    const layer = await writeLayer(
      fresh() + '.tar',
      [
        { name: 'etc/.wh.motd' },
        { name: 'opt/keep/.wh..wh..opq' },
        { name: 'opt/keep/c', content: 'c' },
        { name: '.wh..wh.plnk/ignored' },
      ],
      { gzip: false },
    );
    const target = fresh();
    await unpackLayer({ blobPath: layer.path, mediaType: mediaTypes.ociLayer, diffID: layer.diffID, target });
    const whiteout = await lstat(path.join(target, 'etc/motd'));
    assert.ok(whiteout.isCharacterDevice());
    assert.equal(whiteout.rdev, 0);
    assert.equal(existsSync(path.join(target, 'etc/.wh.motd')), false);
    assert.equal(await getXattr(path.join(target, 'opt/keep'), 'trusted.overlay.opaque'), 'y');
    assert.deepEqual(await readdir(path.join(target, 'opt/keep')), ['c']);
  });

  it('copies a hard link to a file of a lower layer and gives implicit parents the lower mode', async () => {
    const lower = await writeLayer(fresh() + '.tar.gz', [
      { name: 'data/', type: 'directory', mode: 0o750, uid: 7, gid: 8 },
      { name: 'data/file', content: 'lower content', mode: 0o640, uid: 7, gid: 8 },
    ]);
    const lowerDir = fresh();
    await unpackLayer({
      blobPath: lower.path,
      mediaType: mediaTypes.ociLayerGzip,
      diffID: lower.diffID,
      target: lowerDir,
    });
    const upper = await writeLayer(fresh() + '.tar.gz', [
      { name: 'data/new', content: 'n' },
      { name: 'other/link', type: 'link', linkname: 'data/file' },
    ]);
    const target = fresh();
    await unpackLayer({
      blobPath: upper.path,
      mediaType: mediaTypes.dockerLayerGzip,
      diffID: upper.diffID,
      target,
      parents: [lowerDir],
    });
    const data = await stat(path.join(target, 'data'));
    assert.deepEqual([data.mode & 0o7777, data.uid, data.gid], [0o750, 7, 8]);
    assert.equal(await readFile(path.join(target, 'other/link'), 'utf8'), 'lower content');
    assert.equal((await stat(path.join(target, 'other/link'))).uid, 7);
  });

  it('refuses names that climb out of the root, and links it cannot make, leaving nothing', async () => {
    for (const entries of [
      [{ name: '../evil', content: 'x' }],
      [{ name: 'a/../../evil', content: 'x' }],
      [{ name: 'link', type: 'link' as const, linkname: '../../etc/passwd' }],
      [{ name: 'x/.wh...' }],
      [
        { name: 'd/', type: 'directory' as const },
        { name: 'l', type: 'link' as const, linkname: 'd' },
      ],
      [{ name: 'l', type: 'link' as const, linkname: 'missing' }],
    ]) {
      const layer = await writeLayer(fresh() + '.tar.gz', entries);
      const target = fresh();
      await assert.rejects(
        unpackLayer({
          blobPath: layer.path,
          mediaType: mediaTypes.ociLayerGzip,
          diffID: layer.diffID,
          target,
        }),
        (err: unknown) => isImageError(err, 'InvalidLayer'),
      );
      assert.equal(existsSync(target), false);
    }
    assert.equal(existsSync(path.join(dir, 'evil')), false);
  });

  it('follows symlinks inside the layer as if it were the root, never out of it', async () => {
    const marker = `k8ts-escape-${process.pid}-${Date.now()}`;
    const layer = await writeLayer(fresh() + '.tar.gz', [
      { name: 'tmp/', type: 'directory' },
      { name: 'rootlink', type: 'symlink', linkname: '/' },
      { name: 'uplink', type: 'symlink', linkname: '../../../../..' },
      { name: `rootlink/tmp/${marker}-a`, content: 'a' },
      { name: `uplink/tmp/${marker}-b`, content: 'b' },
    ]);
    const target = fresh();
    await unpackLayer({
      blobPath: layer.path,
      mediaType: mediaTypes.ociLayerGzip,
      diffID: layer.diffID,
      target,
    });
    assert.equal(existsSync(`/tmp/${marker}-a`), false);
    assert.equal(existsSync(`/tmp/${marker}-b`), false);
    assert.equal(await readFile(path.join(target, 'tmp', `${marker}-a`), 'utf8'), 'a');
    assert.equal(await readFile(path.join(target, 'tmp', `${marker}-b`), 'utf8'), 'b');
  });

  it('replaces a symlink by a file of the same name instead of writing through it', async () => {
    const outside = path.join(dir, `outside-${n}`);
    const layer = await writeLayer(fresh() + '.tar.gz', [
      { name: 'f', type: 'symlink', linkname: outside },
      { name: 'f', content: 'inside' },
    ]);
    const target = fresh();
    await unpackLayer({
      blobPath: layer.path,
      mediaType: mediaTypes.ociLayerGzip,
      diffID: layer.diffID,
      target,
    });
    assert.equal(existsSync(outside), false);
    assert.equal(await readFile(path.join(target, 'f'), 'utf8'), 'inside');
  });

  it('reads a tar that ends without padding or end-of-archive blocks, as umoci 0.4 writes them', async () => {
    const full = await tarEntries([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/a', content: 'xy' },
    ]);
    const truncated = full.subarray(0, 512 + 512 + 2);
    const file = fresh() + '.tar';
    await writeFile(file, truncated);
    const target = fresh();
    await unpackLayer({
      blobPath: file,
      mediaType: mediaTypes.ociLayer,
      diffID: `sha256:${createHash('sha256').update(truncated).digest('hex')}`,
      target,
    });
    assert.equal(await readFile(path.join(target, 'etc/a'), 'utf8'), 'xy');
  });

  it('fails with DigestMismatch and keeps nothing when the tar does not match the diff ID', async () => {
    const layer = await writeLayer(fresh() + '.tar.gz', [{ name: 'a', content: 'a' }]);
    const target = fresh();
    await assert.rejects(
      unpackLayer({
        blobPath: layer.path,
        mediaType: mediaTypes.ociLayerGzip,
        diffID: `sha256:${'0'.repeat(64)}`,
        target,
      }),
      (err: unknown) => isImageError(err, 'DigestMismatch') && /diff ID/.test(err.message),
    );
    assert.equal(existsSync(target), false);
  });

  it('rejects unknown layer media types, and zstd layers unless this Node.js can decompress zstd', async () => {
    const layer = await writeLayer(fresh() + '.tar.gz', [{ name: 'a', content: 'a' }]);
    await assert.rejects(
      unpackLayer({
        blobPath: layer.path,
        mediaType: 'application/x-unknown',
        diffID: layer.diffID,
        target: fresh(),
      }),
      (err: unknown) =>
        isImageError(err, 'Unsupported') &&
        /unsupported layer media type application\/x-unknown/.test(err.message),
    );
    const tarBytes = await tarEntries([{ name: 'z', content: 'zstd' }]);
    const compress = (zlib as unknown as Record<string, unknown>).zstdCompressSync as
      ((b: Buffer) => Buffer) | undefined;
    const file = fresh() + '.tar.zst';
    await writeFile(file, compress === undefined ? tarBytes : compress(tarBytes));
    const diffID = `sha256:${createHash('sha256').update(tarBytes).digest('hex')}`;
    const target = fresh();
    const attempt = unpackLayer({ blobPath: file, mediaType: mediaTypes.ociLayerZstd, diffID, target });
    if (compress === undefined) {
      await assert.rejects(
        attempt,
        (err: unknown) =>
          isImageError(err, 'Unsupported') && /unsupported layer media type .*zstd/.test(err.message),
      );
      assert.equal(existsSync(target), false);
    } else {
      await attempt;
      assert.equal(await readFile(path.join(target, 'z'), 'utf8'), 'zstd');
    }
  });
});
