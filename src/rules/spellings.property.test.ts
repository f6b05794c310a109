import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../admission/admit.ts';
import { decisionOf } from '../admission/context.ts';
import { defaultHandlers } from '../admission/registry.ts';
import type { LabelSelector, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from '../k8s/types.ts';
import { admissionRequest, configWith, contextFor } from '../../test/helpers/rules-world.ts';

// Spellings with the same meaning must get the same verdict: the same decision and the same
// rules violated. Policies are generated, then rewritten without changing what they admit.

const selector = fc.constantFrom<LabelSelector>(
  {},
  { matchLabels: { tier: 'data' } },
  { matchLabels: { app: 'postgres' } },
  { matchLabels: { tier: 'logic' } },
  { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['data'] }] },
);
const peer = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: selector }),
  fc.record({ namespaceSelector: fc.constant({}), podSelector: selector }),
  fc.record({ namespaceSelector: fc.constant({ matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }), podSelector: selector }),
  fc.constantFrom<NetworkPolicyPeer>({ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '203.0.113.0/24' } }, { ipBlock: { cidr: '10.0.0.0/8' } }),
) as fc.Arbitrary<NetworkPolicyPeer>;
const ports = fc.option(fc.array(fc.constantFrom<NetworkPolicyPort>({ port: 5432 }, { port: 53, protocol: 'UDP' }, { port: 'pg' }), { minLength: 1, maxLength: 2 }), { nil: undefined });
const rule = fc.record({ peers: fc.option(fc.array(peer, { minLength: 1, maxLength: 3 }), { nil: undefined }), ports });
const spec = fc.record({
  podSelector: selector,
  types: fc.constantFrom(['Ingress'], ['Egress'], ['Ingress', 'Egress'], undefined),
  ingress: fc.array(rule, { maxLength: 2 }),
  egress: fc.array(rule, { maxLength: 2 }),
});
type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;

function toSpec(s: Spec): NetworkPolicySpec {
  return {
    podSelector: s.podSelector,
    ...(s.types ? { policyTypes: [...s.types] as NetworkPolicySpec['policyTypes'] } : {}),
    ingress: s.ingress.map((r) => ({ ...(r.peers ? { from: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })),
    egress: s.egress.map((r) => ({ ...(r.peers ? { to: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })),
  };
}

/** Rewrites that keep the meaning: each one is an identity of the NetworkPolicy API. */
const rewrites: Array<(s: NetworkPolicySpec, rnd: () => number) => NetworkPolicySpec> = [
  // matchLabels {k: v} is matchExpressions [{k In [v]}]
  (s) => mapSelectors(s, (sel) => ({
    matchExpressions: [
      ...Object.entries(sel.matchLabels ?? {}).map(([key, value]) => ({ key, operator: 'In' as const, values: [value] })),
      ...(sel.matchExpressions ?? []),
    ],
  })),
  // peers and rules in another order
  (s, rnd) => ({
    ...s,
    ingress: shuffle((s.ingress ?? []).map((r) => (r.from ? { ...r, from: shuffle(r.from, rnd) } : r)), rnd),
    egress: shuffle((s.egress ?? []).map((r) => (r.to ? { ...r, to: shuffle(r.to, rnd) } : r)), rnd),
  }),
  // no from/to is an empty from/to; no ports is an empty ports list
  (s) => ({
    ...s,
    ingress: (s.ingress ?? []).map((r) => ({ from: r.from ?? [], ports: r.ports ?? [] })),
    egress: (s.egress ?? []).map((r) => ({ to: r.to ?? [], ports: r.ports ?? [] })),
  }),
  // 0.0.0.0/0 is 0.0.0.0/1 plus 128.0.0.0/1
  (s) => ({
    ...s,
    ingress: (s.ingress ?? []).map((r) => (r.from ? { ...r, from: r.from.flatMap(split) } : r)),
    egress: (s.egress ?? []).map((r) => (r.to ? { ...r, to: r.to.flatMap(split) } : r)),
  }),
  // protocol TCP is the default
  (s) => ({
    ...s,
    ingress: (s.ingress ?? []).map((r) => (r.ports ? { ...r, ports: r.ports.map((p) => ({ protocol: 'TCP' as const, ...p })) } : r)),
    egress: (s.egress ?? []).map((r) => (r.ports ? { ...r, ports: r.ports.map((p) => ({ protocol: 'TCP' as const, ...p })) } : r)),
  }),
  // namespaceSelector {} is "the name label exists"
  (s) => ({
    ...s,
    ingress: (s.ingress ?? []).map((r) => (r.from ? { ...r, from: r.from.map(existsForAll) } : r)),
    egress: (s.egress ?? []).map((r) => (r.to ? { ...r, to: r.to.map(existsForAll) } : r)),
  }),
];

/** Applies f to every label selector of the spec (podSelector and peers' selectors). */
function mapSelectors(s: NetworkPolicySpec, f: (sel: LabelSelector) => LabelSelector): NetworkPolicySpec {
  const peerOf = (p: NetworkPolicyPeer): NetworkPolicyPeer => ({
    ...p,
    ...(p.podSelector ? { podSelector: f(p.podSelector) } : {}),
    ...(p.namespaceSelector ? { namespaceSelector: f(p.namespaceSelector) } : {}),
  });
  return {
    ...s,
    podSelector: f(s.podSelector),
    ingress: (s.ingress ?? []).map((r) => (r.from ? { ...r, from: r.from.map(peerOf) } : r)),
    egress: (s.egress ?? []).map((r) => (r.to ? { ...r, to: r.to.map(peerOf) } : r)),
  };
}

function split(p: NetworkPolicyPeer): NetworkPolicyPeer[] {
  return p.ipBlock?.cidr === '0.0.0.0/0' && !p.ipBlock.except ? [{ ipBlock: { cidr: '0.0.0.0/1' } }, { ipBlock: { cidr: '128.0.0.0/1' } }] : [p];
}
function existsForAll(p: NetworkPolicyPeer): NetworkPolicyPeer {
  const empty = p.namespaceSelector && !p.namespaceSelector.matchLabels && !p.namespaceSelector.matchExpressions?.length;
  return empty ? { ...p, namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'Exists' }] } } : p;
}

function shuffle<T>(list: T[], rnd: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const handlers = defaultHandlers();
const config = configWith({ addRules: [{ id: 'ports-please', type: 'requirePorts', mode: 'enforce' }] as never });
function verdictOf(s: NetworkPolicySpec): string {
  const ctx = contextFor(admissionRequest({ kind: 'NetworkPolicy', namespace: 'shop', name: 'p', object: { spec: s } }), { config });
  const v = evaluate(ctx, handlers, 'validate');
  return `${decisionOf(v)} ${[...new Set(v.violations.map((x) => x.rule))].sort().join(',')}`;
}

describe('equivalent spellings (property test)', () => {
  it('get the same decision and the same violated rules', () => {
    fc.assert(
      fc.property(spec, fc.array(fc.nat(rewrites.length - 1), { minLength: 1, maxLength: 4 }), fc.integer(), (s, which, seed) => {
        let x = seed;
        const rnd = (): number => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
        const original = toSpec(s);
        let rewritten = original;
        for (const w of which) rewritten = rewrites[w]!(rewritten, rnd);
        expect(verdictOf(rewritten)).toBe(verdictOf(original));
      }),
      { numRuns: 400 },
    );
  });
});
