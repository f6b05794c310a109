import { describe, expect, it } from 'vitest';
import type { AuditedObject, RuleResult } from '../audit/judge.ts';
import { ANNOTATION_OMITTED, buildPolicyReport, reportContent } from './policy-report.ts';

const pod = (name: string, results: RuleResult[]): AuditedObject => ({
  key: `shop|Pod|${name}`,
  subject: { kindKey: 'Pod', apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name },
  results,
});
const pass: RuleResult = { rule: 'require-default-deny', type: 'requireDefaultDeny', mode: 'enforce', result: 'pass' };
const fail: RuleResult = { rule: 'require-default-deny', type: 'requireDefaultDeny', mode: 'enforce', result: 'fail', path: 'metadata.namespace', message: 'not default-deny' };
const skip: RuleResult = {
  rule: 'data-no-ingress-from-anywhere', type: 'forbidIngressFrom', mode: 'audit', result: 'skip', message: 'exempted',
  exemption: { id: 'legacy', status: 'applied', reason: 'SEC-1', expires: '2027-01-31T00:00:00Z' },
};
const NOW = new Date('2026-11-22T00:00:00Z');

describe('buildPolicyReport', () => {
  it('writes one result per rule result, as Policy Reporter reads them', () => {
    const r = buildPolicyReport('shop', [pod('a', [fail, skip])], NOW);
    expect(r).toMatchObject({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'netfence', namespace: 'shop' }, summary: { pass: 0, fail: 1, warn: 0, error: 0, skip: 1 } });
    expect(r.results[0]).toEqual({
      source: 'netfence', policy: 'require-default-deny', rule: 'requireDefaultDeny', category: 'Default deny', severity: 'high',
      timestamp: { seconds: 1795305600, nanos: 0 }, result: 'fail', scored: true,
      resources: [{ apiVersion: 'v1', kind: 'Pod', name: 'a', namespace: 'shop' }],
      message: 'metadata.namespace: not default-deny',
      properties: { mode: 'enforce', ruleType: 'requireDefaultDeny', path: 'metadata.namespace' },
    });
    expect(r.results[1]!.properties).toEqual({ mode: 'audit', ruleType: 'forbidIngressFrom', exemption: 'legacy', exemptionStatus: 'applied', exemptionReason: 'SEC-1', exemptionExpires: '2027-01-31T00:00:00Z' });
    expect(r.metadata.annotations[ANNOTATION_OMITTED]).toBeUndefined();
  });

  it('is a ClusterPolicyReport without a namespace for cluster-scoped results', () => {
    const r = buildPolicyReport(undefined, [], NOW);
    expect(r.kind).toBe('ClusterPolicyReport');
    expect(r.metadata.namespace).toBeUndefined();
  });

  it.each([
    { objects: 10, cap: 500, kept: 20, omitted: undefined },
    { objects: 250, cap: 500, kept: 500, omitted: undefined },
    { objects: 3000, cap: 500, kept: 500, omitted: '5500' },
    { objects: 3000, cap: 7, kept: 7, omitted: '5993' },
  ])('keeps at most the cap ($objects objects, cap $cap), failures first, counting all in the summary', ({ objects, cap, kept, omitted }) => {
    const list = Array.from({ length: objects }, (_, i) => pod(`p${String(i).padStart(5, '0')}`, i % 3 === 0 ? [fail, pass] : [pass, pass]));
    const r = buildPolicyReport('shop', list, NOW, cap);
    expect(r.results).toHaveLength(kept);
    expect(r.summary.fail + r.summary.pass).toBe(objects * 2);
    expect(r.summary.fail).toBe(Math.ceil(objects / 3));
    expect(r.metadata.annotations[ANNOTATION_OMITTED]).toBe(omitted);
    const ranks = r.results.map((x) => x.result);
    expect(ranks.indexOf('pass') === -1 || ranks.lastIndexOf('fail') < ranks.indexOf('pass')).toBe(true);
    expect(JSON.stringify(r).length).toBeLessThan(1_000_000);
  });

  it('has the same content at another time, and different content when a result changes', () => {
    const a = buildPolicyReport('shop', [pod('a', [fail])], NOW);
    const b = buildPolicyReport('shop', [pod('a', [fail])], new Date(NOW.getTime() + 60_000));
    const c = buildPolicyReport('shop', [pod('a', [pass])], NOW);
    expect(reportContent(a)).toBe(reportContent(b));
    expect(reportContent(a)).not.toBe(reportContent(c));
  });

  it('caps long messages', () => {
    const r = buildPolicyReport('shop', [pod('a', [{ ...fail, message: 'x'.repeat(5000) }])], NOW);
    expect(r.results[0]!.message.length).toBeLessThanOrEqual(800);
  });
});
