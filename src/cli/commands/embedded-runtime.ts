// Builds the built-in Linux runtime from flags: the one place that turns `k8ts runtime`'s and `k8ts server`'s
// runtime flags into an image store (with the archives of an images folder imported) and a LinuxRuntime.
// `k8ts runtime` serves the result over CRI gRPC; `k8ts server` hands it to its kubelet in process (as k3s
// runs its embedded containerd), so this module loads neither gRPC nor anything else the server does not need.
import { accessSync, constants, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../base/log.js';
import { CriImageService } from '../../runtime/cri-image-service.js';
import { ImageService } from '../../runtime/images/image-service.js';
import { parseRegistriesConfig } from '../../runtime/images/registry-config.js';
import type { StreamingUrls } from '../../runtime/linux-runtime.js';
import { LinuxRuntime } from '../../runtime/linux-runtime.js';

type FlagValues = Record<string, string | boolean | undefined>;

/** The built-in runtime and its image store, as a kubelet or a CRI server uses them. */
export interface BuiltInRuntime {
  runtime: LinuxRuntime;
  /** The image store itself (imports). */
  store: ImageService;
  /** CRI's ImageService over the store. */
  images: CriImageService;
  /** Stops log pumping and closes the store; containers keep running (a new runtime adopts them). */
  close(): Promise<void>;
}

/** Where the runtime keeps its state, and the settings that differ between `k8ts runtime` and `k8ts server`. */
export interface RuntimeSetup {
  /** Persistent state: images-store/, runtime/, cni/ (and images/, the archives imported at start). */
  dataDir: string;
  /** Volatile state (namespaces, the OCI runtime's state). */
  stateDir: string;
  /** The node's pod ranges for the default CNI configuration; empty: none until the kubelet passes the node's. */
  podCIDRs: string[];
  /** The bridge of the default CNI configuration when --cni-bridge is not given. */
  defaultBridge: string;
  /** The default CNI configuration folder when --cni-conf-dir is not given. */
  defaultConfDir: string;
  /** The streaming server whose URLs CRI's Exec, Attach and PortForward hand out (for CRI over a socket). */
  streaming?: StreamingUrls;
  log: Logger;
}

const splitList = (s: string): string[] => s.split(',').map((x) => x.trim()).filter((x) => x !== '');

/** The CNI plugins the default configuration runs. */
const cniPlugins = ['bridge', 'host-local', 'loopback', 'portmap'];
/** The commands the runtime runs besides the OCI runtime and the plugins. */
const hostCommands = ['unshare', 'nsenter', 'mount', 'nft', 'perl', 'ip'];

function executableIn(dirs: string[], name: string): boolean {
  for (const dir of dirs) {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      // the next folder
    }
  }
  return false;
}

const pathDirs = (): string[] => (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':');

/**
 * Why the built-in runtime cannot run on this machine (not root; the OCI runtime, a CNI plugin or a host
 * command missing), or undefined when it can.
 */
export function builtInRuntimeProblem(values: FlagValues): string | undefined {
  if (process.getuid?.() !== 0) return 'the built-in runtime needs root (namespaces, mounts, cgroups, CNI)';
  const oci = (values['oci-runtime'] as string) || 'runc';
  if (oci.includes('/') ? !executableIn([path.dirname(oci)], path.basename(oci)) : !executableIn(pathDirs(), oci))
    return `the OCI runtime ${oci} is not installed (Debian: apt-get install ${oci.includes('/') ? 'runc' : oci})`;
  const binDirs = splitList((values['cni-bin-dir'] as string) || '/usr/lib/cni,/opt/cni/bin');
  const missingPlugins = cniPlugins.filter((p) => !executableIn(binDirs, p));
  if (missingPlugins.length > 0)
    return `CNI plugins ${missingPlugins.join(', ')} are not in ${binDirs.join(', ')} (Debian: apt-get install containernetworking-plugins)`;
  const missing = hostCommands.filter((c) => !executableIn(pathDirs(), c));
  if (missing.length > 0) return `commands ${missing.join(', ')} are not installed`;
  return undefined;
}

/** Opens the image store, imports every archive of the images folder, and opens the runtime. */
export async function createLinuxRuntime(values: FlagValues, setup: RuntimeSetup): Promise<BuiltInRuntime> {
  const { dataDir, log } = setup;
  const registriesFile = values['private-registry'] as string | undefined;
  const registries =
    registriesFile && existsSync(registriesFile) ? parseRegistriesConfig(await readFile(registriesFile, 'utf8')) : undefined;
  const store = await ImageService.open({ root: path.join(dataDir, 'images-store'), ...(registries === undefined ? {} : { registries }) });
  try {
    await importImagesDir(store, (values['images-dir'] as string) || path.join(dataDir, 'images'), log);
    const runtime = await LinuxRuntime.open({
      ...(setup.streaming ? { streaming: setup.streaming } : {}),
      root: path.join(dataDir, 'runtime'),
      stateDir: setup.stateDir,
      images: store,
      ociRuntime: (values['oci-runtime'] as string) || 'runc',
      defaultCgroupParent: (values['cgroup-root'] as string) || '/k8ts',
      network: {
        confDir: (values['cni-conf-dir'] as string) || setup.defaultConfDir,
        binDirs: splitList((values['cni-bin-dir'] as string) || '/usr/lib/cni,/opt/cni/bin'),
        podCIDRs: setup.podCIDRs,
        bridge: (values['cni-bridge'] as string) || setup.defaultBridge,
        ipamDataDir: path.join(dataDir, 'cni', 'networks'),
      },
      log,
    });
    return {
      runtime,
      store,
      images: new CriImageService(store),
      async close() {
        await runtime.close();
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}

/** Imports the image archives (docker save or OCI layout, tar or folder) of `dir`, as k3s does with agent/images. */
async function importImagesDir(store: ImageService, dir: string, log: Logger): Promise<void> {
  if (!existsSync(dir)) return;
  for (const file of (await readdir(dir)).sort()) {
    if (!/\.(tar|tar\.gz|tgz|oci)$/.test(file) && !existsSync(path.join(dir, file, 'index.json'))) continue;
    try {
      const records = await store.import(path.join(dir, file));
      log.info('imported images', { file, images: records.flatMap((r) => r.repoTags) });
    } catch (err) {
      log.warn('image import failed', { file, err });
    }
  }
}
