import { describe, expect, it } from 'vitest';
import { internLabels, networkPolicyInfo, podInfo } from './objects.ts';

const pod = (name: string, labels: Record<string, string>, ip?: string) => ({
  metadata: { name, namespace: 'a', labels, resourceVersion: '5', managedFields: [{ manager: 'x' }] },
  spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080, name: 'http' }] }] },
  status: ip ? { podIP: ip } : {},
});

describe('podInfo', () => {
  it('keeps labels, ports and IPs, sharing equal label maps and port lists between pods', () => {
    const a = podInfo(pod('a', { app: 'x', tier: 'web' }, '10.0.0.1'));
    const b = podInfo(pod('b', { tier: 'web', app: 'x' }, '10.0.0.2'));
    const c = podInfo(pod('c', { app: 'y' }));
    expect(a).toEqual({ namespace: 'a', name: 'a', labels: { app: 'x', tier: 'web' }, ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }], ips: ['10.0.0.1'] });
    expect(b.labels).toBe(a.labels);
    expect(b.ports).toBe(a.ports);
    expect(c.labels).not.toBe(a.labels);
    expect(c.ips).toEqual([]);
    expect(Object.isFrozen(a.labels)).toBe(true);
  });

  it('does not confuse label maps whose keys and values concatenate alike', () => {
    expect(internLabels({ ab: 'c' })).not.toBe(internLabels({ a: 'bc' }));
    expect(internLabels({})).toEqual({});
  });
});

describe('networkPolicyInfo', () => {
  it('keeps the whole spec and the metadata the reconciler writes with; drops managedFields and last-applied', () => {
    const spec = { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 80, endPort: 90 }] }], egress: [{ to: [{ podSelector: {} }] }] };
    const p = networkPolicyInfo({
      metadata: { name: 'p', namespace: 'a', uid: 'u', resourceVersion: '7', labels: { l: '1' }, annotations: { n: '2', 'kubectl.kubernetes.io/last-applied-configuration': '{}' }, managedFields: [{}], creationTimestamp: 'x' },
      spec,
    });
    expect(p).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p', namespace: 'a', uid: 'u', resourceVersion: '7', labels: { l: '1' }, annotations: { n: '2' } },
      spec,
    });
  });
});
