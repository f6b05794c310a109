import { describe, expect, it } from 'vitest';
import { compileSelector } from '../netpol/selector.ts';
import { defaultConfig } from './default.ts';
import { excludedNamespaceNames, webhookNamespaceSelector } from './exclusions.ts';

describe('the webhooks namespaceSelector follows from the config', () => {
  const cases: Array<[string, string[], string, string[]]> = [
    ['built-in config', defaultConfig().excludedNamespaces, 'netfence-system', ['cert-manager', 'kube-node-lease', 'kube-public', 'kube-system', 'netfence-system']],
    ['own namespace listed too: once', ['netfence', 'kube-system'], 'netfence', ['kube-system', 'netfence']],
    ['nothing excluded but netfence itself', [], 'guard', ['guard']],
    ['added namespaces', ['kube-system', 'monitoring', 'calico-system', 'ingress-nginx'], 'netfence-system', ['calico-system', 'ingress-nginx', 'kube-system', 'monitoring', 'netfence-system']],
  ];

  it.each(cases)('%s', (_what, excluded, own, names) => {
    expect(excludedNamespaceNames({ excludedNamespaces: excluded }, own)).toEqual(names);
    expect(webhookNamespaceSelector({ excludedNamespaces: excluded }, own)).toEqual({
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: names }],
    });
  });

  it('selects exactly the namespaces that are not excluded', () => {
    const selector = compileSelector(webhookNamespaceSelector(defaultConfig(), 'netfence-system'));
    const sent = (name: string): boolean => selector.matches({ 'kubernetes.io/metadata.name': name });
    expect(['default', 'shop', 'monitoring', 'kube-systemx'].filter(sent)).toEqual(['default', 'shop', 'monitoring', 'kube-systemx']);
    expect(['kube-system', 'kube-public', 'kube-node-lease', 'cert-manager', 'netfence-system'].filter(sent)).toEqual([]);
  });
});
