import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchingTolerations, minTolerationMs } from './taint-eviction-controller.js';

const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
const notReady = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };

describe('taint eviction timing', () => {
  it('evicts at once when a taint is not tolerated', () => {
    const r = matchingTolerations([unreachable, notReady], [{ key: unreachable.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    assert.equal(r.all, false);
  });

  it('waits the least tolerationSeconds of the tolerations in use', () => {
    const r = matchingTolerations([unreachable], [
      { key: unreachable.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: unreachable.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
    ]);
    assert.equal(r.all, true);
    assert.equal(minTolerationMs(r.used), 300_000, 'the first matching toleration is the one used');
    assert.equal(minTolerationMs([{ tolerationSeconds: 300 }, { tolerationSeconds: 5 }]), 5000);
  });

  it('tolerates forever without tolerationSeconds, and evicts at once for zero or less', () => {
    const all = matchingTolerations([unreachable, notReady], [{ operator: 'Exists' }]);
    assert.equal(all.all, true);
    assert.equal(minTolerationMs(all.used), -1);
    assert.equal(minTolerationMs([{ operator: 'Exists', tolerationSeconds: 0 }]), 0);
    assert.equal(minTolerationMs([{ operator: 'Exists', tolerationSeconds: -3 }]), 0);
  });
});
