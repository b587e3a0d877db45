import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findUntoleratedTaint, nodeSelectorTermMatches, toleratesTaint } from './node-scheduling.js';

describe('node scheduling rules', () => {
  it('tolerates taints as upstream: Exists with no key matches every taint, effects must agree', () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    assert.equal(toleratesTaint({ operator: 'Exists' }, taint), true);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Equal', value: 'gpu' }, taint), true);
    assert.equal(toleratesTaint({ key: 'dedicated', value: 'cpu' }, taint), false);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint), false);
    assert.deepEqual(findUntoleratedTaint([taint, { key: 'b', effect: 'NoExecute' }], [{ key: 'dedicated', operator: 'Exists' }]), { key: 'b', effect: 'NoExecute' });
  });

  it('matches node selector terms by labels and metadata.name; Gt/Lt only on whole integers', () => {
    const labels = { zone: 'a', cores: '8', odd: '8x' };
    assert.equal(nodeSelectorTermMatches({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels, 'n1'), true);
    assert.equal(nodeSelectorTermMatches({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }, labels, 'n1'), true);
    assert.equal(nodeSelectorTermMatches({ matchExpressions: [{ key: 'odd', operator: 'Gt', values: ['4'] }] }, labels, 'n1'), false);
    assert.equal(nodeSelectorTermMatches({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, labels, 'n1'), false);
    assert.equal(nodeSelectorTermMatches({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }, labels, 'n1'), true);
    assert.equal(nodeSelectorTermMatches({ matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['n1'] }] }, labels, 'n1'), false);
    assert.equal(nodeSelectorTermMatches({}, labels, 'n1'), false);
  });
});
