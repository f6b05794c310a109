import type { NetfenceConfig } from './types.ts';

/**
 * The built-in configuration, used when serve has no --config and for every section a config
 * file leaves out (merge.ts). cert-manager is excluded with the cluster's own namespaces: if
 * it could not restart while netfence is down, netfence's certificate could not be renewed.
 */
export function defaultConfig(): NetfenceConfig {
  return {
    apiVersion: 'netfence.io/v1alpha1',
    kind: 'NetfenceConfig',
    excludedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'cert-manager'],
    tiers: {
      data: { matchLabels: { tier: 'data' } },
      logic: { matchLabels: { tier: 'logic' } },
    },
    baseline: {
      labels: { 'netfence.io/baseline': 'enabled' },
      annotations: {},
      policies: [
        { name: 'netfence-default-deny', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
        {
          name: 'netfence-allow-dns',
          spec: {
            podSelector: {},
            policyTypes: ['Egress'],
            egress: [
              {
                to: [
                  {
                    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                    podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                  },
                ],
                ports: [
                  { protocol: 'UDP', port: 53 },
                  { protocol: 'TCP', port: 53 },
                ],
              },
            ],
          },
        },
      ],
    },
    rules: [
      { id: 'require-default-deny', type: 'requireDefaultDeny', directions: ['Ingress', 'Egress'], mode: 'enforce' },
      {
        id: 'data-no-ingress-from-anywhere',
        type: 'forbidIngressFrom',
        tier: 'data',
        sources: ['anywhere', 'allNamespaces'],
        mode: 'enforce',
      },
      { id: 'data-no-egress-to-internet', type: 'forbidEgressTo', tier: 'data', destinations: ['internet'], mode: 'enforce' },
      { id: 'data-only-from-logic', type: 'restrictIngressSources', tier: 'data', allow: [{ tier: 'logic' }], mode: 'warn' },
    ],
    exemptions: [
      {
        id: 'legacy-billing',
        namespaces: ['legacy-billing'],
        rules: ['data-no-ingress-from-anywhere'],
        reason: 'moving to private link, SEC-1234',
        expires: '2027-01-31T00:00:00Z',
      },
    ],
    decisionLog: { logAllowed: false },
  };
}
