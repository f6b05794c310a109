import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IPBlock, NetworkPolicyPeer, NetworkPolicyPort, Protocol } from '../k8s/types.ts';
import { buildIndex, endpoint, type Scenario } from '../../test/helpers/netpol-model.ts';
import { evaluateConnection } from './reach.ts';

const labelSel = fc.oneof(
  fc.constant({}),
  fc.constantFrom('a', 'b', 'c').map((v) => ({ matchLabels: { pod: v } })),
  fc.constantFrom('x', 'y', 'z').map((v) => ({ matchExpressions: [{ key: 'ns', operator: 'NotIn' as const, values: [v] }] })),
);
const peer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  fc.record({ podSelector: labelSel }),
  fc.record({ namespaceSelector: labelSel }),
  fc.record({ podSelector: labelSel, namespaceSelector: labelSel }),
  fc.record({ ipBlock: fc.constantFrom<IPBlock>({ cidr: '203.0.113.0/24' }, { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] }, { cidr: '198.51.100.0/25' }) }),
);
const port: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom<Protocol>('TCP', 'UDP'), port: fc.constantFrom(80, 81) }),
  fc.record({ port: fc.constantFrom('serve-80-tcp', 'serve-81-udp') }),
  fc.record({ protocol: fc.constantFrom<Protocol>('TCP', 'SCTP') }),
  fc.record({ port: fc.constant(80), endPort: fc.constant(81) }),
);
const rule = fc.record({ peers: fc.array(peer, { maxLength: 2 }), ports: fc.array(port, { maxLength: 2 }) }, { requiredKeys: [] });
const policy = fc.record({
  namespace: fc.constantFrom('x', 'y'),
  podSelector: labelSel,
  ingress: fc.array(rule, { maxLength: 2 }),
  egress: fc.array(rule, { maxLength: 2 }),
});

interface GeneratedRule {
  peers?: unknown[];
  ports?: unknown[];
}
interface GeneratedPolicy {
  namespace: string;
  podSelector: object;
  ingress: GeneratedRule[];
  egress: GeneratedRule[];
}

function toScenario(policies: GeneratedPolicy[]): Scenario {
  return {
    name: 'generated',
    source: 'property',
    file: 'generated',
    policies: policies.map((p, i) => ({
      name: `p${i}`,
      namespace: p.namespace,
      spec: {
        podSelector: p.podSelector,
        // Explicit policyTypes: adding a rule must not change which pods are isolated.
        policyTypes: ['Ingress', 'Egress'],
        ingress: p.ingress.map((r) => ({ from: r.peers, ports: r.ports })),
        egress: p.egress.map((r) => ({ to: r.peers, ports: r.ports })),
      },
    })),
  };
}

const ENDPOINTS = ['x/a', 'x/b', 'y/a', 'y/c', 'z/b', '203.0.113.9', '198.51.100.200', '10.1.1.1'];
const CHECKS: Array<[number, Protocol]> = [[80, 'TCP'], [81, 'UDP'], [81, 'TCP'], [80, 'SCTP']];

function verdicts(s: Scenario): boolean[] {
  const { index, view } = buildIndex(s);
  const out: boolean[] = [];
  for (const from of ENDPOINTS) {
    for (const to of ENDPOINTS) {
      if (from === to || (!from.includes('/') && !to.includes('/'))) continue;
      for (const [p, protocol] of CHECKS) {
        out.push(evaluateConnection(index, { from: endpoint(view, from), to: endpoint(view, to), port: p, protocol }).allowed);
      }
    }
  }
  return out;
}

describe('connection evaluation (property tests)', () => {
  it('adding an allow rule never denies a connection that was allowed', () => {
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 3 }), rule, fc.nat(), fc.boolean(), (policies, extra, which, ingress) => {
        const before = verdicts(toScenario(policies));
        const target = policies[which % policies.length]!;
        const changed = policies.map((p) => (p === target ? { ...p, [ingress ? 'ingress' : 'egress']: [...(ingress ? p.ingress : p.egress), extra] } : p));
        const after = verdicts(toScenario(changed));
        before.forEach((allowed, i) => {
          if (allowed) expect(after[i]).toBe(true);
        });
      }),
      { numRuns: 150 },
    );
  });
});
