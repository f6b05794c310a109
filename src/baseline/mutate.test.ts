import { describe, expect, it } from 'vitest';
import { diff } from '../admission/patch.ts';
import type { KubeObject } from '../k8s/types.ts';
import { withBaseline } from './mutate.ts';

const baseline = { labels: { 'netfence.io/baseline': 'enabled' }, annotations: { 'netfence.io/owner': 'platform' } };

describe('withBaseline (namespace mutation)', () => {
  const cases: Array<[string, KubeObject, unknown[]]> = [
    [
      'no labels map at all',
      { metadata: { name: 'a' } },
      [
        { op: 'add', path: '/metadata/labels', value: { 'netfence.io/baseline': 'enabled' } },
        { op: 'add', path: '/metadata/annotations', value: { 'netfence.io/owner': 'platform' } },
      ],
    ],
    [
      'other labels: keys with / are escaped',
      { metadata: { name: 'a', labels: { team: 'x' }, annotations: {} } },
      [
        { op: 'add', path: '/metadata/labels/netfence.io~1baseline', value: 'enabled' },
        { op: 'add', path: '/metadata/annotations/netfence.io~1owner', value: 'platform' },
      ],
    ],
    ['a value the creator set is never overwritten', { metadata: { name: 'a', labels: { 'netfence.io/baseline': 'disabled' }, annotations: { 'netfence.io/owner': 'me' } } }, []],
    ['already there: no patch, so reinvocation is harmless', { metadata: { name: 'a', labels: { 'netfence.io/baseline': 'enabled' }, annotations: { 'netfence.io/owner': 'platform' } } }, []],
  ];
  it.each(cases)('%s', (_n, ns, ops) => {
    const before = structuredClone(ns);
    const after = withBaseline(ns, baseline);
    expect(diff(ns, after)).toEqual(ops);
    expect(ns).toEqual(before);
    expect(diff(after, withBaseline(after, baseline))).toEqual([]);
  });
});
