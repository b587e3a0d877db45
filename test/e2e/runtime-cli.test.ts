// `k8ts images import` and `k8ts runtime` as processes: an archive imported straight into the store and
// through the running runtime, a pod run through the CRI socket, and a restart of the runtime process that
// leaves the container running.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { connectCri, type CriClient } from '../../src/cri/grpc.js';
import { removeCgroup } from '../../src/runtime/cgroups.js';
import { masqueradeTable } from '../../src/runtime/cni.js';
import { buildBusyboxImage } from '../../src/runtime/testing/build-busybox-image.js';
import { runtimeSkipReason } from '../../src/runtime/testing/runtime-fixture.js';
import { K8tsProcess, runK8ts } from '../helpers/k8ts-process.js';

const execFileAsync = promisify(execFile);

describe('k8ts runtime and k8ts images import', { skip: runtimeSkipReason() }, () => {
  let dir: string;
  let archive: string;
  let proc: K8tsProcess | undefined;
  let client: CriClient | undefined;
  const n = 64 + Math.floor(Math.random() * 190);
  const bridge = `k8tsc${process.pid % 1000}${n}`.slice(0, 15);
  const cgroupRoot = `/k8ts-cli-test-${process.pid}`;
  const socket = () => path.join(dir, 'cri.sock');
  const args = () => [
    'runtime',
    '--listen', `unix://${socket()}`,
    '--data-dir', path.join(dir, 'data'),
    '--state-dir', path.join(dir, 'run'),
    '--pod-cidr', `10.42.${n}.0/24,fd42:0:0:${n.toString(16)}::/64`,
    '--cni-bridge', bridge,
    '--cgroup-root', cgroupRoot,
    '--private-registry', '',
  ]; // prettier-ignore
  const start = async () => {
    proc = new K8tsProcess(args());
    await proc.waitForLog(/CRI runtime ready/, 60_000);
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'k8ts-rt-cli-'));
    const layout = path.join(dir, 'layout');
    await buildBusyboxImage({ layoutDir: layout, tag: 'latest', workDir: dir });
    archive = path.join(dir, 'busybox.tar');
    await execFileAsync('skopeo', [
      'copy',
      '--quiet',
      `oci:${layout}:latest`,
      `docker-archive:${archive}:k8ts.test/busybox:cli`,
    ]);
  });

  after(async () => {
    try {
      if (client) {
        const { items } = await client.runtime.listPodSandbox({}).catch(() => ({ items: [] }));
        for (const s of items ?? [])
          await client.runtime.removePodSandbox({ podSandboxId: s.id! }).catch(() => undefined);
        client.close();
      }
    } finally {
      await proc?.stop();
      await execFileAsync('ip', ['link', 'del', bridge]).catch(() => undefined);
      await execFileAsync('nft', ['delete', 'table', 'inet', masqueradeTable(bridge)]).catch(() => undefined);
      await removeCgroup(cgroupRoot);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('imports an archive into the store while no runtime runs', async () => {
    const res = await runK8ts([
      'images',
      'import',
      archive,
      '--data-dir',
      path.join(dir, 'data'),
      '--runtime-endpoint',
      `unix://${socket()}`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^k8ts\.test\/busybox:cli sha256:[0-9a-f]{64}$/m);
  });

  it('serves CRI, imports through the running runtime, runs a pod and keeps it across a restart', async () => {
    await start();
    client = connectCri(socket());
    const version = await client.runtime.version({});
    assert.equal(version.runtimeName, 'k8ts');
    assert.equal(version.runtimeApiVersion, 'v1');
    const status = await client.runtime.status({});
    assert.ok(
      status.status?.conditions?.every((c) => c.status === true),
      JSON.stringify(status),
    );

    await execFileAsync('skopeo', [
      'copy',
      '--quiet',
      `docker-archive:${archive}`,
      `docker-archive:${path.join(dir, 'again.tar')}:k8ts.test/busybox:again`,
    ]);
    const res = await runK8ts([
      'images',
      'import',
      path.join(dir, 'again.tar'),
      '--runtime-endpoint',
      `unix://${socket()}`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const { image } = await client.image.imageStatus({ image: { image: 'k8ts.test/busybox:again' } });
    assert.ok(image?.repoTags?.includes('k8ts.test/busybox:again'));

    const sandboxConfig = {
      metadata: { name: 'cli', namespace: 'default', uid: 'cli-1', attempt: 0 },
      logDirectory: path.join(dir, 'logs'),
    };
    const { podSandboxId } = await client.runtime.runPodSandbox({ config: sandboxConfig });
    const { containerId } = await client.runtime.createContainer({
      podSandboxId,
      config: {
        metadata: { name: 'sleep' },
        image: { image: 'k8ts.test/busybox:cli' },
        command: ['sleep', '3600'],
        logPath: 'sleep.log',
      },
      sandboxConfig,
    });
    await client.runtime.startContainer({ containerId });
    assert.equal(proc && (await proc.stop()), 0);
    await start();
    const { status: after } = await client.runtime.containerStatus({ containerId });
    assert.equal(after?.state, 'CONTAINER_RUNNING');
    await client.runtime.stopContainer({ containerId, timeout: 0 });
    assert.equal((await client.runtime.containerStatus({ containerId })).status?.exitCode, 137);
  });
});
