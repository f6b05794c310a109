import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseManifests } from '../cluster/manifests.ts';
import { StaticClusterView } from '../cluster/static.ts';
import { defaultConfig } from '../config/default.ts';
import { describePlan, planAdoption, workloadOfPod } from './adoption.ts';

// A namespace that runs workloads before netfence: web is open both ways, db is isolated for
// ingress by its own policy, batch is isolated both ways.
const CLUSTER = `
apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: Namespace, metadata: { name: shop } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: adopted, labels: { netfence.io/baseline: enabled } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: relabelled, labels: { netfence.io/baseline: "off" } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: empty } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: going, deletionTimestamp: "2026-11-22T00:00:00Z" } }
  - { apiVersion: v1, kind: Pod, metadata: { name: web-1, namespace: shop, labels: { app: web } } }
  - { apiVersion: v1, kind: Pod, metadata: { name: web-2, namespace: shop, labels: { app: web } } }
  - { apiVersion: v1, kind: Pod, metadata: { name: db-0, namespace: shop, labels: { app: db } } }
  - { apiVersion: v1, kind: Pod, metadata: { name: batch, namespace: shop, labels: { app: batch } } }
  - { apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: { name: db-from-web, namespace: shop }, spec: { podSelector: { matchLabels: { app: db } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: web } } }] }] } }
  - { apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: { name: batch-closed, namespace: shop }, spec: { podSelector: { matchLabels: { app: batch } }, policyTypes: [Ingress, Egress] } }
`;
const view = new StaticClusterView(parseManifests(CLUSTER, 'cluster.yaml'));
const config = defaultConfig();
const workload = (pod: { name: string }): string => `Deployment/${pod.name.replace(/-\d+$/, '')}`;

describe('what adopting a namespace does to its traffic', () => {
  it('lists, per workload, what the baseline cuts and what it keeps', () => {
    const plan = planAdoption(config, view, 'shop', 'netfence-system', workload);
    expect(plan.action).toBe('adopt');
    expect(plan.labels).toEqual([{ key: 'netfence.io/baseline', value: 'enabled' }]);
    expect(plan.policies).toEqual(['netfence-default-deny', 'netfence-allow-dns']);
    const summary = Object.fromEntries(plan.workloads.map((w) => [w.workload, [w.pods.join(','), w.ingress.change, w.egress.change]]));
    expect(summary).toEqual({
      'Deployment/batch': ['batch', 'none', 'none'],
      'Deployment/db': ['db-0', 'none', 'cut'],
      'Deployment/web': ['web-1,web-2', 'cut', 'cut'],
    });
    const web = plan.workloads.find((w) => w.workload === 'Deployment/web')!;
    expect(web.ingress).toEqual({ change: 'cut', keeps: [] });
    expect(web.egress).toEqual({ change: 'cut', keeps: ['netfence-allow-dns spec.egress[0]: to [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}] on UDP/53, TCP/53'] });
    const text = describePlan(plan).join('\n');
    expect(text).toContain('label it netfence.io/baseline=enabled');
    expect(text).toContain('cut traffic that is allowed today, for 2 workloads:');
    expect(text).toContain('    Deployment/web (2 pods: web-1, web-2)\n      ingress: every ingress connection is cut (nothing selects it today; afterwards nothing admits any)');
    expect(text).toContain('      ingress: unchanged (already isolated by db-from-web)');
    expect(text).toContain('  change nothing for Deployment/batch');
  });

  const refused: Array<[string, string, string, string]> = [
    ['already adopted', 'adopted', 'adopted', 'is adopted already'],
    ['excluded', 'kube-system', 'excluded', 'netfence never evaluates it'],
    ["netfence's own", 'netfence-system', 'excluded', 'netfence never evaluates it'],
    ['does not exist', 'nope', 'unknown', 'does not exist'],
    ['being deleted', 'going', 'terminating', 'is being deleted'],
  ];
  it.each(refused)('%s: nothing to do', (_what, ns, action, reason) => {
    const v = new StaticClusterView([...parseManifests(CLUSTER, 'c'), ...parseManifests('{apiVersion: v1, kind: Namespace, metadata: {name: kube-system}}\n---\n{apiVersion: v1, kind: Namespace, metadata: {name: netfence-system}}', 'd')]);
    const plan = planAdoption(config, v, ns, 'netfence-system');
    expect(plan.action).toBe(action);
    expect(plan.reason).toContain(reason);
    expect(plan.labels).toEqual([]);
  });

  it('a namespace labelled with another value is relabelled, and says what it was', () => {
    const plan = planAdoption(config, view, 'relabelled', 'netfence-system');
    expect(plan.labels).toEqual([{ key: 'netfence.io/baseline', value: 'enabled', was: 'off' }]);
    expect(describePlan(plan).join('\n')).toContain('cut no traffic: the namespace has no pods');
  });

  it('a baseline without default-deny cuts nothing', () => {
    const c = { ...config, baseline: { ...config.baseline, policies: [] } };
    const plan = planAdoption(c, view, 'shop', 'netfence-system');
    expect(plan.workloads.find((w) => w.pods.includes('web-1'))!.ingress).toEqual({ change: 'stays-open' });
    expect(describePlan(plan).join('\n')).toContain('cut no traffic');
  });

  const owners: Array<[string, string, string]> = [
    ['Deployment through its ReplicaSet', '{metadata: {name: web-5d8f-x, labels: {pod-template-hash: 5d8f}, ownerReferences: [{kind: ReplicaSet, name: web-5d8f, controller: true}]}}', 'Deployment/web'],
    ['StatefulSet', '{metadata: {name: db-0, ownerReferences: [{kind: StatefulSet, name: db, controller: true}]}}', 'StatefulSet/db'],
    ['bare ReplicaSet', '{metadata: {name: r-x, ownerReferences: [{kind: ReplicaSet, name: r, controller: true}]}}', 'ReplicaSet/r'],
    ['no owner', '{metadata: {name: debug}}', 'Pod/debug'],
  ];
  it.each(owners)('workload of a pod: %s', (_what, pod, expected) => {
    expect(workloadOfPod(parse(pod))).toBe(expected);
  });
});
