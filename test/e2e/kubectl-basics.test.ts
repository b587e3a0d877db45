// The first kubectl commands against `k8ts server`, with real kubectl 1.29 and 1.33.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubectlAgainstServer } from '../helpers/kubectl.js';

const deployment = (image: string, ports: number[]): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
${ports.map((p) => `        - containerPort: ${p}`).join('\n')}
`;

for (const minor of [27, 29, 33]) {
  describe(`kubectl 1.${minor} against k8ts server`, () => {
    const { k } = kubectlAgainstServer(minor, 'kubectl');

    it('reports the server version and lists the system namespaces', async () => {
      const v = await k(['version', '-o', 'json']);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(JSON.parse(v.stdout).serverVersion.gitVersion, 'v1.33.0+k8ts');
      const ns = await k(['get', 'namespaces', '-o', 'name']);
      assert.equal(ns.code, 0, ns.stderr);
      assert.deepEqual(ns.stdout.trim().split('\n').sort(), [
        'namespace/default',
        'namespace/kube-node-lease',
        'namespace/kube-public',
        'namespace/kube-system',
      ]);
    });

    it('discovers resources with their short names', async () => {
      const r = await k(['api-resources', '--no-headers']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      assert.match(r.stdout, /^pods\s+po\s+v1\s+true\s+Pod$/m);
      assert.match(r.stdout, /^nodes\s+no\s+v1\s+false\s+Node$/m);
      const v = await k(['api-versions']);
      assert.match(v.stdout, /^apps\/v1$/m);
      assert.match(v.stdout, /^autoscaling\/v2$/m);
    });

    it('applies, re-applies a changed manifest, reads it back and deletes it', async () => {
      const first = await k(['apply', '-f', '-'], deployment('nginx:1.25', [80, 443]));
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /deployment\.apps\/web created/);
      const second = await k(['apply', '-f', '-'], deployment('nginx:1.26', [80]));
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /deployment\.apps\/web configured/);
      const got = await k(['get', 'deployment', 'web', '-o', 'json']);
      const obj = JSON.parse(got.stdout);
      assert.equal(obj.spec.template.spec.containers[0].image, 'nginx:1.26');
      assert.deepEqual(obj.spec.template.spec.containers[0].ports.map((p: { containerPort: number }) => p.containerPort), [80]);
      assert.equal(obj.metadata.generation, 2);
      const table = await k(['get', 'deployments', '-o', 'wide']);
      assert.match(table.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m);
      // The Deployment controller is at work meanwhile: UP-TO-DATE counts what it made so far.
      assert.match(table.stdout, /^web\s+0\/2\s+\d+\s+0\s+\S+\s+web\s+nginx:1\.26\s+app=web$/m);
      const del = await k(['delete', 'deployment', 'web']);
      assert.equal(del.code, 0, del.stderr);
      assert.match(del.stdout, /deployment\.apps "web" deleted/);
      const gone = await k(['get', 'deployment', 'web']);
      assert.equal(gone.code, 1);
      assert.equal(gone.stderr.trim(), 'Error from server (NotFound): deployments.apps "web" not found');
    });

    it('creates typed objects (kubectl 1.32+ sends them as protobuf)', async () => {
      for (const args of [
        ['create', 'namespace', 'typed'],
        ['create', 'configmap', 'cm1', '-n', 'typed', '--from-literal=a=b'],
        ['create', 'secret', 'generic', 's1', '-n', 'typed', '--from-literal=password=hunter2'],
        ['create', 'deployment', 'd1', '-n', 'typed', '--image=busybox', '--replicas=3'],
        ['create', 'job', 'j1', '-n', 'typed', '--image=busybox', '--', 'true'],
        ['create', 'serviceaccount', 'sa1', '-n', 'typed'],
      ]) {
        const r = await k(args);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      }
      const cm = JSON.parse((await k(['get', 'configmap', 'cm1', '-n', 'typed', '-o', 'json'])).stdout);
      assert.deepEqual(cm.data, { a: 'b' });
      const secret = JSON.parse((await k(['get', 'secret', 's1', '-n', 'typed', '-o', 'json'])).stdout);
      assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 'hunter2');
      const d = JSON.parse((await k(['get', 'deployment', 'd1', '-n', 'typed', '-o', 'json'])).stdout);
      assert.equal(d.spec.replicas, 3);
      assert.equal(d.spec.template.spec.containers[0].image, 'busybox');
      const can = await k(['auth', 'can-i', 'create', 'pods']);
      assert.equal(can.stdout.trim(), 'yes');
    });

    it('labels, filters by label, and answers AlreadyExists as upstream', async () => {
      const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n';
      assert.equal((await k(['create', '-f', '-'], cm)).code, 0);
      const again = await k(['create', '-f', '-'], cm);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /Error from server \(AlreadyExists\).*configmaps "settings" already exists/);
      assert.equal((await k(['label', 'configmap', 'settings', 'tier=backend'])).code, 0);
      const sel = await k(['get', 'configmaps', '-l', 'tier=backend', '-o', 'name']);
      assert.equal(sel.stdout.trim(), 'configmap/settings');
      const none = await k(['get', 'configmaps', '-l', 'tier=frontend', '-o', 'name']);
      assert.equal(none.stdout.trim(), '');
      // managedFields: the creator owns data, the labeller owns the label it set.
      const got = JSON.parse((await k(['get', 'configmap', 'settings', '-o', 'json', '--show-managed-fields'])).stdout);
      const byManager = Object.fromEntries(got.metadata.managedFields.map((e: any) => [e.manager, e]));
      assert.deepEqual(Object.keys(byManager).sort(), ['kubectl-create', 'kubectl-label']);
      assert.equal(byManager['kubectl-create'].operation, 'Update');
      assert.deepEqual(byManager['kubectl-create'].fieldsV1, { 'f:data': { '.': {}, 'f:a': {} } });
      assert.deepEqual(byManager['kubectl-label'].fieldsV1, { 'f:metadata': { 'f:labels': { '.': {}, 'f:tier': {} } } });
    });
  });
}
