// Connection config from kubeconfig files (inline data, files relative to the kubeconfig, tokens, context
// choice, errors) and from a pod's service account mount.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  defaultKubeconfigPath,
  inClusterConfig,
  inClusterNamespace,
  loadKubeconfig,
  NotInClusterError,
  parseKubeconfig,
} from './config.js';

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'k8ts-client-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('kubeconfig', () => {
  it('reads the current context with inline certificate data', () => {
    const text = `
apiVersion: v1
kind: Config
current-context: admin@k8ts
clusters:
- name: k8ts
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: ${b64('CA PEM')}
users:
- name: admin
  user:
    client-certificate-data: ${b64('CERT PEM')}
    client-key-data: ${b64('KEY PEM')}
contexts:
- name: admin@k8ts
  context: { cluster: k8ts, user: admin }
- name: other
  context: { cluster: k8ts, user: robot }
`;
    const c = parseKubeconfig(text, dir);
    assert.deepEqual(c, { server: 'https://127.0.0.1:6443', ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' });
    assert.throws(() => parseKubeconfig(text, dir, { context: 'nope' }), /context "nope" does not exist/);
  });

  it('resolves certificate files relative to the kubeconfig and takes tokens and insecure-skip-tls-verify', () => {
    mkdirSync(path.join(dir, 'pki'), { recursive: true });
    writeFileSync(path.join(dir, 'pki', 'ca.crt'), 'FILE CA');
    const file = path.join(dir, 'config');
    writeFileSync(
      file,
      `current-context: robot
clusters:
- name: c
  cluster: { server: "https://[::1]:6443", certificate-authority: pki/ca.crt, insecure-skip-tls-verify: true }
users:
- name: r
  user: { token: abc123 }
contexts:
- name: robot
  context: { cluster: c, user: r }
`,
    );
    assert.deepEqual(loadKubeconfig(file), {
      server: 'https://[::1]:6443',
      ca: 'FILE CA',
      insecureSkipTLSVerify: true,
      token: 'abc123',
    });
    assert.equal(defaultKubeconfigPath({ KUBECONFIG: `${file}${path.delimiter}/other` }), file);
  });

  it('says what is missing', () => {
    assert.throws(() => parseKubeconfig('clusters: []', dir), /no current-context/);
    assert.throws(
      () =>
        parseKubeconfig(
          'current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {}}]',
          dir,
        ),
      /no server found for cluster "c"/,
    );
  });
});

describe('in-cluster config', () => {
  it('uses the service account mount and the kubernetes Service address', () => {
    const sa = path.join(dir, 'sa');
    mkdirSync(sa, { recursive: true });
    writeFileSync(path.join(sa, 'token'), 'sa-token\n');
    writeFileSync(path.join(sa, 'ca.crt'), 'SA CA');
    writeFileSync(path.join(sa, 'namespace'), 'team-a');
    const c = inClusterConfig({
      root: sa,
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
    });
    assert.deepEqual(c, { server: 'https://[fd00::1]:443', tokenFile: path.join(sa, 'token'), ca: 'SA CA' });
    assert.equal(inClusterNamespace(sa), 'team-a');
    assert.equal(inClusterNamespace(path.join(dir, 'none')), 'default');
    assert.throws(() => inClusterConfig({ root: sa, env: {} }), NotInClusterError);
  });
});
