import { describe, expect, it } from 'vitest';
import { admissionRequest, configWith, contextFor, type CaseRequest } from '../../test/helpers/rules-world.ts';
import { effectiveMode, scopeOf } from './scope.ts';

// The world (test/fixtures/rules/world.yaml): shop is adopted, legacy is not, brand-new is unknown.
describe('enforcement scope', () => {
  const cases: Array<[string, CaseRequest, string | undefined, boolean, { baselineLabels?: Record<string, string> }?]> = [
    ['a pod in an adopted namespace', { kind: 'Pod', namespace: 'shop' }, 'shop', true],
    ['a pod in a namespace from before netfence', { kind: 'Pod', namespace: 'legacy' }, 'legacy', false],
    ['a pod in a namespace the view has not seen (created after netfence started)', { kind: 'Pod', namespace: 'brand-new' }, 'brand-new', true],
    ['a cluster-scoped object', { kind: 'ClusterRole', group: 'rbac.authorization.k8s.io' }, undefined, true],
    ['a Namespace CREATE, whatever its labels', { kind: 'Namespace', name: 'x', object: { metadata: { name: 'x', labels: { 'netfence.io/baseline': 'off' } } } }, 'x', true],
    ['a Namespace UPDATE: the stored object decides (adopted)', { kind: 'Namespace', operation: 'UPDATE', name: 'legacy', oldObject: { metadata: { name: 'legacy', labels: { 'netfence.io/baseline': 'enabled' } } }, object: { metadata: { name: 'legacy' } } }, 'legacy', true],
    ['a Namespace UPDATE: the stored object decides (not adopted)', { kind: 'Namespace', operation: 'UPDATE', name: 'shop', oldObject: { metadata: { name: 'shop', labels: { team: 'a' } } }, object: { metadata: { name: 'shop', labels: { 'netfence.io/baseline': 'enabled' } } } }, 'shop', false],
    ['no baseline labels configured: everything is enforced', { kind: 'Pod', namespace: 'legacy' }, 'legacy', true, { baselineLabels: {} }],
  ];
  it.each(cases)('%s', (_what, request, namespace, adopted, changes) => {
    const ctx = contextFor(admissionRequest(request), { config: configWith(changes ?? {}) });
    const scope = scopeOf(ctx, namespace);
    expect(scope.adopted).toBe(adopted);
    expect(scope.reason).not.toBe('');
    expect(effectiveMode('enforce', scope)).toBe(adopted ? 'enforce' : 'audit');
    expect(effectiveMode('warn', scope)).toBe(adopted ? 'warn' : 'audit');
  });
});
