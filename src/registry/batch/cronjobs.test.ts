import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import type { KObject } from '../generic/strategy.js';
import { invalidMessage, openRegistry } from '../core/testing/workload-harness.js';
import { cronJobStrategy } from './cronjobs.js';

// The docs' hello CronJob, and what kube-apiserver 1.33 stores for it.
const hello = (change: (c: CronJob) => void = () => {}): KObject => {
  const cj: CronJob = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello' },
    spec: {
      schedule: '* * * * *',
      jobTemplate: {
        spec: {
          template: {
            spec: {
              containers: [{ name: 'hello', image: 'busybox:1.28', command: ['/bin/sh', '-c', 'date; echo Hello from the Kubernetes cluster'] }],
              restartPolicy: 'OnFailure',
            },
          },
        },
      },
    },
  };
  change(cj);
  return cj as KObject;
};

describe('cronjobs', () => {
  const { reg, close } = openRegistry(cronJobStrategy);
  after(close);

  it('store what upstream stores for the docs example', async () => {
    const created = (await reg.create('default', hello())) as CronJob;
    const { jobTemplate, ...rest } = created.spec!;
    assert.deepEqual(rest, { concurrencyPolicy: 'Allow', failedJobsHistoryLimit: 1, schedule: '* * * * *', successfulJobsHistoryLimit: 3, suspend: false });
    const { template, ...jobSpec } = jobTemplate.spec!;
    assert.deepEqual(jobSpec, {}, 'the job template is not job-defaulted');
    assert.equal(template.spec?.schedulerName, 'default-scheduler');
    assert.equal(template.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(created.status, {});
  });

  it('check the schedule and time zone with upstream\'s messages', async () => {
    const bad = async (change: (c: CronJob) => void) => invalidMessage(reg.create('default', hello(change)));
    assert.equal(
      await bad((c) => (c.spec!.schedule = '61 * * * *')),
      'CronJob.batch "hello" is invalid: spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    );
    assert.equal(
      await bad((c) => (c.spec!.schedule = 'every minute')),
      'CronJob.batch "hello" is invalid: spec.schedule: Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]',
    );
    assert.equal(
      await bad((c) => (c.spec!.schedule = 'TZ=UTC 0 * * * *')),
      'CronJob.batch "hello" is invalid: spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    );
    assert.equal(
      await bad((c) => (c.spec!.timeZone = 'Mars/Olympus')),
      'CronJob.batch "hello" is invalid: spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
    );
    assert.equal(await bad((c) => (c.spec!.schedule = '')), 'CronJob.batch "hello" is invalid: spec.schedule: Required value');
  });

  it('check the rest of the spec and the name length', async () => {
    const bad = async (change: (c: CronJob) => void) => invalidMessage(reg.create('default', hello(change)));
    assert.equal(
      await bad((c) => (c.spec!.concurrencyPolicy = 'Sometimes')),
      'CronJob.batch "hello" is invalid: spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    );
    assert.equal(
      await bad((c) => delete c.spec!.jobTemplate.spec!.template.spec!.restartPolicy),
      'CronJob.batch "hello" is invalid: spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    );
    assert.equal(
      await bad((c) => (c.spec!.jobTemplate.spec!.selector = { matchLabels: { a: 'b' } })),
      'CronJob.batch "hello" is invalid: spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, ' +
        'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated',
    );
    const long = 'a'.repeat(53);
    assert.equal(await bad((c) => (c.metadata!.name = long)), `CronJob.batch "${long}" is invalid: metadata.name: Invalid value: "${long}": must be no more than 52 characters`);
  });
});
