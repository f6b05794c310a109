import { describe, expect, it } from 'vitest';
import { loadClusterInput } from '../cluster/input.ts';
import { loadConfigFile } from '../config/load.ts';
import { renderMarkdown } from './markdown.ts';
import { buildReport } from './model.ts';

const fixture = (f: string): string => new URL(`../../test/fixtures/report/${f}`, import.meta.url).pathname;

function report(): ReturnType<typeof buildReport> {
  const { config, hash } = loadConfigFile(fixture('config.yaml'));
  const { view } = loadClusterInput([fixture('cluster.yaml')]);
  return buildReport({ view, config, configHash: hash, now: new Date('2026-11-22T00:00:00Z'), netfenceNamespace: 'netfence-system' });
}

describe('report content (test/fixtures/report)', () => {
  const r = report();

  it('coverage: default-deny per direction, adopted, baseline in place', () => {
    const by = Object.fromEntries(r.coverage.list.map((n) => [n.name, n]));
    expect(by.shop).toMatchObject({ defaultDeny: { ingress: true, egress: true }, adopted: true, baseline: 'in place' });
    expect(by.payments).toMatchObject({ adopted: true, baseline: 'missing', missingPolicies: ['netfence-allow-dns'] });
    expect(by.analytics).toMatchObject({ defaultDeny: { ingress: true, egress: false }, adopted: false, baseline: 'not adopted' });
    expect(by['kube-system']).toMatchObject({ excluded: true, baseline: 'excluded' });
    expect(r.coverage.defaultDeny).toEqual({ both: 2, ingressOnly: 1, egressOnly: 0, none: 1 });
  });

  it('violations by rule and namespace; exempted ones are not violations', () => {
    expect(r.violations.byNamespace.map((n) => n.namespace)).toEqual(['payments', 'analytics']); // legacy is exempted
    expect(r.violations.items.every((i) => i.namespace !== 'legacy')).toBe(true);
    expect(r.violations.total).toBe(r.violations.items.length);
  });

  it('exemptions: expired flagged, expiring within 7 days flagged, with what they exempt', () => {
    expect(r.exemptions.map((e) => [e.id, e.status, e.daysLeft, e.exempting])).toEqual([
      ['payments-open', 'expired', -21, 0],
      ['legacy-migration', 'expiring', 3.5, 3],
      ['analytics-egress', 'active', 99, 1],
    ]);
  });

  it('tiers: what can reach them', () => {
    const data = r.tiers.find((t) => t.tier === 'data')!;
    expect(data).toMatchObject({ pods: 3, unisolated: 0, classes: ['allNamespaces', 'otherNamespaces'], fromNamespaces: ['analytics', 'legacy', 'payments', 'shop'] });
    expect(r.tiers.find((t) => t.tier === 'logic')).toMatchObject({ pods: 1, classes: [], fromNamespaces: ['shop'] });
  });

  it('graphs: who reaches whom, deterministic columns', () => {
    const shop = r.graphs.find((g) => g.namespace === 'shop')!;
    expect(shop.columns).toEqual(['outside', 'data', 'logic', 'no tier']);
    const label = new Map(shop.nodes.map((n) => [n.id, n.label]));
    expect(shop.edges.map((e) => `${label.get(e.from)}->${label.get(e.to)}`).sort()).toEqual(
      ['api->db', 'web->api', 'internet->web', 'api->other namespaces', 'db->other namespaces', 'web->other namespaces'].sort(),
    );
    expect(shop.nodes.find((n) => n.label === 'web')!.pods).toBe(2);
  });

  it('Markdown carries the same figures', () => {
    const md = renderMarkdown(r);
    expect(md).toContain('default-deny for ingress and egress 2, ingress only 1, egress only 0, neither 1');
    expect(md).toContain('| payments-open | payments | data-no-ingress-from-anywhere | partner API, SEC-77 | 2026-11-01T00:00:00Z | -21 | **EXPIRED** | 0 |');
    expect(md).toContain('- **web** (no tier, 2 pods) → api, other namespaces; reached from internet');
  });
});
