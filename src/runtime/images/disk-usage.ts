import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Bytes (allocated blocks) and inodes under `root`, as `du` counts them: hard links once, symlinks not
 * followed. Entries that vanish during the walk are skipped.
 */
export async function diskUsage(root: string): Promise<{ bytes: number; inodes: number }> {
  const seen = new Set<string>();
  let bytes = 0;
  const visit = async (file: string): Promise<void> => {
    let st;
    try {
      st = await lstat(file, { bigint: true });
    } catch {
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    bytes += Number(st.blocks) * 512;
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(file);
    } catch {
      return;
    }
    for (const name of names) await visit(path.join(file, name));
  };
  await visit(root);
  return { bytes, inodes: seen.size };
}
