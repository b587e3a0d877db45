import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../apimachinery/errors/status-error.js';
import type { KObject } from '../../registry/generic/index.js';
import { admitPodServiceAccount, serviceAccountMountPath } from './admission.js';

const accounts: Record<string, KObject> = {
  'ns/default': { metadata: { name: 'default', uid: 'u1' } },
  'ns/private': { metadata: { name: 'private', uid: 'u2' }, automountServiceAccountToken: false, imagePullSecrets: [{ name: 'regcred' }] },
};
const options = {
  lookup: (ns: string, name: string) => Promise.resolve(accounts[`${ns}/${name}`]),
  sleep: () => Promise.resolve(),
};

function pod(spec: Record<string, unknown>, annotations?: Record<string, string>): KObject {
  return { metadata: { name: 'p', ...(annotations ? { annotations } : {}) }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } };
}

interface Spec {
  serviceAccountName?: string;
  serviceAccount?: string;
  imagePullSecrets?: unknown[];
  volumes?: { name: string; projected?: unknown }[];
  containers: { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  initContainers?: { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
}

describe('ServiceAccount admission', () => {
  it('defaults the service account and injects the kube-api-access volume into every container', async () => {
    const p = pod({ initContainers: [{ name: 'i', image: 'busybox' }] });
    await admitPodServiceAccount(p, 'ns', options);
    const spec = p.spec as Spec;
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(spec.serviceAccount, 'default');
    assert.equal(spec.volumes?.length, 1);
    const v = spec.volumes[0]!;
    assert.match(v.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(v.projected, {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    const mount = { name: v.name, readOnly: true, mountPath: serviceAccountMountPath };
    assert.deepEqual(spec.containers[0]!.volumeMounts, [mount]);
    assert.deepEqual(spec.initContainers![0]!.volumeMounts, [mount]);
  });

  it('leaves containers that mount something at the path alone, and adds no volume when none needs it', async () => {
    const p = pod({ containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'mine', mountPath: serviceAccountMountPath }] }], volumes: [{ name: 'mine', emptyDir: {} }] });
    await admitPodServiceAccount(p, 'ns', options);
    const spec = p.spec as Spec;
    assert.deepEqual(spec.volumes, [{ name: 'mine', emptyDir: {} }]);
    assert.deepEqual(spec.containers[0]!.volumeMounts, [{ name: 'mine', mountPath: serviceAccountMountPath }]);
  });

  it('honours automountServiceAccountToken on the pod over the service account', async () => {
    const off = pod({ serviceAccountName: 'private' });
    await admitPodServiceAccount(off, 'ns', options);
    assert.equal((off.spec as Spec).volumes, undefined);
    // The service account's image pull secrets reach a pod that has none.
    assert.deepEqual((off.spec as Spec).imagePullSecrets, [{ name: 'regcred' }]);
    const on = pod({ serviceAccountName: 'private', automountServiceAccountToken: true });
    await admitPodServiceAccount(on, 'ns', options);
    assert.equal((on.spec as Spec).volumes?.length, 1);
    const podOff = pod({ automountServiceAccountToken: false });
    await admitPodServiceAccount(podOff, 'ns', options);
    assert.equal((podOff.spec as Spec).volumes, undefined);
  });

  it('refuses a pod whose service account does not exist, with upstream message', async () => {
    let lookups = 0;
    const counting = { ...options, lookup: (ns: string, name: string) => (lookups++, options.lookup(ns, name)) };
    await assert.rejects(admitPodServiceAccount(pod({ serviceAccountName: 'ghost' }), 'ns', counting), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, 403);
      assert.equal(err.message, 'pods "p" is forbidden: error looking up service account ns/ghost: serviceaccount "ghost" not found');
      return true;
    });
    assert.equal(lookups, 1);
    // The default account is waited for: its controller makes it right after the namespace.
    lookups = 0;
    await assert.rejects(admitPodServiceAccount(pod({}), 'other', counting));
    assert.equal(lookups, 10);
  });

  it('does not touch mirror pods', async () => {
    const p = pod({}, { 'kubernetes.io/config.mirror': 'abc' });
    await admitPodServiceAccount(p, 'nowhere', options);
    assert.equal((p.spec as Spec).serviceAccountName, undefined);
    assert.equal((p.spec as Spec).volumes, undefined);
  });
});
