import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImageConfig } from './images/oci.js';
import {
  buildSpec,
  containerArgs,
  containerCapabilities,
  containerEnv,
  defaultCapabilities,
  resolveUser,
  type SpecSandbox,
} from './spec.js';

const image = (config: ImageConfig['config']): ImageConfig => ({
  architecture: 'amd64',
  os: 'linux',
  config,
  rootfs: { type: 'layers', diff_ids: [] },
});

describe('OCI spec generation', () => {
  it('merges command and args with the image entrypoint and cmd as containerd does', () => {
    const img = image({ Entrypoint: ['/entry'], Cmd: ['default'] });
    assert.deepEqual(containerArgs({}, img), ['/entry', 'default']);
    assert.deepEqual(containerArgs({ args: ['x'] }, img), ['/entry', 'x']);
    assert.deepEqual(containerArgs({ command: ['/bin/sh'] }, img), ['/bin/sh']);
    assert.deepEqual(containerArgs({ command: ['/bin/sh'], args: ['-c', 'true'] }, img), [
      '/bin/sh',
      '-c',
      'true',
    ]);
    assert.deepEqual(containerArgs({}, image({ Entrypoint: [''], Cmd: ['run'] })), ['run']);
    assert.throws(() => containerArgs({}, image({})), /no command specified/);
  });

  it('lays the pod env over the image env, keeping order, with PATH and HOSTNAME', () => {
    assert.deepEqual(
      containerEnv(
        ['A=1', 'PATH=/bin'],
        [
          { key: 'A', value: '2' },
          { key: 'B', value: '3' },
        ],
        'pod',
      ),
      ['A=2', 'PATH=/bin', 'HOSTNAME=pod', 'B=3'],
    );
    assert.ok(containerEnv([], [], '')[0]!.startsWith('PATH=/usr/local/sbin:'));
  });

  it('applies capability add, drop and ALL', () => {
    assert.deepEqual(containerCapabilities([], [], false), defaultCapabilities);
    const added = containerCapabilities(['NET_ADMIN'], ['CHOWN'], false);
    assert.ok(added.includes('CAP_NET_ADMIN') && !added.includes('CAP_CHOWN'));
    assert.deepEqual(containerCapabilities(['NET_BIND_SERVICE'], ['ALL'], false), ['CAP_NET_BIND_SERVICE']);
    assert.ok(containerCapabilities(['ALL'], [], false).includes('CAP_SYS_ADMIN'));
    assert.ok(containerCapabilities([], ['ALL'], true).includes('CAP_SYS_ADMIN'));
  });

  describe('users from the image', () => {
    let rootfs: string;
    before(async () => {
      rootfs = await mkdtemp(path.join(tmpdir(), 'k8ts-spec-'));
      await mkdir(path.join(rootfs, 'etc'));
      await writeFile(
        path.join(rootfs, 'etc/passwd'),
        'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n',
      );
      await writeFile(
        path.join(rootfs, 'etc/group'),
        'root:x:0:\napp:x:1001:\nextra:x:2000:app\nstaff:x:50:\n',
      );
    });
    after(async () => {
      await rm(rootfs, { recursive: true, force: true });
    });

    it('resolves names, numbers, groups and supplemental groups', async () => {
      assert.deepEqual(await resolveUser(rootfs, undefined, {}), { uid: 0, gid: 0, additionalGids: [] });
      assert.deepEqual(await resolveUser(rootfs, 'app', {}), {
        uid: 1000,
        gid: 1001,
        additionalGids: [2000],
      });
      assert.deepEqual(await resolveUser(rootfs, 'app:staff', {}), {
        uid: 1000,
        gid: 50,
        additionalGids: [2000],
      });
      assert.deepEqual(
        await resolveUser(rootfs, '', { runAsUser: 1000, runAsGroup: 7, supplementalGroups: [9] }),
        {
          uid: 1000,
          gid: 7,
          additionalGids: [9, 2000],
        },
      );
      assert.deepEqual(await resolveUser(rootfs, '4242', {}), { uid: 4242, gid: 0, additionalGids: [] });
      await assert.rejects(resolveUser(rootfs, 'nobody-here', {}), /unable to find user nobody-here/);
    });
  });

  it('joins the sandbox namespaces, sets cgroups and limits, masks paths, and lets kubelet mounts win', () => {
    const sandbox: SpecSandbox = {
      namespaces: { net: '/run/ns/net', uts: '/run/ns/uts', ipc: '/run/ns/ipc' },
      hostname: 'pod',
      files: { hosts: '/sb/hosts', resolvConf: '/sb/resolv.conf', hostname: '/sb/hostname' },
      hostNetwork: false,
      hostIpc: false,
      hostPid: false,
      cgroupParent: '/kubepods/pod1',
    };
    const spec = buildSpec({
      containerId: 'c1',
      rootfs: '/rootfs',
      config: {
        command: ['sleep', '1'],
        mounts: [{ containerPath: '/etc/hosts', hostPath: '/kubelet/hosts', readonly: true }],
        linux: {
          resources: {
            cpuQuota: 50_000,
            cpuPeriod: 100_000,
            cpuShares: 512,
            memoryLimitInBytes: 1 << 25,
            oomScoreAdj: -997,
          },
          securityContext: { readonlyRootfs: true, runAsUser: { value: 5 } },
        },
      },
      image: image({}),
      sandbox,
      user: { uid: 5, gid: 5, additionalGids: [] },
      minOomScoreAdj: 0,
    });
    assert.deepEqual(spec.linux.namespaces, [
      { type: 'mount' },
      { type: 'pid' },
      { type: 'network', path: '/run/ns/net' },
      { type: 'ipc', path: '/run/ns/ipc' },
      { type: 'uts', path: '/run/ns/uts' },
      { type: 'cgroup' },
    ]);
    assert.equal(spec.linux.cgroupsPath, '/kubepods/pod1/c1');
    assert.deepEqual(spec.linux.resources.cpu, { shares: 512, quota: 50_000, period: 100_000 });
    assert.deepEqual(spec.linux.resources.memory, { limit: 1 << 25, swap: 1 << 25 });
    assert.equal(spec.process.oomScoreAdj, undefined, 'not below the runtime own score');
    assert.equal(spec.root.readonly, true);
    assert.ok(spec.linux.maskedPaths?.includes('/proc/kcore'));
    const hosts = spec.mounts.filter((m) => m.destination === '/etc/hosts');
    assert.deepEqual(
      hosts.map((m) => m.source),
      ['/kubelet/hosts'],
    );
    assert.ok(
      spec.mounts.some((m) => m.destination === '/etc/resolv.conf' && m.source === '/sb/resolv.conf'),
    );
    assert.equal(spec.hostname, 'pod');
  });
});
