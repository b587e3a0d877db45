import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeHash } from './compute-hash.js';

const template = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
};

describe('computeHash', () => {
  it('renders FNV-32a of the template in the safe alphabet, one character per decimal digit', () => {
    const h = computeHash(template, undefined);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(computeHash(structuredClone(template), undefined), h);
  });

  it('does not depend on key order', () => {
    const reordered = {
      spec: { containers: [{ image: 'nginx:1', name: 'c' }] },
      metadata: { labels: { app: 'web' } },
    };
    assert.equal(computeHash(reordered, undefined), computeHash(template, undefined));
  });

  it('changes with the template and with the collision count', () => {
    const other = { ...template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } };
    const base = computeHash(template, undefined);
    assert.notEqual(computeHash(other, undefined), base);
    assert.notEqual(computeHash(template, 1), base);
    assert.notEqual(computeHash(template, 2), computeHash(template, 1));
  });

  it('is FNV-32a: the empty object hashes as the bytes "{}"', () => {
    // Computed independently with BigInt arithmetic from the published offset basis and prime.
    let h = 0x811c9dc5;
    for (const b of [0x7b, 0x7d]) h = Number((BigInt(h ^ b) * 16777619n) & 0xffffffffn);
    const digits = String(h >>> 0);
    const expected = [...digits].map((c) => 'bcdfghjklmnpqrstvwxz2456789'[c.charCodeAt(0) % 27]).join('');
    assert.equal(computeHash({}, undefined), expected);
  });
});
