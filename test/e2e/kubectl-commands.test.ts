// More of the kubectl commands the API server issue lists, with kubectl 1.29 and 1.33: describe, explain,
// replace (and its stale Conflict), the three patch types, scale, annotate, get -w, wait --for=delete, and
// the errors kubectl must print as upstream: Invalid with causes, unknown fields under Strict.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { kubectlAgainstServer } from '../helpers/kubectl.js';

const cm = (name: string, value: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  key: "${value}"\n`;

for (const minor of [29, 33]) {
  describe(`kubectl 1.${minor}: more commands`, () => {
    const { k, bin, kubeconfig } = kubectlAgainstServer(minor, 'kubectl-cmds');

    it('replaces, and refuses a replace from a stale copy with upstream Conflict text', async () => {
      assert.equal((await k(['create', '-f', '-'], cm('r', 'one'))).code, 0);
      const stale = (await k(['get', 'configmap', 'r', '-o', 'json'])).stdout;
      const fresh = JSON.parse(stale);
      fresh.data.key = 'two';
      const ok = await k(['replace', '-f', '-'], JSON.stringify(fresh));
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /configmap\/r replaced/);
      const old = JSON.parse(stale);
      old.data.key = 'three';
      const conflict = await k(['replace', '-f', '-'], JSON.stringify(old));
      assert.equal(conflict.code, 1);
      assert.match(
        conflict.stderr,
        /Error from server \(Conflict\): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "r": the object has been modified; please apply your changes to the latest version and try again/,
      );
    });

    it('patches with json, merge and strategic patches, annotates, and scales', async () => {
      const dep = `apiVersion: apps/v1
kind: Deployment
metadata: {name: p}
spec:
  replicas: 1
  selector: {matchLabels: {app: p}}
  template:
    metadata: {labels: {app: p}}
    spec:
      containers:
      - {name: a, image: busybox, env: [{name: X, value: "1"}]}
      - {name: b, image: busybox}
`;
      assert.equal((await k(['apply', '-f', '-'], dep)).code, 0);
      const sm = await k(['patch', 'deployment', 'p', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"nginx"}]}}}}']);
      assert.equal(sm.code, 0, sm.stderr);
      const merge = await k(['patch', 'deployment', 'p', '--type', 'merge', '-p', '{"metadata":{"labels":{"tier":"x"}}}']);
      assert.equal(merge.code, 0, merge.stderr);
      const json = await k(['patch', 'deployment', 'p', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/replicas","value":2}]']);
      assert.equal(json.code, 0, json.stderr);
      const d = JSON.parse((await k(['get', 'deployment', 'p', '-o', 'json'])).stdout);
      assert.deepEqual(
        d.spec.template.spec.containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`),
        ['a=busybox', 'b=nginx'],
        'strategic merge patch merged containers by name',
      );
      assert.equal(d.metadata.labels.tier, 'x');
      assert.equal(d.spec.replicas, 2);
      assert.equal((await k(['annotate', 'deployment', 'p', 'owner=me'])).code, 0);
      const scaled = await k(['scale', 'deployment', 'p', '--replicas=4']);
      assert.equal(scaled.code, 0, scaled.stderr);
      assert.match(scaled.stdout, /deployment\.apps\/p scaled/);
      const after = JSON.parse((await k(['get', 'deployment', 'p', '-o', 'json'])).stdout);
      assert.equal(after.spec.replicas, 4);
      assert.equal(after.metadata.annotations.owner, 'me');
    });

    it('prints Invalid with its causes and refuses unknown fields under Strict', async () => {
      const bad = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  replicas: 1
  selector: {matchLabels: {app: one}}
  template:
    metadata: {labels: {app: two}}
    spec:
      containers: [{name: c, image: busybox}]
`;
      const inv = await k(['create', '-f', '-'], bad);
      assert.equal(inv.code, 1);
      assert.match(inv.stderr, /The Deployment "bad" is invalid: spec\.template\.metadata\.labels: Invalid value: map\[string\]string\{"app":"two"\}: `selector` does not match template `labels`/);
      const unknown = await k(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: u}\ndata: {a: b}\nbogus: 1\n');
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /unknown field "bogus"/);
    });

    it('describes, explains, and waits for a deletion', async () => {
      assert.equal((await k(['create', '-f', '-'], cm('gone', 'x'))).code, 0);
      const desc = await k(['describe', 'configmap', 'gone']);
      assert.equal(desc.code, 0, desc.stderr);
      assert.match(desc.stdout, /^Name:\s+gone$/m);
      assert.match(desc.stdout, /^Namespace:\s+default$/m);
      const explain = await k(['explain', 'pods.spec.containers']);
      assert.equal(explain.code, 0, explain.stderr);
      assert.match(explain.stdout, /FIELD: containers <\[\]Container>/);
      assert.match(explain.stdout, /image\s+<string>/);
      const waiting = k(['wait', '--for=delete', 'configmap/gone', '--timeout=30s']);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await k(['delete', 'configmap', 'gone', '--wait'])).code, 0);
      const w = await waiting;
      assert.equal(w.code, 0, w.stderr);
    });

    it('gets pods as tables, wide, yaml, json, across namespaces, with labels and field selectors', async () => {
      const pod = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: lone\n  labels: {tier: cache}\nspec:\n  containers:\n  - name: c\n    image: busybox\n';
      assert.equal((await k(['apply', '-f', '-'], pod)).code, 0);
      const table = await k(['get', 'po']);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
      assert.match(table.stdout, /^lone\s+0\/1\s+Pending\s+0\s+\d+s$/m);
      const wide = await k(['get', 'po', 'lone', '-o', 'wide']);
      assert.match(wide.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
      assert.match(wide.stdout, /^lone\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m);
      const yaml = await k(['get', 'po', 'lone', '-o', 'yaml']);
      assert.match(yaml.stdout, /^kind: Pod$/m);
      assert.match(yaml.stdout, /^ {2}restartPolicy: Always$/m);
      assert.match(yaml.stdout, /^ {2}dnsPolicy: ClusterFirst$/m);
      const json = JSON.parse((await k(['get', 'po', 'lone', '-o', 'json'])).stdout);
      assert.equal(json.spec.containers[0].imagePullPolicy, 'Always');
      assert.equal(json.spec.terminationGracePeriodSeconds, 30);
      const all = await k(['get', 'all']);
      assert.match(all.stdout, /^pod\/lone\s+0\/1\s+Pending/m);
      const everywhere = await k(['get', 'po', '-A']);
      assert.match(everywhere.stdout, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
      assert.match(everywhere.stdout, /^default\s+lone\s+0\/1\s+Pending/m);
      const labels = await k(['get', 'po', 'lone', '--show-labels']);
      assert.match(labels.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+LABELS$/m);
      assert.match(labels.stdout, /^lone\s+.*\s+tier=cache$/m);
      const pending = await k(['get', 'po', '--field-selector', 'status.phase=Pending', '-o', 'name']);
      assert.match(pending.stdout, /^pod\/lone$/m);
      const running = await k(['get', 'po', '--field-selector', 'status.phase=Running', '-o', 'name']);
      assert.doesNotMatch(running.stdout, /lone/);
      const badField = await k(['get', 'po', '--field-selector', 'spec.bogus=x']);
      assert.equal(badField.code, 1);
      assert.match(badField.stderr, /field label not supported: spec\.bogus/);
      // An unscheduled pod goes at once, even with a grace period.
      assert.equal((await k(['delete', 'po', 'lone', '--wait'])).code, 0);
      const gone = await k(['get', 'po', 'lone']);
      assert.equal(gone.stderr.trim(), 'Error from server (NotFound): pods "lone" not found');
    });

    it('streams changes with get -w', async () => {
      const child = spawn(bin, ['get', 'configmaps', '-w', '--output-watch-events'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const until = async (re: RegExp) => {
        const deadline = Date.now() + 20_000;
        while (!re.test(out)) {
          if (Date.now() > deadline) assert.fail(`get -w never printed ${re}:\n${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      try {
        await until(/^EVENT\s+NAME\s+DATA\s+AGE$/m);
        assert.equal((await k(['create', '-f', '-'], cm('watched', 'v'))).code, 0);
        await until(/^ADDED\s+watched\s+1\s+/m);
        assert.equal((await k(['delete', 'configmap', 'watched'])).code, 0);
        await until(/^DELETED\s+watched\s+1\s+/m);
      } finally {
        child.kill('SIGTERM');
      }
    });
  });
}
