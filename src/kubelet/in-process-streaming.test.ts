// The kubelet's streaming seam against the real built-in runtime in this process: with the runtime's
// in-process operations (RuntimeHandle.streaming) exec and port-forward work although the runtime has no
// streaming server (its CRI Exec answers Unimplemented, which the CRI path would hit); names are found by
// the kubelet's labels and logs by ContainerStatus.logPath.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Code, isCriError } from '../cri/errors.js';
import { runtimeSkipReason, startRuntimeFixture, type RuntimeFixture } from '../runtime/testing/runtime-fixture.js';
import { kubeletStreamingRuntime } from './node-runner.js';
import { containerNameLabel, podNameLabel, podNamespaceLabel, podUIDLabel } from './pod/labels.js';

describe('the kubelet streaming into an in-process runtime', { skip: runtimeSkipReason() }, () => {
  let fx: RuntimeFixture;
  const ref = { namespace: 'default', name: 'inproc', container: 'main' };

  before(async () => {
    fx = await startRuntimeFixture();
    const pod = { [podNamespaceLabel]: 'default', [podNameLabel]: 'inproc', [podUIDLabel]: 'uid-inproc' };
    await fx.runPod(
      'inproc',
      { metadata: { name: 'main' }, labels: { ...pod, [containerNameLabel]: 'main' }, command: ['sh', '-c', 'echo started; exec sleep 3600'] },
      { labels: pod },
    );
  });
  after(async () => {
    await fx?.close();
  });

  it('runs exec through runtime.streaming, and the CRI path would not', async () => {
    const handle = { runtime: fx.runtime, images: fx.client.image, name: 'k8ts' };
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const inProcess = kubeletStreamingRuntime({ ...handle, streaming: fx.runtime.streaming });
    const r = await inProcess.exec(ref, ['sh', '-c', 'echo hi; exit 3'], { stdout: out, tty: false, signal: new AbortController().signal });
    assert.deepEqual(r, { exitCode: 3 });
    assert.equal(text, 'hi\n');
    await assert.rejects(kubeletStreamingRuntime(handle).exec(ref, ['true'], { stdout: new PassThrough(), tty: false, signal: new AbortController().signal }), (err) =>
      isCriError(err, Code.Unimplemented),
    );
  });

  it("finds the container's log file through CRI", async () => {
    const log = await kubeletStreamingRuntime({ runtime: fx.runtime, images: fx.client.image, name: 'k8ts', streaming: fx.runtime.streaming }).containerLog(ref, false);
    assert.equal(await log.running(), true);
    await fx.waitFor('the log line', async () => ((await readFile(log.path, 'utf8')).includes(' stdout F started') ? true : undefined));
  });
});
