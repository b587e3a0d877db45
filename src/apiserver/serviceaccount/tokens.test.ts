import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { legacyServiceAccountClaims } from '../../api/service-account-tokens.js';
import type { JwtKey } from './jwt.js';
import { canonicalJson, decodeJwt, keyIdOf, publicJwk, signingKeyFromPem, signJwt, verifyJwtSignature } from './jwt.js';
import type { LookedUpObject, ServiceAccountTokenGetter } from './tokens.js';
import {
  defaultServiceAccountIssuer,
  ServiceAccountTokenAuthenticator,
  ServiceAccountTokenIssuer,
  TokenAuthenticationError,
} from './tokens.js';

function newKey(): JwtKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return signingKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
}

const key = newKey();
const issuer = new ServiceAccountTokenIssuer(defaultServiceAccountIssuer, key);
const t0 = new Date('2026-01-01T00:00:00Z');

/** A getter over plain maps, keyed "ns/name" (nodes by name). */
function getter(objects: {
  sa?: Record<string, LookedUpObject>;
  pods?: Record<string, LookedUpObject>;
  nodes?: Record<string, LookedUpObject>;
  secrets?: Record<string, LookedUpObject>;
}): ServiceAccountTokenGetter {
  return {
    serviceAccount: (ns, name) => Promise.resolve(objects.sa?.[`${ns}/${name}`]),
    pod: (ns, name) => Promise.resolve(objects.pods?.[`${ns}/${name}`]),
    secret: (ns, name) => Promise.resolve(objects.secrets?.[`${ns}/${name}`]),
    node: (name) => Promise.resolve(objects.nodes?.[name]),
  };
}

function authenticator(g: ServiceAccountTokenGetter, now: Date, keys: JwtKey[] = [key]): ServiceAccountTokenAuthenticator {
  return new ServiceAccountTokenAuthenticator({ issuers: [defaultServiceAccountIssuer], keys, audiences: [defaultServiceAccountIssuer], getter: g, now: () => now });
}

const sa = { namespace: 'team', name: 'robot', uid: 'sa-uid' };

describe('JWT', () => {
  it('signs RS256 with the key ID of the public key and verifies only with that key', () => {
    const token = signJwt({ sub: 'x', aud: ['a'] }, key);
    const jwt = decodeJwt(token)!;
    assert.deepEqual(jwt.header, { alg: 'RS256', kid: keyIdOf(key.publicKey) });
    assert.match(key.keyId, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(verifyJwtSignature(jwt, [key]), true);
    assert.equal(verifyJwtSignature(jwt, [newKey()]), false);
    // A changed payload no longer matches the signature.
    const parts = token.split('.');
    const forged = decodeJwt(`${parts[0]}.${Buffer.from('{"sub":"admin"}').toString('base64url')}.${parts[2]}`)!;
    assert.equal(verifyJwtSignature(forged, [key]), false);
    // alg none is never accepted.
    const none = decodeJwt(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${parts[1]}.`)!;
    assert.equal(verifyJwtSignature(none, [key]), false);
  });

  it('rejects what is not a compact JWT', () => {
    for (const t of ['', 'abc', 'a.b', 'a.b.c.d', '!!.??.xx', `${Buffer.from('[]').toString('base64url')}.e30.`]) assert.equal(decodeJwt(t), undefined, t);
  });

  it('writes claims with sorted keys, as Go maps marshal', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 'x' }, u: undefined }), '{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('publishes the key as a JWK with use sig and alg RS256', () => {
    const jwk = publicJwk(key);
    assert.deepEqual(Object.keys(jwk), ['use', 'kty', 'kid', 'alg', 'n', 'e']);
    assert.equal(jwk.kid, key.keyId);
    assert.equal(jwk.e, 'AQAB');
  });
});

describe('service account token claims', () => {
  it('carries the registered claims and the kubernetes.io private claims of a pod-bound token', () => {
    const token = issuer.generate({
      audiences: ['api'],
      now: t0,
      expirationSeconds: 3600,
      warnAfterSeconds: 600,
      serviceAccount: sa,
      pod: { name: 'p', uid: 'pod-uid' },
      node: { name: 'n1', uid: 'node-uid' },
    });
    const payload = decodeJwt(token)!.payload;
    const iat = t0.getTime() / 1000;
    assert.match(String(payload.jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual({ ...payload, jti: '' }, {
      aud: ['api'],
      exp: iat + 3600,
      iat,
      iss: defaultServiceAccountIssuer,
      jti: '',
      'kubernetes.io': {
        namespace: 'team',
        serviceaccount: { name: 'robot', uid: 'sa-uid' },
        pod: { name: 'p', uid: 'pod-uid' },
        node: { name: 'n1', uid: 'node-uid' },
        warnafter: iat + 600,
      },
      nbf: iat,
      sub: 'system:serviceaccount:team:robot',
    });
    // Keys in the payload's text are sorted.
    const text = Buffer.from(token.split('.')[1]!, 'base64url').toString();
    assert.ok(text.startsWith('{"aud":["api"],"exp":'), text);
  });
});

describe('ServiceAccountTokenAuthenticator', () => {
  const objects = {
    sa: { 'team/robot': { metadata: { uid: 'sa-uid' } } },
    pods: { 'team/p': { metadata: { uid: 'pod-uid' } } },
  };
  const podToken = issuer.generate({ audiences: [defaultServiceAccountIssuer], now: t0, expirationSeconds: 3600, serviceAccount: sa, pod: { name: 'p', uid: 'pod-uid' }, node: { name: 'n1', uid: 'nu' } });

  it('authenticates a valid bound token as the service account, with the pod in extra', async () => {
    const user = await authenticator(getter(objects), new Date(t0.getTime() + 1000)).authenticate(podToken);
    assert.ok(user);
    assert.equal(user.name, 'system:serviceaccount:team:robot');
    assert.equal(user.uid, 'sa-uid');
    assert.deepEqual(user.groups, ['system:serviceaccounts', 'system:serviceaccounts:team']);
    assert.deepEqual(user.extra['authentication.kubernetes.io/pod-name'], ['p']);
    assert.deepEqual(user.extra['authentication.kubernetes.io/pod-uid'], ['pod-uid']);
    assert.deepEqual(user.extra['authentication.kubernetes.io/node-name'], ['n1']);
    assert.match(user.extra['authentication.kubernetes.io/credential-id']![0]!, /^JTI=/);
  });

  const refused = async (a: ServiceAccountTokenAuthenticator, token: string, message: RegExp): Promise<void> => {
    await assert.rejects(a.authenticate(token), (err: unknown) => err instanceof TokenAuthenticationError && message.test(err.message));
  };

  it('refuses expired tokens after the minute of leeway, and tokens not valid yet', async () => {
    const g = getter(objects);
    assert.ok(await authenticator(g, new Date(t0.getTime() + 3650_000)).authenticate(podToken));
    await refused(authenticator(g, new Date(t0.getTime() + 3661_000)), podToken, /has expired/);
    await refused(authenticator(g, new Date(t0.getTime() - 120_000)), podToken, /not valid yet/);
  });

  it('refuses a token signed by another key, and ignores other issuers', async () => {
    const foreign = new ServiceAccountTokenIssuer(defaultServiceAccountIssuer, newKey()).generate({ audiences: [defaultServiceAccountIssuer], now: t0, expirationSeconds: 3600, serviceAccount: sa });
    await refused(authenticator(getter(objects), t0), foreign, /cryptographic primitive/);
    const other = new ServiceAccountTokenIssuer('https://elsewhere', key).generate({ audiences: [defaultServiceAccountIssuer], now: t0, expirationSeconds: 3600, serviceAccount: sa });
    assert.equal(await authenticator(getter(objects), t0).authenticate(other), undefined);
    assert.equal(await authenticator(getter(objects), t0).authenticate('not-a-jwt'), undefined);
  });

  it('checks the claims again on every use of a token whose signature it remembers', async () => {
    const live: { sa?: Record<string, LookedUpObject>; pods?: Record<string, LookedUpObject> } = { ...objects };
    let now = new Date(t0.getTime() + 1000);
    const a = new ServiceAccountTokenAuthenticator({ issuers: [defaultServiceAccountIssuer], keys: [key], audiences: [defaultServiceAccountIssuer], getter: getter(live), now: () => now });
    assert.ok(await a.authenticate(podToken));
    assert.ok(await a.authenticate(podToken));
    live.pods = {};
    await refused(a, podToken, /pods "p" not found/);
    live.pods = objects.pods;
    now = new Date(t0.getTime() + 3700_000);
    await refused(a, podToken, /has expired/);
  });

  it('refuses a token for another audience', async () => {
    const t = issuer.generate({ audiences: ['vault'], now: t0, expirationSeconds: 3600, serviceAccount: sa });
    await refused(authenticator(getter(objects), t0), t, /token audiences \["vault"\] is invalid for the target audiences/);
  });

  it('refuses a token whose service account or pod is gone or was recreated', async () => {
    await refused(authenticator(getter({ pods: objects.pods }), t0), podToken, /serviceaccounts "robot" not found/);
    await refused(authenticator(getter({ sa: { 'team/robot': { metadata: { uid: 'new' } } }, pods: objects.pods }), t0), podToken, /service account UID \(new\) does not match claim \(sa-uid\)/);
    await refused(authenticator(getter({ sa: objects.sa }), t0), podToken, /pods "p" not found/);
    await refused(authenticator(getter({ sa: objects.sa, pods: { 'team/p': { metadata: { uid: 'other' } } } }), t0), podToken, /pod UID \(other\) does not match pod ref claim \(pod-uid\)/);
    // A pod being deleted keeps its tokens for the leeway, then they stop working.
    const deleting = { sa: objects.sa, pods: { 'team/p': { metadata: { uid: 'pod-uid', deletionTimestamp: new Date(t0.getTime() + 10_000).toISOString() } } } };
    assert.ok(await authenticator(getter(deleting), new Date(t0.getTime() + 30_000)).authenticate(podToken));
    await refused(authenticator(getter(deleting), new Date(t0.getTime() + 75_000)), podToken, /pod team\/p has been deleted/);
  });

  it('accepts a legacy token while its Secret holds it and its service account exists with that uid', async () => {
    const legacy = signJwt(legacyServiceAccountClaims(sa, 'robot-token'), key);
    const holding = { metadata: { uid: 's' }, data: { token: Buffer.from(legacy).toString('base64') } };
    const user = await authenticator(getter({ sa: objects.sa, secrets: { 'team/robot-token': holding } }), new Date()).authenticate(legacy);
    assert.equal(user?.name, 'system:serviceaccount:team:robot');
    assert.deepEqual(user?.groups, ['system:serviceaccounts', 'system:serviceaccounts:team']);
    await refused(authenticator(getter({ sa: objects.sa }), t0), legacy, /^Token has been invalidated$/);
    await refused(authenticator(getter({ sa: objects.sa, secrets: { 'team/robot-token': { data: { token: 'b3RoZXI=' } } } }), t0), legacy, /Token does not match server's copy/);
    await refused(
      authenticator(getter({ sa: { 'team/robot': { metadata: { uid: 'new' } } }, secrets: { 'team/robot-token': holding } }), t0),
      legacy,
      /ServiceAccount UID \(new\) does not match claim \(sa-uid\)/,
    );
    const forged = signJwt(legacyServiceAccountClaims(sa, 'robot-token'), newKey());
    await refused(authenticator(getter({ sa: objects.sa, secrets: { 'team/robot-token': holding } }), t0), forged, /cryptographic primitive/);
  });
});
