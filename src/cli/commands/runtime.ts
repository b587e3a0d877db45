// `k8ts runtime`: the built-in container runtime serving CRI (RuntimeService and ImageService) on a unix
// socket, as containerd does for a kubelet; and `k8ts images import FILE`, through the running runtime when
// its socket answers, else straight into the store.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { logger } from '../../base/log.js';
import { serveCri, unixSocketPath } from '../../cri/grpc.js';
import { StreamingServer } from '../../cri/streaming-server/server.js';
import { ImageService } from '../../runtime/images/image-service.js';
import { importService, importThroughRuntime } from '../../runtime/import-service.js';
import { defaultDataDir } from '../flags.js';
import { createLinuxRuntime } from './embedded-runtime.js';

function dataDirOf(values: Record<string, string | boolean | undefined>): string {
  return path.resolve((values['data-dir'] as string) || path.join(defaultDataDir(), 'agent'));
}

/** Serves CRI until the signal aborts; running containers keep running after it stops. */
export async function runtimeCommand(
  values: Record<string, string | boolean | undefined>,
  signal: AbortSignal,
): Promise<number> {
  const log = logger('runtime');
  const dataDir = dataDirOf(values);
  // CRI's Exec, Attach and PortForward answer URLs on this server (HTTP on 127.0.0.1, a free port).
  const streaming = new StreamingServer();
  const built = await createLinuxRuntime(values, {
    dataDir,
    streaming,
    stateDir: (values['state-dir'] as string) || '/run/k8ts/runtime',
    podCIDRs: ((values['pod-cidr'] as string) || '10.42.0.0/24,fd42::/64').split(',').filter(Boolean),
    defaultBridge: 'k8ts0',
    defaultConfDir: path.join(dataDir, 'cni', 'net.d'),
    log,
  });
  const streamingUrl = await streaming.start(built.runtime.streaming);
  const listen = (values.listen as string) || 'unix:///run/k8ts/cri.sock';
  const socket = unixSocketPath(listen);
  if (socket !== undefined) await mkdir(path.dirname(socket), { recursive: true });
  const server = await serveCri({
    address: listen,
    runtime: built.runtime,
    image: built.images,
    extraServices: [importService(built.store)],
  });
  log.info('CRI runtime ready', { listen: server.address, dataDir, ociRuntime: built.runtime.oci.binary, streaming: streamingUrl });
  if (!signal.aborted)
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  log.info('shutting down (containers keep running)');
  await server.close();
  await streaming.stop();
  await built.close();
  return 0;
}

/** Imports image archives (OCI layout or docker save, directory or tar). */
export async function imagesImportCommand(
  values: Record<string, string | boolean | undefined>,
  files: string[],
  out: (s: string) => void,
): Promise<number> {
  if (files.length === 0) throw new Error('usage: k8ts images import FILE...');
  const endpoint = (values['runtime-endpoint'] as string) || 'unix:///run/k8ts/cri.sock';
  const socket = unixSocketPath(endpoint);
  const viaRuntime = socket === undefined || existsSync(socket);
  const images = viaRuntime ? undefined : await ImageService.open({ root: path.join(dataDirOf(values), 'images-store') });
  try {
    for (const file of files) {
      const abs = path.resolve(file);
      const imported = images
        ? (await images.import(abs)).map((r) => ({ id: r.id, repoTags: r.repoTags }))
        : await importThroughRuntime(endpoint, abs);
      for (const image of imported) out(`${image.repoTags.join(', ') || '<untagged>'} ${image.id}`);
    }
  } finally {
    images?.close();
  }
  return 0;
}
