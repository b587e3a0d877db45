import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { RegistryStore } from '../generic/registry-store.js';
import type { KObject } from '../generic/strategy.js';
import { copy, invalidMessage, openRegistry } from '../core/testing/workload-harness.js';
import { jobStrategy } from './jobs.js';

// The docs' pi job, and what kube-apiserver 1.33 stores for it (its docs' `kubectl get job pi -o yaml`).
const pi = (change: (j: Job) => void = () => {}): KObject => {
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi' },
    spec: {
      template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34.0', command: ['perl', '-Mbignum=bpi', '-wle', 'print bpi(2000)'] }], restartPolicy: 'Never' } },
      backoffLimit: 4,
    },
  };
  change(job);
  return job as KObject;
};

let reg: RegistryStore;
let close: () => Promise<void>;
beforeEach(() => ({ reg, close } = openRegistry(jobStrategy)));
afterEach(() => close());

describe('jobs', () => {
  it('store what upstream stores for the docs example', async () => {
    const created = (await reg.create('default', pi())) as Job;
    const uid = created.metadata!.uid!;
    const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' };
    assert.deepEqual(created.metadata?.labels, labels);
    const { template, ...rest } = created.spec!;
    assert.deepEqual(rest, {
      backoffLimit: 4,
      completionMode: 'NonIndexed',
      completions: 1,
      manualSelector: false,
      parallelism: 1,
      podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      suspend: false,
    });
    assert.deepEqual(template.metadata, { labels });
    assert.equal(template.spec?.dnsPolicy, 'ClusterFirst');
    assert.equal(template.spec?.terminationGracePeriodSeconds, 30);
    assert.deepEqual(created.status, {});
  });

  it('label the pods of a job named from generateName with that name', async () => {
    const created = (await reg.create('default', pi((j) => ((j.metadata = { generateName: 'pi-' }))))) as Job;
    assert.match(created.metadata!.name!, /^pi-[b-df-hj-np-tv-z2456789]{5}$/);
    assert.equal(created.spec?.template.metadata?.labels?.['batch.kubernetes.io/job-name'], created.metadata!.name);
  });

  it('default by upstream\'s rules for parallel and per-index jobs', async () => {
    const parallel = (await reg.create('default', pi((j) => ((j.metadata!.name = 'par'), (j.spec!.parallelism = 3))))) as Job;
    assert.equal(parallel.spec?.completions, undefined, 'a work queue: completions stay unset');
    const perIndex = (await reg.create(
      'default',
      pi((j) => {
        j.metadata!.name = 'idx';
        delete j.spec!.backoffLimit;
        Object.assign(j.spec!, { completionMode: 'Indexed', completions: 3, backoffLimitPerIndex: 1 });
      }),
    )) as Job;
    assert.equal(perIndex.spec?.backoffLimit, 2147483647);
    const withPolicy = (await reg.create(
      'default',
      pi((j) => ((j.metadata!.name = 'pol'), (j.spec!.podFailurePolicy = { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' } as never] }] }))),
    )) as Job;
    assert.equal(withPolicy.spec?.podReplacementPolicy, 'Failed');
    assert.equal(withPolicy.spec?.podFailurePolicy?.rules[0]?.onPodConditions?.[0]?.status, 'True');
  });

  it('want pods that restart OnFailure or Never', async () => {
    assert.equal(
      await invalidMessage(reg.create('default', pi((j) => delete j.spec!.template.spec!.restartPolicy))),
      'Job.batch "pi" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    );
    assert.equal(
      await invalidMessage(
        reg.create('default', pi((j) => ((j.spec!.template.spec!.restartPolicy = 'OnFailure'), (j.spec!.podFailurePolicy = { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] })))),
      ),
      'Job.batch "pi" is invalid: spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
    );
  });

  it('check counts and completion modes', async () => {
    assert.equal(
      await invalidMessage(reg.create('default', pi((j) => (j.spec!.parallelism = -1)))),
      'Job.batch "pi" is invalid: spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
    );
    assert.equal(
      await invalidMessage(reg.create('default', pi((j) => Object.assign(j.spec!, { completionMode: 'Indexed', parallelism: 2 })))),
      'Job.batch "pi" is invalid: spec.completions: Required value: when completion mode is Indexed',
    );
    assert.equal(
      await invalidMessage(reg.create('default', pi((j) => (j.spec!.backoffLimitPerIndex = 1)))),
      'Job.batch "pi" is invalid: spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode',
    );
  });

  it('check selectors: generated ones must stay generated, manual ones must match', async () => {
    const own = await invalidMessage(
      reg.create('default', pi((j) => ((j.spec!.selector = { matchLabels: { app: 'pi' } }), (j.spec!.template.metadata = { labels: { app: 'pi' } })))),
    );
    assert.match(own, /^Job\.batch "pi" is invalid: spec\.selector: Invalid value: v1\.LabelSelector\{MatchLabels:map\[string\]string\{"app":"pi", "batch\.kubernetes\.io\/controller-uid":"[-0-9a-f]{36}"\}, MatchExpressions:\[\]v1\.LabelSelectorRequirement\(nil\)\}: `selector` not auto-generated$/);
    assert.equal(
      await invalidMessage(reg.create('default', pi((j) => (j.spec!.manualSelector = true)))),
      'Job.batch "pi" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`]',
    );
    const manual = (await reg.create(
      'default',
      pi((j) => Object.assign(j.spec!, { manualSelector: true, selector: { matchLabels: { app: 'pi' } }, template: { ...j.spec!.template, metadata: { labels: { app: 'pi' } } } })),
    )) as Job;
    assert.deepEqual(manual.spec?.selector, { matchLabels: { app: 'pi' } });
    assert.deepEqual(manual.spec?.template.metadata?.labels, { app: 'pi' });
  });

  it('keep completions and the template fixed, except scheduling directives of a suspended job', async () => {
    const created = (await reg.create('default', pi())) as Job;
    const more = copy(created as KObject) as Job;
    more.spec!.completions = 3;
    assert.equal(await invalidMessage(reg.update('default', 'pi', more as KObject)), 'Job.batch "pi" is invalid: spec.completions: Invalid value: 3: field is immutable');
    const image = copy(created as KObject) as Job;
    image.spec!.template.spec!.containers[0]!.image = 'perl:5.36';
    const msg = await invalidMessage(reg.update('default', 'pi', image as KObject));
    assert.ok(msg.startsWith('Job.batch "pi" is invalid: spec.template: Invalid value: ') && msg.endsWith(': field is immutable'), msg);
    const wider = copy(created as KObject) as Job;
    wider.spec!.parallelism = 2;
    await reg.update('default', 'pi', wider as KObject);
    await reg.delete('default', 'pi');
    const suspended = (await reg.create('default', pi((j) => (j.spec!.suspend = true)))) as Job;
    const placed = copy(suspended as KObject) as Job;
    placed.spec!.template.spec!.nodeSelector = { zone: 'a' };
    const { object } = await reg.update('default', 'pi', placed as KObject);
    assert.deepEqual((object as Job).spec?.template.spec?.nodeSelector, { zone: 'a' });
  });
});
