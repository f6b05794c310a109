import { describe, expect, it } from 'vitest';
import { validateNetworkPolicy } from './validate.ts';

const np = (spec: unknown, name: unknown = 'p') => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name }, spec });

describe('validateNetworkPolicy (as the API server validates)', () => {
  it('accepts the spellings the API accepts', () => {
    for (const spec of [
      { podSelector: {} },
      { podSelector: {}, ingress: [{}], egress: [] },
      { podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists' }] }, policyTypes: ['Ingress', 'Egress'] },
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.1.2.3/8', except: ['10.2.0.0/16'] } }], ports: [{ port: 'https' }, { protocol: 'SCTP', port: 80, endPort: 90 }] }] },
      { podSelector: {}, egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }] }] },
    ]) {
      expect(validateNetworkPolicy(np(spec))).toEqual([]);
    }
  });

  const bad: Array<[string, unknown, string]> = [
    ['no spec', undefined, 'spec'],
    ['no podSelector', {}, 'spec.podSelector'],
    ['bad operator', { podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] } }, 'spec.podSelector.matchExpressions[0].operator'],
    ['In without values', { podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }, 'spec.podSelector.matchExpressions[0].values'],
    ['Exists with values', { podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }, 'spec.podSelector.matchExpressions[0].values'],
    ['bad label value', { podSelector: { matchLabels: { a: 'not ok' } } }, 'spec.podSelector.matchLabels.a'],
    ['bad policyType', { podSelector: {}, policyTypes: ['Inbound'] }, 'spec.policyTypes[0]'],
    ['empty peer', { podSelector: {}, ingress: [{ from: [{}] }] }, 'spec.ingress[0].from[0]'],
    ['ipBlock with a selector', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }, 'spec.ingress[0].from[0]'],
    ['bad CIDR', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] }, 'spec.egress[0].to[0].ipBlock.cidr'],
    ['except outside cidr', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16'] } }] }] }, 'spec.egress[0].to[0].ipBlock.except[0]'],
    ['except equal to cidr', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } }] }] }, 'spec.egress[0].to[0].ipBlock.except[0]'],
    ['port 0', { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] }, 'spec.ingress[0].ports[0].port'],
    ['port 70000', { podSelector: {}, ingress: [{ ports: [{ port: 70000 }] }] }, 'spec.ingress[0].ports[0].port'],
    ['bad port name', { podSelector: {}, ingress: [{ ports: [{ port: 'HTTP_ALT' }] }] }, 'spec.ingress[0].ports[0].port'],
    ['bad protocol', { podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP' }] }] }, 'spec.ingress[0].ports[0].protocol'],
    ['endPort below port', { podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort'],
    ['endPort with a named port', { podSelector: {}, ingress: [{ ports: [{ port: 'web', endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort'],
    ['endPort without port', { podSelector: {}, ingress: [{ ports: [{ endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort'],
  ];
  it.each(bad)('refuses %s at its path', (_n, spec, path) => {
    expect(validateNetworkPolicy(np(spec)).map((e) => e.path)).toEqual([path]);
  });

  it('refuses a bad name', () => {
    expect(validateNetworkPolicy(np({ podSelector: {} }, 'Not_OK')).map((e) => e.path)).toEqual(['metadata.name']);
  });
});
