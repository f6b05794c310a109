import { describe, expect, it } from 'vitest';
import type { Violation } from './context.ts';
import { asBoundedString, BOUNDS, boundedGroups, boundedStrings, boundedViolations, boundedWarnings, capList, cut, runeCount, withoutControlCharacters } from './bounds.ts';

const long = (n: number, c = 'x'): string => c.repeat(n);

describe('runeCount counts code points, as Go counts runes', () => {
  const cases: Array<[string, string, number]> = [
    ['ascii', 'abc', 3],
    ['accents', 'Iñtërnâtiô', 10],
    ['astral (one rune, two UTF-16 units)', '😀😀', 2],
    ['a lone surrogate is one rune', '\ud800x', 2],
    ['empty', '', 0],
  ];
  it.each(cases)('%s', (_n, s, expected) => expect(runeCount(s)).toBe(expected));
});

describe('cut', () => {
  const cases: Array<[string, string, number, string]> = [
    ['fits', 'hello', 5, 'hello'],
    ['fits in runes though not in UTF-16 units', '😀😀😀', 3, '😀😀😀'],
    ['cut with a marker counting what was left out', long(100), 40, `${long(22)}…[+78 characters]`],
    ['never splits a surrogate pair', `${'😀'.repeat(30)}`, 25, `${'😀'.repeat(8)}…[+22 characters]`],
    ['a max smaller than the marker keeps only the marker', long(100), 5, '…[+100 characters]'],
  ];
  it.each(cases)('%s', (_n, s, max, expected) => {
    expect(cut(s, max)).toBe(expected);
  });
  it('keeps the result within max whenever max can hold the marker', () => {
    for (const n of [30, 99, 100, 1000, 100_000]) {
      for (const max of [20, 64, 256, 1024]) {
        if (max < `…[+${n} characters]`.length) continue;
        expect(runeCount(cut(long(n), max))).toBeLessThanOrEqual(max);
      }
    }
  });
});

describe('asBoundedString: strings stay strings, anything else becomes a marker', () => {
  const huge = { nested: long(3_000_000) };
  const cases: Array<[string, unknown, string]> = [
    ['a string', 'system:admin', 'system:admin'],
    ['missing', undefined, ''],
    ['a number', 42, '42'],
    ['a boolean', true, 'true'],
    ['null', null, '(not a string: null)'],
    ['an object is never copied', huge, '(not a string: object)'],
    ['a list is counted, not copied', [long(1000), long(1000)], '(not a string: a list of 2)'],
  ];
  it.each(cases)('%s', (_n, value, expected) => expect(asBoundedString(value)).toBe(expected));
  it('cuts a long string to the identity bound', () => {
    const out = asBoundedString(long(3_000_000));
    expect(runeCount(out)).toBeLessThanOrEqual(BOUNDS.identityRunes);
    expect(out).toMatch(/…\[\+\d+ characters\]$/);
  });
});

describe('boundedGroups', () => {
  const cases: Array<[string, unknown, string[], number]> = [
    ['missing', undefined, [], 0],
    ['a list of strings', ['system:authenticated', 'dev'], ['system:authenticated', 'dev'], 0],
    ['not a list', { a: 1 }, ['(not a list of strings: object)'], 0],
    ['a string where a list belongs', 'admins', ['(not a list of strings: string)'], 0],
    ['items of the wrong type', ['ok', 7, { x: 1 }, ['y']], ['ok', '7', '(not a string: object)', '(not a string: a list of 1)'], 0],
  ];
  it.each(cases)('%s', (_n, value, items, omitted) => expect(boundedGroups(value)).toEqual({ items, omitted }));
  it('caps the list and counts the rest', () => {
    const out = boundedGroups(Array.from({ length: 10_000 }, (_, i) => `g${i}`));
    expect(out.items).toHaveLength(BOUNDS.groups);
    expect(out.omitted).toBe(10_000 - BOUNDS.groups);
  });
});

describe('record lists', () => {
  const v = (i: number, message = 'm'): Violation => ({ rule: 'r', mode: 'enforce', path: `spec.ingress[${i}]`, message });
  it('caps violations and bounds each message and path', () => {
    const out = boundedViolations([...Array.from({ length: 250 }, (_, i) => v(i)), v(250, long(1_000_000))]);
    expect(out.items).toHaveLength(BOUNDS.recordItems);
    expect(out.omitted).toBe(151);
    const one = boundedViolations([{ ...v(0, long(1_000_000)), path: long(1_000_000) }]).items[0]!;
    expect(runeCount(one.message)).toBeLessThanOrEqual(BOUNDS.recordRunes);
    expect(runeCount(one.path)).toBeLessThanOrEqual(BOUNDS.recordRunes);
  });
  it('counts the violations a rule only counted (more) among the omitted', () => {
    const out = boundedViolations([v(0), { ...v(1), more: 5000 }]);
    expect(out.items).toHaveLength(2);
    expect(out.items[1]).not.toHaveProperty('more');
    expect(out.omitted).toBe(5000);
  });
  it('caps strings', () => {
    expect(boundedStrings([long(5000)]).items[0]!.length).toBeLessThanOrEqual(BOUNDS.recordRunes);
    expect(boundedStrings(Array.from({ length: 101 }, () => 'w')).omitted).toBe(1);
  });
  it('capList leaves short lists alone', () => expect(capList([1, 2], 5)).toEqual({ items: [1, 2], omitted: 0 }));
});

describe('boundedWarnings: within what the API server passes on', () => {
  const total = (ws: string[]): number => ws.reduce((n, w) => n + runeCount(w), 0);
  const cases: Array<[string, string[], number]> = [
    ['none', [], 0],
    ['a few short ones pass unchanged', ['netfence: a', 'netfence: b'], 2],
    ['duplicates are dropped (the API server would drop them too)', ['netfence: a', 'netfence: a'], 1],
    ['18 long ones: the first that fit, then a count', Array.from({ length: 18 }, (_, i) => `netfence: [r] ${i} ${long(400)}`), 10],
    ['10,000 short ones', Array.from({ length: 10_000 }, (_, i) => `netfence: warning ${i}`), -1],
  ];
  it.each(cases)('%s', (_n, input, count) => {
    const out = boundedWarnings(input, String);
    if (count >= 0) expect(out).toHaveLength(count);
    expect(total(out)).toBeLessThanOrEqual(BOUNDS.warningTotalRunes);
    for (const w of out) expect(w).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    if (out.length < new Set(input).size) {
      const kept = out.length - 1;
      expect(out.at(-1)).toBe(`netfence: …and ${new Set(input).size - kept} more warning${new Set(input).size - kept === 1 ? '' : 's'}; see the decision log`);
    }
  });
  it('warnings only counted upstream are added to the summary, even when the rest fits', () => {
    expect(boundedWarnings(['netfence: a'], String, 7)).toEqual(['netfence: a', 'netfence: …and 7 more warnings; see the decision log']);
    const out = boundedWarnings(Array.from({ length: 100 }, (_, i) => `netfence: ${i} ${long(300)}`), String, 1000);
    expect(out.at(-1)).toMatch(/^netfence: …and 1\d\d\d more warnings/);
    expect(out.reduce((n, w) => n + runeCount(w), 0)).toBeLessThanOrEqual(BOUNDS.warningTotalRunes);
  });
  it('one huge warning is cut, not dropped', () => {
    const out = boundedWarnings([`netfence: ${long(1_000_000)}`], String);
    expect(out).toHaveLength(1);
    expect(runeCount(out[0]!)).toBeLessThanOrEqual(BOUNDS.violationRunes);
  });
  it('control characters become spaces (the API server drops a warning that has any)', () => {
    expect(boundedWarnings(['netfence: a\nb\tc\u0000d\u007fe\u0085f'], String)).toEqual(['netfence: a b c d e f']);
    expect(withoutControlCharacters('ok ñ 😀')).toBe('ok ñ 😀');
  });
});
