import { describe, expect, it } from 'vitest';
import type { NetworkPolicy, NetworkPolicySpec } from '../k8s/types.ts';
import { StaticClusterView } from '../cluster/static.ts';
import { admitsAllNamespaces, admitsAllPorts, admitsAnywhere, admitsInternet, admitsOtherNamespaces, reachesTier, scanPods } from './analysis.ts';
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
    ['except a public block is not anywhere', [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['8.8.8.0/24'] } }] }], undefined],
    ['one /1 alone is not', [{ from: [{ ipBlock: { cidr: '0.0.0.0/1' } }] }], undefined],
    ['a partner /24', [{ from: [{ ipBlock: { cidr: '203.0.113.0/24' } }] }], undefined],
    ['namespaceSelector {} admits no outside address', [{ from: [ns({})] }], undefined],
  ];
  it.each(cases)('%s', (_n, ingress, path) => {
    expect(admitsAnywhere(firstIngressRule(ingress))?.path).toBe(path);
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
  const cases: Array<[string, object, boolean]> = [
    ['{}', {}, true],
    ['the tier labels', { matchLabels: { tier: 'data' } }, true],
    ['a superset expression', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['data', 'cache'] }] }, true],
    ['an app selector matching an existing data pod', { matchLabels: { app: 'postgres' } }, true],
    ['an app selector matching no data pod', { matchLabels: { app: 'web' } }, false],
    ['a selector that excludes the tier', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['data'] }] }, false],
  ];
  it.each(cases)('%s', (_n, podSelector, expected) => {
    expect(reachesTier(compilePolicy(policy({ podSelector })), tier, scanPods(pods)).reaches).toBe(expected);
  });
});
