import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/default.ts';
import type { NetfenceConfig } from '../config/types.ts';
import type { KubeObject } from '../k8s/types.ts';
import { applyMergePatch, firstDifference, mergePatchTo } from './fields.ts';
import { baselineTemplates, desiredObject, MANAGED_BY_LABEL, planNamespace, planObject, sameSpec, wantsBaseline, type Action, type BaselineTemplate } from './plan.ts';

const config: NetfenceConfig = {
  ...defaultConfig(),
  baseline: {
    ...defaultConfig().baseline,
    objects: [
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } },
      { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-all', labels: { team: 'sec' } }, spec: { rules: null } },
    ],
  },
};
const templates = baselineTemplates(config);
const [deny, dns, peer, authz] = templates as [BaselineTemplate, BaselineTemplate, BaselineTemplate, BaselineTemplate];

/** The object as the API server stores it: resourceVersion, uid, and whatever `extra` adds. */
const stored = (t: BaselineTemplate, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => {
  const o = desiredObject('ns', t);
  return { ...o, ...extra, metadata: { ...o.metadata, resourceVersion: '42', uid: 'u', ...meta } };
};
const brief = (a: Action): string => `${a.kind} ${a.template.kind}/${a.template.name}${a.kind === 'update' ? ` ${a.field}` : a.kind === 'skip' && a.reason !== 'in place' ? ` (${a.reason})` : ''}`;

describe('baselineTemplates', () => {
  it('policies first, keyed by group/Kind/name, then objects with their body as fields', () => {
    expect(templates.map((t) => t.key)).toEqual([
      'networking.k8s.io/NetworkPolicy/netfence-default-deny',
      'networking.k8s.io/NetworkPolicy/netfence-allow-dns',
      'security.istio.io/PeerAuthentication/default',
      'security.istio.io/AuthorizationPolicy/deny-all',
    ]);
    expect(peer).toMatchObject({ group: 'security.istio.io', fields: { spec: { mtls: { mode: 'STRICT' } } }, exact: false });
    expect(deny.exact).toBe(true);
  });
  it('a created object has the namespace, the managed-by label, the template labels, and no nulls', () => {
    expect(desiredObject('team-a', authz)).toEqual({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'deny-all', namespace: 'team-a', labels: { team: 'sec', [MANAGED_BY_LABEL]: 'netfence' } },
      spec: {},
    });
  });
});

describe('planObject (desired vs the cached object)', () => {
  const cases: Array<[string, BaselineTemplate, KubeObject | undefined, string]> = [
    ['missing: create', peer, undefined, 'create PeerAuthentication/default'],
    ['as created: in place', peer, stored(peer), 'skip PeerAuthentication/default'],
    ['fields the API server or others add are not netfence business', peer, stored(peer, { spec: { mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'DISABLE' } }, selector: {} }, status: { x: 1 } }, { annotations: { a: 'b' }, labels: { [MANAGED_BY_LABEL]: 'netfence', extra: 'y' } }), 'skip PeerAuthentication/default'],
    ['a field the template sets, changed: restore it', peer, stored(peer, { spec: { mtls: { mode: 'PERMISSIVE' } } }), 'update PeerAuthentication/default spec.mtls.mode'],
    ['a field the template sets, removed: restore it', peer, stored(peer, { spec: {} }), 'update PeerAuthentication/default spec.mtls'],
    ['a field the template sets to null, added: remove it', authz, stored(authz, { spec: { rules: [{ from: [] }] } }), 'update AuthorizationPolicy/deny-all spec.rules'],
    ['managed-by removed: put it back', peer, stored(peer, {}, { labels: {} }), 'update PeerAuthentication/default metadata.labels.app.kubernetes.io/managed-by'],
    ['a template label changed: put it back', authz, stored(authz, {}, { labels: { team: 'other', [MANAGED_BY_LABEL]: 'netfence' } }), 'update AuthorizationPolicy/deny-all metadata.labels.team'],
    ['same name managed by another tool: leave it alone', peer, stored(peer, { spec: {} }, { labels: { [MANAGED_BY_LABEL]: 'istioctl' } }), 'skip PeerAuthentication/default (a PeerAuthentication of that name is managed by istioctl)'],
    ['a NetworkPolicy as stored, defaults filled in: in place', dns, stored(dns, { spec: { ...(dns.fields.spec as object), ingress: [], egress: [{ ...(dns.fields.spec as { egress: object[] }).egress[0], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }] } }), 'skip NetworkPolicy/netfence-allow-dns'],
    ['a NetworkPolicy is compared whole: a rule added to default-deny is restored', deny, stored(deny, { spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}] } }), 'update NetworkPolicy/netfence-default-deny spec'],
    ['a NetworkPolicy with a narrowed podSelector is restored', deny, stored(deny, { spec: { podSelector: { matchLabels: { a: 'b' } }, policyTypes: ['Ingress', 'Egress'] } }), 'update NetworkPolicy/netfence-default-deny spec'],
  ];
  it.each(cases)('%s', (_n, t, actual, want) => {
    expect(brief(planObject('ns', t, actual))).toBe(want);
  });

  it.each(cases.filter(([, , , want]) => want.startsWith('update')))('the patch of "%s" puts the object back in place and carries its resourceVersion', (_n, t, actual) => {
    const action = planObject('ns', t, actual);
    if (action.kind !== 'update') throw new Error('expected an update');
    expect(action.patch.metadata).toMatchObject({ resourceVersion: '42' });
    const patched = applyMergePatch(actual, action.patch) as KubeObject;
    expect(brief(planObject('ns', t, patched))).toBe(`skip ${t.kind}/${t.name}`);
  });

  it('a patch keeps fields others added and labels it does not own', () => {
    const actual = stored(peer, { spec: { mtls: { mode: 'DISABLE' }, selector: { matchLabels: { app: 'x' } } } }, { labels: { team: 'a' } });
    const action = planObject('ns', peer, actual);
    const patched = applyMergePatch(actual, action.kind === 'update' ? action.patch : {}) as KubeObject;
    expect(patched.spec).toEqual({ mtls: { mode: 'STRICT' }, selector: { matchLabels: { app: 'x' } } });
    expect(patched.metadata?.labels).toEqual({ team: 'a', [MANAGED_BY_LABEL]: 'netfence' });
  });

  it('planNamespace plans every template against the cache', () => {
    const cache = new Map<string, KubeObject>([[deny.key, stored(deny)], [peer.key, stored(peer, { spec: { mtls: { mode: 'PERMISSIVE' } } })]]);
    expect(planNamespace('ns', templates, (t) => cache.get(t.key)).map(brief)).toEqual([
      'skip NetworkPolicy/netfence-default-deny',
      'create NetworkPolicy/netfence-allow-dns',
      'update PeerAuthentication/default spec.mtls.mode',
      'create AuthorizationPolicy/deny-all',
    ]);
  });
});

describe('firstDifference', () => {
  it.each([
    [{ a: 1 }, { a: 1, b: 2 }, undefined],
    [{ a: { b: [1, 2] } }, { a: { b: [1, 2], c: 3 } }, undefined],
    [{ a: { b: [1, 2] } }, { a: { b: [1] } }, 'a.b'],
    [{ a: [{ x: 1 }] }, { a: [{ x: 1, y: 2 }] }, undefined],
    [{ a: [{ x: 1 }] }, { a: [{ x: 2 }] }, 'a[0].x'],
    [{ a: {} }, {}, undefined],
    [{ a: [] }, {}, undefined],
    [{ a: null }, {}, undefined],
    [{ a: null }, { a: 0 }, 'a'],
    [{ a: '1' }, { a: 1 }, 'a'],
    [{ a: { b: 1 } }, { a: 'x' }, 'a'],
  ])('%j within %j: %s', (desired, actual, want) => {
    expect(firstDifference(desired, actual)).toBe(want);
  });
});

describe('mergePatchTo', () => {
  it.each([
    [{ a: 1, b: 2 }, { a: 1 }],
    [{ a: { x: 1, y: 2 } }, { a: { x: 1 } }],
    [{ a: [1, 2] }, { a: [2] }],
    [{}, { a: { b: 1 } }],
    [{ podSelector: { matchLabels: { a: 'b' } }, ingress: [{}] }, { podSelector: {}, policyTypes: ['Ingress'] }],
  ])('patches %j into exactly %j', (actual, desired) => {
    expect(applyMergePatch(actual, mergePatchTo(actual, desired))).toEqual(desired);
  });
});

describe('sameSpec', () => {
  it('ignores defaulted fields and empty lists, not real differences', () => {
    expect(sameSpec({ podSelector: {}, ingress: [{}] }, { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [] }], egress: [] })).toBe(true);
    expect(sameSpec({ podSelector: {}, egress: [{ ports: [{ port: 53 }] }] }, { podSelector: {}, policyTypes: ['Ingress', 'Egress'], egress: [{ ports: [{ port: 53, protocol: 'TCP' }] }] })).toBe(true);
    expect(sameSpec({ podSelector: {} }, { podSelector: { matchLabels: { a: 'b' } } })).toBe(false);
    expect(sameSpec({ podSelector: {}, ingress: [{}] }, { podSelector: {}, ingress: [] })).toBe(false);
    expect(sameSpec({ podSelector: {}, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] }, { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] })).toBe(false);
  });
});

describe('wantsBaseline', () => {
  const ns = (name: string, labels: Record<string, string> = {}, terminating = false) => ({ name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, annotations: {}, ...(terminating ? { terminating } : {}) });
  const objectsOnly: NetfenceConfig = { ...config, baseline: { ...config.baseline, policies: [] } };
  const nothing: NetfenceConfig = { ...config, baseline: { ...config.baseline, policies: [], objects: [] } };
  it.each([
    ['labelled', ns('a', { 'netfence.io/baseline': 'enabled' }), config, true],
    ['not labelled', ns('a'), config, false],
    ['labelled with another value', ns('a', { 'netfence.io/baseline': 'disabled' }), config, false],
    ['excluded', ns('kube-system', { 'netfence.io/baseline': 'enabled' }), config, false],
    ["netfence's own", ns('netfence-system', { 'netfence.io/baseline': 'enabled' }), config, false],
    ['terminating', ns('a', { 'netfence.io/baseline': 'enabled' }, true), config, false],
    ['objects but no policies', ns('a', { 'netfence.io/baseline': 'enabled' }), objectsOnly, true],
    ['nothing to keep', ns('a', { 'netfence.io/baseline': 'enabled' }), nothing, false],
  ])('%s', (_n, namespace, c, expected) => {
    expect(wantsBaseline(namespace, c, 'netfence-system')).toBe(expected);
  });
});
