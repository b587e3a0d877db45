import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { copyCriLog, formatRfc3339NanoFixed, parseCriLogLine, parseRfc3339Nano } from './cri-logs.js';
import { parseLogOptions } from './kubelet-server.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-cri-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sink(): { out: Writable; text: () => string } {
  let text = '';
  return {
    out: new Writable({
      write(chunk: Buffer, _e, cb) {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

const log = [
  '2026-01-01T10:00:00.000000001Z stdout F one',
  '2026-01-01T10:00:01Z stderr F two',
  '2026-01-01T10:00:02.5Z stdout P thr',
  '2026-01-01T10:00:02.6Z stdout F ee',
  'garbage line',
  '',
].join('\n');

describe('CRI logs', () => {
  it('parses lines and times to the nanosecond', () => {
    assert.deepEqual(parseCriLogLine('2026-01-01T10:00:00.000000001Z stdout F hello world'), {
      time: 1767261600000000001n,
      stream: 'stdout',
      partial: false,
      content: 'hello world',
    });
    assert.equal(parseCriLogLine('2026-01-01T10:00:00Z stdout P:x ')?.partial, true);
    assert.equal(parseCriLogLine('not a log line'), undefined);
    assert.equal(parseRfc3339Nano('2026-01-01T11:00:00.5+01:00'), 1767261600500000000n);
    assert.equal(formatRfc3339NanoFixed(1767261600000000001n), '2026-01-01T10:00:00.000000001Z');
  });

  it('copies with tail, since, timestamps and limitBytes', async () => {
    const file = path.join(dir, 'a.log');
    writeFileSync(file, log);
    const run = async (opts: Parameters<typeof copyCriLog>[2]): Promise<string> => {
      const s = sink();
      await copyCriLog(file, s.out, opts, async () => false, new AbortController().signal);
      return s.text();
    };
    assert.equal(await run({}), 'one\ntwo\nthree\n');
    // The malformed line counts as a line of the file, as the kubelet counts them.
    assert.equal(await run({ tailLines: 3 }), 'three\n');
    assert.equal(await run({ tailLines: 0 }), '');
    assert.equal(await run({ since: parseRfc3339Nano('2026-01-01T10:00:01Z')! }), 'two\nthree\n');
    assert.equal(await run({ timestamps: true, tailLines: 4 }), '2026-01-01T10:00:01.000000000Z two\n2026-01-01T10:00:02.500000000Z thr2026-01-01T10:00:02.600000000Z ee\n');
    assert.equal(await run({ limitBytes: 5 }), 'one\nt');
  });

  it('follows appended lines until the container stops', async () => {
    const file = path.join(dir, 'b.log');
    writeFileSync(file, '2026-01-01T10:00:00Z stdout F first\n');
    let running = true;
    const s = sink();
    const done = copyCriLog(file, s.out, { follow: true }, async () => running, new AbortController().signal, 5);
    const until = async (cond: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await until(() => s.text() === 'first\n');
    appendFileSync(file, '2026-01-01T10:00:01Z stdout F sec');
    appendFileSync(file, 'ond\n');
    await until(() => s.text() === 'first\nsecond\n');
    running = false;
    await done;
  });

  it('follows into the new file when the log is rotated', async () => {
    const file = path.join(dir, 'c.log');
    writeFileSync(file, '2026-01-01T10:00:00Z stdout F before\n');
    let running = true;
    const s = sink();
    const done = copyCriLog(file, s.out, { follow: true }, async () => running, new AbortController().signal, 5);
    const until = async (cond: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out at ${JSON.stringify(s.text())}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await until(() => s.text() === 'before\n');
    appendFileSync(file, '2026-01-01T10:00:01Z stdout F last of the old file\n');
    renameSync(file, `${file}.20260101-100002`);
    writeFileSync(file, '2026-01-01T10:00:02Z stdout F after\n');
    await until(() => s.text() === 'before\nlast of the old file\nafter\n');
    running = false;
    await done;
  });

  it('reads the query of /containerLogs', () => {
    const q = new URLSearchParams('follow=true&timestamps=true&tailLines=5&limitBytes=10&sinceSeconds=60');
    assert.deepEqual(parseLogOptions(q, () => 1_000_000), { follow: true, timestamps: true, tailLines: 5, limitBytes: 10, since: 940_000_000_000n });
    assert.equal(parseLogOptions(new URLSearchParams('sinceTime=2026-01-01T10:00:00Z'), () => 0).since, 1767261600000000000n);
    assert.throws(() => parseLogOptions(new URLSearchParams('tailLines=x'), () => 0), /invalid tailLines/);
  });
});
