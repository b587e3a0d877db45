import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isImageError } from './errors.js';
import { parseChallenges } from './registry-client.js';
import { isLoopbackHost, parseRegistriesConfig, resolveEndpoints } from './registry-config.js';

const example = `
mirrors:
  docker.io:
    endpoint:
      - "https://mirror.example.com:5000"
      - "http://10.0.0.1:5000/v2/custom"
    rewrite:
      "^rancher/(.*)": "mirrorproject/rancher-images/$1"
  "*":
    endpoint:
      - "https://catchall.example.com"
configs:
  "mirror.example.com:5000":
    auth:
      username: user
      password: pass
    tls:
      insecure_skip_verify: true
  registry.example.com:
    auth:
      identitytoken: refresh
`;

describe('registries config', () => {
  it('parses k3s registries.yaml and orders mirrors before the registry itself', () => {
    const config = parseRegistriesConfig(example);
    const endpoints = resolveEndpoints(config, 'docker.io', 'rancher/coredns');
    assert.deepEqual(
      endpoints.map((e) => [e.protocol, e.host, e.apiRoot, e.repository, e.isDefault]),
      [
        ['https:', 'mirror.example.com:5000', '/v2', 'mirrorproject/rancher-images/coredns', false],
        ['http:', '10.0.0.1:5000', '/v2/custom', 'mirrorproject/rancher-images/coredns', false],
        ['https:', 'registry-1.docker.io', '/v2', 'rancher/coredns', true],
      ],
    );
    assert.deepEqual(endpoints[0]!.auth, { username: 'user', password: 'pass' });
    assert.equal(endpoints[0]!.tls.insecure_skip_verify, true);
    assert.equal(endpoints[1]!.auth, undefined);
  });

  it('applies the "*" mirror to registries without their own entry', () => {
    const endpoints = resolveEndpoints(parseRegistriesConfig(example), 'registry.example.com', 'team/app');
    assert.deepEqual(
      endpoints.map((e) => e.host),
      ['catchall.example.com', 'registry.example.com'],
    );
    assert.deepEqual(endpoints[1]!.auth, { identitytoken: 'refresh' });
  });

  it('reaches loopback registries over HTTPS without verification, falling back to HTTP', () => {
    for (const host of ['127.0.0.1:5000', '127.1.2.3', 'localhost:5000', '[::1]:5000']) {
      assert.equal(isLoopbackHost(host), true, host);
      const [endpoint] = resolveEndpoints({}, host, 'x');
      assert.equal(endpoint?.httpFallback, true);
      assert.equal(endpoint?.tls.insecure_skip_verify, true);
    }
    for (const host of ['128.0.0.1', 'example.com', '[::2]:5000', '10.0.0.1:5000']) {
      assert.equal(isLoopbackHost(host), false, host);
      assert.equal(resolveEndpoints({}, host, 'x')[0]?.httpFallback, false);
    }
  });

  it('rejects malformed configs with the path of the problem', () => {
    for (const [text, message] of [
      ['mirrors: [1]', /mirrors: must be a mapping/],
      ['mirrors: {a: {endpoint: "x"}}', /mirrors\.a\.endpoint: must be a list/],
      ['mirrors: {a: {endpoint: ["ftp://x"]}}', /scheme must be http or https/],
      ['mirrors: {a: {rewrite: {"(": "x"}}}', /invalid regular expression/],
      ['configs: {a: {tls: {insecure_skip_verify: "yes"}}}', /insecure_skip_verify: must be a boolean/],
      ['configs: {a: {auth: {username: 1}}}', /configs\.a\.auth\.username: must be a string/],
      [': : :', /invalid registries config/],
    ] as const) {
      assert.throws(
        () => parseRegistriesConfig(text),
        (err: unknown) => isImageError(err, 'InvalidConfig') && message.test(err.message),
        text,
      );
    }
    assert.deepEqual(parseRegistriesConfig(''), {});
  });
});

describe('WWW-Authenticate parsing', () => {
  it('reads bearer and basic challenges with quoted and bare parameters', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/busybox:pull',
          },
        },
      ],
    );
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
    assert.deepEqual(parseChallenges('Bearer realm=https://x/token, error=invalid_token'), [
      { scheme: 'bearer', params: { realm: 'https://x/token', error: 'invalid_token' } },
    ]);
  });
});
