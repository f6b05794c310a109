import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressSet, formatIP, parseCidr, parseIP, PUBLIC_V4, PUBLIC_V6 } from './cidr.ts';

// CIDR arithmetic against brute force over 10.0.0.0/24: every address is enumerated.
const BASE = parseIP('10.0.0.0')!.value;
const cidrIn24 = fc.record({ host: fc.integer({ min: 0, max: 255 }), prefix: fc.integer({ min: 24, max: 32 }) }).map(({ host, prefix }) => `10.0.0.${host}/${prefix}`);

function bruteSet(cidrs: string[]): Set<number> {
  const out = new Set<number>();
  for (const text of cidrs) {
    const c = parseCidr(text)!;
    for (let a = c.start; a <= c.end; a++) out.add(Number(a - BASE));
  }
  return out;
}
function members(set: AddressSet): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < 256; i++) if (set.has(BASE + BigInt(i))) out.add(i);
  return out;
}
const setOf = (cidrs: string[]): AddressSet => AddressSet.fromCidrs(4, cidrs.map((c) => parseCidr(c)!));

describe('CIDR sets (property tests against brute force)', () => {
  it('union, subtraction, intersection and cover', () => {
    fc.assert(
      fc.property(fc.array(cidrIn24, { maxLength: 4 }), fc.array(cidrIn24, { maxLength: 4 }), (xs, ys) => {
        const a = bruteSet(xs);
        const b = bruteSet(ys);
        const sa = setOf(xs);
        const sb = setOf(ys);
        expect(members(sa.union(sb))).toEqual(new Set([...a, ...b]));
        expect(members(sa.subtract(sb))).toEqual(new Set([...a].filter((x) => !b.has(x))));
        expect(members(sa.intersect(sb))).toEqual(new Set([...a].filter((x) => b.has(x))));
        expect(sa.covers(sb)).toBe([...b].every((x) => a.has(x)));
        expect(sa.isEmpty()).toBe(a.size === 0);
        expect(sa.size()).toBe(BigInt(a.size));
        expect(members(AddressSet.unionAll(4, xs.map((x) => setOf([x]))))).toEqual(a);
      }),
      { numRuns: 1000 },
    );
  });

  it('clears host bits as net.ParseCIDR does, and refuses non-CIDRs', () => {
    expect(parseCidr('10.1.2.3/8')).toMatchObject({ start: parseIP('10.0.0.0')!.value, prefix: 8 });
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.256/8', 'fe80::/129', 'x/1', '10.0.0.0/-1', '']) expect(parseCidr(bad)).toBeUndefined();
  });

  it('parses and prints IPv6, including embedded IPv4', () => {
    const cases: Array<[string, string]> = [
      ['::', '::'],
      ['::1', '::1'],
      ['2001:db8::1', '2001:db8::1'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::ffff:1.2.3.4', '::ffff:102:304'],
      ['fe80::1%eth0', 'fe80::1'],
    ];
    for (const [input, printed] of cases) expect(formatIP(6, parseIP(input)!.value)).toBe(printed);
    expect(parseIP('1.2.3.4')).toEqual({ family: 4, value: 0x01020304n });
  });

  it('public space leaves out the private, shared, loopback, link-local and multicast ranges', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '203.0.113.9', '223.255.255.255']) expect(PUBLIC_V4.has(parseIP(ip)!.value)).toBe(true);
    for (const ip of ['10.1.1.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '127.0.0.1', '169.254.1.1', '0.1.2.3', '224.0.0.1', '255.255.255.255']) {
      expect(PUBLIC_V4.has(parseIP(ip)!.value)).toBe(false);
    }
    expect(PUBLIC_V6.has(parseIP('2001:4860::8888')!.value)).toBe(true);
    for (const ip of ['::1', 'fd00::1', 'fe80::1', 'ff02::1']) expect(PUBLIC_V6.has(parseIP(ip)!.value)).toBe(false);
  });
});
