import { describe, expect, it } from 'vitest';
import type { ManifestObject } from '../cluster/manifests.ts';
import { defaultConfig } from '../config/default.ts';
import type { KubeObject } from '../k8s/types.ts';
import { assumeBaseline } from './baseline.ts';

const at = (object: KubeObject): ManifestObject => ({ object, source: { file: 'f', document: 1, path: '' } });
const pod = (namespace?: string): KubeObject => ({ kind: 'Pod', metadata: { name: 'p', ...(namespace ? { namespace } : {}) } });
const ns = (name: string, labels?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } });
const policy = (namespace: string, name: string): KubeObject => ({ kind: 'NetworkPolicy', metadata: { name, namespace }, spec: { podSelector: {} } });
const BOTH = ['netfence-default-deny', 'netfence-allow-dns'];

describe('assumeBaseline: the namespaces netfence manages, from the config', () => {
  const cases: Array<[string, KubeObject[], KubeObject[], string[], string[]]> = [
    ['a namespace only referred to is created, labelled and managed', [], [pod('shop')], ['shop'], BOTH.map((p) => `shop/${p}`)],
    ['a Namespace in the files is labelled on CREATE', [], [ns('shop', { team: 'a' }), pod('shop')], ['shop'], BOTH.map((p) => `shop/${p}`)],
    ['a baseline label set to another value is kept: not managed', [], [ns('shop', { 'netfence.io/baseline': 'disabled' }), pod('shop')], [], []],
    ['default predates netfence: not managed', [], [pod()], [], []],
    ['an excluded namespace is not managed', [], [pod('kube-system')], [], []],
    ['a baseline policy the files hold is not added again', [], [pod('shop'), policy('shop', 'netfence-default-deny')], ['shop'], ['shop/netfence-allow-dns']],
    ['a live namespace without the labels exists: not managed', [ns('legacy')], [pod('legacy')], [], []],
    ['a live namespace with the labels is managed; its live policies count', [ns('shop', { 'netfence.io/baseline': 'enabled' }), policy('shop', 'netfence-allow-dns')], [pod('shop')], ['shop'], ['shop/netfence-default-deny']],
  ];
  it.each(cases)('%s', (_n, live, files, namespaces, added) => {
    const got = assumeBaseline(live.map(at), files.map(at), defaultConfig(), 'netfence-system');
    expect(got.namespaces).toEqual(namespaces);
    expect(got.added).toEqual(added);
    for (const name of added) {
      const [namespace, policyName] = name.split('/');
      expect(got.objects.some((m) => m.object.kind === 'NetworkPolicy' && m.object.metadata?.namespace === namespace && m.object.metadata?.name === policyName)).toBe(true);
    }
  });
});
