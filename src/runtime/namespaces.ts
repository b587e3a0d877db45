// A pod sandbox's namespaces without a pause process: `unshare --net=FILE --uts=FILE --ipc=FILE` creates them
// and bind-mounts each onto a file (as `ip netns add` does for network namespaces), which keeps them alive
// with no process inside; containers join them by path in their OCI spec, CNI configures the network one by
// path. Unmounting the files (and the last container leaving) ends them.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFileChecked } from './images/exec.js';

/** The namespace kinds a sandbox holds. */
export type SandboxNamespaceKind = 'net' | 'uts' | 'ipc';

/** Paths of a sandbox's namespace files, by kind (a kind shared with the host is absent). */
export type SandboxNamespaces = Partial<Record<SandboxNamespaceKind, string>>;

/** Creates the namespaces under `dir` (one file each) and sets the hostname in the UTS one. */
export async function createNamespaces(
  dir: string,
  kinds: SandboxNamespaceKind[],
  hostname: string | undefined,
): Promise<SandboxNamespaces> {
  const result: SandboxNamespaces = {};
  if (kinds.length === 0) return result;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const args: string[] = [];
  for (const kind of kinds) {
    const file = path.join(dir, kind);
    await writeFile(file, '', { mode: 0o600 });
    args.push(`--${kind}=${file}`);
    result[kind] = file;
  }
  try {
    // The command runs inside the new namespaces: it names the UTS one, or does nothing.
    const command = result.uts !== undefined && hostname ? ['hostname', hostname] : ['true'];
    await execFileChecked('unshare', [...args, ...command]);
  } catch (err) {
    await removeNamespaces(result);
    throw err;
  }
  return result;
}

/** True when `file` is a mount point (a held namespace). */
async function isMountPoint(file: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => line.split(' ')[4] === file);
}

/** Unmounts and deletes the namespace files; what is already gone is skipped. */
export async function removeNamespaces(namespaces: SandboxNamespaces): Promise<void> {
  for (const file of Object.values(namespaces)) {
    if (await isMountPoint(file)) await execFileChecked('umount', [file]);
    await rm(file, { force: true });
  }
}
