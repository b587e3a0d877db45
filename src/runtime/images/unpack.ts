// Unpacks one layer blob into a directory of its own, in the form overlayfs reads as a lower layer: OCI
// whiteouts (".wh.NAME") become 0:0 character devices named NAME, opaque markers (".wh..wh..opq") become the
// trusted.overlay.opaque=y xattr on their directory. Layers are independent of each other on disk, so each is
// unpacked once and shared by every image and container that stacks it.
//
// Safety: every path is resolved inside the layer directory. Names with ".." that climb out of it are refused;
// symlinks met on the way are followed as if the layer directory were "/" (as chroot would), so a link to "/"
// or "../../.." cannot lead a later entry outside. Files are created with O_EXCL|O_NOFOLLOW after whatever was
// at their name is removed. xattrs in the trusted.overlay. namespace are never taken from a layer: they would
// let an image redirect overlayfs into other layers.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import {
  chmod,
  copyFile,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readlink,
  realpath,
  rm,
  symlink,
  utimes,
} from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import tar from 'tar-stream';
import { parseDigest } from './digest.js';
import { diskUsage } from './disk-usage.js';
import { ImageError } from './errors.js';
import { execFileChecked } from './exec.js';
import { layerCompression, type LayerCompression } from './oci.js';

/** What unpackLayer needs. */
export interface UnpackOptions {
  /** The layer blob on disk. */
  blobPath: string;
  mediaType: string;
  /** The digest the uncompressed tar must have (the config's rootfs.diff_ids entry). */
  diffID: string;
  /** An empty directory to unpack into; on failure it is removed. */
  target: string;
  /**
   * The unpacked directories of the layers below, the nearest first. Directories a tar creates implicitly
   * take their mode and owner from these, and hard links to files of lower layers copy from them.
   */
  parents?: string[];
  signal?: AbortSignal;
}

/** What unpackLayer did. */
export interface UnpackResult {
  /** Bytes the unpacked directory takes on disk. */
  size: number;
  /** Things applied only in part (xattrs the file system refused or that tar-stream could not decode). */
  warnings: string[];
}

const opaqueMarker = '.wh..wh..opq';
const whiteoutPrefix = '.wh.';
const whiteoutMetaPrefix = '.wh..wh.';
const gzipMagic = Buffer.from([0x1f, 0x8b]);
const zstdMagic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

interface DirMeta {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

type PaxHeaders = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };

function invalidLayer(message: string): ImageError {
  return new ImageError('InvalidLayer', message);
}

/** zlib's zstd decompressor when this Node.js has one (22.15 and later), else undefined. */
function zstdDecompressor(): (() => Transform) | undefined {
  const factory = (zlib as unknown as Record<string, unknown>).createZstdDecompress;
  return typeof factory === 'function' ? (factory as () => Transform) : undefined;
}

async function sniff(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await handle.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function decompressor(options: UnpackOptions): Promise<Transform> {
  const declared = layerCompression(options.mediaType);
  if (declared === undefined)
    throw new ImageError('Unsupported', `unsupported layer media type ${options.mediaType}`);
  // The media type is a claim; the bytes decide, as Docker and containerd decide.
  const head = await sniff(options.blobPath);
  let actual: LayerCompression = 'none';
  if (head.subarray(0, 2).equals(gzipMagic)) actual = 'gzip';
  else if (head.equals(zstdMagic)) actual = 'zstd';
  if (actual === 'gzip') return zlib.createGunzip();
  if (actual === 'zstd' || declared === 'zstd') {
    const zstd = zstdDecompressor();
    if (zstd === undefined) {
      throw new ImageError(
        'Unsupported',
        `unsupported layer media type ${options.mediaType}: this Node.js ${process.version} has no zstd decompression (Node.js 22.15 or newer has)`,
      );
    }
    return zstd();
  }
  return new PassThrough();
}

/** Splits a tar entry name into components, refusing names that climb out of the root. */
function entryComponents(name: string, what: string): string[] {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw invalidLayer(`${what} ${JSON.stringify(name)} escapes the layer root`);
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts;
}

async function lstatOrUndefined(file: string) {
  try {
    return await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

class LayerWriter {
  readonly root: string;
  readonly parents: string[];
  readonly asRoot = process.getuid?.() === 0;
  readonly dirs = new Map<string, DirMeta>();
  readonly whiteouts = new Set<string>();
  readonly opaque = new Set<string>();
  readonly xattrs: { path: string; name: string; value: Buffer }[] = [];
  readonly warnings: string[] = [];

  constructor(root: string, parents: string[]) {
    this.root = root;
    this.parents = parents;
  }

  /**
   * Resolves directory components inside the root, following symlinks as if the root were "/", creating
   * missing directories when `create` is set. Returns the absolute path and the components from the root.
   */
  async resolveDir(
    components: string[],
    create: boolean,
    what: string,
  ): Promise<{ abs: string; rel: string[] }> {
    const pending = [...components];
    const done: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      const next = path.join(this.root, ...done, part);
      const st = await lstatOrUndefined(next);
      if (st === undefined) {
        if (!create) throw invalidLayer(`${what}: ${[...done, part].join('/')} does not exist`);
        await this.makeParent([...done, part]);
        done.push(part);
      } else if (st.isSymbolicLink()) {
        if (++hops > 40) throw invalidLayer(`${what}: too many levels of symbolic links`);
        const target = await readlink(next);
        if (target.startsWith('/')) done.length = 0;
        pending.unshift(...target.split('/'));
      } else if (st.isDirectory()) {
        done.push(part);
      } else {
        throw invalidLayer(`${what}: ${[...done, part].join('/')} is not a directory`);
      }
    }
    return { abs: path.join(this.root, ...done), rel: done };
  }

  /** Creates a directory the tar did not list, with the mode and owner it has in the nearest lower layer. */
  async makeParent(rel: string[]): Promise<void> {
    const abs = path.join(this.root, ...rel);
    let meta: DirMeta = { path: abs, mode: 0o755, uid: 0, gid: 0, mtime: new Date(0) };
    for (const parent of this.parents) {
      const st = await lstatOrUndefined(path.join(parent, ...rel));
      if (st?.isDirectory() === true) {
        meta = { path: abs, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
        break;
      }
    }
    await mkdir(abs, { mode: 0o700 });
    this.dirs.set(abs, meta);
  }

  /** Removes whatever is at `abs` (not following a symlink there), unless it is a directory and `keepDir`. */
  async clear(abs: string, keepDir: boolean): Promise<boolean> {
    const st = await lstatOrUndefined(abs);
    if (st === undefined) return false;
    if (keepDir && st.isDirectory()) return true;
    await rm(abs, { recursive: true, force: true });
    return false;
  }

  async owner(abs: string, header: PaxHeaders): Promise<void> {
    if (this.asRoot) await lchown(abs, header.uid ?? 0, header.gid ?? 0);
  }

  collectXattrs(abs: string, header: PaxHeaders): void {
    for (const [key, value] of Object.entries(header.pax ?? {})) {
      if (!key.startsWith('SCHILY.xattr.')) continue;
      const name = key.slice('SCHILY.xattr.'.length);
      if (name.startsWith('trusted.overlay.')) {
        this.warnings.push(`${path.relative(this.root, abs)}: ignored xattr ${name}`);
        continue;
      }
      if (value.includes('\uFFFD')) {
        // tar-stream decodes PAX values as UTF-8, which loses binary values such as security.capability.
        this.warnings.push(
          `${path.relative(this.root, abs)}: xattr ${name} has a binary value that was not kept`,
        );
        continue;
      }
      this.xattrs.push({ path: abs, name, value: Buffer.from(value, 'utf8') });
    }
  }

  async apply(header: PaxHeaders, body: AsyncIterable<Buffer>): Promise<void> {
    const type = header.type ?? 'file';
    const parts = entryComponents(header.name, 'path');
    if (parts.length === 0) {
      if (type === 'directory') this.rootMeta(header);
      return;
    }
    const base = parts[parts.length - 1]!;
    const parent = await this.resolveDir(parts.slice(0, -1), true, header.name);
    if (base.startsWith(whiteoutPrefix)) {
      if (base === opaqueMarker) this.opaque.add(parent.abs);
      else if (!base.startsWith(whiteoutMetaPrefix)) {
        const name = base.slice(whiteoutPrefix.length);
        if (name === '' || name === '.' || name === '..')
          throw invalidLayer(`invalid whiteout ${JSON.stringify(header.name)}`);
        const abs = path.join(parent.abs, name);
        await this.clear(abs, false);
        this.whiteouts.add(abs);
      }
      return;
    }
    const abs = path.join(parent.abs, base);
    this.whiteouts.delete(abs);
    const mode = (header.mode ?? 0o644) & 0o7777;
    const mtime = header.mtime ?? new Date(0);
    switch (type) {
      case 'directory': {
        if (!(await this.clear(abs, true))) await mkdir(abs, { mode: 0o700 });
        this.dirs.set(abs, { path: abs, mode, uid: header.uid ?? 0, gid: header.gid ?? 0, mtime });
        this.collectXattrs(abs, header);
        return;
      }
      case 'file':
      case 'contiguous-file': {
        await this.clear(abs, false);
        const handle = await open(
          abs,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o600,
        );
        try {
          // Written by hand: node's pipeline would destroy tar-stream's entry, which stalls the extractor.
          for await (const chunk of body) {
            for (let offset = 0; offset < chunk.length;)
              offset += (await handle.write(chunk, offset)).bytesWritten;
          }
        } finally {
          await handle.close();
        }
        await this.owner(abs, header);
        await chmod(abs, mode);
        await utimes(abs, mtime, mtime);
        this.collectXattrs(abs, header);
        return;
      }
      case 'symlink': {
        await this.clear(abs, false);
        await symlink(header.linkname ?? '', abs);
        await this.owner(abs, header);
        await lutimes(abs, mtime, mtime);
        this.collectXattrs(abs, header);
        return;
      }
      case 'link': {
        await this.hardlink(abs, header);
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await this.clear(abs, false);
        const kind =
          type === 'fifo'
            ? ['p']
            : [
                type === 'character-device' ? 'c' : 'b',
                String(header.devmajor ?? 0),
                String(header.devminor ?? 0),
              ];
        await execFileChecked('mknod', ['-m', mode.toString(8), abs, ...kind]).catch((err: unknown) => {
          throw invalidLayer(`${header.name}: ${err instanceof Error ? err.message : String(err)}`);
        });
        await this.owner(abs, header);
        await utimes(abs, mtime, mtime);
        return;
      }
      default:
        // PAX global headers and GNU extensions tar-stream does not fold into the entry carry no file.
        return;
    }
  }

  rootMeta(header: PaxHeaders): void {
    this.dirs.set(this.root, {
      path: this.root,
      mode: (header.mode ?? 0o755) & 0o7777,
      uid: header.uid ?? 0,
      gid: header.gid ?? 0,
      mtime: header.mtime ?? new Date(0),
    });
  }

  async hardlink(abs: string, header: PaxHeaders): Promise<void> {
    const linkParts = entryComponents(header.linkname ?? '', `hard link target of ${header.name}`);
    if (linkParts.length === 0)
      throw invalidLayer(`invalid hard link target for ${JSON.stringify(header.name)}`);
    const name = linkParts[linkParts.length - 1]!;
    const dir = await this.resolveDir(linkParts.slice(0, -1), false, `hard link ${header.name}`).catch(
      () => undefined,
    );
    const source = dir === undefined ? undefined : path.join(dir.abs, name);
    await this.clear(abs, false);
    if (source !== undefined && (await lstatOrUndefined(source)) !== undefined) {
      await link(source, abs);
      return;
    }
    // A link to a file of a lower layer: layers do not share inodes, so the file is copied up, as overlayfs
    // itself would on the first write.
    for (const parent of this.parents) {
      const candidate = path.join(parent, ...linkParts);
      const st = await lstatOrUndefined(candidate);
      if (st === undefined) continue;
      const real = await realpath(candidate);
      if (real !== parent && !real.startsWith(parent + path.sep)) continue;
      if (!st.isFile()) continue;
      await copyFile(candidate, abs, constants.COPYFILE_EXCL);
      if (this.asRoot) await lchown(abs, st.uid, st.gid);
      await chmod(abs, st.mode & 0o7777);
      await utimes(abs, st.atime, st.mtime);
      return;
    }
    throw invalidLayer(
      `hard link ${JSON.stringify(header.name)} points to ${JSON.stringify(header.linkname)}, which does not exist`,
    );
  }

  /** Whiteouts, opaque markers, xattrs and directory metadata, which must come after all entries. */
  async finish(): Promise<void> {
    const whiteouts: string[] = [];
    for (const abs of this.whiteouts) if ((await lstatOrUndefined(abs)) === undefined) whiteouts.push(abs);
    if (whiteouts.length > 0) {
      await execFileChecked('xargs', ['-0', '-I{}', 'mknod', '-m', '000', '{}', 'c', '0', '0'], {
        input: whiteouts.join('\0'),
      }).catch((err: unknown) => {
        throw invalidLayer(`creating whiteouts: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    if (this.opaque.size > 0) {
      const dump = [...this.opaque]
        .map((dir) => `# file: ${escapeAttrPath(dir)}\ntrusted.overlay.opaque="y"\n`)
        .join('\n');
      await execFileChecked('setfattr', ['--restore=-'], { input: dump }).catch((err: unknown) => {
        throw invalidLayer(`marking opaque directories: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    if (this.xattrs.length > 0) {
      const dump = this.xattrs
        .map(
          (x) =>
            `# file: ${escapeAttrPath(x.path)}\n${escapeAttrPath(x.name)}=0x${x.value.toString('hex')}\n`,
        )
        .join('\n');
      await execFileChecked('setfattr', ['--restore=-'], { input: dump }).catch((err: unknown) => {
        this.warnings.push(`some xattrs were not set: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    const dirs = [...this.dirs.values()].sort((a, b) => b.path.length - a.path.length);
    for (const d of dirs) {
      if (this.asRoot) await lchown(d.path, d.uid, d.gid);
      await chmod(d.path, d.mode);
      await utimes(d.path, d.mtime, d.mtime);
    }
  }
}

/** getfattr's quoting, which setfattr --restore undoes: octal escapes for bytes that are not plain. */
function escapeAttrPath(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const plain = byte > 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x3d && byte !== 0x22;
    out += plain ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/**
 * Unpacks a layer blob into `target`, checking the digest of the uncompressed tar against `diffID`. On any
 * failure `target` is removed, so a layer directory is either complete and verified or absent.
 */
export async function unpackLayer(options: UnpackOptions): Promise<UnpackResult> {
  const { algorithm } = parseDigest(options.diffID);
  await mkdir(options.target, { recursive: true });
  const root = await realpath(options.target);
  const writer = new LayerWriter(root, options.parents ?? []);
  try {
    const decompress = await decompressor(options);
    const hash = createHash(algorithm);
    let tarBytes = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        tarBytes += chunk.length;
        callback(null, chunk);
      },
      // Some writers (umoci 0.4) end a layer without padding its last block or the two zero blocks that
      // close a tar; Go's archive/tar, and so Docker and containerd, read such layers, and so do we: the
      // missing zeros go to the tar reader only, not into the diff ID.
      flush(callback) {
        callback(null, Buffer.alloc(((512 - (tarBytes % 512)) % 512) + 1024));
      },
    });
    const input = createReadStream(options.blobPath);
    const extract = tar.extract();
    const piping = pipeline(
      input,
      decompress,
      hasher,
      extract,
      options.signal === undefined ? {} : { signal: options.signal },
    );
    // Its failure is awaited below; until then it must not count as unhandled.
    piping.catch(() => undefined);
    try {
      for await (const entry of extract) {
        options.signal?.throwIfAborted();
        await writer.apply(entry.header as PaxHeaders, entry as unknown as AsyncIterable<Buffer>);
        entry.resume();
      }
      await piping;
    } catch (err) {
      input.destroy();
      extract.destroy();
      await piping.catch(() => undefined);
      throw err;
    }
    const actual = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== options.diffID) {
      throw new ImageError(
        'DigestMismatch',
        `failed to unpack layer: diff ID ${actual} does not match the config's ${options.diffID}`,
      );
    }
    await writer.finish();
    const { bytes } = await diskUsage(root);
    return { size: bytes, warnings: writer.warnings };
  } catch (err) {
    await rm(options.target, { recursive: true, force: true });
    if (err instanceof ImageError) throw err;
    if ((err as Error).name === 'AbortError')
      throw new ImageError('Aborted', 'unpacking layer: operation aborted', { cause: err });
    // A full or failing disk is the node's problem, not the layer's; everything else the layer caused.
    const code = (err as NodeJS.ErrnoException).code;
    if (
      code !== undefined &&
      ['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE', 'ENOMEM'].includes(code)
    )
      throw err;
    throw new ImageError(
      'InvalidLayer',
      `failed to unpack layer ${options.diffID}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
