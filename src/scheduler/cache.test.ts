// The cache's assume/confirm/forget cycle and its running counts; the metrics' text form.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchedulerCache } from './cache.js';
import { SchedulerMetrics } from './metrics.js';
import { newPodInfo } from './pod-info.js';
import { makeNode, makePod } from './testing/objects.js';

describe('scheduler cache', () => {
  it('counts an assumed pod at once, and forgets it when binding fails', () => {
    const c = new SchedulerCache();
    c.addNode(makeNode('n1', { cpu: '2' }));
    const p = newPodInfo(makePod('p', { cpu: '1500m', uid: 'p' }));
    c.assumePod(p, 'n1');
    assert.equal(c.node('n1')!.requested.milliCPU, 1500);
    assert.ok(c.isAssumed('p'));
    assert.throws(() => c.assumePod(p, 'n1'), /can't be assumed/);
    c.forgetPod('p');
    assert.equal(c.node('n1')!.requested.milliCPU, 0);
    // Assumed, then confirmed by the informer: counted once.
    c.assumePod(p, 'n1');
    c.addPod(p, 'n1');
    assert.ok(!c.isAssumed('p'));
    assert.equal(c.node('n1')!.requested.milliCPU, 1500);
    assert.equal(c.node('n1')!.pods.size, 1);
    c.removePod('p');
    assert.equal(c.node('n1')!.pods.size, 0);
  });

  it('keeps per-term topology counts current as pods and node labels change', () => {
    const c = new SchedulerCache();
    c.addNode(makeNode('a1', { labels: { zone: 'a' } }));
    c.addNode(makeNode('b1', { labels: { zone: 'b' } }));
    const labels = { app: 'web' };
    const aff = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'zone' }] } } };
    const probe = newPodInfo(makePod('probe', { spec: aff }));
    const term = probe.requiredAffinity[0]!;
    c.addPod(newPodInfo(makePod('w1', { labels, uid: 'w1' })), 'a1');
    assert.deepEqual([...c.termCounts(term)], [['a', 1]]);
    c.addPod(newPodInfo(makePod('w2', { labels, uid: 'w2' })), 'b1');
    c.addPod(newPodInfo(makePod('other', { uid: 'o' })), 'b1');
    assert.deepEqual(Object.fromEntries(c.termCounts(term)), { a: 1, b: 1 });
    c.removePod('w1');
    assert.deepEqual(Object.fromEntries(c.termCounts(term)), { b: 1 });
    c.addNode(makeNode('b1', { labels: { zone: 'c' } }));
    assert.deepEqual(Object.fromEntries(c.termCounts(term)), { c: 1 });
    assert.deepEqual(Object.fromEntries(c.domains('zone')), { a: 1, c: 1 });
  });
});

describe('scheduler metrics', () => {
  it('writes Prometheus text with upstream names and buckets', () => {
    const m = new SchedulerMetrics();
    m.pendingPods(() => ({ active: 2, backoff: 0, unschedulable: 1, gated: 0 }));
    m.scheduleAttempts.inc({ result: 'scheduled', profile: 'default-scheduler' });
    m.attemptDuration.observe({ result: 'scheduled', profile: 'default-scheduler' }, 0.003);
    const text = m.registry.text();
    assert.match(text, /^# TYPE scheduler_schedule_attempts_total counter$/m);
    assert.match(text, /^scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 1$/m);
    assert.match(text, /^scheduler_scheduling_attempt_duration_seconds_bucket\{result="scheduled",profile="default-scheduler",le="0.002"\} 0$/m);
    assert.match(text, /^scheduler_scheduling_attempt_duration_seconds_bucket\{result="scheduled",profile="default-scheduler",le="0.004"\} 1$/m);
    assert.match(text, /^scheduler_scheduling_attempt_duration_seconds_bucket\{result="scheduled",profile="default-scheduler",le="16.384"\} 1$/m);
    assert.match(text, /^scheduler_scheduling_attempt_duration_seconds_count\{result="scheduled",profile="default-scheduler"\} 1$/m);
    assert.match(text, /^scheduler_pending_pods\{queue="unschedulable"\} 1$/m);
  });
});
