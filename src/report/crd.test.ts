import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { AuditedObject } from '../audit/judge.ts';
import { buildPolicyReport } from './policy-report.ts';

// The API server prunes fields a structural schema does not declare, silently: every field
// netfence writes must be in the CRDs of deploy/policyreports/, or Policy Reporter never sees it.

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  enum?: unknown[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

function pruned(value: unknown, schema: Schema, path: string, out: string[]): void {
  if (schema['x-kubernetes-preserve-unknown-fields']) return;
  if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (Array.isArray(value)) {
    value.forEach((v, i) => pruned(v, schema.items ?? {}, `${path}[${i}]`, out));
    return;
  }
  if (typeof value !== 'object' || value === null || path === '.metadata') return;
  for (const [k, v] of Object.entries(value)) {
    const s = schema.properties?.[k] ?? schema.additionalProperties;
    if (!s) out.push(`${path}.${k}`);
    else pruned(v, s, `${path}.${k}`, out);
  }
}

const crds = parseAllDocuments(readFileSync(new URL('../../deploy/policyreports/crds.yaml', import.meta.url), 'utf8')).map((d) => d.toJS());
const audited: AuditedObject = {
  key: 'shop|Pod|a',
  subject: { kindKey: 'Pod', apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'a', uid: 'u-1' },
  results: [{ rule: 'r', type: 'forbidIngressFrom', mode: 'audit', result: 'fail', path: 'metadata.labels', message: 'm', exemption: { id: 'e', status: 'expired', reason: 'x', expires: '2026-01-01T00:00:00Z' } }],
};

describe('deploy/policyreports CRDs', () => {
  it.each([
    ['PolicyReport', 'policyreports.wgpolicyk8s.io', 'Namespaced', 'shop'],
    ['ClusterPolicyReport', 'clusterpolicyreports.wgpolicyk8s.io', 'Cluster', undefined],
  ] as const)('%s: served as v1alpha2, %s, nothing netfence writes is pruned', (kind, name, scope, namespace) => {
    const crd = crds.find((c) => c.metadata.name === name);
    expect(crd).toMatchObject({ apiVersion: 'apiextensions.k8s.io/v1', spec: { group: 'wgpolicyk8s.io', scope, names: { kind } } });
    const version = crd.spec.versions.find((v: { name: string }) => v.name === 'v1alpha2');
    expect(version).toMatchObject({ served: true, storage: true });
    const report = buildPolicyReport(namespace, [audited], new Date());
    expect(report.kind).toBe(kind);
    const out: string[] = [];
    pruned(report, version.schema.openAPIV3Schema, '', out);
    expect(out).toEqual([]);
  });
});
