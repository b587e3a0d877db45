import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { addOrUpdateTolerations, daemonPodTolerations, nodeShouldRunDaemonPod, pinToNode, targetNodeName } from './daemon-util.js';

const node = (name: string, labels: Record<string, string> = {}, taints: { key: string; value?: string; effect: string }[] = []) => ({
  metadata: { name, labels },
  spec: { taints },
});
const spec = (extra: Partial<PodSpec> = {}): PodSpec => ({ containers: [{ name: 'c' }], ...extra });

describe('nodeShouldRunDaemonPod', () => {
  it('runs everywhere by default, also on cordoned and unreachable nodes (automatic tolerations)', () => {
    const tainted = node('a', {}, [
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    ]);
    // The unreachable NoSchedule taint is not among the automatic tolerations: existing pods stay, no new ones.
    assert.deepEqual(nodeShouldRunDaemonPod(spec(), tainted), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(spec(), node('b', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }])), {
      shouldRun: true,
      shouldContinueRunning: true,
    });
  });

  it('keeps pods on nodes with new NoSchedule taints but not NoExecute ones', () => {
    assert.deepEqual(nodeShouldRunDaemonPod(spec(), node('a', {}, [{ key: 'x', effect: 'NoSchedule' }])), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(spec(), node('a', {}, [{ key: 'x', effect: 'NoExecute' }])), { shouldRun: false, shouldContinueRunning: false });
    const tolerating = spec({ tolerations: [{ key: 'x', operator: 'Exists' }] });
    assert.equal(nodeShouldRunDaemonPod(tolerating, node('a', {}, [{ key: 'x', effect: 'NoExecute' }])).shouldRun, true);
  });

  it('honours nodeSelector, required node affinity and spec.nodeName', () => {
    assert.equal(nodeShouldRunDaemonPod(spec({ nodeSelector: { disk: 'ssd' } }), node('a', { disk: 'hdd' })).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(spec({ nodeSelector: { disk: 'ssd' } }), node('a', { disk: 'ssd' })).shouldRun, true);
    const affinity = (operator: string, values?: string[]) =>
      spec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator, ...(values ? { values } : {}) }] }] } } } });
    assert.equal(nodeShouldRunDaemonPod(affinity('Gt', ['3']), node('a', { gen: '4' })).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(affinity('Gt', ['3']), node('a', { gen: '3' })).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(affinity('NotIn', ['1']), node('a', {})).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(affinity('DoesNotExist'), node('a', { gen: '1' })).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(spec({ nodeName: 'b' }), node('a')).shouldRun, false);
  });
});

describe('daemon pod templates', () => {
  it('adds the network-unavailable toleration only for hostNetwork pods, without duplicates', () => {
    assert.equal(daemonPodTolerations(false).length, 6);
    assert.equal(daemonPodTolerations(true).length, 7);
    const merged = addOrUpdateTolerations([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }], daemonPodTolerations(false));
    assert.equal(merged.length, 6);
  });

  it('pins the pod to its node, keeping preferred affinities', () => {
    const preferred = [{ weight: 1, preference: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } }];
    const a = pinToNode({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: preferred } }, 'n7');
    assert.deepEqual(a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n7'] }] }],
    });
    assert.deepEqual(a.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution, preferred);
    assert.equal(targetNodeName({ spec: { containers: [], affinity: a } }), 'n7');
    assert.equal(targetNodeName({ spec: { containers: [], nodeName: 'n1', affinity: a } }), 'n1');
  });
});
