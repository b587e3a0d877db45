// Service account tokens end to end against `k8ts server`: `kubectl create token` (1.29 and 1.33), kubectl
// calls that carry only the token (no client certificate) and authenticate as the service account, 401 for
// expired, foreign and orphaned tokens, the kube-api-access volume on a pod created with kubectl, the
// kube-root-ca.crt ConfigMap, the issuer's discovery documents, and the kubelet's volume code writing a
// pod-bound token (from a TokenRequest) that authenticates as long as the pod exists.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { decodeJwt, signingKeyFromPem } from '../../src/apiserver/serviceaccount/jwt.js';
import { ServiceAccountTokenIssuer } from '../../src/apiserver/serviceaccount/tokens.js';
import { inClusterConfig, loadKubeconfig, RESTClient } from '../../src/client/index.js';
import { ApiPodObjects } from '../../src/kubelet/objects.js';
import { VolumeManager } from '../../src/kubelet/volumes/volume-manager.js';
import { eventually } from '../helpers/eventually.js';
import { kubectl, kubectlAgainstServer, kubectlPath } from '../helpers/kubectl.js';

const issuer = 'https://kubernetes.default.svc.cluster.local';

describe('service account tokens', () => {
  // Only what tokens need: the controllers that make the default ServiceAccount and kube-root-ca.crt.
  const { k, kubeconfig } = kubectlAgainstServer(33, 'satokens', [
    '--disable-agent',
    '--disable-scheduler',
    '--disable-cloud-controller',
    '--disable',
    'coredns,servicelb',
    '--controllers',
    'serviceaccount,serviceaccount-token,root-ca-cert-publisher',
  ]);
  const dir = path.dirname(kubeconfig);
  const scratch = mkdtempSync(path.join(tmpdir(), 'k8ts-satokens-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** The server URL and the CA file from the admin kubeconfig, and an empty kubeconfig: kubectl then has only the token. */
  const endpoint = (): { server: string; caFile: string; empty: string } => {
    const config = loadKubeconfig(kubeconfig);
    const caFile = path.join(scratch, 'ca.crt');
    writeFileSync(caFile, config.ca!);
    const empty = path.join(scratch, 'empty.yaml');
    writeFileSync(empty, 'apiVersion: v1\nkind: Config\n');
    return { server: config.server, caFile, empty };
  };
  const withToken = (minor: number, token: string, args: string[]): ReturnType<typeof kubectl> => {
    const e = endpoint();
    return kubectl(kubectlPath(minor), e.empty, ['--server', e.server, '--certificate-authority', e.caFile, '--token', token, ...args]);
  };
  const defaultAccount = (): Promise<string | undefined> =>
    k(['get', 'serviceaccount', 'default', '-o', 'jsonpath={.metadata.uid}']).then((r) => (r.code === 0 && r.stdout !== '' ? r.stdout : undefined));

  for (const minor of [29, 33]) {
    it(`kubectl 1.${minor} create token: the token alone authenticates as the service account`, async () => {
      const uid = await eventually('the default ServiceAccount', defaultAccount);
      const created = await kubectl(kubectlPath(minor), kubeconfig, ['create', 'token', 'default']);
      assert.equal(created.code, 0, created.stderr);
      const token = created.stdout.trim();
      const claims = decodeJwt(token)!.payload as Record<string, unknown> & { exp: number; iat: number };
      assert.equal(claims.iss, issuer);
      assert.deepEqual(claims.aud, [issuer]);
      assert.equal(claims.sub, 'system:serviceaccount:default:default');
      assert.equal(claims.exp - claims.iat, 3600);
      assert.deepEqual(claims['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'default', uid } });

      const pods = await withToken(minor, token, ['get', 'pods']);
      assert.equal(pods.code, 0, pods.stderr);
      const who = await withToken(minor, token, ['auth', 'whoami', '-o', 'json']);
      assert.equal(who.code, 0, who.stderr);
      const info = JSON.parse(who.stdout).status.userInfo;
      assert.equal(info.username, 'system:serviceaccount:default:default');
      assert.equal(info.uid, uid);
      assert.deepEqual(info.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);

      const short = await kubectl(kubectlPath(minor), kubeconfig, ['create', 'token', 'default', '--duration', '1m']);
      assert.equal(short.code, 1);
      assert.match(
        short.stderr,
        /TokenRequest\.authentication\.k8s\.io "" is invalid: spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/,
      );
    });
  }

  it('refuses expired, foreign and orphaned tokens with 401', async () => {
    const uid = await eventually('the default ServiceAccount', defaultAccount);
    const serverKey = signingKeyFromPem(readFileSync(path.join(dir, 'tls', 'service.key'), 'utf8'));
    const sa = { namespace: 'default', name: 'default', uid };
    // Signed by the server's own key, but an hour past its expiry.
    const expired = new ServiceAccountTokenIssuer(issuer, serverKey).generate({ audiences: [issuer], now: new Date(Date.now() - 2 * 3600_000), expirationSeconds: 3600, serviceAccount: sa });
    // Valid in every claim, but signed by a key the server does not know.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const foreign = new ServiceAccountTokenIssuer(issuer, signingKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString())).generate({
      audiences: [issuer],
      now: new Date(),
      expirationSeconds: 3600,
      serviceAccount: sa,
    });
    for (const token of [expired, foreign, 'not-a-token']) {
      const r = await withToken(33, token, ['get', 'pods']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
    }
    // A token made for another audience is not for the API.
    const vault = await k(['create', 'token', 'default', '--audience', 'vault']);
    assert.equal(vault.code, 0, vault.stderr);
    assert.deepEqual(decodeJwt(vault.stdout.trim())!.payload.aud, ['vault']);
    assert.match((await withToken(33, vault.stdout.trim(), ['get', 'pods'])).stderr, /\(Unauthorized\)/);
    // A token outlives nothing it names: deleting its ServiceAccount ends it.
    assert.equal((await k(['create', 'serviceaccount', 'temp'])).code, 0);
    const token = (await k(['create', 'token', 'temp'])).stdout.trim();
    assert.equal((await withToken(33, token, ['get', 'pods'])).code, 0);
    assert.equal((await k(['delete', 'serviceaccount', 'temp'])).code, 0);
    await eventually('the orphaned token refused', async () => (await withToken(33, token, ['get', 'pods'])).stderr.includes('Unauthorized'));
  });

  it('fills a service-account-token Secret with a long-lived token that works until the Secret goes', async () => {
    const uid = await eventually('the default ServiceAccount', defaultAccount);
    const secret = `apiVersion: v1
kind: Secret
metadata:
  name: default-token
  annotations: {kubernetes.io/service-account.name: default}
type: kubernetes.io/service-account-token
`;
    assert.equal((await k(['apply', '-f', '-'], secret)).code, 0);
    const filled = await eventually('the token in the Secret', async () => {
      const r = await k(['get', 'secret', 'default-token', '-o', 'json']);
      const s = r.code === 0 ? (JSON.parse(r.stdout) as { data?: Record<string, string>; metadata: { annotations: Record<string, string> } }) : undefined;
      return s?.data?.token ? s : undefined;
    });
    const data = Object.fromEntries(Object.entries(filled.data!).map(([key, v]) => [key, Buffer.from(v, 'base64').toString()]));
    assert.deepEqual(Object.keys(data).sort(), ['ca.crt', 'namespace', 'token']);
    assert.equal(data.namespace, 'default');
    assert.equal(data['ca.crt'], loadKubeconfig(kubeconfig).ca);
    assert.equal(filled.metadata.annotations['kubernetes.io/service-account.uid'], uid);
    assert.deepEqual(decodeJwt(data.token!)!.payload, {
      iss: 'kubernetes/serviceaccount',
      'kubernetes.io/serviceaccount/namespace': 'default',
      'kubernetes.io/serviceaccount/secret.name': 'default-token',
      'kubernetes.io/serviceaccount/service-account.name': 'default',
      'kubernetes.io/serviceaccount/service-account.uid': uid,
      sub: 'system:serviceaccount:default:default',
    });
    const who = await withToken(33, data.token!, ['auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(JSON.parse(who.stdout).status.userInfo.username, 'system:serviceaccount:default:default');
    assert.equal((await k(['delete', 'secret', 'default-token'])).code, 0);
    await eventually('the token refused with its Secret gone', async () => (await withToken(33, data.token!, ['get', 'pods'])).stderr.includes('Unauthorized'));
    // A token Secret of a ServiceAccount that does not exist is deleted.
    assert.equal((await k(['apply', '-f', '-'], secret.replace('default-token', 'ghost-token').replace('service-account.name: default', 'service-account.name: ghost'))).code, 0);
    await eventually('the orphaned Secret deleted', async () => (await k(['get', 'secret', 'ghost-token'])).stderr.includes('NotFound'));
  });

  it('serves the issuer discovery documents, whose key verifies the tokens', async () => {
    const token = (await k(['create', 'token', 'default'])).stdout.trim();
    const config = JSON.parse((await withToken(33, token, ['get', '--raw', '/.well-known/openid-configuration'])).stdout);
    assert.equal(config.issuer, issuer);
    assert.match(config.jwks_uri, /^https:\/\/127\.0\.0\.1:\d+\/openid\/v1\/jwks$/);
    assert.deepEqual(config.response_types_supported, ['id_token']);
    assert.deepEqual(config.subject_types_supported, ['public']);
    assert.deepEqual(config.id_token_signing_alg_values_supported, ['RS256']);
    const jwks = JSON.parse((await k(['get', '--raw', '/openid/v1/jwks'])).stdout) as { keys: { kid: string; use: string; alg: string }[] };
    assert.equal(jwks.keys.length, 1);
    const jwk = jwks.keys[0]!;
    assert.equal(jwk.use, 'sig');
    assert.equal(jwk.alg, 'RS256');
    const jwt = decodeJwt(token)!;
    assert.equal(jwt.header.kid, jwk.kid);
    assert.ok(verify('sha256', Buffer.from(jwt.signingInput), createPublicKey({ key: jwk, format: 'jwk' }), jwt.signature));
    // Not for anonymous callers.
    const e = endpoint();
    const anonymous = await kubectl(kubectlPath(33), e.empty, ['--server', e.server, '--certificate-authority', e.caFile, 'get', '--raw', '/openid/v1/jwks']);
    assert.equal(anonymous.code, 1);
  });

  it('keeps kube-root-ca.crt in every namespace with the cluster CA', async () => {
    const ca = loadKubeconfig(kubeconfig).ca!;
    assert.equal((await k(['create', 'namespace', 'fresh'])).code, 0);
    const data = async (): Promise<string | undefined> => {
      const r = await k(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout).data['ca.crt'] as string) : undefined;
    };
    assert.equal(await eventually('kube-root-ca.crt in the new namespace', data), ca);
    // In-cluster clients dial the kubernetes Service's IP and check the serving certificate against this CA.
    const serving = new X509Certificate(readFileSync(path.join(dir, 'tls', 'serving-kube-apiserver.crt')));
    assert.ok(serving.verify(new X509Certificate(ca).publicKey));
    assert.match(serving.subjectAltName ?? '', /IP Address:10\.43\.0\.1\b/);
    assert.match(serving.subjectAltName ?? '', /DNS:kubernetes\.default\.svc\.cluster\.local\b/);
    const cm = JSON.parse((await k(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '-o', 'json'])).stdout);
    assert.match(cm.metadata.annotations['kubernetes.io/description'], /^Contains a CA bundle that can be used to verify the kube-apiserver/);
    // Changed or deleted, it is put back.
    assert.equal((await k(['patch', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '--type', 'merge', '-p', '{"data":{"ca.crt":"forged"}}'])).code, 0);
    await eventually('the CA restored', async () => (await data()) === ca);
    assert.equal((await k(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'fresh'])).code, 0);
    await eventually('the ConfigMap made again', async () => (await data()) === ca);
  });

  it('injects kube-api-access into a pod, and the kubelet volume code writes a pod-bound token that works while the pod exists', async () => {
    await eventually('the default ServiceAccount', defaultAccount);
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client' },
      spec: { nodeName: 'node-a', initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'main', image: 'busybox' }] },
    };
    const created = await k(['create', '-f', '-'], JSON.stringify(manifest));
    assert.equal(created.code, 0, created.stderr);
    const pod = JSON.parse((await k(['get', 'pod', 'client', '-o', 'json'])).stdout) as Pod;
    const spec = pod.spec!;
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(spec.serviceAccount, 'default');
    const volume = spec.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!;
    assert.match(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    // The shape upstream's API server stores and kubectl shows.
    assert.deepEqual(volume.projected, {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' } },
        { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
      ],
    });
    const mount = { mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: volume.name, readOnly: true };
    assert.deepEqual(spec.containers[0]!.volumeMounts, [mount]);
    assert.deepEqual(spec.initContainers![0]!.volumeMounts, [mount]);

    // The kubelet's side: its volume manager fills the projected volume through the API.
    const client = new RESTClient(loadKubeconfig(kubeconfig));
    const volumes = new VolumeManager(path.join(scratch, 'kubelet'), new ApiPodObjects(client, undefined));
    await eventually('the volume set up', async () =>
      volumes.setUp(pod, { nodeName: 'node-a', hostIPs: [], allocatable: {} }).then(
        () => true,
        () => false,
      ),
    );
    const folder = volumes.volumeDir(pod, volume);
    const token = readFileSync(path.join(folder, 'token'), 'utf8');
    assert.equal(readFileSync(path.join(folder, 'namespace'), 'utf8'), 'default');
    assert.equal(readFileSync(path.join(folder, 'ca.crt'), 'utf8'), loadKubeconfig(kubeconfig).ca);
    const claims = decodeJwt(token)!.payload as { exp: number; iat: number; 'kubernetes.io': { pod: unknown; warnafter: number } };
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'client', uid: pod.metadata!.uid });
    assert.equal(claims['kubernetes.io'].warnafter - claims.iat, 3607);
    const who = await withToken(33, token, ['auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    const info = JSON.parse(who.stdout).status.userInfo;
    assert.equal(info.username, 'system:serviceaccount:default:default');
    assert.deepEqual(info.extra['authentication.kubernetes.io/pod-name'], ['client']);

    // In-cluster configuration, from the files the kubelet wrote: ours, and client-node's loadFromCluster.
    const port = new URL(loadKubeconfig(kubeconfig).server).port;
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port };
    const inPod = new RESTClient(inClusterConfig({ root: folder, env }));
    assert.ok((await inPod.list({ group: '', version: 'v1', resource: 'pods', namespace: 'default' })).items.some((p) => p.metadata?.name === 'client'));
    inPod.close();
    const prefix = path.join(scratch, 'pod-root');
    mkdirSync(path.join(prefix, 'var/run/secrets/kubernetes.io'), { recursive: true });
    symlinkSync(folder, path.join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount'));
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    Object.assign(process.env, env);
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromCluster(prefix);
      const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'default' });
      assert.ok(list.items.some((p) => p.metadata?.name === 'client'));
    } finally {
      for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    // A second sync reuses the cached token.
    await volumes.setUp(pod, { nodeName: 'node-a', hostIPs: [], allocatable: {} });
    assert.equal(readFileSync(path.join(folder, 'token'), 'utf8'), token);

    assert.equal((await k(['delete', 'pod', 'client', '--grace-period=0', '--force'])).code, 0);
    await eventually('the pod-bound token refused', async () => (await withToken(33, token, ['get', 'pods'])).stderr.includes('Unauthorized'));
    await volumes.tearDown(pod.metadata!.uid!);
    client.close();
  });
});
