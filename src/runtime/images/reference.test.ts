import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isImageError } from './errors.js';
import { familiarString, parseDockerRef, parseNormalizedNamed, referenceString } from './reference.js';

const digest = 'sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa';

describe('parseDockerRef normalises as distribution/reference does', () => {
  const cases: [input: string, normalised: string, familiar: string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['user/app/sub:v1', 'docker.io/user/app/sub:v1', 'user/app/sub:v1'],
    ['host:5000/a/b:tag', 'host:5000/a/b:tag', 'host:5000/a/b:tag'],
    ['127.0.0.1:5000/debian', '127.0.0.1:5000/debian:latest', '127.0.0.1:5000/debian:latest'],
    ['localhost/debian', 'localhost/debian:latest', 'localhost/debian:latest'],
    ['[fc00::1]:5000/docker', '[fc00::1]:5000/docker:latest', '[fc00::1]:5000/docker:latest'],
    ['LOCALDOMAIN/debian', 'LOCALDOMAIN/debian:latest', 'LOCALDOMAIN/debian:latest'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    [`busybox@${digest}`, `docker.io/library/busybox@${digest}`, `busybox@${digest}`],
    // A tag next to a digest is dropped: the digest alone names the content.
    [`busybox:latest@${digest}`, `docker.io/library/busybox@${digest}`, `busybox@${digest}`],
    ['dock__er/docker---rules', 'docker.io/dock__er/docker---rules:latest', 'dock__er/docker---rules:latest'],
  ];
  for (const [input, normalised, familiar] of cases) {
    it(`${input} → ${normalised}`, () => {
      const ref = parseDockerRef(input);
      assert.equal(referenceString(ref), normalised);
      assert.equal(familiarString(ref), familiar);
    });
  }

  it('keeps tag and digest both in parseNormalizedNamed', () => {
    const ref = parseNormalizedNamed(`busybox:1@${digest}`);
    assert.deepEqual(ref, { domain: 'docker.io', path: 'library/busybox', tag: '1', digest });
  });
});

describe('bad references fail with InvalidReference and upstream wording', () => {
  const cases: [input: string, message: RegExp][] = [
    ['', /invalid reference format/],
    ['Busybox', /invalid reference format: repository name \(library\/Busybox\) must be lowercase/],
    ['docker/Docker', /repository name \(docker\/Docker\) must be lowercase/],
    ['docker.io/docker/Docker', /must be lowercase/],
    ['https://github.com/docker/docker', /invalid reference format/],
    ['-docker', /invalid reference format/],
    ['docker///docker', /invalid reference format/],
    ['docker/', /invalid reference format/],
    ['dock..er/docker', /invalid reference format/],
    ['[fc00::1]:5000', /invalid reference format/],
    ['fc00::1:5000/debian', /invalid reference format/],
    ['busybox:-tag', /invalid reference format/],
    [`busybox:${'t'.repeat(129)}`, /invalid reference format/],
    [
      '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
      /cannot specify 64-byte hexadecimal strings/,
    ],
    [`${'a'.repeat(250)}/${'b'.repeat(10)}`, /must not be more than 255 characters/],
    ['busybox@sha256:abc', /invalid reference format/],
    [`busybox@sha256:${'A'.repeat(64)}`, /invalid checksum digest format/],
    [`busybox@sha256:${'a'.repeat(63)}`, /invalid checksum digest length/],
    [`busybox@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
  ];
  for (const [input, message] of cases) {
    it(JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input), () => {
      assert.throws(
        () => parseDockerRef(input),
        (err: unknown) => isImageError(err, 'InvalidReference') && message.test(err.message),
      );
    });
  }

  it('accepts a 64-hex name when a registry is given', () => {
    const hex = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';
    assert.equal(referenceString(parseDockerRef(`docker.io/${hex}`)), `docker.io/library/${hex}:latest`);
  });
});
