// Writes layer tars from a list of entries, for tests that need exact control over what a layer holds:
// whiteouts, links, devices, owners, PAX xattrs and hostile paths.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

/** One tar entry. */
export interface LayerEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  mtime?: Date;
  /** PAX records, e.g. { 'SCHILY.xattr.user.note': 'x' }. */
  pax?: Record<string, string>;
}

/** A written layer: its file, its digest as stored and its diff ID (digest of the tar). */
export interface WrittenLayer {
  path: string;
  digest: string;
  diffID: string;
  size: number;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The bytes of a tar holding the entries, in order. */
export async function tarEntries(entries: LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? new Date('2024-01-02T03:04:05Z'),
        ...(e.linkname === undefined ? {} : { linkname: e.linkname }),
        ...(e.devmajor === undefined ? {} : { devmajor: e.devmajor }),
        ...(e.devminor === undefined ? {} : { devminor: e.devminor }),
        ...(e.pax === undefined ? {} : { pax: e.pax }),
        ...(body === undefined ? {} : { size: body.length }),
      };
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body === undefined) pack.entry(header, done);
      else pack.entry(header, body, done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** Writes the entries as a layer blob (gzip unless told otherwise) to `file`. */
export async function writeLayer(
  file: string,
  entries: LayerEntry[],
  options: { gzip?: boolean } = {},
): Promise<WrittenLayer> {
  const tarBytes = await tarEntries(entries);
  const blob = options.gzip === false ? tarBytes : gzipSync(tarBytes);
  await writeFile(file, blob);
  return { path: file, digest: sha256(blob), diffID: sha256(tarBytes), size: blob.length };
}
