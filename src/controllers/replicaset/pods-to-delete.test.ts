// The deletion order of surplus pods, criterion by criterion, with pods that differ in one respect only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from './pod.js';
import { podsToDelete } from './pods-to-delete.js';

const now = Date.parse('2026-01-01T12:00:00Z');
const ago = (s: number): string => new Date(now - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Opts {
  node?: string;
  phase?: string;
  readySince?: number;
  restarts?: number;
  createdAgo?: number;
  cost?: string;
  uid?: string;
}

function pod(name: string, o: Opts = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: o.uid ?? name,
      creationTimestamp: ago(o.createdAgo ?? 100_000),
      ...(o.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}),
    },
    spec: { nodeName: o.node ?? 'n1' },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.readySince !== undefined ? [{ type: 'Ready', status: 'True', lastTransitionTime: ago(o.readySince) }] : [],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  };
}

/** The name podsToDelete picks first from the pair, trying both input orders. */
function first(a: Pod, b: Pod, related: Pod[] = []): string {
  const x = podsToDelete([a, b], related, 1, now)[0]!.metadata!.name!;
  const y = podsToDelete([b, a], related, 1, now)[0]!.metadata!.name!;
  assert.equal(x, y, 'the order must not depend on the input order');
  return x;
}

describe('podsToDelete', () => {
  it('prefers unassigned, then earlier phases, then not ready', () => {
    assert.equal(first(pod('assigned', { phase: 'Pending' }), pod('unassigned', { node: '', readySince: 10 })), 'unassigned');
    assert.equal(first(pod('running'), pod('pending', { phase: 'Pending' })), 'pending');
    assert.equal(first(pod('running'), pod('unknown', { phase: 'Unknown' })), 'unknown');
    assert.equal(first(pod('unknown', { phase: 'Unknown' }), pod('pending', { phase: 'Pending' })), 'pending');
    assert.equal(first(pod('ready', { readySince: 10 }), pod('unready')), 'unready');
  });

  it('then lower deletion cost, then pods doubled up on a node', () => {
    // Readiness outranks cost.
    assert.equal(first(pod('cheap', { cost: '-5', readySince: 10 }), pod('dear', { cost: '10' })), 'dear');
    assert.equal(first(pod('cheap', { cost: '-5' }), pod('dear', { cost: '10' })), 'cheap');
    assert.equal(first(pod('bad-cost', { cost: 'x' }), pod('dear', { cost: '1' })), 'bad-cost');
    const related = [pod('r1', { node: 'crowded' }), pod('r2', { node: 'crowded' }), pod('r3', { node: 'quiet' })];
    assert.equal(first(pod('a', { node: 'quiet' }), pod('b', { node: 'crowded' }), related), 'b');
  });

  it('then ready for less time, more restarts, newer, on a log scale with UID order among equals', () => {
    assert.equal(first(pod('old-ready', { readySince: 10_000 }), pod('new-ready', { readySince: 10 })), 'new-ready');
    assert.equal(first(pod('calm'), pod('crashy', { restarts: 3 })), 'crashy');
    assert.equal(first(pod('old', { createdAgo: 100_000 }), pod('young', { createdAgo: 60 })), 'young');
    // 100 s and 101 s ago share a log2 bucket: the lower UID goes first, whatever the age.
    assert.equal(first(pod('p1', { createdAgo: 101, uid: 'b' }), pod('p2', { createdAgo: 100, uid: 'a' })), 'p2');
    assert.equal(first(pod('p1', { createdAgo: 101, uid: 'a' }), pod('p2', { createdAgo: 100, uid: 'b' })), 'p1');
  });

  it('returns everything when asked for as many pods as there are', () => {
    const pods = [pod('a'), pod('b')];
    assert.deepEqual(podsToDelete(pods, [], 5, now).map((p) => p.metadata?.name), ['a', 'b']);
  });
});
