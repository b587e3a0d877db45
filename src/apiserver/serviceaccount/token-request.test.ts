// TokenRequest and the ServiceAccount admission plugin through an in-process API server (plain HTTP, memory store).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../client/index.js';
import { RESTClient } from '../../client/index.js';
import { StatusError } from '../../apimachinery/errors/status-error.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import { ApiServer } from '../api-server.js';
import { decodeJwt } from './jwt.js';

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;
const issuer = 'https://kubernetes.default.svc.cluster.local';
const sas = { group: '', version: 'v1', resource: 'serviceaccounts', namespace: 'default' };
const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const secrets = { group: '', version: 'v1', resource: 'secrets', namespace: 'default' };

before(async () => {
  store = new SqliteStore({ path: ':memory:', compactIntervalMs: 0 });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  server = new ApiServer({
    store,
    gitVersion: 'v1.33.0+k8ts',
    serviceAccounts: { signingKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), issuers: [issuer] },
  });
  const port = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${port}` });
  await client.create(sas, { metadata: { name: 'robot' } });
  await client.create(sas, { metadata: { name: 'other' } });
});
after(async () => {
  client.close();
  await server.stop();
  await store.close();
});

interface TokenRequestReply extends KubeObject {
  spec: { audiences: string[]; expirationSeconds: number; boundObjectRef?: unknown };
  status: { token: string; expirationTimestamp: string };
}

function requestToken(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Promise<TokenRequestReply> {
  return client.create<TokenRequestReply>(sas, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata, spec } as KubeObject as TokenRequestReply, {
    subresource: 'token',
    name,
  });
}

async function refusal(p: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StatusError) return { code: err.code, reason: err.reason, message: err.message };
    throw err;
  }
  assert.fail('the request succeeded');
}

describe('serviceaccounts/token', () => {
  it('defaults the lifetime to an hour and the audience to the API, and signs the claims', async () => {
    const before = Math.floor(Date.now() / 1000);
    const tr = await requestToken('robot', {});
    assert.equal(tr.kind, 'TokenRequest');
    assert.equal(tr.apiVersion, 'authentication.k8s.io/v1');
    assert.equal(tr.metadata?.name, 'robot');
    assert.equal(tr.metadata?.namespace, 'default');
    assert.deepEqual(tr.spec, { audiences: [issuer], expirationSeconds: 3600 });
    const claims = decodeJwt(tr.status.token)!.payload;
    assert.equal(claims.sub, 'system:serviceaccount:default:robot');
    assert.equal(claims.iss, issuer);
    assert.equal((claims.exp as number) - (claims.iat as number), 3600);
    assert.ok((claims.iat as number) >= before);
    assert.equal(Date.parse(tr.status.expirationTimestamp) / 1000, claims.exp);
  });

  it('answers upstream validation errors', async () => {
    assert.deepEqual(await refusal(requestToken('robot', { expirationSeconds: 100 })), {
      code: 422,
      reason: 'Invalid',
      message: 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 100: may not specify a duration less than 10 minutes',
    });
    assert.equal(
      (await refusal(requestToken('robot', { expirationSeconds: 2 ** 32 + 1 }))).message,
      'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds',
    );
    assert.equal(
      (await refusal(requestToken('robot', {}, { name: 'someone' }))).message,
      'TokenRequest.authentication.k8s.io "robot" is invalid: metadata.name: Invalid value: "someone": must match the service account name if specified',
    );
    assert.deepEqual(await refusal(requestToken('ghost', {})), { code: 404, reason: 'NotFound', message: 'serviceaccounts "ghost" not found' });
    assert.deepEqual(await refusal(requestToken('robot', { boundObjectRef: { apiVersion: 'v1', kind: 'ConfigMap', name: 'x' } })), {
      code: 400,
      reason: 'BadRequest',
      message: 'cannot bind token to object of type /v1, Kind=ConfigMap',
    });
  });

  it('binds to a pod of the service account, extends the kubelet lifetime, and checks the uid', async () => {
    const pod = await client.create<KubeObject>(pods, { metadata: { name: 'worker' }, spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox' }] } });
    const uid = pod.metadata?.uid ?? '';
    const tr = await requestToken('robot', { expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'worker', uid } });
    const claims = decodeJwt(tr.status.token)!.payload as { iat: number; exp: number; 'kubernetes.io': Record<string, unknown> };
    // The token lasts a year, warns after the 3607 s asked for; the status says 3607 s.
    assert.equal(claims.exp - claims.iat, 365 * 24 * 3600);
    assert.equal(claims['kubernetes.io'].warnafter, claims.iat + 3607);
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'worker', uid });
    assert.equal(Date.parse(tr.status.expirationTimestamp) / 1000, claims.iat + 3607);
    // Another audience: not extended.
    const vault = await requestToken('robot', { audiences: ['vault'], expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'worker' } });
    const v = decodeJwt(vault.status.token)!.payload as { iat: number; exp: number };
    assert.equal(v.exp - v.iat, 3607);

    assert.deepEqual(await refusal(requestToken('other', { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'worker' } })), {
      code: 400,
      reason: 'BadRequest',
      message: 'cannot bind token for serviceaccount "other" to pod running with serviceaccount "robot"',
    });
    const conflict = await refusal(requestToken('robot', { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'worker', uid: 'stale' } }));
    assert.equal(conflict.code, 409);
    assert.equal(
      conflict.message,
      'Operation cannot be fulfilled on Pod "worker": the UID in the bound object reference (stale) does not match the UID in record. The object might have been deleted and then recreated',
    );
    assert.deepEqual(await refusal(requestToken('robot', { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'nope' } })), {
      code: 404,
      reason: 'NotFound',
      message: 'pods "nope" not found',
    });
    const secret = await client.create<KubeObject>(secrets, { metadata: { name: 's' } });
    const bound = await requestToken('robot', { boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: 's' } });
    assert.deepEqual((decodeJwt(bound.status.token)!.payload['kubernetes.io'] as { secret: unknown }).secret, { name: 's', uid: secret.metadata?.uid });
  });

  it('refuses pods whose service account does not exist (the ServiceAccount admission plugin)', async () => {
    assert.deepEqual(await refusal(client.create(pods, { metadata: { name: 'lost' }, spec: { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'busybox' }] } })), {
      code: 403,
      reason: 'Forbidden',
      message: 'pods "lost" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found',
    });
  });
});
