import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Code, isCriError } from '../cri/errors.js';
import type * as cri from '../cri/types.js';
import { masqueradeTable } from './cni.js';
import { ImageService } from './images/image-service.js';
import { LinuxRuntime } from './linux-runtime.js';
import { freePort } from './testing/free-port.js';
import {
  ociRuntimeSkipReason,
  runtimeSkipReason,
  startRuntimeFixture,
  type RuntimeFixture,
} from './testing/runtime-fixture.js';

const execFileAsync = promisify(execFile);
const skip = runtimeSkipReason();

// Everything with runc (the default); what depends on the OCI runtime (create, start, exec, logs, stop, OOM,
// cgroup stats and updates, tty, a restart) also with crun. The pod network is the runtime's own (CNI).
for (const oci of ['runc', 'crun'] as const) {
  const skipOci = ociRuntimeSkipReason(oci);
  const network = oci === 'runc' ? {} : { skip: 'the pod network (CNI) does not depend on the OCI runtime' };
  describe(`the built-in runtime through CRI gRPC, with ${oci}`, { skip: skipOci ?? false }, () => {
    let fx: RuntimeFixture;
    before(async () => {
      fx = await startRuntimeFixture({ ociRuntime: oci });
    });
    after(async () => {
      await fx?.close();
    });

    const exited = (containerId: string, ms?: number) =>
      fx.waitFor(
        `container ${containerId.slice(0, 12)} to exit`,
        async () => {
          const { status } = await fx.client.runtime.containerStatus({ containerId });
          return status?.state === 'CONTAINER_EXITED' ? status : undefined;
        },
        ms,
      );
    const exec = async (containerId: string, cmd: string[], timeout = 10) => {
      const res = await fx.client.runtime.execSync({ containerId, cmd, timeout });
      return {
        stdout: Buffer.from(res.stdout ?? []).toString(),
        stderr: Buffer.from(res.stderr ?? []).toString(),
        exitCode: res.exitCode ?? 0,
      };
    };
    const sleeper = (name: string, extra: cri.ContainerConfig = {}): cri.ContainerConfig => ({
      metadata: { name },
      command: ['sleep', '3600'],
      ...extra,
    });

    it('runs a container in a sandbox and logs its output in CRI format', async () => {
      const container = {
        metadata: { name: 'hello' },
        command: ['sh', '-c', 'echo hello; echo oops >&2; printf no-newline; exit 3'],
      };
      const { containerId, sandboxConfig } = await fx.runPod('hello', container);
      const status = await exited(containerId);
      assert.equal(status.exitCode, 3);
      assert.equal(status.reason, 'Error');
      assert.ok((status.finishedAt ?? 0) >= (status.startedAt ?? 0));
      const log = await fx.waitFor('the log', async () => {
        const text = await fx.readLog(sandboxConfig, { ...container, logPath: 'hello/0.log' });
        return text.includes('no-newline') ? text : undefined;
      });
      const lines = log.trim().split('\n');
      assert.equal(lines.length, 3);
      const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z /;
      for (const l of lines) assert.match(l, stamp);
      assert.ok(lines.some((l) => / stdout F hello$/.test(l)));
      assert.ok(lines.some((l) => / stderr F oops$/.test(l)));
      assert.ok(lines.some((l) => / stdout F no-newline$/.test(l)));
    });

    it('gives exec output and exit code, and times out', async () => {
      const { containerId } = await fx.runPod('exec', sleeper('exec'));
      const res = await exec(containerId, ['sh', '-c', 'echo out; echo err >&2; hostname; exit 7']);
      assert.equal(res.stdout, 'out\nexec\n');
      assert.equal(res.stderr, 'err\n');
      assert.equal(res.exitCode, 7);
      await assert.rejects(
        fx.client.runtime.execSync({ containerId, cmd: ['sleep', '30'], timeout: 1 }),
        (err) => isCriError(err, Code.DeadlineExceeded),
      );
      await assert.rejects(
        fx.client.runtime.execSync({ containerId: 'f'.repeat(64), cmd: ['true'] }),
        (err) => isCriError(err, Code.NotFound),
      );
    });

    it('fails StartContainer for a missing executable (StartError), and removes a created container never started', async () => {
      const sandboxConfig = fx.sandboxConfig('create');
      const { podSandboxId } = await fx.client.runtime.runPodSandbox({ config: sandboxConfig });
      // As with containerd, the OCI runtime first runs at StartContainer: that is where a bad command fails.
      const { containerId: bad } = await fx.client.runtime.createContainer({
        podSandboxId,
        config: { metadata: { name: 'bad' }, image: { image: fx.image }, command: ['/no/such/binary'] },
        sandboxConfig,
      });
      await assert.rejects(
        fx.client.runtime.startContainer({ containerId: bad! }),
        (err) => isCriError(err, Code.Unknown) && /no such file|not found/i.test(err.message),
      );
      const { status: failed } = await fx.client.runtime.containerStatus({ containerId: bad! });
      assert.equal(failed?.state, 'CONTAINER_EXITED');
      assert.equal(failed?.reason, 'StartError');
      assert.equal(failed?.exitCode, 128);
      assert.match(failed?.message ?? '', /no such file|not found/i);
      await fx.client.runtime.removeContainer({ containerId: bad! });
      const { containerId } = await fx.client.runtime.createContainer({
        podSandboxId,
        config: { metadata: { name: 'idle' }, image: { image: fx.image }, command: ['sleep', '3600'] },
        sandboxConfig,
      });
      const { status } = await fx.client.runtime.containerStatus({ containerId: containerId! });
      assert.equal(status?.state, 'CONTAINER_CREATED');
      await fx.client.runtime.removeContainer({ containerId: containerId! });
      const { containers } = await fx.client.runtime.listContainers({ filter: { podSandboxId } });
      assert.deepEqual(containers, []);
    });

    it('updates a running container resources in its cgroup', async () => {
      const { containerId } = await fx.runPod(
        'update',
        sleeper('update', {
          linux: { resources: { memoryLimitInBytes: 32 << 20, cpuQuota: 20_000, cpuPeriod: 100_000 } },
        }),
      );
      const { status } = await fx.client.runtime.containerStatus({ containerId });
      assert.equal(status?.state, 'CONTAINER_RUNNING');
      await fx.client.runtime.updateContainerResources({
        containerId,
        linux: { memoryLimitInBytes: 96 << 20, cpuQuota: 50_000, cpuPeriod: 100_000 },
      });
      // The container's cgroup namespace shows its own cgroup at the root of each hierarchy.
      const limit = await exec(containerId, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
      const quota = await exec(containerId, ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
      const v2 = await exec(containerId, ['cat', '/sys/fs/cgroup/memory.max']);
      if (v2.exitCode === 0) assert.equal(v2.stdout.trim(), String(96 << 20));
      else {
        assert.equal(limit.stdout.trim(), String(96 << 20));
        assert.equal(quota.stdout.trim(), '50000');
      }
    });

    it('shares one PID namespace between the containers of a pod that asks for it', async () => {
      const shared = { linux: { securityContext: { namespaceOptions: { pid: 'POD' as const } } } };
      const sandboxConfig = fx.sandboxConfig('sharedpid', shared);
      const { podSandboxId } = await fx.client.runtime.runPodSandbox({ config: sandboxConfig });
      const ids: string[] = [];
      for (const [name, secs] of [
        ['one', '3601'],
        ['two', '3602'],
      ] as const) {
        const { containerId } = await fx.client.runtime.createContainer({
          podSandboxId,
          config: { metadata: { name }, image: { image: fx.image }, command: ['sleep', secs], ...shared },
          sandboxConfig,
        });
        await fx.client.runtime.startContainer({ containerId });
        ids.push(containerId!);
      }
      const ps = await exec(ids[0]!, ['ps', '-o', 'pid,args']);
      assert.match(ps.stdout, /sleep 3602/, 'sees the other container');
      assert.match(ps.stdout, /^\s*1 .*perl/m, 'the holder is the namespace init');
      await fx.client.runtime.stopPodSandbox({ podSandboxId });
      for (const id of ids) assert.equal((await exited(id, 5000)).state, 'CONTAINER_EXITED');
      await fx.client.runtime.removePodSandbox({ podSandboxId });
    });

    it('runs a hostNetwork pod in the node network namespace, without CNI', network, async () => {
      const host = { linux: { securityContext: { namespaceOptions: { network: 'NODE' as const } } } };
      const { podId, containerId } = await fx.runPod('hostnet', sleeper('hostnet', host), host);
      const { status } = await fx.client.runtime.podSandboxStatus({ podSandboxId: podId });
      assert.equal(status?.network?.ip, '');
      assert.equal((await exec(containerId, ['hostname'])).stdout.trim(), hostname());
      const links = await exec(containerId, ['cat', '/proc/net/dev']);
      const nodeLink = Object.keys(networkInterfaces()).find((n) => n !== 'lo')!;
      assert.ok(links.stdout.includes(`${nodeLink}:`), `sees the node's ${nodeLink}`);
    });

    it('connects two pods over IPv4 and IPv6 (ping and wget)', network, async () => {
      const server = await fx.runPod('web', {
        metadata: { name: 'web' },
        command: [
          'sh',
          '-c',
          'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www',
        ],
      });
      const client = await fx.runPod('client', sleeper('client'));
      const { status } = await fx.client.runtime.podSandboxStatus({ podSandboxId: server.podId });
      const v4 = status?.network?.ip ?? '';
      const v6 = status?.network?.additionalIps?.[0]?.ip ?? '';
      const [net4, net6] = fx.podCIDRs.map((c) => c.split('/')[0]!);
      assert.ok(
        v4.startsWith(net4!.split('.').slice(0, 3).join('.') + '.'),
        `IPv4 ${v4} in ${fx.podCIDRs[0]}`,
      );
      assert.ok(v6.startsWith(net6!.replace(/::$/, ':')), `IPv6 ${v6} in ${fx.podCIDRs[1]}`);
      await fx.waitFor('IPv4 ping', async () =>
        (await exec(client.containerId, ['ping', '-c', '1', '-W', '1', v4])).exitCode === 0
          ? true
          : undefined,
      );
      // IPv6 addresses may be tentative (DAD) for a moment.
      await fx.waitFor('IPv6 ping', async () =>
        (await exec(client.containerId, ['ping', '-6', '-c', '1', '-W', '1', v6])).exitCode === 0
          ? true
          : undefined,
      );
      const get4 = await fx.waitFor('wget over IPv4', async () => {
        const r = await exec(client.containerId, ['wget', '-q', '-O', '-', `http://${v4}/`]);
        return r.exitCode === 0 ? r.stdout : undefined;
      });
      assert.equal(get4, 'hello-from-web\n');
      const { stats } = await fx.client.runtime.podSandboxStats({ podSandboxId: client.podId });
      assert.equal(stats?.linux?.network?.defaultInterface?.name, 'eth0');
      assert.ok((stats?.linux?.network?.defaultInterface?.txBytes?.value ?? 0) > 0, 'the pod sent traffic');
      const get6 = await exec(client.containerId, ['wget', '-q', '-O', '-', `http://[${v6}]/`]);
      assert.equal(get6.stdout, 'hello-from-web\n', get6.stderr);
      // The pod's interface has its IPv6 address and no link-local one (podNetworkSysctls).
      const addrs = (await exec(client.containerId, ['cat', '/proc/net/if_inet6'])).stdout;
      assert.match(addrs, /^fd42\S+ \S+ \S+ \S+ \S+ +eth0$/m);
      assert.doesNotMatch(addrs, /^fe80\S+ .*eth0$/m);
      // Outbound traffic leaves masqueraded: one nftables rule per pod range.
      const { stdout: table } = await execFileAsync('nft', [
        'list',
        'table',
        'inet',
        masqueradeTable(fx.bridge),
      ]);
      for (const cidr of fx.podCIDRs)
        assert.match(table, new RegExp(`saddr ${cidr.replace(/\./g, '\\.')} .*masquerade`));
    });

    it('forwards a hostPort to the pod through portmap', network, async () => {
      const hostIp = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      assert.ok(hostIp, 'the node has a non-loopback IPv4 address');
      const hostPort = await freePort();
      await fx.runPod(
        'hostport',
        {
          metadata: { name: 'web' },
          command: [
            'sh',
            '-c',
            'mkdir -p /www && echo via-hostport > /www/index.html && exec httpd -f -p 80 -h /www',
          ],
        },
        { portMappings: [{ protocol: 'TCP', containerPort: 80, hostPort }] },
      );
      const body = await fx.waitFor('the page through the hostPort', async () => {
        const res = await fetch(`http://${hostIp}:${hostPort}/`, { signal: AbortSignal.timeout(2000) });
        return res.ok ? res.text() : undefined;
      });
      assert.equal(body, 'via-hostport\n');
    });

    it('reports OOMKilled with exit code 137 for a container over its 32 MiB limit', async () => {
      const { containerId } = await fx.runPod('oom', {
        metadata: { name: 'oom' },
        command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'],
        linux: { resources: { memoryLimitInBytes: 32 * 1024 * 1024 } },
      });
      const status = await exited(containerId);
      assert.equal(status.reason, 'OOMKilled');
      assert.equal(status.exitCode, 137);
    });

    it('shows CPU throttling under a CPU limit', async () => {
      const { podId, containerId } = await fx.runPod('cpu', {
        metadata: { name: 'cpu' },
        command: ['sh', '-c', 'while :; do :; done'],
        linux: { resources: { cpuQuota: 10_000, cpuPeriod: 100_000, cpuShares: 102 } },
      });
      const throttled = await fx.waitFor('throttled periods', async () => {
        const { podMetrics } = await fx.client.runtime.listPodSandboxMetrics({});
        const metrics =
          podMetrics?.find((p) => p.podSandboxId === podId)?.containerMetrics?.[0]?.metrics ?? [];
        const value =
          metrics.find((m) => m.name === 'container_cpu_cfs_throttled_periods_total')?.value?.value ?? 0;
        return value >= 3 ? value : undefined;
      });
      assert.ok(throttled >= 3);
      const first = await fx.client.runtime.containerStats({ containerId });
      await new Promise((r) => setTimeout(r, 1000));
      const second = await fx.client.runtime.containerStats({ containerId });
      const used =
        (second.stats?.cpu?.usageCoreNanoSeconds?.value ?? 0) -
        (first.stats?.cpu?.usageCoreNanoSeconds?.value ?? 0);
      const elapsed = (second.stats?.cpu?.timestamp ?? 0) - (first.stats?.cpu?.timestamp ?? 0);
      // 0.1 CPU allowed; a busy loop without a limit would use a whole core.
      assert.ok(used / elapsed < 0.3, `used ${used} ns of CPU in ${elapsed} ns`);
      assert.ok((second.stats?.memory?.workingSetBytes?.value ?? 0) > 0);
      assert.ok(second.stats?.cpu?.usageNanoCores !== undefined);
    });

    it('stops with the stop signal, and kills after the timeout', async () => {
      const polite = {
        metadata: { name: 'polite' },
        command: ['sh', '-c', "trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.1; done"],
      };
      const a = await fx.runPod('polite', polite);
      await fx.waitFor('ready', async () =>
        (await fx.readLog(a.sandboxConfig, { ...polite, logPath: 'polite/0.log' })).includes('ready')
          ? true
          : undefined,
      );
      await fx.client.runtime.stopContainer({ containerId: a.containerId, timeout: 20 });
      const sa = await exited(a.containerId, 1000);
      assert.equal(sa.exitCode, 0);
      assert.ok(
        (await fx.readLog(a.sandboxConfig, { ...polite, logPath: 'polite/0.log' })).includes(
          'stdout F got TERM',
        ),
      );

      const stubborn = {
        metadata: { name: 'stubborn' },
        command: ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
      };
      const b = await fx.runPod('stubborn', stubborn);
      await fx.waitFor('ready', async () =>
        (await fx.readLog(b.sandboxConfig, { ...stubborn, logPath: 'stubborn/0.log' })).includes('ready')
          ? true
          : undefined,
      );
      const t0 = Date.now();
      await fx.client.runtime.stopContainer({ containerId: b.containerId, timeout: 1 });
      assert.ok(Date.now() - t0 >= 1000, 'waited for the timeout');
      const sb = await exited(b.containerId, 1000);
      assert.equal(sb.exitCode, 137);
    });

    it('keeps a running container across a runtime restart and finds it again', async () => {
      const ticker = {
        metadata: { name: 'ticker' },
        command: ['sh', '-c', 'i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.1; done'],
      };
      const { containerId, sandboxConfig } = await fx.runPod('ticker', ticker);
      const logOf = () => fx.readLog(sandboxConfig, { ...ticker, logPath: 'ticker/0.log' });
      await fx.waitFor('ticks', async () => ((await logOf()).includes('tick 2') ? true : undefined));
      const before = (await fx.client.runtime.containerStatus({ containerId, verbose: true })).info?.info;
      await fx.restart();
      const after = await fx.client.runtime.containerStatus({ containerId, verbose: true });
      assert.equal(after.status?.state, 'CONTAINER_RUNNING');
      assert.equal(after.info?.info, before, 'same process');
      const count = (await logOf()).split('\n').length;
      await fx.waitFor('more ticks after the restart', async () =>
        (await logOf()).split('\n').length > count + 3 ? true : undefined,
      );
      assert.equal((await exec(containerId, ['echo', 'still here'])).stdout, 'still here\n');
      // The kubelet rotates a log by renaming it and asking for a reopen.
      const logFile = path.join(sandboxConfig.logDirectory!, 'ticker/0.log');
      await rename(logFile, `${logFile}.1`);
      await fx.client.runtime.reopenContainerLog({ containerId });
      await fx.waitFor('ticks in the new log file', async () =>
        (await logOf()).includes('stdout F tick') ? true : undefined,
      );
      await fx.client.runtime.stopContainer({ containerId, timeout: 5 });
      assert.equal((await exited(containerId, 1000)).state, 'CONTAINER_EXITED');
    });

    it('finishes after a restart a removal that was committed but not cleaned up', async () => {
      const { containerId } = await fx.runPod('removed', sleeper('removed'));
      await fx.client.runtime.stopContainer({ containerId, timeout: 0 });
      const dir = path.join(fx.dir, 'runtime', 'containers', containerId);
      const mounted = async () => (await readFile('/proc/self/mountinfo', 'utf8')).includes(containerId);
      assert.ok(await mounted());
      // As RemoveContainer commits a removal (the record renamed) before its cleanup, and k8ts then stopped.
      await fx.runtime.close();
      await rename(path.join(dir, 'container.json'), path.join(dir, 'removed.json'));
      await fx.restart();
      const { containers } = await fx.client.runtime.listContainers({ filter: { id: containerId } });
      assert.deepEqual(containers, []);
      assert.ok(!existsSync(dir), 'its directory is gone');
      assert.ok(!(await mounted()), 'its rootfs is unmounted');
    });

    it('streams exec (pipes and a resizable tty), attach and port-forward for the streaming server', async () => {
      const { podId, containerId } = await fx.runPod('streams', {
        metadata: { name: 'streams' },
        command: [
          'sh',
          '-c',
          'mkdir -p /www && echo port-forwarded > /www/index.html && exec httpd -f -p 8080 -h /www',
        ],
      });
      const collect = () => {
        const chunks: Buffer[] = [];
        const stream = new PassThrough();
        stream.on('data', (b: Buffer) => chunks.push(b));
        return { stream, text: () => Buffer.concat(chunks).toString() };
      };
      // exec with pipes: stdin in, stdout and stderr apart, the exit code.
      const stdin = new PassThrough();
      const out = collect();
      const err = collect();
      stdin.end('abc\n');
      const piped = await fx.runtime.streaming.exec(
        containerId,
        ['sh', '-c', 'read l; echo got:$l; echo err >&2; exit 4'],
        {
          stdin,
          stdout: out.stream,
          stderr: err.stream,
          tty: false,
        },
      );
      assert.equal(piped.exitCode, 4);
      assert.equal(out.text(), 'got:abc\n');
      assert.equal(err.text(), 'err\n');
      // exec with a tty whose size follows resize events.
      const tty = collect();
      async function* sizes() {
        yield { width: 100, height: 40 };
      }
      const onTty = await fx.runtime.streaming.exec(containerId, ['sh', '-c', 'sleep 0.5; tty; stty size'], {
        stdout: tty.stream,
        tty: true,
        resize: sizes(),
      });
      assert.equal(onTty.exitCode, 0);
      assert.match(tty.text(), /\/dev\/pts\/\d+\r?\n40 100/);
      // port-forward to a port inside the pod's network namespace.
      const request = new PassThrough();
      const response = collect();
      const forwarded = fx.runtime.streaming.portForward(
        podId,
        8080,
        Duplex.from({ readable: request, writable: response.stream }),
      );
      request.write('GET /index.html HTTP/1.0\r\n\r\n');
      await forwarded;
      assert.match(response.text(), /^HTTP\/1\.[01] 200 OK/);
      assert.match(response.text(), /port-forwarded/);
    });

    it('attaches to a container with stdin, and runs a container on a tty', async () => {
      const echo = {
        metadata: { name: 'echo' },
        stdin: true,
        command: ['sh', '-c', 'while read l; do echo echo:$l; done'],
      };
      const { containerId } = await fx.runPod('attach', echo);
      const input = new PassThrough();
      const chunks: Buffer[] = [];
      const output = new PassThrough().on('data', (b: Buffer) => chunks.push(b));
      const ac = new AbortController();
      const attached = fx.runtime.streaming.attach(containerId, {
        stdin: input,
        stdout: output,
        tty: false,
        signal: ac.signal,
      });
      input.write('hi\n');
      await fx.waitFor('the echo', async () =>
        Buffer.concat(chunks).toString().includes('echo:hi') ? true : undefined,
      );
      ac.abort();
      await attached;

      const onTty = { metadata: { name: 'tty' }, tty: true, command: ['sh', '-c', 'tty; echo on-a-tty'] };
      const t = await fx.runPod('tty', onTty);
      assert.equal((await exited(t.containerId)).exitCode, 0);
      const log = await fx.waitFor('the tty log', async () => {
        const text = await fx.readLog(t.sandboxConfig, { ...onTty, logPath: 'tty/0.log' });
        return text.includes('on-a-tty') ? text : undefined;
      });
      assert.match(log, / stdout F \/dev\/pts\/\d+\r?\n/);
    });

    it('removing a sandbox leaves no veth, IP lease, mount or cgroup', network, async () => {
      const { podId, containerId } = await fx.runPod('gone', sleeper('gone'));
      const { status } = await fx.client.runtime.podSandboxStatus({ podSandboxId: podId });
      const ips = [status?.network?.ip, ...(status?.network?.additionalIps ?? []).map((i) => i.ip)];
      const ports = async () =>
        (await execFileAsync('ip', ['-o', 'link', 'show', 'master', fx.bridge])).stdout.trim();
      const leases = async () => {
        const dir = path.join(fx.dir, 'ipam');
        const names: string[] = [];
        for (const net of existsSync(dir) ? await readdir(dir) : [])
          names.push(...(await readdir(path.join(dir, net))));
        return names;
      };
      const mountsOf = async (id: string) =>
        (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(id)).length;
      assert.ok(ips.every((ip) => ip !== undefined && ip !== ''));
      const portsBefore = (await ports()).split('\n').filter(Boolean).length;
      assert.ok((await leases()).includes(ips[0]!));
      assert.ok((await mountsOf(podId)) > 0 && (await mountsOf(containerId)) > 0);
      await fx.client.runtime.stopPodSandbox({ podSandboxId: podId });
      await fx.client.runtime.removePodSandbox({ podSandboxId: podId });
      assert.equal((await ports()).split('\n').filter(Boolean).length, portsBefore - 1);
      const left = await leases();
      for (const ip of ips) assert.ok(!left.includes(ip!), `lease of ${ip} released`);
      assert.equal(await mountsOf(podId), 0);
      assert.equal(await mountsOf(containerId), 0);
      assert.ok(!existsSync(path.join('/sys/fs/cgroup/memory', fx.cgroupParent, podId)));
      await assert.rejects(fx.client.runtime.podSandboxStatus({ podSandboxId: podId }), (err) =>
        isCriError(err, Code.NotFound),
      );
      // Idempotent, as CRI requires.
      await fx.client.runtime.stopPodSandbox({ podSandboxId: podId });
      await fx.client.runtime.removePodSandbox({ podSandboxId: podId });
    });
  });
}

describe('the built-in runtime opened without pod ranges (as k8ts server opens it)', { skip }, () => {
  it('reports the network not ready until UpdateRuntimeConfig brings the node ranges, then writes its configuration', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'k8ts-rt-nocidr-'));
    const bridge = `k8tsn${process.pid % 100000}`.slice(0, 15);
    const images = await ImageService.open({ root: path.join(dir, 'images') });
    const confDir = path.join(dir, 'net.d');
    const rt = await LinuxRuntime.open({
      root: path.join(dir, 'rt'),
      stateDir: path.join(dir, 'run'),
      images,
      network: { confDir, binDirs: ['/usr/lib/cni', '/opt/cni/bin'], podCIDRs: [], bridge },
    });
    const networkReady = async (): Promise<cri.RuntimeCondition | undefined> =>
      (await rt.status({})).status?.conditions?.find((c) => c.type === 'NetworkReady');
    try {
      const before = await networkReady();
      assert.equal(before?.status, false);
      assert.equal(before?.reason, 'NetworkPluginNotReady');
      assert.deepEqual(await readdir(confDir), []);
      await rt.updateRuntimeConfig({
        runtimeConfig: { networkConfig: { podCidr: '10.47.3.0/24,fd47:0:0:3::/64' } },
      });
      assert.equal((await networkReady())?.status, true);
      const conf = JSON.parse(await readFile(path.join(confDir, '10-k8ts.conflist'), 'utf8')) as {
        plugins: { bridge?: string; ipam?: { ranges: { subnet: string }[][] } }[];
      };
      const plugin = conf.plugins.find((p) => p.bridge !== undefined);
      assert.equal(plugin?.bridge, bridge);
      assert.deepEqual(
        plugin?.ipam?.ranges.map((r) => r[0]!.subnet),
        ['10.47.3.0/24', 'fd47:0:0:3::/64'],
      );
    } finally {
      await rt.close();
      images.close();
      await execFileAsync('nft', ['delete', 'table', 'inet', masqueradeTable(bridge)]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
