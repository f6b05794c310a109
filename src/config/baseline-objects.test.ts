import { describe, expect, it } from 'vitest';
import { validateConfig } from './validate.ts';

const withObjects = (objects: unknown) => ({ apiVersion: 'netfence.io/v1alpha1', kind: 'NetfenceConfig', baseline: { objects } });
const peer = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } };

describe('baseline.objects', () => {
  it('accepts namespaced objects of any kind, keeps the body as written, and is absent when not given', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'team-settings', labels: { a: 'b' }, annotations: { note: 'x' } }, data: { k: 'v' } };
    const result = validateConfig(withObjects([peer, cm]));
    expect(result).toMatchObject({ ok: true, config: { baseline: { objects: [peer, cm] } } });
    const none = validateConfig({ apiVersion: 'netfence.io/v1alpha1', kind: 'NetfenceConfig', baseline: {} });
    expect(none.ok && 'objects' in none.config.baseline).toBe(false);
  });

  it.each([
    ['not a list', { a: 1 }, 'baseline.objects', 'must be a list'],
    ['not a mapping', ['x'], 'baseline.objects[0]', 'must be a mapping'],
    ['bad apiVersion', [{ ...peer, apiVersion: 'security.istio.io' }], 'baseline.objects[0].apiVersion', 'GROUP/VERSION'],
    ['bad kind', [{ ...peer, kind: 'peerauthentication' }], 'baseline.objects[0].kind', 'kind as the API serves it'],
    ['no metadata', [{ apiVersion: 'v1', kind: 'ConfigMap' }], 'baseline.objects[0].metadata', 'required'],
    ['no name', [{ ...peer, metadata: {} }], 'baseline.objects[0].metadata.name', 'required'],
    ['bad name', [{ ...peer, metadata: { name: 'Not_A_Name' } }], 'baseline.objects[0].metadata.name', 'lowercase'],
    ['a namespace', [{ ...peer, metadata: { name: 'x', namespace: 'a' } }], 'baseline.objects[0].metadata.namespace', 'every baseline namespace'],
    ['unknown metadata field', [{ ...peer, metadata: { name: 'x', finalizers: [] } }], 'baseline.objects[0].metadata.finalizers', 'unknown field'],
    ['status', [{ ...peer, status: {} }], 'baseline.objects[0].status', 'set by the API server'],
    ['a NetworkPolicy', [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x' }, spec: {} }], 'baseline.objects[0].kind', 'baseline.policies'],
    ['a bad label value', [{ ...peer, metadata: { name: 'x', labels: { a: 'b c' } } }], 'baseline.objects[0].metadata.labels.a', 'invalid label value'],
    ['managed by another tool', [{ ...peer, metadata: { name: 'x', labels: { 'app.kubernetes.io/managed-by': 'helm' } } }], 'baseline.objects[0].metadata.labels["app.kubernetes.io/managed-by"]', 'netfence sets it'],
    ['a duplicate', [peer, { ...peer, apiVersion: 'security.istio.io/v1beta1' }], 'baseline.objects[1].metadata.name', 'duplicate'],
  ])('%s is refused with its path', (_n, objects, path, message) => {
    const result = validateConfig(withObjects(objects));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContainEqual({ path, message: expect.stringContaining(message) });
  });
});
