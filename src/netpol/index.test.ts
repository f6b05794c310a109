import { describe, expect, it } from 'vitest';
import type { KubeObject, LabelSelector } from '../k8s/types.ts';
import { MutableView } from '../../test/helpers/mutable-view.ts';
import { CompiledCache, PolicyIndex } from './index.ts';
import { SelectorInterner } from './selector.ts';

// What the caches share must be equal by meaning, and nothing else: a policy compiled once for
// admission and the audit; a selector compiled once for every policy that spells it the same.

describe('SelectorInterner', () => {
  const cases: Array<[string, LabelSelector | undefined, LabelSelector | undefined, boolean]> = [
    ['two empty selectors', {}, {}, true],
    ['absent and empty', undefined, {}, true],
    ['matchLabels in another order', { matchLabels: { a: '1', b: '2' } }, { matchLabels: { b: '2', a: '1' } }, true],
    ['another value', { matchLabels: { a: '1' } }, { matchLabels: { a: '2' } }, false],
    ['another key', { matchLabels: { a: '1' } }, { matchLabels: { b: '1' } }, false],
    ['matchLabels and the same as an expression are not merged', { matchLabels: { a: '1' } }, { matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, false],
    ['expressions with other operators', { matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, false],
    ['expressions with other values', { matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, { matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, false],
  ];
  it.each(cases)('%s', (_what, a, b, shared) => {
    const interner = new SelectorInterner();
    const x = interner.compile(a);
    const y = interner.compile(b);
    expect(x === y).toBe(shared);
    // Whatever is shared selects the same labels.
    for (const labels of [{}, { a: '1' }, { a: '2' }, { a: '1', b: '2' }, { b: '1' }] as Array<Record<string, string>>) expect(y.matches(labels)).toBe(shared ? x.matches(labels) : y.matches(labels));
  });
});

describe('CompiledCache', () => {
  const np = (ns: string, name: string, podSelector: LabelSelector): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec: { podSelector, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'logic' } } }] }] } });
  const view = new MutableView([np('a', 'p', { matchLabels: { tier: 'data' } }), np('b', 'p', { matchLabels: { tier: 'data' } })]);

  it('gives indexes that share it the same compiled policies; others compile their own', () => {
    const cache = new CompiledCache();
    const admission = new PolicyIndex(view, cache);
    const audit = new PolicyIndex(view, cache);
    const alone = new PolicyIndex(view);
    expect(audit.policies('a')).toBe(admission.policies('a'));
    expect(alone.policies('a')).not.toBe(admission.policies('a'));
    expect(alone.policies('a').map((p) => p.policy)).toEqual(admission.policies('a').map((p) => p.policy));
  });

  it('shares equal selectors between the policies of different namespaces', () => {
    const index = new PolicyIndex(view);
    const [a] = index.policies('a');
    const [b] = index.policies('b');
    expect(a!.podSelector).toBe(b!.podSelector);
    expect(a!.ingress[0]!.peers[0]!.podSelector).toBe(b!.ingress[0]!.peers[0]!.podSelector);
    // A request's policy compiled through the index meets the same selectors.
    expect(index.compileSelector({ matchLabels: { tier: 'data' } })).toBe(a!.podSelector);
  });
});
