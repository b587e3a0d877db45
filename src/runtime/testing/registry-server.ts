// Debian's docker-registry (distribution 2.8) on a free loopback port, storing into a temporary directory,
// optionally behind token authentication; stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { freePort } from './free-port.js';
import { requireTools } from './requirements.js';
import { run } from './run.js';

/** Token authentication settings of the registry (see token-server.ts). */
export interface RegistryTokenAuth {
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate whose key signs the tokens. */
  certFile: string;
}

/** A running registry. */
export interface TestRegistry {
  /** "127.0.0.1:PORT": the registry part of image references. */
  host: string;
  port: number;
  /** The registry's storage root (tamper with blobs here). */
  storageDir: string;
  /** Where a blob's bytes live in the registry's storage. */
  blobDataPath(digest: string): string;
  /** Pushes an image of an OCI layout with skopeo; extra arguments go to `skopeo copy`. */
  push(layoutDir: string, tag: string, reference: string, extraArgs?: string[]): Promise<void>;
  stop: () => Promise<void>;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/v2/', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

/** Starts a registry in `dir` and waits until it answers /v2/. */
export async function startRegistry(options: {
  dir: string;
  token?: RegistryTokenAuth;
}): Promise<TestRegistry> {
  requireTools(['docker-registry', 'skopeo']);
  const port = await freePort();
  const storageDir = path.join(options.dir, 'storage');
  await mkdir(storageDir, { recursive: true });
  const auth =
    options.token === undefined
      ? ''
      : `auth:
  token:
    realm: ${options.token.realm}
    service: ${options.token.service}
    issuer: ${options.token.issuer}
    rootcertbundle: ${options.token.certFile}
`;
  // No blob descriptor cache: tests change stored blobs behind the registry's back.
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storageDir}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
${auth}`;
  const configFile = path.join(options.dir, 'config.yml');
  await writeFile(configFile, config);
  const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => output.push(b));
  child.stderr?.on('data', (b: Buffer) => output.push(b));
  const stop = async () => {
    if (child.pid === undefined) return;
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGTERM');
    if (!(await waitForExit(child, 5000)) && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    await waitForExit(child, 5000);
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await probe(port);
    if (status === 200 || status === 401) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        `docker-registry did not start on 127.0.0.1:${port}: ${Buffer.concat(output).toString('utf8')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const host = `127.0.0.1:${port}`;
  return {
    host,
    port,
    storageDir,
    blobDataPath(digest: string) {
      const hex = digest.split(':')[1] ?? '';
      return path.join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    },
    async push(layoutDir, tag, reference, extraArgs = []) {
      await run('skopeo', [
        'copy',
        '--quiet',
        ...extraArgs,
        `oci:${layoutDir}:${tag}`,
        `docker://${host}/${reference}`,
        '--dest-tls-verify=false',
      ]);
    },
    stop,
  };
}
