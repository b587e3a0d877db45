import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Code, criErrors, isCriError } from './errors.js';
import { connectCri, serveCri, type CriClient, type CriServer } from './grpc.js';
import type { ContainerConfig, CreateContainerRequest, ImageService, RuntimeService } from './types.js';

describe('CRI over gRPC on a unix socket', () => {
  let dir: string;
  let server: CriServer;
  let client: CriClient;
  let lastCreate: CreateContainerRequest | undefined;
  // Nanoseconds since the epoch: beyond 2^53, so only about 256 ns of precision survive.
  const createdAt = Date.UTC(2026, 0, 1) * 1e6 + 123_456;

  // A partial runtime: the methods a test calls; the others stay missing (Unimplemented on the wire).
  const runtime = {
    version: async () => ({
      version: '0.1.0',
      runtimeName: 'fake',
      runtimeVersion: '1.2.3',
      runtimeApiVersion: 'v1',
    }),
    createContainer: async (req: CreateContainerRequest) => {
      lastCreate = req;
      return { containerId: 'c1' };
    },
    containerStatus: async (req) => {
      if (req.containerId === 'odd') throw criErrors.notFound('a/b:c 100% "é"\nnext line');
      throw criErrors.notFound('container "nope" not found');
    },
    execSync: async () => ({ stdout: Buffer.from('out\n'), stderr: Buffer.from([0, 255]), exitCode: 3 }),
    listContainers: async () => ({
      containers: [{ id: 'c1', state: 'CONTAINER_RUNNING' as const, createdAt }],
    }),
  } as Partial<RuntimeService> as RuntimeService;
  const image = {
    pullImage: async (req) => ({ imageRef: `sha256:${req.image?.image ?? ''}` }),
  } as Partial<ImageService> as ImageService;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'k8ts-cri-'));
    server = await serveCri({ address: `unix://${dir}/cri.sock`, runtime, image });
    client = connectCri(path.join(dir, 'cri.sock'), { timeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers Version', async () => {
    assert.deepEqual(await client.runtime.version({ version: 'v1' }), {
      version: '0.1.0',
      runtimeName: 'fake',
      runtimeVersion: '1.2.3',
      runtimeApiVersion: 'v1',
    });
  });

  it('carries nested messages, maps, enums and wrapper values with camelCase names', async () => {
    const config: ContainerConfig = {
      metadata: { name: 'app', attempt: 2 },
      image: { image: 'busybox:latest' },
      command: ['sh', '-c'],
      args: ['echo hi'],
      envs: [{ key: 'A', value: 'b' }],
      labels: { 'io.kubernetes.pod.name': 'p' },
      linux: {
        resources: { memoryLimitInBytes: 32 * 1024 * 1024, cpuQuota: 50_000, cpuPeriod: 100_000 },
        securityContext: { runAsUser: { value: 1000 }, capabilities: { addCapabilities: ['NET_ADMIN'] } },
      },
      CDIDevices: [{ name: 'vendor.com/gpu=0' }],
      stopSignal: 'SIGUSR1',
      logPath: 'app/2.log',
      tty: true,
    };
    const res = await client.runtime.createContainer({ podSandboxId: 'p1', config });
    assert.equal(res.containerId, 'c1');
    assert.equal(lastCreate?.podSandboxId, 'p1');
    const got = lastCreate?.config;
    assert.deepEqual(got?.metadata, { name: 'app', attempt: 2 });
    assert.deepEqual(got?.command, ['sh', '-c']);
    assert.deepEqual(got?.envs, [{ key: 'A', value: 'b' }]);
    assert.deepEqual(got?.labels, { 'io.kubernetes.pod.name': 'p' });
    assert.equal(got?.linux?.resources?.memoryLimitInBytes, 32 * 1024 * 1024);
    assert.equal(got?.linux?.securityContext?.runAsUser?.value, 1000);
    assert.deepEqual(got?.linux?.securityContext?.capabilities?.addCapabilities, ['NET_ADMIN']);
    assert.deepEqual(got?.CDIDevices, [{ name: 'vendor.com/gpu=0' }]);
    assert.equal(got?.stopSignal, 'SIGUSR1');
    assert.equal(got?.logPath, 'app/2.log');
    assert.equal(got?.tty, true);
  });

  it('gives bytes as buffers and 64-bit integers as numbers', async () => {
    const res = await client.runtime.execSync({ containerId: 'c1', cmd: ['x'], timeout: 1 });
    assert.equal(Buffer.from(res.stdout!).toString(), 'out\n');
    assert.deepEqual([...res.stderr!], [0, 255]);
    assert.equal(res.exitCode, 3);
    const list = await client.runtime.listContainers({});
    assert.equal(list.containers?.[0]?.state, 'CONTAINER_RUNNING');
    assert.equal(typeof list.containers?.[0]?.createdAt, 'number');
    assert.ok(Math.abs((list.containers?.[0]?.createdAt ?? 0) - createdAt) < 1000);
  });

  it('returns the runtime error codes as CriError', async () => {
    await assert.rejects(client.runtime.containerStatus({ containerId: 'nope' }), (err) => {
      assert.ok(isCriError(err, Code.NotFound), String(err));
      assert.equal(err.message, 'container "nope" not found');
      return true;
    });
    // The status text crosses intact (percent-encoded on the wire where gRPC asks it).
    await assert.rejects(client.runtime.containerStatus({ containerId: 'odd' }), (err) => {
      assert.ok(isCriError(err, Code.NotFound), String(err));
      assert.equal(err.message, 'a/b:c 100% "é"\nnext line');
      return true;
    });
    await assert.rejects(client.runtime.status({}), (err) => isCriError(err, Code.Unimplemented));
    // A large message spans many HTTP/2 frames both ways.
    const big = 'x'.repeat(3 * 1024 * 1024);
    const created = await client.runtime.createContainer({ podSandboxId: big, config: {} });
    assert.equal(created.containerId, 'c1');
    assert.equal(lastCreate?.podSandboxId?.length, big.length);
    assert.equal((await client.image.pullImage({ image: { image: 'abc' } })).imageRef, 'sha256:abc');
  });
});
