// Our CRI client against a real runtime: Debian's containerd 1.6 with its CRI plugin, started on a socket in a
// temporary directory. Shows that our descriptor's field numbers and names match upstream's on the wire.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireTools } from '../runtime/testing/requirements.js';
import { Code, isCriError } from './errors.js';
import { connectCri, type CriClient } from './grpc.js';

describe(
  'the CRI client against containerd',
  { skip: process.getuid?.() !== 0 ? 'containerd needs root' : undefined },
  () => {
    let dir: string;
    let containerd: ChildProcess | undefined;
    let client: CriClient;

    before(async () => {
      requireTools(['containerd']);
      dir = await mkdtemp(path.join(tmpdir(), 'k8ts-containerd-'));
      await writeFile(
        path.join(dir, 'config.toml'),
        [
          'version = 2',
          `root = "${dir}/root"`,
          `state = "${dir}/state"`,
          '[grpc]',
          `  address = "${dir}/containerd.sock"`,
          '[plugins."io.containerd.grpc.v1.cri"]',
          '  restrict_oom_score_adj = true',
          '  [plugins."io.containerd.grpc.v1.cri".cni]',
          '    bin_dir = "/usr/lib/cni"',
          `    conf_dir = "${dir}/net.d"`,
          '',
        ].join('\n'),
      );
      containerd = spawn('containerd', ['--config', path.join(dir, 'config.toml')], { stdio: 'ignore' });
      client = connectCri(`unix://${dir}/containerd.sock`, { timeoutMs: 20_000 });
      const deadline = Date.now() + 20_000;
      while (!existsSync(path.join(dir, 'containerd.sock'))) {
        if (Date.now() > deadline || containerd.exitCode !== null)
          throw new Error('containerd did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    after(async () => {
      client?.close();
      if (containerd?.pid !== undefined && containerd.exitCode === null) {
        const exited = new Promise((r) => containerd!.once('exit', r));
        process.kill(containerd.pid, 'SIGTERM');
        await exited;
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('speaks CRI v1 with it', async () => {
      const version = await client.runtime.version({ version: 'v1' });
      assert.equal(version.runtimeName, 'containerd');
      assert.equal(version.runtimeApiVersion, 'v1');
      const status = await client.runtime.status({});
      const types = status.status?.conditions?.map((c) => c.type);
      assert.deepEqual(types, ['RuntimeReady', 'NetworkReady']);
      assert.equal(status.status?.conditions?.[0]?.status, true);
      const fs = await client.image.imageFsInfo({});
      assert.match(fs.imageFilesystems?.[0]?.fsId?.mountpoint ?? '', /overlayfs$/);
      assert.deepEqual(await client.runtime.listPodSandbox({}), { items: [] });
      assert.deepEqual(await client.image.listImages({}), { images: [] });
      await assert.rejects(client.runtime.containerStatus({ containerId: 'nope' }), (err) =>
        isCriError(err, Code.NotFound),
      );
    });
  },
);
