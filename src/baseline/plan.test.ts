import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/default.ts';
import type { NetworkPolicy } from '../k8s/types.ts';
import { desiredPolicy, MANAGED_BY_LABEL, planNamespace, sameSpec, wantsBaseline } from './plan.ts';

const config = defaultConfig();
const [denyTemplate, dnsTemplate] = config.baseline.policies as [(typeof config.baseline.policies)[0], (typeof config.baseline.policies)[0]];
const stored = (p: NetworkPolicy, extra: Partial<NetworkPolicy['metadata']> = {}): NetworkPolicy => ({
  ...p,
  metadata: { ...p.metadata, resourceVersion: '42', uid: 'u', ...extra },
});

describe('planNamespace (desired vs actual)', () => {
  const cases: Array<[string, Array<[string, NetworkPolicy | undefined]>, string[]]> = [
    ['nothing there: create both', [], ['create netfence-default-deny', 'create netfence-allow-dns']],
    [
      'both in place, as the API server stores them (defaults filled in)',
      [
        ['netfence-default-deny', stored(desiredPolicy('ns', denyTemplate))],
        [
          'netfence-allow-dns',
          stored({
            ...desiredPolicy('ns', dnsTemplate),
            spec: { ...dnsTemplate.spec, ingress: [], egress: dnsTemplate.spec.egress!.map((r) => ({ ...r, ports: r.ports!.map((p) => ({ protocol: 'TCP', ...p })) })) },
          }),
        ],
      ],
      ['skip netfence-default-deny', 'skip netfence-allow-dns'],
    ],
    [
      'edited spec: restore it',
      [
        ['netfence-default-deny', stored({ ...desiredPolicy('ns', denyTemplate), spec: { podSelector: {}, policyTypes: ['Ingress'] } })],
        ['netfence-allow-dns', stored(desiredPolicy('ns', dnsTemplate))],
      ],
      ['update netfence-default-deny spec', 'skip netfence-allow-dns'],
    ],
    [
      'label removed: put it back',
      [
        ['netfence-default-deny', stored({ ...desiredPolicy('ns', denyTemplate), metadata: { name: 'netfence-default-deny', namespace: 'ns', labels: { team: 'x' } } })],
        ['netfence-allow-dns', stored(desiredPolicy('ns', dnsTemplate))],
      ],
      ['update netfence-default-deny labels', 'skip netfence-allow-dns'],
    ],
    [
      'same name managed by another tool: leave it alone',
      [
        ['netfence-default-deny', stored({ ...desiredPolicy('ns', denyTemplate), metadata: { name: 'netfence-default-deny', namespace: 'ns', labels: { [MANAGED_BY_LABEL]: 'helm' } } })],
      ],
      ['skip netfence-default-deny', 'create netfence-allow-dns'],
    ],
  ];
  it.each(cases)('%s', (_n, actual, expected) => {
    const actions = planNamespace('ns', config, new Map(actual));
    expect(actions.map((a) => `${a.kind} ${a.name}${a.kind === 'update' ? ` ${a.reason}` : ''}`)).toEqual(expected);
  });

  it('an update keeps resourceVersion and other labels, and sets the template spec', () => {
    const edited = stored({ ...desiredPolicy('ns', denyTemplate), metadata: { name: 'netfence-default-deny', namespace: 'ns', labels: { team: 'x' } }, spec: { podSelector: { matchLabels: { a: 'b' } } } }, { resourceVersion: '7' });
    const [action] = planNamespace('ns', config, new Map([['netfence-default-deny', edited]]));
    expect(action).toMatchObject({
      kind: 'update',
      policy: { metadata: { resourceVersion: '7', labels: { team: 'x', [MANAGED_BY_LABEL]: 'netfence' } }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    });
  });

  it('a created policy carries the managed-by label and its namespace', () => {
    const [action] = planNamespace('team-a', config, new Map());
    expect(action).toMatchObject({ kind: 'create', policy: { metadata: { name: 'netfence-default-deny', namespace: 'team-a', labels: { [MANAGED_BY_LABEL]: 'netfence' } } } });
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
  it.each([
    ['labelled', ns('a', { 'netfence.io/baseline': 'enabled' }), true],
    ['not labelled', ns('a'), false],
    ['labelled with another value', ns('a', { 'netfence.io/baseline': 'disabled' }), false],
    ['excluded', ns('kube-system', { 'netfence.io/baseline': 'enabled' }), false],
    ["netfence's own", ns('netfence-system', { 'netfence.io/baseline': 'enabled' }), false],
    ['terminating', ns('a', { 'netfence.io/baseline': 'enabled' }, true), false],
  ])('%s', (_n, namespace, expected) => {
    expect(wantsBaseline(namespace, config, 'netfence-system')).toBe(expected);
  });
});
