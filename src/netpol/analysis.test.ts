import { describe, expect, it } from 'vitest';
import type { NetworkPolicy, NetworkPolicySpec } from '../k8s/types.ts';
import { StaticClusterView } from '../cluster/static.ts';
import { admitsAllNamespaces, admitsAllPorts, admitsAnywhere, admitsInternet, admitsOtherNamespaces, isAnywhere, reachesTier, scanPods } from './analysis.ts';
import { AddressSet, NON_PUBLIC_V4, PUBLIC_V4 } from './cidr.ts';
import { PolicyIndex } from './index.ts';
import { compilePolicy } from './policy.ts';
import { CompiledSelector } from './selector.ts';

function policy(spec: Partial<NetworkPolicySpec>, namespace = 'shop'): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace }, spec: { podSelector: {}, ...spec } };
}
function firstIngressRule(ingress: unknown) {
  return compilePolicy(policy({ ingress } as Partial<NetworkPolicySpec>)).ingress[0]!;
}
const ns = (selector: object) => ({ namespaceSelector: selector });

describe('admitsAnywhere', () => {
  const cases: Array<[string, unknown, string | undefined]> = [
    ['no from', [{ ports: [{ port: 80 }] }], 'spec.ingress[0]'],
    ['from: [] with ports', [{ from: [], ports: [{ port: 80 }] }], 'spec.ingress[0].from'],
    ['ingress: [{}]', [{}], 'spec.ingress[0]'],
    ['0.0.0.0/0', [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }], 'spec.ingress[0].from[0].ipBlock'],
    ['0.0.0.0/0 except the private ranges', [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } }] }], 'spec.ingress[0].from[0].ipBlock'],
    ['split /1 blocks', [{ from: [{ ipBlock: { cidr: '0.0.0.0/1' } }, { ipBlock: { cidr: '128.0.0.0/1' } }] }], 'spec.ingress[0].from'],
    ['::/0', [{ from: [{ ipBlock: { cidr: '::/0' } }] }], 'spec.ingress[0].from[0].ipBlock'],
    ['IPv6 blocks that together cover ::/0', [{ from: [{ ipBlock: { cidr: '2000::/3' } }, { ipBlock: { cidr: '4000::/2' } }, { ipBlock: { cidr: '8000::/1' } }, { ipBlock: { cidr: '::/3' } }] }], 'spec.ingress[0].from'],
    // Anywhere is "at least half of the family's public addresses": carving out ranges does not escape it.
    ['0.0.0.0/0 except one public /24 is still anywhere', [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.0/24'] } }] }], 'spec.ingress[0].from[0].ipBlock'],
    ['0.0.0.0/0 except a public /2 is still anywhere', [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['64.0.0.0/2'] } }] }], 'spec.ingress[0].from[0].ipBlock'],
    ['::/0 except 2001:db8::/32 is still anywhere', [{ from: [{ ipBlock: { cidr: '::/0', except: ['2001:db8::/32'] } }] }], 'spec.ingress[0].from[0].ipBlock'],
    ['one /1 is over half of the public IPv4 space', [{ from: [{ ipBlock: { cidr: '0.0.0.0/1' } }] }], 'spec.ingress[0].from[0].ipBlock'],
    ['the upper /1 is under half (224/3 is not public)', [{ from: [{ ipBlock: { cidr: '128.0.0.0/1' } }] }], undefined],
    ['two /2s that only together reach half', [{ from: [{ ipBlock: { cidr: '128.0.0.0/2' } }, { ipBlock: { cidr: '64.0.0.0/2' } }] }], 'spec.ingress[0].from'],
    ['0.0.0.0/0 except both /2s of the upper half is under half', [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['0.0.0.0/2', '64.0.0.0/2'] } }] }], undefined],
    ['a partner /24', [{ from: [{ ipBlock: { cidr: '203.0.113.0/24' } }] }], undefined],
    ['a partner /24 and private ranges', [{ from: [{ ipBlock: { cidr: '203.0.113.0/24' } }, { ipBlock: { cidr: '10.0.0.0/8' } }, { ipBlock: { cidr: '172.16.0.0/12' } }] }], undefined],
    ['2000::/3 is an eighth of the public IPv6 space', [{ from: [{ ipBlock: { cidr: '2000::/3' } }] }], undefined],
    ['namespaceSelector {} admits no outside address', [{ from: [ns({})] }], undefined],
  ];
  it.each(cases)('%s', (_n, ingress, path) => {
    expect(admitsAnywhere(firstIngressRule(ingress))?.path).toBe(path);
  });
  it('says how much it admits when it is not everything', () => {
    expect(admitsAnywhere(firstIngressRule([{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.0/24'] } }] }]))?.reason).toBe(
      'admits 99.9% of the public IPv4 addresses (at least half counts as anywhere, whatever is carved out) (anywhere on the internet)',
    );
    expect(admitsAnywhere(firstIngressRule([{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }]))?.reason).toBe('admits every public IPv4 address (anywhere on the internet)');
  });
});

describe('isAnywhere: exactly half of the public space is the threshold', () => {
  const half = PUBLIC_V4.size() / 2n;
  // The public IPv4 space from its first address, cut to `count` addresses.
  const prefixOfPublic = (count: bigint): AddressSet => {
    const out: Array<[bigint, bigint]> = [];
    let left = count;
    for (const [lo, hi] of PUBLIC_V4.intervals) {
      if (left === 0n) break;
      const take = hi - lo + 1n < left ? hi - lo + 1n : left;
      out.push([lo, lo + take - 1n]);
      left -= take;
    }
    return AddressSet.of(4, out);
  };
  const cases: Array<[string, bigint, boolean]> = [
    ['half minus one address', half - 1n, false],
    ['exactly half', half, true],
    ['half plus one', half + 1n, true],
  ];
  it.each(cases)('%s', (_n, count, expected) => {
    expect(isAnywhere(prefixOfPublic(count))).toBe(expected);
  });
  it('non-public addresses do not count towards the half', () => {
    expect(isAnywhere(prefixOfPublic(half - 1n).union(NON_PUBLIC_V4))).toBe(false);
  });
});

describe('admitsInternet', () => {
  const cases: Array<[string, unknown, string | undefined]> = [
    ['no from', [{}], 'spec.ingress[0]'],
    ['a partner /24', [{ from: [{ podSelector: {} }, { ipBlock: { cidr: '203.0.113.0/24' } }] }], 'spec.ingress[0].from[1].ipBlock'],
    ['private only', [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }, { ipBlock: { cidr: '192.168.0.0/16' } }] }], undefined],
    ['public v6', [{ from: [{ ipBlock: { cidr: '2001:db8::/32' } }] }], 'spec.ingress[0].from[0].ipBlock'],
    ['ULA v6 only', [{ from: [{ ipBlock: { cidr: 'fd00::/8' } }] }], undefined],
    ['pods only', [{ from: [ns({})] }], undefined],
  ];
  it.each(cases)('%s', (_n, ingress, path) => {
    expect(admitsInternet(firstIngressRule(ingress))?.path).toBe(path);
  });
});

describe('admitsAllNamespaces', () => {
  const cases: Array<[string, unknown, string | undefined]> = [
    ['no from', [{}], 'spec.ingress[0]'],
    ['namespaceSelector {}', [{ from: [ns({})] }], 'spec.ingress[0].from[0].namespaceSelector'],
    ['namespaceSelector {} with any podSelector', [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'x' } } }] }], 'spec.ingress[0].from[0].namespaceSelector'],
    ['NotIn names', [{ from: [ns({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['evil'] }] })] }], 'spec.ingress[0].from[0].namespaceSelector'],
    ['DoesNotExist of a label', [{ from: [ns({ matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] })] }], 'spec.ingress[0].from[0].namespaceSelector'],
    ['Exists on the name label', [{ from: [ns({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'Exists' }] })] }], 'spec.ingress[0].from[0].namespaceSelector'],
    ['a labelled namespace', [{ from: [ns({ matchLabels: { team: 'payments' } })] }], undefined],
    ['named namespaces', [{ from: [ns({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['a', 'b'] }] })] }], undefined],
    ['bare podSelector: own namespace', [{ from: [{ podSelector: {} }] }], undefined],
    ['an ipBlock', [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }], undefined],
  ];
  it.each(cases)('%s', (_n, ingress, path) => {
    expect(admitsAllNamespaces(firstIngressRule(ingress))?.path).toBe(path);
  });
  it('says so in words', () => {
    expect(admitsAllNamespaces(firstIngressRule([{ from: [ns({})] }]))?.reason).toBe('namespaceSelector {} admits every namespace, including ones created later');
  });
});

describe('admitsOtherNamespaces', () => {
  const view = new StaticClusterView(
    ['shop', 'monitoring'].map((name) => ({
      object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { team: name === 'shop' ? 'shop' : 'ops' } } },
      source: { file: 't', document: 0, path: '' },
    })),
  );
  const index = new PolicyIndex(view);
  const cases: Array<[string, unknown, boolean]> = [
    ['bare podSelector', [{ from: [{ podSelector: {} }] }], false],
    ['own namespace by name', [{ from: [ns({ matchLabels: { 'kubernetes.io/metadata.name': 'shop' } })] }], false],
    ['another namespace by name, even one not created yet', [{ from: [ns({ matchLabels: { 'kubernetes.io/metadata.name': 'partner' } })] }], true],
    ['an existing labelled namespace', [{ from: [ns({ matchLabels: { team: 'ops' } })] }], true],
    ['a label only the own namespace has', [{ from: [ns({ matchLabels: { team: 'shop' } })] }], false],
    ['namespaceSelector {}', [{ from: [ns({})] }], true],
  ];
  it.each(cases)('%s', (_n, ingress, expected) => {
    expect(admitsOtherNamespaces(firstIngressRule(ingress), 'shop', index) !== undefined).toBe(expected);
  });
});

describe('admitsAllPorts', () => {
  const cases: Array<[string, unknown, string | undefined]> = [
    ['no ports', [{ from: [{ podSelector: {} }] }], 'spec.ingress[0]'],
    ['empty ports', [{ ports: [] }], 'spec.ingress[0].ports'],
    ['protocol without port', [{ ports: [{ protocol: 'UDP' }] }], 'spec.ingress[0].ports[0]'],
    ['a range 1-65535', [{ ports: [{ port: 1, endPort: 65535 }] }], 'spec.ingress[0].ports[0]'],
    ['ranges that together cover', [{ ports: [{ port: 1, endPort: 1000 }, { port: 1001, endPort: 65535 }] }], 'spec.ingress[0].ports'],
    ['ranges of different protocols do not', [{ ports: [{ port: 1, endPort: 1000, protocol: 'UDP' }, { port: 1001, endPort: 65535 }] }], undefined],
    ['one port', [{ ports: [{ port: 443 }] }], undefined],
    ['a named port', [{ ports: [{ port: 'https' }] }], undefined],
  ];
  it.each(cases)('%s', (_n, ingress, path) => {
    expect(admitsAllPorts(firstIngressRule(ingress))?.path).toBe(path);
  });
});

describe('reachesTier', () => {
  const tier = new CompiledSelector({ matchLabels: { tier: 'data' } });
  const pods = [
    { namespace: 'shop', name: 'pg-0', labels: { tier: 'data', app: 'postgres' }, ports: [], ips: [] },
    { namespace: 'shop', name: 'web', labels: { tier: 'web', app: 'web' }, ports: [], ips: [] },
  ];
  const cases: Array<[string, object, string]> = [
    ['{}', {}, 'whole'],
    ['the tier labels', { matchLabels: { tier: 'data' } }, 'whole'],
    ['a superset expression', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['data', 'cache'] }] }, 'whole'],
    ['an app selector matching an existing data pod', { matchLabels: { app: 'postgres' } }, 'pod'],
    ['an app selector matching no data pod', { matchLabels: { app: 'web' } }, 'none'],
    ['a selector that excludes the tier', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['data'] }] }, 'none'],
    // Within the tier: only tier pods can match, so it reaches the tier before any such pod exists.
    ['tier and app, no such pod yet', { matchLabels: { tier: 'data', app: 'redis' } }, 'within'],
    ['tier and app, as expressions', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['data'] }, { key: 'app', operator: 'Exists' }] }, 'within'],
    ['tier and a NotIn on another key', { matchLabels: { tier: 'data' }, matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['postgres'] }] }, 'within'],
    ['tier and an impossible requirement selects nothing', { matchLabels: { tier: 'data' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['data'] }] }, 'none'],
    ['a value set wider than the tier, no pod', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['data', 'cache'] }, { key: 'app', operator: 'In', values: ['redis'] }] }, 'none'],
  ];
  it.each(cases)('%s', (_n, podSelector, expected) => {
    const reach = reachesTier(compilePolicy(policy({ podSelector })), tier, scanPods(pods));
    expect(reach.reaches ? reach.how : 'none').toBe(expected);
  });
});
