import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newPath } from '../../apimachinery/validation/field-errors.js';
import {
  cidrContains,
  isIPv6String,
  parseCIDRSloppy,
  parseIPSloppy,
  validateNonSpecialIP,
} from './ip-validation.js';

describe('ip parsing', () => {
  it('accepts what ParseIPSloppy accepts', () => {
    assert.equal(parseIPSloppy('10.0.0.1')?.family, 4);
    assert.equal(parseIPSloppy('010.000.000.001')?.family, 4, 'leading zeros are decimal, not octal');
    assert.deepEqual(parseIPSloppy('010.0.0.1')?.bytes.slice(12), [10, 0, 0, 1]);
    assert.equal(parseIPSloppy('2001:db8::1')?.family, 6);
    assert.equal(parseIPSloppy('::ffff:1.2.3.4')?.family, 4, 'an IPv4-mapped address is IPv4');
    assert.equal(isIPv6String('::ffff:1.2.3.4'), false);
    for (const bad of ['10.0.0.256', '10.0.0', 'fe80::1%eth0', '1::2::3', 'abc', '', '1.2.3.4.5']) {
      assert.equal(parseIPSloppy(bad), undefined, bad);
    }
  });

  it('parses CIDRs and tests containment', () => {
    const outer = parseCIDRSloppy('10.0.0.0/8');
    assert.ok(outer);
    assert.equal(cidrContains(outer, parseCIDRSloppy('10.1.0.0/16')!.network), true);
    assert.equal(cidrContains(outer, parseCIDRSloppy('11.0.0.0/16')!.network), false);
    assert.equal(parseCIDRSloppy('10.0.0.0/33'), undefined);
    assert.equal(parseCIDRSloppy('fd00::/129'), undefined);
    assert.equal(parseCIDRSloppy('fd00::/64')?.ip.family, 6);
  });

  it('names the special ranges as upstream does', () => {
    const msgs = (ip: string) => validateNonSpecialIP(ip, newPath('ip')).map((e) => e.detail);
    assert.deepEqual(msgs('0.0.0.0'), ['may not be unspecified (0.0.0.0)']);
    assert.deepEqual(msgs('::1'), ['may not be in the loopback range (127.0.0.0/8, ::1/128)']);
    assert.deepEqual(msgs('169.254.169.254'), [
      'may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    ]);
    assert.deepEqual(msgs('224.0.0.1'), [
      'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
    ]);
    assert.deepEqual(msgs('10.1.2.3'), []);
  });
});
