// A pod sandbox's namespaces without a pause process: `unshare --net=FILE --uts=FILE --ipc=FILE` creates them
// and bind-mounts each onto a file (as `ip netns add` does for network namespaces), which keeps them alive
// with no process inside; containers join them by path in their OCI spec, CNI configures the network one by
// path. Unmounting the files (and the last container leaving) ends them.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFileChecked } from './images/exec.js';

/** The namespace kinds a sandbox holds. */
export type SandboxNamespaceKind = 'net' | 'uts' | 'ipc';

/** Paths of a sandbox's namespace files, by kind (a kind shared with the host is absent). */
export type SandboxNamespaces = Partial<Record<SandboxNamespaceKind, string>>;

/**
 * Creates the namespaces under `dir` (one file each), sets the hostname in the UTS one and the given sysctls
 * (e.g. podNetworkSysctls) in the network one.
 */
export async function createNamespaces(
  dir: string,
  kinds: SandboxNamespaceKind[],
  hostname: string | undefined,
  netSysctls: [string, string][] = [],
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
    // The command runs inside the new namespaces: it names the UTS one and sets the network one's sysctls.
    const steps: string[] = [];
    if (result.net !== undefined) {
      steps.push(...netSysctls.map(([key, value]) => `echo ${value} > /proc/sys/${key.replace(/\./g, '/')} 2>/dev/null;`));
    }
    if (result.uts !== undefined && hostname) steps.push('exec hostname "$1"');
    const command = steps.length === 0 ? ['true'] : ['sh', '-c', steps.join(' '), 'sh', hostname ?? ''];
    await execFileChecked('unshare', [...args, ...command]);
  } catch (err) {
    await removeNamespaces(result);
    throw err;
  }
  return result;
}

/**
 * Set in a pod's new network namespace before CNI runs, for the interfaces the plugins create there, when the
 * network is k8ts' own configuration (a user's CNI gets the namespace as the kernel makes it).
 *
 * `addr_gen_mode` 1: no IPv6 link-local address on the pod's interface. The bridge plugin (Debian's
 * containernetworking-plugins 1.1.1, and upstream's still) sets the pod's interface up and at once lists its
 * IPv6 addresses, and sleeps 50 ms when one is still tentative (ip.SettleAddresses). Both the link-local
 * address and the pod's own address (added while the link was down) leave the tentative state in kernel work
 * queued when the link watch sees the carrier come up, which often runs in parallel on another CPU and loses
 * that race: about half of all sandboxes took 50 ms longer. Without a link-local address only the pod's own
 * address is waited for, and that race is lost far less often (about one in five here). The pod's neighbour
 * discovery then uses its global address, as the kernel does on an interface without a link-local one.
 */
export const podNetworkSysctls: [string, string][] = [['net.ipv6.conf.default.addr_gen_mode', '1']];

/** The mount points of this mount namespace. */
async function mountPoints(): Promise<Set<string>> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return new Set(info.split('\n').map((line) => line.split(' ')[4] ?? ''));
}

/** Unmounts (with one umount for all) and deletes the namespace files; what is already gone is skipped. */
export async function removeNamespaces(namespaces: SandboxNamespaces): Promise<void> {
  const files = Object.values(namespaces);
  if (files.length === 0) return;
  const mounted = await mountPoints();
  const held = files.filter((f) => mounted.has(f));
  if (held.length > 0) await execFileChecked('umount', held);
  await Promise.all(files.map((f) => rm(f, { force: true })));
}

// A PID namespace cannot be held by a bind mount alone: once its first process (its init) exits, nothing can
// enter it. Pods that share one process namespace (shareProcessNamespace) get a tiny holder as that init: a
// Perl loop that reaps orphans, as the pause process does. It runs in its own session and outlives k8ts.
const pidHolderScript =
  '$SIG{TERM} = $SIG{INT} = $SIG{HUP} = "IGNORE"; for (;;) { sleep(1) if wait() == -1 }';

/** The PIDs of a process's children (empty when it is gone). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts the PID namespace holder of sandbox `id`; resolves with the holder's PID on the host (its
 * namespace is /proc/PID/ns/pid).
 */
export async function startPidHolder(id: string): Promise<number> {
  const unshare = spawn(
    'unshare',
    ['--pid', '--fork', 'perl', '-e', pidHolderScript, 'k8ts-pod-pid-holder', id],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  unshare.unref();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [child] = childrenOf(unshare.pid ?? 0);
    if (child !== undefined && isPidHolder(child, id)) return child;
    if (unshare.exitCode !== null || Date.now() > deadline)
      throw new Error('the pod PID namespace holder did not start');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Whether `pid` is sandbox `id`'s PID namespace holder (not a reused PID). */
export function isPidHolder(pid: number, id: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('k8ts-pod-pid-holder') && cmdline.includes(id);
  } catch {
    return false;
  }
}

/** Stops a PID namespace holder: its namespace ends, and the kernel kills every process left in it. */
export function stopPidHolder(pid: number, id: string): void {
  if (pid > 0 && isPidHolder(pid, id)) process.kill(pid, 'SIGKILL');
}
