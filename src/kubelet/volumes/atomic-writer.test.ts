import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { FileProjection } from './atomic-writer.js';
import { validatePayloadPath, writeAtomically } from './atomic-writer.js';
import { volumePayload } from './payload.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'k8ts-aw-'));
  dirs.push(d);
  return d;
}
const files = (o: Record<string, string>, mode = 0o644): Map<string, FileProjection> => new Map(Object.entries(o).map(([k, v]) => [k, { data: v, mode }]));

describe('atomic writer', () => {
  it('lays files out behind ..data and swaps them on update', async () => {
    const d = tmp();
    assert.equal(await writeAtomically(d, files({ a: 'one', 'sub/b': 'two' })), true);
    const first = readlinkSync(path.join(d, '..data'));
    assert.match(first, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d{9}$/);
    assert.equal(readlinkSync(path.join(d, 'a')), '..data/a');
    assert.equal(readlinkSync(path.join(d, 'sub')), '..data/sub');
    assert.equal(readFileSync(path.join(d, 'sub', 'b'), 'utf8'), 'two');
    assert.equal(lstatSync(path.join(d, first, 'a')).mode & 0o777, 0o644);
    // Unchanged content writes nothing.
    assert.equal(await writeAtomically(d, files({ a: 'one', 'sub/b': 'two' })), false);
    assert.equal(readlinkSync(path.join(d, '..data')), first);
    // An update replaces the folder, drops a removed key's link and the old folder.
    assert.equal(await writeAtomically(d, files({ a: 'uno', c: 'three' }, 0o400)), true);
    const second = readlinkSync(path.join(d, '..data'));
    assert.notEqual(second, first);
    assert.equal(readFileSync(path.join(d, 'a'), 'utf8'), 'uno');
    assert.equal(lstatSync(path.join(d, second, 'c')).mode & 0o777, 0o400);
    assert.deepEqual(readdirSync(d).sort(), ['..data', second, 'a', 'c'].sort());
  });

  it('rejects payload paths that escape the volume', () => {
    assert.throws(() => validatePayloadPath('/etc/passwd'), /must be relative path/);
    assert.throws(() => validatePayloadPath('a/../../b'), /must not contain '\.\.'/);
    assert.throws(() => validatePayloadPath('..hidden'), /must not start with '\.\.'/);
  });
});

describe('volume payloads', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns', labels: { a: 'b', c: 'd' } }, spec: { containers: [{ name: 'app', resources: { limits: { memory: '64Mi' } } }] } };
  const sources = {
    configMap: (_ns: string, name: string) => (name === 'cm' ? { data: { k1: 'v1', k2: 'v2' } } : undefined),
    secret: (_ns: string, name: string) => (name === 's' ? { data: { pw: Buffer.from('x').toString('base64') } } : undefined),
  };
  const node = { nodeName: 'n', hostIPs: ['10.0.0.1'], allocatable: { cpu: '2', memory: '4Gi' } };

  it('projects all keys, or the listed items with their modes', async () => {
    const all = await volumePayload(pod, { name: 'v', configMap: { name: 'cm', defaultMode: 0o600 } }, sources, node);
    assert.deepEqual([...all!].map(([k, f]) => [k, String(f.data), f.mode]), [
      ['k1', 'v1', 0o600],
      ['k2', 'v2', 0o600],
    ]);
    const some = await volumePayload(pod, { name: 'v', secret: { secretName: 's', items: [{ key: 'pw', path: 'dir/password', mode: 0o400 }] } }, sources, node);
    assert.deepEqual([...some!].map(([k, f]) => [k, Buffer.from(f.data).toString(), f.mode]), [['dir/password', 'x', 0o400]]);
  });

  it('fails for missing objects and keys unless optional', async () => {
    await assert.rejects(volumePayload(pod, { name: 'v', secret: { secretName: 'gone' } }, sources, node), /secret "gone" not found/);
    await assert.rejects(volumePayload(pod, { name: 'v', configMap: { name: 'cm', items: [{ key: 'nope', path: 'x' }] } }, sources, node), /configmap references non-existent config key: nope/);
    assert.equal((await volumePayload(pod, { name: 'v', secret: { secretName: 'gone', optional: true } }, sources, node))!.size, 0);
  });

  it('writes downward API files and projected sources', async () => {
    const p = await volumePayload(
      pod,
      {
        name: 'v',
        projected: {
          sources: [
            { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'mem', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } }] } },
            { configMap: { name: 'cm', items: [{ key: 'k2', path: 'k2' }] } },
          ],
        },
      },
      sources,
      node,
    );
    assert.deepEqual(Object.fromEntries([...p!].map(([k, f]) => [k, String(f.data)])), { labels: 'a="b"\nc="d"', mem: '64', k2: 'v2' });
  });
});
