import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { diff, escapePointerToken } from './patch.ts';

describe('diff', () => {
  const cases: Array<[string, unknown, unknown, unknown[]]> = [
    ['nothing changes', { a: 1 }, { a: 1 }, []],
    [
      'labels map absent',
      { metadata: { name: 'x' } },
      { metadata: { name: 'x', labels: { 'netfence.io/baseline': 'enabled' } } },
      [{ op: 'add', path: '/metadata/labels', value: { 'netfence.io/baseline': 'enabled' } }],
    ],
    [
      'label key with / and ~',
      { metadata: { labels: { a: '1' } } },
      { metadata: { labels: { a: '1', 'x.io/b~c': '2' } } },
      [{ op: 'add', path: '/metadata/labels/x.io~1b~0c', value: '2' }],
    ],
    ['value replaced', { a: { b: 1 } }, { a: { b: 2 } }, [{ op: 'replace', path: '/a/b', value: 2 }]],
    ['key removed', { a: 1, b: 2 }, { a: 1 }, [{ op: 'remove', path: '/b' }]],
    ['array replaced whole', { a: [1, 2] }, { a: [2, 1] }, [{ op: 'replace', path: '/a', value: [2, 1] }]],
    ['object becomes array', { a: { x: 1 } }, { a: [1] }, [{ op: 'replace', path: '/a', value: [1] }]],
  ];
  it.each(cases)('%s', (_name, before, after, expected) => {
    expect(diff(before, after)).toEqual(expected);
  });

  it('escapes pointer tokens as RFC 6901 says', () => {
    expect(escapePointerToken('a/b~c')).toBe('a~1b~0c');
  });

  it('applying the diff of a and b to a gives b (checked with an independent RFC 6902 implementation)', () => {
    const key = fc.oneof(fc.constantFrom('a', 'b', 'x/y', 'm~n', 'netfence.io/baseline', ''), fc.string({ maxLength: 4 }));
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null), tie('object'), tie('array')),
      object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
      array: fc.array(tie('value'), { maxLength: 3 }),
    }));
    fc.assert(
      fc.property(json.object, json.object, (a, b) => {
        const ops = diff(a, b);
        const result = jsonpatch.applyPatch(structuredClone(a), ops as jsonpatch.Operation[], true, false).newDocument;
        expect(result).toEqual(b);
      }),
      { numRuns: 500 },
    );
  });
});
