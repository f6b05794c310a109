import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LabelSelector } from '../k8s/types.ts';
import { CompiledSelector } from './selector.ts';
import { overlaps, selectsNothing, subsumes } from './subsume.ts';

// Small universes make brute force complete: keys a, b, c; values x, y, z, plus `w`, a value no
// selector mentions, which stands for every other value.
const KEYS = ['a', 'b', 'c'];
const VALUES = ['x', 'y', 'z'];
const STATES = [undefined, ...VALUES, 'w'];

const requirement = fc.oneof(
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 3 }) }),
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
);
const selector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 }),
    matchExpressions: fc.array(requirement, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

/** Every label set over the universe: each key absent or one of the values. */
const ALL_LABEL_SETS: Array<Record<string, string>> = (() => {
  let sets: Array<Record<string, string>> = [{}];
  for (const key of KEYS) {
    sets = sets.flatMap((s) => STATES.map((v) => (v === undefined ? s : { ...s, [key]: v })));
  }
  return sets;
})();

/** The reference: the selector's meaning written out as plainly as possible. */
function reference(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = k(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && e.values!.includes(value!))) return false;
    if (e.operator === 'NotIn' && has && e.values!.includes(value!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
function k(labels: Record<string, string>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

describe('label selectors (property tests)', () => {
  it('evaluation agrees with a brute-force reference', () => {
    fc.assert(
      fc.property(selector, (sel) => {
        const compiled = new CompiledSelector(sel);
        for (const labels of ALL_LABEL_SETS) expect(compiled.matches(labels)).toBe(reference(sel, labels));
      }),
      { numRuns: 300 },
    );
  });

  it('subsumption agrees with evaluation over every label set', () => {
    fc.assert(
      fc.property(selector, selector, (a, b) => {
        const ca = new CompiledSelector(a);
        const cb = new CompiledSelector(b);
        const truth = ALL_LABEL_SETS.every((l) => !cb.matches(l) || ca.matches(l));
        expect(subsumes(ca, cb)).toBe(truth);
      }),
      { numRuns: 2000 },
    );
  });

  it('overlap and emptiness agree with evaluation', () => {
    fc.assert(
      fc.property(selector, selector, (a, b) => {
        const ca = new CompiledSelector(a);
        const cb = new CompiledSelector(b);
        expect(overlaps(ca, cb)).toBe(ALL_LABEL_SETS.some((l) => ca.matches(l) && cb.matches(l)));
        expect(selectsNothing(ca)).toBe(!ALL_LABEL_SETS.some((l) => ca.matches(l)));
      }),
      { numRuns: 1000 },
    );
  });

  const table: Array<[string, LabelSelector, LabelSelector, boolean]> = [
    ['{} selects everything', {}, { matchLabels: { tier: 'data' } }, true],
    ['same labels', { matchLabels: { tier: 'data' } }, { matchLabels: { tier: 'data' } }, true],
    ['superset expression', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['data', 'logic'] }] }, { matchLabels: { tier: 'data' } }, true],
    ['Exists covers any value', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, { matchLabels: { tier: 'data' } }, true],
    ['narrower selector does not', { matchLabels: { tier: 'data', app: 'pg' } }, { matchLabels: { tier: 'data' } }, false],
    ['NotIn excluding the tier', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['data'] }] }, { matchLabels: { tier: 'data' } }, false],
    ['NotIn of another value', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, { matchLabels: { tier: 'data' } }, true],
    ['an unsatisfiable selector is covered by anything', { matchLabels: { x: 'y' } }, { matchExpressions: [{ key: 'a', operator: 'Exists' }, { key: 'a', operator: 'DoesNotExist' }] }, true],
  ];
  it.each(table)('subsumes: %s', (_n, a, b, expected) => {
    expect(subsumes(new CompiledSelector(a), new CompiledSelector(b))).toBe(expected);
  });
});
