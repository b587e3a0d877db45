import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenRequest } from './token-manager.js';
import { TokenManager } from './token-manager.js';

const hour = 3600_000;

/** A manager over a fake API that counts requests and issues tokens at the fake clock's time. */
function setup(jitter = 0): { manager: TokenManager; clock: { now: number }; calls: () => number; fail: (on: boolean) => void } {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  let calls = 0;
  let failing = false;
  const manager = new TokenManager(
    (namespace, name, request) => {
      calls++;
      if (failing) return Promise.reject(new Error('connection refused'));
      const seconds = request.spec.expirationSeconds ?? 3600;
      return Promise.resolve({
        ...request,
        status: { token: `${namespace}/${name}#${calls}`, expirationTimestamp: new Date(clock.now + seconds * 1000).toISOString() },
      });
    },
    { now: () => clock.now, random: () => jitter },
  );
  return { manager, clock, calls: () => calls, fail: (on) => (failing = on) };
}

const request = (uid: string, expirationSeconds: number, audiences: string[] = []): TokenRequest => ({
  spec: { audiences, expirationSeconds, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid } },
});

describe('TokenManager', () => {
  it('serves a token from the cache until 80% of its lifetime has passed', async () => {
    const { manager, clock, calls } = setup();
    const first = await manager.getServiceAccountToken('ns', 'sa', request('u1', 3600));
    clock.now += 0.79 * hour;
    assert.equal((await manager.getServiceAccountToken('ns', 'sa', request('u1', 3600))).status?.token, first.status?.token);
    assert.equal(calls(), 1);
    clock.now += 0.02 * hour;
    assert.notEqual((await manager.getServiceAccountToken('ns', 'sa', request('u1', 3600))).status?.token, first.status?.token);
    assert.equal(calls(), 2);
  });

  it('refreshes a long-lived token after 24 hours, and earlier by the jitter', async () => {
    const { manager, clock, calls } = setup(0.5);
    await manager.getServiceAccountToken('ns', 'sa', request('u1', 7 * 24 * 3600));
    clock.now += 24 * hour - 6000;
    await manager.getServiceAccountToken('ns', 'sa', request('u1', 7 * 24 * 3600));
    assert.equal(calls(), 1);
    // 5 s of jitter: a refresh from 24 h − 5 s on.
    clock.now += 2000;
    await manager.getServiceAccountToken('ns', 'sa', request('u1', 7 * 24 * 3600));
    assert.equal(calls(), 2);
  });

  it('keys the cache by what is asked: another audience or pod is another token', async () => {
    const { manager, calls } = setup();
    await manager.getServiceAccountToken('ns', 'sa', request('u1', 3600));
    await manager.getServiceAccountToken('ns', 'sa', request('u1', 3600, ['vault']));
    await manager.getServiceAccountToken('ns', 'sa', request('u2', 3600));
    await manager.getServiceAccountToken('ns', 'other', request('u1', 3600));
    assert.equal(calls(), 4);
    assert.equal(manager.size, 4);
    manager.deleteServiceAccountToken('u1');
    assert.equal(manager.size, 1);
  });

  it('falls back to a cached token that has not expired when the API fails', async () => {
    const { manager, clock, fail } = setup();
    const first = await manager.getServiceAccountToken('ns', 'sa', request('u1', 3600));
    fail(true);
    clock.now += 0.9 * hour;
    assert.equal((await manager.getServiceAccountToken('ns', 'sa', request('u1', 3600))).status?.token, first.status?.token);
    clock.now += 0.2 * hour;
    await assert.rejects(manager.getServiceAccountToken('ns', 'sa', request('u1', 3600)), /connection refused/);
  });
});
