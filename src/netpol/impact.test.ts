import { describe, expect, it } from 'vitest';
import { StaticClusterView } from '../cluster/static.ts';
import type { KubeObject, NetworkPolicy, PodInfo } from '../k8s/types.ts';
import { scanPods } from './analysis.ts';
import { AddressSet, parseCidr } from './cidr.ts';
import { describeAddresses, describeOpenings, podImpact, policyChangeOpens } from './impact.ts';
import { PolicyIndex } from './index.ts';
import { compilePolicy } from './policy.ts';
import { CompiledSelector } from './selector.ts';

const source = { file: 't', document: 1, path: '' };
const index = (...objects: KubeObject[]): PolicyIndex => new PolicyIndex(new StaticClusterView(objects.map((object) => ({ object, source }))));
const np = (name: string, spec: unknown): NetworkPolicy => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'shop' }, spec }) as NetworkPolicy;
const db: PodInfo = { namespace: 'shop', name: 'db', labels: { tier: 'data', app: 'pg' }, ports: [{ name: 'pg', containerPort: 5432, protocol: 'TCP' }], ips: [] };
const from = (peers: unknown[], ports?: unknown[]) => np('p', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: peers, ...(ports ? { ports } : {}) }] });

describe('podImpact: newly admitted and no longer admitted, per peer and port', () => {
  const cases: Array<[string, KubeObject[], KubeObject[], string[], string[]]> = [
    ['no change', [from([{ podSelector: {} }])], [from([{ podSelector: {} }])], [], []],
    [
      'narrowing 0.0.0.0/0 to a partner /24 opens nothing',
      [from([{ ipBlock: { cidr: '0.0.0.0/0' } }], [{ port: 5432 }])],
      [from([{ ipBlock: { cidr: '203.0.113.0/24' } }], [{ port: 5432 }])],
      [],
      ['addresses every IPv4 address except 203.0.113.0/24 on TCP/5432', 'anywhere on TCP/5432'],
    ],
    ['a partner /24 added opens its addresses and the internet', [from([{ podSelector: {} }])], [from([{ podSelector: {} }, { ipBlock: { cidr: '203.0.113.0/24' } }])], ['addresses 203.0.113.0/24 on every port', 'internet on every port'], []],
    ['a private range is addresses, not the internet', [np('deny', { podSelector: {} })], [np('deny', { podSelector: {} }), from([{ ipBlock: { cidr: '10.1.0.0/16' } }])], ['addresses 10.1.0.0/16 on every port'], []],
    ['losing isolation opens everything', [np('deny', { podSelector: {} })], [], ['addresses every IPv4 address on every port', 'addresses every IPv6 address on every port', 'allNamespaces on every port', 'anywhere on every port', 'everything (not isolated) on every port', 'internet on every port', 'otherNamespaces on every port'], []],
    ['every port before covers one port after', [from([{ namespaceSelector: {} }])], [from([{ namespaceSelector: {} }], [{ port: 5432 }])], [], ['allNamespaces on every port', 'otherNamespaces on every port', 'pods (all) in namespace shop on every port']],
    ['a named port resolves on the pod: pg is 5432', [from([{ podSelector: {} }], [{ port: 5432 }])], [from([{ podSelector: {} }], [{ port: 'pg' }])], ['pods (all) in namespace shop on TCP/5432 (pg)'], ['pods (all) in namespace shop on TCP/5432']],
  ];
  it.each(cases)('%s', (_n, before, after, opened, closed) => {
    const r = podImpact(index(...before), index(...after), db, 'Ingress');
    expect(r.opened.map((x) => `${x.peer} on ${x.ports.join(', ')}`)).toEqual(opened);
    expect(r.closed.map((x) => `${x.peer} on ${x.ports.join(', ')}`)).toEqual(closed);
  });

  it('describeAddresses: CIDRs, or everything except some', () => {
    const set = (...cidrs: string[]) => AddressSet.fromCidrs(4, cidrs.map((c) => parseCidr(c)!));
    expect(describeAddresses(set('10.0.0.0/8', '192.168.1.0/24'))).toBe('10.0.0.0/8, 192.168.1.0/24');
    expect(describeAddresses(set('10.0.0.0/9', '10.128.0.0/9'))).toBe('10.0.0.0/8');
    expect(describeAddresses(set('0.0.0.0/0').subtract(set('10.0.0.0/8')))).toBe('every IPv4 address except 10.0.0.0/8');
    expect(describeAddresses(set('0.0.0.0/0'))).toBe('every IPv4 address');
  });
});

describe('policyChangeOpens: what a NetworkPolicy UPDATE newly opens for a tier', () => {
  const tier = new CompiledSelector({ matchLabels: { tier: 'data' } });
  const noPods = scanPods([]);
  const spec = (podSelector: unknown, peers: unknown[]) => ({ podSelector, ingress: [{ from: peers }] });
  const cases: Array<[string, unknown | undefined, unknown, string[]]> = [
    ['a rule opened to every namespace', spec({ matchLabels: { tier: 'data' } }, [{ podSelector: {} }]), spec({ matchLabels: { tier: 'data' } }, [{ namespaceSelector: {} }]), ['allNamespaces spec.ingress[0].from[0].namespaceSelector']],
    ['already open before: nothing new', spec({ matchLabels: { tier: 'data' } }, [{ namespaceSelector: {} }]), spec({ matchLabels: { tier: 'data' } }, [{ namespaceSelector: {} }, { podSelector: {} }]), []],
    ['the podSelector widened onto the tier', spec({ matchLabels: { tier: 'web' } }, [{ namespaceSelector: {} }]), spec({}, [{ namespaceSelector: {} }]), ['allNamespaces spec.ingress[0].from[0].namespaceSelector']],
    ['a policy that does not reach the tier opens nothing for it', spec({ matchLabels: { tier: 'web' } }, [{ podSelector: {} }]), spec({ matchLabels: { tier: 'web' } }, [{ namespaceSelector: {} }]), []],
    ['CREATE (no old version): everything it admits', undefined, spec({ matchLabels: { tier: 'data' } }, [{ namespaceSelector: {} }]), ['allNamespaces spec.ingress[0].from[0].namespaceSelector']],
  ];
  it.each(cases)('%s', (_n, old, next, expected) => {
    const got = policyChangeOpens(old ? compilePolicy(np('p', old)) : undefined, compilePolicy(np('p', next)), 'Ingress', tier, ['anywhere', 'allNamespaces'], noPods);
    expect(got.map((o) => `${o.peerClass} ${o.path}`)).toEqual(expected);
  });

  it('names what the change opened', () => {
    const got = policyChangeOpens(
      compilePolicy(np('p', spec({ matchLabels: { tier: 'data' } }, [{ podSelector: {} }]))),
      compilePolicy(np('p', spec({ matchLabels: { tier: 'data' } }, [{ namespaceSelector: {} }]))),
      'Ingress',
      tier,
      ['allNamespaces'],
      noPods,
    );
    expect(describeOpenings(got, 'data', 'Ingress')).toMatch(/^this change opens tier data from all namespaces \(spec\.ingress\[0\]\.from\[0\]\.namespaceSelector: .+\), which the previous version did not admit$/);
  });
});
