import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScript, scriptOf } from './script.js';
import { SimulatedRuntime } from './simulated-runtime.js';

async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('simulated runtime', () => {
  it('parses the simsh command pattern', () => {
    assert.equal(scriptOf(['sh', '-c', 'sleep 1; exit 2']), 'sleep 1; exit 2');
    assert.deepEqual(parseScript('sleep 1.5; exit 2'), [
      { op: 'sleep', seconds: 1.5 },
      { op: 'exit', code: 2 },
    ]);
    assert.deepEqual(parseScript(''), [{ op: 'forever' }]);
    assert.deepEqual(parseScript('touch /a && nginx -g daemon; exit 1'), [{ op: 'touch', path: '/a' }, { op: 'forever' }]);
    assert.deepEqual(parseScript('false'), [{ op: 'exit', code: 1 }]);
    assert.deepEqual(parseScript('test -f /tmp/x'), [{ op: 'test', path: '/tmp/x' }]);
  });

  it('runs a container to its exit code, answers exec from its files, and stops it', async () => {
    const rt = new SimulatedRuntime();
    const { podSandboxId } = await rt.runPodSandbox({ config: { metadata: { name: 'p', uid: 'u', namespace: 'n' }, labels: { 'io.kubernetes.pod.uid': 'u' } } });
    const sb = await rt.podSandboxStatus({ podSandboxId: podSandboxId! });
    assert.equal(sb.status?.state, 'SANDBOX_READY');
    assert.match(sb.status?.network?.additionalIps?.[0]?.ip ?? '', /:/);
    await rt.pullImage({ image: { image: 'busybox' } });
    const mk = async (cmd: string[]): Promise<string> => {
      const { containerId } = await rt.createContainer({ podSandboxId: podSandboxId!, config: { metadata: { name: 'c' }, image: { image: 'busybox' }, command: cmd } });
      await rt.startContainer({ containerId: containerId! });
      return containerId!;
    };
    const quick = await mk(['sh', '-c', 'sleep 0.05; exit 4']);
    await waitFor(async () => (await rt.containerStatus({ containerId: quick })).status?.state === 'CONTAINER_EXITED');
    const st = (await rt.containerStatus({ containerId: quick })).status!;
    assert.equal(st.exitCode, 4);
    assert.equal(st.reason, 'Error');
    const server = await mk(['sh', '-c', 'touch /ready; sleep infinity']);
    assert.equal((await rt.execSync({ containerId: server, cmd: ['cat', '/ready'] })).exitCode, 0);
    await rt.execSync({ containerId: server, cmd: ['rm', '/ready'] });
    assert.equal((await rt.execSync({ containerId: server, cmd: ['cat', '/ready'] })).exitCode, 1);
    await rt.stopContainer({ containerId: server, timeout: 10 });
    assert.equal((await rt.containerStatus({ containerId: server })).status?.exitCode, 143);
    await assert.rejects(rt.pullImage({ image: { image: 'example.com/does-not-exist:1' } }), /not found/);
    const list = await rt.listContainers({ filter: { podSandboxId: podSandboxId! } });
    assert.equal(list.containers?.length, 2);
    await rt.removePodSandbox({ podSandboxId: podSandboxId! });
    assert.equal((await rt.listContainers({})).containers?.length, 0);
  });
});
