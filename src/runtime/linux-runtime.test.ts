import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runtimeSkipReason, startRuntimeFixture, type RuntimeFixture } from './testing/runtime-fixture.js';

const skip = runtimeSkipReason();

describe('the built-in runtime through CRI gRPC', { skip }, () => {
  let fx: RuntimeFixture;
  before(async () => {
    fx = await startRuntimeFixture();
  });
  after(async () => {
    await fx?.close();
  });

  it('runs a container in a sandbox and logs its output in CRI format', async () => {
    const container = {
      metadata: { name: 'hello' },
      command: ['sh', '-c', 'echo hello; echo oops >&2; exit 3'],
    };
    const { containerId, sandboxConfig } = await fx.runPod('hello', container);
    const status = await fx.waitFor('the container to exit', async () => {
      const { status } = await fx.client.runtime.containerStatus({ containerId });
      return status?.state === 'CONTAINER_EXITED' ? status : undefined;
    });
    assert.equal(status.exitCode, 3);
    assert.equal(status.reason, 'Error');
    const log = await fx.waitFor('the log', async () => {
      const text = await fx.readLog(sandboxConfig, { ...container, logPath: 'hello/0.log' });
      return text.split('\n').length >= 3 ? text : undefined;
    });
    const lines = log.trim().split('\n');
    assert.match(
      lines.find((l) => l.includes(' stdout '))!,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z stdout F hello$/,
    );
    assert.match(
      lines.find((l) => l.includes(' stderr '))!,
      /^\S+ stderr F oops$/,
    );
  });
});
