import { describe, expect, it } from 'vitest';
import { StaticClusterView } from '../cluster/static.ts';
import type { KubeObject, PodInfo } from '../k8s/types.ts';
import { podExposure } from './exposure.ts';
import { PolicyIndex } from './index.ts';

const source = { file: 't', document: 1, path: '' };
function world(...objects: KubeObject[]): PolicyIndex {
  return new PolicyIndex(new StaticClusterView(objects.map((object) => ({ object, source }))));
}
const policy = (name: string, spec: unknown): KubeObject => ({ kind: 'NetworkPolicy', metadata: { name, namespace: 'shop' }, spec });
const db: PodInfo = { namespace: 'shop', name: 'db', labels: { tier: 'data' }, ports: [{ name: 'pg', containerPort: 5432, protocol: 'TCP' }], ips: [] };
const TIERS = { data: { matchLabels: { tier: 'data' } }, logic: { matchLabels: { tier: 'logic' } } };

describe('podExposure', () => {
  it('never shows a named port the pod does not declare; a rule left with none admits nothing here', () => {
    const index = world(
      policy('a', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 'pg' }, { port: 'http' }, { port: 'pg', protocol: 'UDP' }] }] }),
      policy('b', { podSelector: {}, ingress: [{ ports: [{ port: 'metrics' }] }] }),
    );
    const e = podExposure(index, db, 'shop/db');
    expect(e.ingress.rules.map((r) => [r.policy, r.ports])).toEqual([['a', [{ protocol: 'TCP', port: 5432, name: 'pg' }]]]);
    expect(e.ingress.inert).toEqual([{ policy: 'b', path: 'spec.ingress[0]', reason: 'names only ports db does not declare (metrics)' }]);
  });

  const ports: Array<[string, unknown, unknown]> = [
    ['a number', { port: 80 }, { protocol: 'TCP', port: 80 }],
    ['a range', { port: 8000, endPort: 8080, protocol: 'UDP' }, { protocol: 'UDP', port: 8000, endPort: 8080 }],
    ['a protocol alone: every port of it', { protocol: 'SCTP' }, { protocol: 'SCTP' }],
  ];
  it.each(ports)('JSON ports are structured: %s', (_n, port, expected) => {
    const e = podExposure(world(policy('a', { podSelector: {}, ingress: [{ ports: [port] }] })), db, 'shop/db');
    expect(e.ingress.rules[0]!.ports).toEqual([expected]);
    expect(e.ingress.rules[0]!.allPeers).toBe(true);
  });

  it('names the admitted sources: selectors, tiers, namespaces, CIDRs', () => {
    const index = world(
      { kind: 'Namespace', metadata: { name: 'ops', labels: { team: 'ops' } } },
      policy('a', {
        podSelector: { matchLabels: { tier: 'data' } },
        ingress: [
          {
            from: [
              { podSelector: { matchLabels: { tier: 'logic', app: 'api' } } },
              { namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['prom', 'graf'] }] } },
              { ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.8/29'] } },
            ],
          },
        ],
      }),
    );
    const [rule] = podExposure(index, db, 'shop/db', TIERS).ingress.rules;
    expect(rule!.peers).toEqual([
      { path: 'spec.ingress[0].from[0]', kind: 'pods', pods: 'app=api,tier=logic', tiers: ['logic'], namespaces: ['shop'] },
      { path: 'spec.ingress[0].from[1]', kind: 'pods', pods: 'app in (graf,prom)', tiers: [], namespaceSelector: 'team=ops', namespaces: ['ops'] },
      { path: 'spec.ingress[0].from[2]', kind: 'ipBlock', cidr: '192.0.2.0/24', except: ['192.0.2.8/29'] },
    ]);
    expect(rule!.classes).toEqual(['internet', 'otherNamespaces']);
  });

  it('answers egress too: isolation, destinations and their classes', () => {
    const index = world(
      policy('out', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443 }] }] }),
    );
    const e = podExposure(index, db, 'shop/db');
    expect(e.ingress.isolated).toBe(false);
    expect(e.egress).toMatchObject({ isolated: true, policies: ['out'], rules: [{ path: 'spec.egress[0]', classes: ['anywhere', 'internet'], ports: [{ protocol: 'TCP', port: 443 }] }] });
  });
});
