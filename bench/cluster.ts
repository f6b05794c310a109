import type { ManifestObject } from '../src/cluster/manifests.ts';
import { StaticClusterView } from '../src/cluster/static.ts';
import type { KubeObject } from '../src/k8s/types.ts';

/**
 * A large namespace for the engine benchmarks: 2,000 pods over 100 apps and three tiers, 500
 * NetworkPolicies of the kinds real namespaces hold (per-app ingress from other apps, from
 * monitoring, from partners' CIDRs, egress to databases), plus default-deny and allow-DNS.
 */
export function bigNamespace(namespace = 'big', pods = 2000, policies = 500): StaticClusterView {
  const tiers = ['web', 'logic', 'data'];
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { team: 'big' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring', labels: { team: 'ops' } } },
  ];
  for (let i = 0; i < pods; i++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, namespace, labels: { app: `app-${i % 100}`, tier: tiers[i % 3]!, shard: `s${i % 7}` } },
      spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] }] },
      status: { podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
    });
  }
  const np = (name: string, spec: unknown): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });
  objects.push(np('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }));
  for (let i = 0; objects.filter((o) => o.kind === 'NetworkPolicy').length < policies; i++) {
    const app = `app-${i % 100}`;
    switch (i % 4) {
      case 0:
        objects.push(np(`p-${i}`, { podSelector: { matchLabels: { app } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: `app-${(i + 1) % 100}` } } }], ports: [{ port: 'http' }] }] }));
        break;
      case 1:
        objects.push(np(`p-${i}`, { podSelector: { matchLabels: { app } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: { matchLabels: { app: 'prometheus' } } }], ports: [{ port: 9090 }] }] }));
        break;
      case 2:
        objects.push(np(`p-${i}`, { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [app, `app-${(i + 7) % 100}`] }] }, ingress: [{ from: [{ ipBlock: { cidr: `203.0.${i % 256}.0/24` } }], ports: [{ port: 8443 }] }] }));
        break;
      default:
        objects.push(np(`p-${i}`, { podSelector: { matchLabels: { app, tier: 'logic' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { tier: 'data' } } }], ports: [{ port: 5432 }] }] }));
    }
  }
  const manifests: ManifestObject[] = objects.map((object, i) => ({ object, source: { file: 'bench', document: i, path: '' } }));
  return new StaticClusterView(manifests, 'bench');
}
