import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CidrSet, formatIP, parseCIDR } from './cidr-set.js';

describe('CidrSet', () => {
  it('hands out /24s of an IPv4 /16 in order, reuses released ones, and runs out', () => {
    const s = new CidrSet('10.42.0.0/22', 24);
    assert.deepEqual([s.allocateNext(), s.allocateNext()], ['10.42.0.0/24', '10.42.1.0/24']);
    s.release('10.42.0.0/24');
    assert.equal(s.allocateNext(), '10.42.2.0/24');
    assert.equal(s.allocateNext(), '10.42.3.0/24');
    assert.equal(s.allocateNext(), '10.42.0.0/24');
    assert.equal(s.allocateNext(), undefined);
    assert.equal(s.allocated, 4);
  });

  it('carves /64s from an IPv6 /48 and skips occupied ones', () => {
    const s = new CidrSet('fd42::/48', 64);
    assert.equal(s.occupy('fd42::/64'), true);
    assert.equal(s.occupy('10.0.0.0/24'), false);
    assert.equal(s.occupy('fd43::/64'), false);
    assert.equal(s.allocateNext(), 'fd42:0:0:1::/64');
    assert.equal(s.allocateNext(), 'fd42:0:0:2::/64');
  });

  it('refuses mask sizes that do not fit or make too many subnets', () => {
    assert.throws(() => new CidrSet('10.42.0.0/16', 8), /does not fit/);
    assert.throws(() => new CidrSet('fd42::/32', 64), /too big/);
  });

  it('parses and formats addresses as Go prints them', () => {
    assert.equal(formatIP(6, parseCIDR('2001:db8:0:0:1:0:0:1/128').base), '2001:db8::1:0:0:1');
    assert.equal(formatIP(6, parseCIDR('::/0').base), '::');
    assert.equal(formatIP(4, parseCIDR('10.42.7.9/16').base), '10.42.0.0');
    assert.throws(() => parseCIDR('10.42.0.0'), /invalid CIDR/);
  });
});
