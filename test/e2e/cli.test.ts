import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { K8tsProcess, runK8ts } from '../helpers/k8ts-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('k8ts CLI', () => {
  it('prints its version and the Kubernetes version it serves', async () => {
    const r = await runK8ts(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^k8ts version v\d+\.\d+\.\d+ \(Kubernetes v1\.33\.\d+\)\nnode version v\d+/);
  });

  it('lists its commands with --help and refuses unknown commands and flags', async () => {
    const help = await runK8ts(['--help']);
    assert.equal(help.code, 0);
    for (const c of ['server', 'store check', 'version']) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'));
    const serverHelp = await runK8ts(['server', '--help']);
    assert.match(serverHelp.stdout, /--datastore-endpoint/);
    assert.match(serverHelp.stdout, /--data-dir/);
    const unknown = await runK8ts(['frobnicate']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badFlag = await runK8ts(['server', '--no-such-flag']);
    assert.equal(badFlag.code, 1);
    assert.match(badFlag.stderr, /no-such-flag/);
    assert.match(serverHelp.stdout, /--terminated-pod-gc-threshold value .*\(default: 12500\)/);
    const badThreshold = await runK8ts(['server', '--data-dir', dir, '--terminated-pod-gc-threshold', 'many']);
    assert.equal(badThreshold.code, 1);
    assert.match(badThreshold.stderr, /invalid --terminated-pod-gc-threshold: many/);
    const badEndpoint = await runK8ts(['store', 'check', '--datastore-endpoint', 'mysql://x', '--data-dir', dir]);
    assert.equal(badEndpoint.code, 1);
    assert.match(badEndpoint.stderr, /unsupported datastore endpoint scheme "mysql"/);
  });

  it('runs the server on its store, stops on SIGTERM, and starts again on the same data', async () => {
    const dataDir = path.join(dir, 'server');
    // Without the controller manager, the scheduler (their leases), the cluster DNS and the cloud controller (the
    // kube-dns Service), only the API server's own writes change the revision.
    const serverArgs = [
      'server',
      '--data-dir',
      dataDir,
      '--https-listen-port',
      '0',
      '--bind-address',
      '127.0.0.1',
      '--disable-controller-manager',
      '--disable-scheduler',
      '--disable',
      'coredns,servicelb',
      '--disable-cloud-controller',
    ];
    const first = new K8tsProcess(serverArgs);
    const ready = await first.waitForLog(/"msg":"store ready".*"revision":(\d+)/);
    assert.equal(ready[1], '0');
    assert.match(first.output, new RegExp(`"endpoint":"${path.join(dataDir, 'db', 'state.db')}"`));
    // The first start creates the two system PriorityClasses, the four system namespaces, the default
    // ServiceCIDR (and marks it Ready), and the kubernetes Service with the IPAddress of its cluster IP (no
    // endpoints when the server is bound to loopback).
    await first.waitForLog(/"msg":"API server ready"/);
    assert.equal(await first.stop('SIGTERM'), 0);
    assert.match(first.output, /"msg":"stopped"/);

    const check = await runK8ts(['store', 'check', '--data-dir', dataDir]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^ok {2}watch delivered create, update, delete/m);
    assert.match(check.stdout, /store check passed/);

    const second = new K8tsProcess(serverArgs);
    const again = await second.waitForLog(/"msg":"store ready".*"revision":(\d+)/);
    assert.equal(
      again[1],
      '13',
      'the two priority classes, the four namespaces, the ServiceCIDR with its status, the kubernetes Service with its IPAddress and the three writes of the check survive the restart',
    );
    await second.waitForLog(/"msg":"API server ready"/);
    // A second server on the same file is refused while the first runs.
    const clash = await runK8ts(['store', 'check', '--data-dir', dataDir]);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /in use by another process/);
    assert.equal(await second.stop('SIGINT'), 0);
  });
});
