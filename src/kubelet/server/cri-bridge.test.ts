import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { streamingRuntimeFromCri } from './cri-bridge.js';
import { RuntimeNotFoundError } from './streaming-runtime.js';

describe('streamingRuntimeFromCri', () => {
  it('turns names into CRI IDs for exec, attach and port-forward, and passes log lookups on', async () => {
    const calls: string[] = [];
    const rt = streamingRuntimeFromCri(
      {
        exec: async (id, cmd) => {
          calls.push(`exec ${id} ${cmd.join(' ')}`);
          return { exitCode: 3 };
        },
        attach: async (id) => void calls.push(`attach ${id}`),
        portForward: async (id, port) => void calls.push(`pf ${id} ${port}`),
      },
      {
        containerId: async (c) => {
          if (c.container === 'gone') throw new RuntimeNotFoundError(`container "gone" not found`);
          return `ctr-${c.namespace}-${c.name}-${c.container}`;
        },
        sandboxId: async (p) => `sb-${p.namespace}-${p.name}`,
        containerLog: async (c, previous) => ({ path: `/var/log/pods/${c.name}/${previous ? 0 : 1}.log`, running: async () => true }),
      },
    );
    const io = { tty: false, signal: new AbortController().signal };
    const ref = { namespace: 'ns', name: 'p', container: 'c' };
    assert.deepEqual(await rt.exec(ref, ['ls', '-l'], io), { exitCode: 3 });
    await rt.attach(ref, io);
    await rt.portForward({ namespace: 'ns', name: 'p' }, 8080, new PassThrough(), io.signal);
    assert.deepEqual(calls, ['exec ctr-ns-p-c ls -l', 'attach ctr-ns-p-c', 'pf sb-ns-p 8080']);
    assert.equal((await rt.containerLog(ref, true)).path, '/var/log/pods/p/0.log');
    await assert.rejects(rt.exec({ ...ref, container: 'gone' }, ['true'], io), RuntimeNotFoundError);
  });
});
