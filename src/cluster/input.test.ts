import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../k8s/types.ts';
import { overlay, prepareObjects, withDefaults } from './input.ts';
import { ManifestError, type ManifestObject } from './manifests.ts';

const at = (object: KubeObject, file: string, document: number): ManifestObject => ({ object, source: { file, document, path: '' } });
const np = (name: string, spec?: unknown, namespace?: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  ...(spec === undefined ? {} : { spec }),
});

describe('withDefaults: what the API server stores', () => {
  const cases: Array<[string, KubeObject, unknown]> = [
    ['no spec: every pod, Ingress', np('a'), { podSelector: {} }],
    ['no podSelector', np('a', { policyTypes: ['Egress'] }), { policyTypes: ['Egress'], podSelector: {} }],
    ['podSelector: null', np('a', { podSelector: null }), { podSelector: {} }],
    ['a podSelector is kept', np('a', { podSelector: { matchLabels: { x: 'y' } } }), { podSelector: { matchLabels: { x: 'y' } } }],
  ];
  it.each(cases)('%s', (_n, object, spec) => {
    expect(withDefaults(object).spec).toEqual(spec);
  });

  it('a defaulted policy passes validation', () => {
    expect(prepareObjects([at(np('a', { policyTypes: ['Ingress', 'Egress'] }), 'f', 1)])[0]!.object.spec).toEqual({ policyTypes: ['Ingress', 'Egress'], podSelector: {} });
  });
});

describe('prepareObjects: duplicates are bad input naming both places', () => {
  const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const cases: Array<[string, ManifestObject[], string | undefined]> = [
    [
      'two NetworkPolicies of one namespace and name, in two files',
      [at(np('a', { podSelector: {} }, 'shop'), 'one.yaml', 2), at(np('a', { podSelector: { matchLabels: { x: 'y' } } }, 'shop'), 'two.yaml', 1)],
      'two.yaml (document 1): NetworkPolicy shop/a is also defined at one.yaml (document 2)',
    ],
    ['a Namespace given twice', [at(ns('shop'), 'a.yaml', 1), at(ns('shop'), 'a.yaml', 3)], 'a.yaml (document 3): Namespace shop is also defined at a.yaml (document 1)'],
    ['no namespace and namespace default are one', [at(np('a', { podSelector: {} }), 'a', 1), at(np('a', { podSelector: {} }, 'default'), 'b', 1)], 'NetworkPolicy default/a is also defined'],
    ['same name in two namespaces', [at(np('a', { podSelector: {} }, 'x'), 'a', 1), at(np('a', { podSelector: {} }, 'y'), 'a', 2)], undefined],
    ['same name, another kind', [at(np('api', { podSelector: {} }, 'x'), 'a', 1), at({ kind: 'Service', metadata: { name: 'api', namespace: 'x' } }, 'a', 2)], undefined],
    ['generateName objects are never duplicates', [at({ kind: 'Pod', metadata: { generateName: 'p-' } }, 'a', 1), at({ kind: 'Pod', metadata: { generateName: 'p-' } }, 'a', 2)], undefined],
  ];
  it.each(cases)('%s', (_n, objects, message) => {
    if (message === undefined) {
      expect(prepareObjects(objects)).toHaveLength(objects.length);
      return;
    }
    expect(() => prepareObjects(objects)).toThrow(ManifestError);
    expect(() => prepareObjects(objects)).toThrow(message);
  });

  it('overlay: the files replace objects of the same kind, namespace and name', () => {
    const live = [at(np('a', { podSelector: {} }, 'x'), 'cluster', 1), at(np('b', { podSelector: {} }, 'x'), 'cluster', 1)];
    const files = [at(np('a', { podSelector: { matchLabels: { k: 'v' } } }, 'x'), 'new.yaml', 1)];
    const merged = overlay(live, files);
    expect(merged.map((m) => `${m.object.metadata!.name}@${m.source.file}`)).toEqual(['b@cluster', 'a@new.yaml']);
  });
});
