// Upstream's AtomicWriter (pkg/volume/util/atomic_writer.go): a volume's files live in a timestamped folder
// `..2006_01_02_15_04_05.NNNNNNNNN`; the symlink `..data` points at the current one and every user-visible
// path is a symlink through `..data`. An update writes a new folder, swaps `..data` with a rename (atomic),
// then removes the old folder and the links of paths that went away, so a reader sees the old set of files
// or the new one, never a mix.
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';

/** One file of a volume's payload. */
export interface FileProjection {
  data: Uint8Array | string;
  /** File mode (e.g. 0o644). */
  mode: number;
}

const dataDirName = '..data';
const newDataDirName = '..data_tmp';

function timestampDirName(now: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const nanos = p(now.getUTCMilliseconds() * 1_000_000 + Math.floor(Math.random() * 1_000_000), 9);
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.${nanos}`;
}

/** Checks a payload path as upstream does: relative, no `..` element, not starting with `..`. */
export function validatePayloadPath(p: string): void {
  if (p === '') throw new Error('invalid path: must not be empty');
  if (path.isAbsolute(p)) throw new Error(`invalid path: must be relative path: ${p}`);
  if (p.split('/').includes('..')) throw new Error(`invalid path: must not contain '..': ${p}`);
  if (p.startsWith('..')) throw new Error(`invalid path: must not start with '..': ${p}`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function sameContent(dir: string, payload: Map<string, FileProjection>, oldPaths: Set<string>): Promise<boolean> {
  if (oldPaths.size !== payload.size) return false;
  for (const [p, f] of payload) {
    if (!oldPaths.has(p)) return false;
    try {
      const cur = await readFile(path.join(dir, p));
      if (!cur.equals(Buffer.from(f.data))) return false;
      if (((await lstat(path.join(dir, p))).mode & 0o7777) !== f.mode) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/**
 * Makes `targetDir` hold exactly `payload` (relative path → file), atomically. Returns false when the
 * current content already matched and nothing was written.
 */
export async function writeAtomically(targetDir: string, payload: Map<string, FileProjection>, now = new Date()): Promise<boolean> {
  for (const p of payload.keys()) validatePayloadPath(p);
  await mkdir(targetDir, { recursive: true });
  const dataLink = path.join(targetDir, dataDirName);
  let oldTsName = '';
  let oldPaths = new Set<string>();
  if (await exists(dataLink)) {
    oldTsName = await readlink(dataLink);
    oldPaths = new Set(await filesUnder(path.join(targetDir, oldTsName)).catch(() => []));
    if (await sameContent(path.join(targetDir, oldTsName), payload, oldPaths)) return false;
  }
  const tsName = timestampDirName(now);
  const tsDir = path.join(targetDir, tsName);
  await mkdir(tsDir, { mode: 0o755 });
  for (const [p, f] of payload) {
    const full = path.join(tsDir, p);
    await mkdir(path.dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, f.data);
    await chmod(full, f.mode);
  }
  // The user-visible links point at first-level entries through ..data.
  const tmpLink = path.join(targetDir, newDataDirName);
  await rm(tmpLink, { force: true });
  await symlink(tsName, tmpLink);
  await rename(tmpLink, dataLink);
  const newTop = new Set([...payload.keys()].map((p) => p.split('/')[0]!));
  for (const top of newTop) {
    const link = path.join(targetDir, top);
    if (!(await exists(link))) await symlink(path.join(dataDirName, top), link);
  }
  for (const top of new Set([...oldPaths].map((p) => p.split('/')[0]!))) {
    if (!newTop.has(top)) await rm(path.join(targetDir, top), { force: true, recursive: true });
  }
  if (oldTsName !== '' && oldTsName !== tsName) await rm(path.join(targetDir, oldTsName), { recursive: true, force: true });
  return true;
}
