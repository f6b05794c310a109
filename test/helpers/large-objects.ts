// The largest objects a namespace owner can send, for the decision-budget tests and the
// benchmark: each is one AdmissionReview whose object stays under the API server's 3 MiB
// limit, built to stress one dimension of the analysis (ipBlocks, excepts, peers, rules,
// ports, selector values, selector requirements, labels).
import type { KubeObject } from '../../src/k8s/types.ts';

/** The API server refuses objects over 3 MiB (etcd's request limit, 1.5 MiB by default, is lower still). */
export const MAX_OBJECT_BYTES = 3 * 1024 * 1024;

const v4 = (i: number): string => `${11 + ((i >> 16) & 0x3f)}.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`;

function policy(spec: unknown, namespace = 'shop', name = 'large'): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec } as KubeObject;
}

const DATA = { matchLabels: { tier: 'data' } };

/** Generators by name: `n` is the size of the stressed dimension. */
export const LARGE_POLICIES: Record<string, (n: number) => KubeObject> = {
  ipBlocks: (n) => policy({ podSelector: DATA, ingress: [{ from: Array.from({ length: n }, (_, i) => ({ ipBlock: { cidr: `${v4(i)}/32` } })), ports: [{ port: 5432 }] }] }),
  ipv6Blocks: (n) => policy({ podSelector: DATA, ingress: [{ from: Array.from({ length: n }, (_, i) => ({ ipBlock: { cidr: `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64` } })) }] }),
  excepts: (n) => policy({ podSelector: DATA, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: Array.from({ length: n }, (_, i) => `${v4(i)}/32`) } }] }] }),
  exceptPeers: (n) => policy({ podSelector: DATA, ingress: [{ from: Array.from({ length: n }, (_, i) => ({ ipBlock: { cidr: `${v4(i)}/30`, except: [`${v4(i)}/32`] } })) }] }),
  podPeers: (n) => policy({ podSelector: DATA, ingress: [{ from: Array.from({ length: n }, (_, i) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': `ns-${i}` } }, podSelector: { matchLabels: { app: `a${i}` } } })) }] }),
  rules: (n) => policy({ podSelector: DATA, ingress: Array.from({ length: n }, (_, i) => ({ from: [{ ipBlock: { cidr: i % 2 ? '0.0.0.0/0' : `${v4(i)}/32` } }] })) }),
  ports: (n) => policy({ podSelector: DATA, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'logic' } } }], ports: Array.from({ length: n }, (_, i) => ({ port: 1 + (i % 65000), protocol: ['TCP', 'UDP', 'SCTP'][i % 3] })) }] }),
  namespaceValues: (n) =>
    policy({ podSelector: DATA, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: Array.from({ length: n }, (_, i) => `ns-${i}`) }] } }] }] }),
  namespaceRequirements: (n) =>
    policy({
      podSelector: DATA,
      ingress: [
        {
          from: [
            {
              namespaceSelector: {
                matchExpressions: [
                  ...Array.from({ length: n }, (_, i) => ({ key: `k${i}`, operator: 'NotIn', values: [`v${i}`] })),
                  { key: 'zz-team', operator: 'In', values: ['ops'] },
                ],
              },
            },
          ],
        },
      ],
    }),
  podSelectorValues: (n) =>
    policy({ podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['data', ...Array.from({ length: n }, (_, i) => `t${i}`)] }, { key: 'app', operator: 'NotIn', values: Array.from({ length: n }, (_, i) => `a${i}`) }] }, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }),
  podSelectorLabels: (n) =>
    policy({ podSelector: { matchLabels: { tier: 'data', ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`])) } }, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }),
};

/** A Pod (CREATE) with `n` labels and `n` container ports. */
export function largePod(n: number, namespace = 'shop'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'large', namespace, labels: { tier: 'data', ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`])) } },
    spec: { containers: [{ name: 'c', ports: Array.from({ length: n }, (_, i) => ({ name: `p${i}`, containerPort: 1 + (i % 65000) })) }] },
  } as KubeObject;
}

/** A Namespace (CREATE) with `n` labels and annotations. */
export function largeNamespace(n: number, name = 'large'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`])),
      annotations: Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, `value ${i}`])),
    },
  } as KubeObject;
}

/** The largest `n` for which `make(n)` stays within the API server's limit (binary search). */
export function largestWithin(make: (n: number) => KubeObject, bytes = MAX_OBJECT_BYTES): number {
  let lo = 1;
  let hi = 1;
  while (JSON.stringify(make(hi)).length <= bytes) hi *= 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (JSON.stringify(make(mid)).length <= bytes) lo = mid;
    else hi = mid;
  }
  return lo;
}
