import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { KObject } from '../generic/strategy.js';
import {
  markNamespaceTerminating,
  namespaceFinalizeStrategy,
  namespaceMayBeRemoved,
  namespaceStrategy,
} from './namespaces.js';
import { harnessNow, StrategyHarness } from './testing/strategy-harness.js';

const h = new StrategyHarness(namespaceStrategy);
after(() => h.close());

describe('namespaces', () => {
  it('stores what upstream stores for a bare namespace: the name label, the kubernetes finalizer, Active', async () => {
    const ns = await h.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    assert.deepEqual(ns.metadata?.labels, { 'kubernetes.io/metadata.name': 'team-a' });
    assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(ns.status, { phase: 'Active' });
  });

  it('labels a generated name and ignores a client-set status and a wrong label', async () => {
    const ns = await h.create({
      metadata: { generateName: 'gen-', labels: { 'kubernetes.io/metadata.name': 'other', team: 'x' } },
      spec: { finalizers: ['example.com/hold'] },
      status: { phase: 'Terminating' },
    });
    const name = ns.metadata?.name ?? '';
    assert.match(name, /^gen-[a-z0-9]{5}$/);
    assert.deepEqual(ns.metadata?.labels, { 'kubernetes.io/metadata.name': name, team: 'x' });
    assert.deepEqual(ns.spec, { finalizers: ['example.com/hold', 'kubernetes'] });
    assert.deepEqual(ns.status, { phase: 'Active' });
  });

  it('rejects names that are not DNS labels, with upstream message', async () => {
    const { message } = await h.invalid(h.create({ metadata: { name: 'Team.A' } }));
    assert.equal(
      message,
      'Namespace "Team.A" is invalid: metadata.name: Invalid value: "Team.A": a lowercase RFC 1123 label must consist of lower case ' +
        "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', " +
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  });

  it('rejects an unqualified finalizer that is not a standard one', async () => {
    const { causes } = await h.invalid(
      h.create({ metadata: { name: 'f' }, spec: { finalizers: ['custom'] } }),
    );
    assert.deepEqual(causes, [
      'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });

  it('keeps spec.finalizers and status on update, and the name label whatever the client sends', async () => {
    const ns = await h.createThenUpdate({ metadata: { name: 'keep' } }, (s) => {
      s.spec = { finalizers: [] };
      s.status = { phase: 'Terminating' };
      s.metadata!.labels = { 'kubernetes.io/metadata.name': 'changed', extra: 'y' };
    });
    assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(ns.status, { phase: 'Active' });
    assert.deepEqual(ns.metadata?.labels, { 'kubernetes.io/metadata.name': 'keep', extra: 'y' });
  });

  it('refuses a status phase that does not match deletionTimestamp', async () => {
    const stored = await h.create({ metadata: { name: 'phase' } });
    stored.status = { phase: 'Terminating' };
    const { causes } = await h.invalid(h.update(stored, 'status'));
    assert.deepEqual(causes, [
      'status.Phase: Invalid value: "Terminating": may only be \'Active\' if `deletionTimestamp` is empty',
    ]);
  });

  it('changes spec.finalizers through the finalize strategy only', async () => {
    const fin = new StrategyHarness(namespaceFinalizeStrategy);
    try {
      const stored = await fin.create({ metadata: { name: 'fin' } });
      stored.spec = { finalizers: ['bad name'] };
      const { causes } = await fin.invalid(fin.update(stored));
      assert.equal(causes.length, 2);
      assert.match(
        causes[0]!,
        /^spec\.finalizers\[0\]: Invalid value: "bad name": name part must consist of/,
      );
      stored.spec = { finalizers: [] };
      const updated = await fin.update(stored);
      assert.deepEqual(updated.spec, { finalizers: [] });
    } finally {
      fin.close();
    }
  });

  it('marks a deleted namespace Terminating until its finalizers are gone', () => {
    const ns: KObject = {
      metadata: { name: 'x' },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    const marked = markNamespaceTerminating(ns, harnessNow, 'Foreground');
    assert.ok(marked);
    assert.equal(marked.metadata?.deletionTimestamp, '2026-01-02T03:04:05Z');
    assert.deepEqual(marked.status, { phase: 'Terminating' });
    assert.deepEqual(marked.metadata?.finalizers, ['foregroundDeletion']);
    assert.equal(markNamespaceTerminating(marked, harnessNow), undefined);
    assert.equal(namespaceMayBeRemoved(marked), false);
    assert.equal(namespaceMayBeRemoved({ ...marked, spec: { finalizers: [] } }), true);
  });
});
