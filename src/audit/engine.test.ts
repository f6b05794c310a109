import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject } from '../k8s/types.ts';
import { configWith } from '../../test/helpers/rules-world.ts';
import { MutableView } from '../../test/helpers/mutable-view.ts';
import { AuditEngine } from './engine.ts';
import type { AuditedObject } from './judge.ts';

// The "what depends on what" re-evaluation: each case changes one thing and lists exactly the
// objects the audit must judge again. A second test checks the point of it all: after any
// sequence of changes, the incremental results equal a fresh full pass.

const WORLD = parse(`
- { apiVersion: v1, kind: Namespace, metadata: { name: shop, labels: { netfence.io/baseline: enabled } } }
- { apiVersion: v1, kind: Namespace, metadata: { name: open } }
- { apiVersion: v1, kind: Namespace, metadata: { name: billing, labels: { netfence.io/baseline: enabled } } }
- { apiVersion: v1, kind: Namespace, metadata: { name: kube-system } }
- { apiVersion: v1, kind: Pod, metadata: { name: db, namespace: shop, labels: { app: postgres, tier: data } } }
- { apiVersion: v1, kind: Pod, metadata: { name: api, namespace: shop, labels: { app: api, tier: logic } } }
- { apiVersion: v1, kind: Pod, metadata: { name: web, namespace: shop, labels: { app: web } } }
- { apiVersion: v1, kind: Pod, metadata: { name: app, namespace: open, labels: { app: x } } }
- { apiVersion: v1, kind: Pod, metadata: { name: ledger, namespace: billing, labels: { app: ledger, tier: data } } }
- { apiVersion: v1, kind: Pod, metadata: { name: dns, namespace: kube-system, labels: { k8s-app: kube-dns } } }
- apiVersion: apps/v1
  kind: Deployment
  metadata: { name: web, namespace: shop }
  spec: { template: { metadata: { labels: { app: web } }, spec: { containers: [{ name: web }] } } }
- { apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: { name: default-deny, namespace: shop }, spec: { podSelector: {}, policyTypes: [Ingress, Egress] } }
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: web-open, namespace: shop }
  spec: { podSelector: { matchLabels: { app: web } }, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 80 }] }] }
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: from-ops, namespace: shop }
  spec: { podSelector: { matchLabels: { app: postgres } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: ops } } }], ports: [{ port: 9090 }] }] }
- { apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: { name: default-deny, namespace: billing }, spec: { podSelector: {}, policyTypes: [Ingress, Egress] } }
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: ledger-open, namespace: billing }
  spec: { podSelector: { matchLabels: { app: ledger } }, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 80 }] }] }
`) as KubeObject[];

const EXEMPTION = { id: 'legacy', namespaces: ['billing'], rules: ['data-no-ingress-from-anywhere'], reason: 'SEC-1', expires: '2026-06-01T00:00:00Z' };
// otherNamespaces is the class whose answer reads the labels of every namespace.
const OTHER_NS = { id: 'data-not-from-other-namespaces', type: 'forbidIngressFrom', tier: 'data', sources: ['otherNamespaces'], mode: 'audit' };
const config = configWith({ exemptions: [EXEMPTION], addRules: [OTHER_NS] });
const T0 = new Date('2026-05-01T00:00:00Z');

function fresh(): { view: MutableView; engine: AuditEngine } {
  const view = new MutableView(WORLD);
  const engine = new AuditEngine(view, config, { netfenceNamespace: 'netfence-system' });
  engine.runAll(T0);
  return { view, engine };
}

const np = (ns: string, name: string, spec: unknown): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
const pod = (ns: string, name: string, labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels } });
const nsObj = (name: string, labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

const SHOP_PODS_AND_WORKLOADS = ['shop|Pod|api', 'shop|Pod|db', 'shop|Pod|web', 'shop|apps/Deployment|web'];

const cases: Array<{ name: string; change: (v: MutableView, e: AuditEngine) => Date | void; rejudged: string[] }> = [
  { name: 'nothing changed', change: () => {}, rejudged: [] },
  {
    name: 'a policy added in shop: its pods, workloads and namespace, and the policy itself',
    change: (v) => void v.apply(np('shop', 'egress-deny', { podSelector: {}, policyTypes: ['Egress'] })),
    rejudged: ['shop|Namespace|shop', 'shop|NetworkPolicy|egress-deny', ...SHOP_PODS_AND_WORKLOADS].sort(),
  },
  {
    name: 'a policy deleted in billing: the namespace and its pod (nothing in shop)',
    change: (v) => void v.remove('NetworkPolicy', 'billing', 'ledger-open'),
    rejudged: ['billing|Namespace|billing', 'billing|NetworkPolicy|ledger-open', 'billing|Pod|ledger'],
  },
  {
    name: 'a policy added and deleted between two looks: nothing',
    change: (v) => void v.apply(np('open', 'p', { podSelector: {} })).remove('NetworkPolicy', 'open', 'p'),
    rejudged: [],
  },
  {
    name: 'a pod joining tier data in shop: the pod, and the policies whose tier question it answers',
    change: (v) => void v.apply(pod('shop', 'web', { app: 'web', tier: 'data' })),
    rejudged: ['shop|NetworkPolicy|web-open', 'shop|Pod|web'],
  },
  {
    name: 'a pod relabelled outside every tier and policy: only the pod',
    change: (v) => void v.apply(pod('open', 'app', { app: 'y' })),
    rejudged: ['open|Pod|app'],
  },
  {
    name: 'a pod whose status alone changed (same labels and ports): nothing',
    change: (v) => void v.apply({ ...pod('open', 'app', { app: 'x' }), status: { podIP: '10.0.0.9' } }),
    rejudged: [],
  },
  {
    name: 'a namespace label change: the namespace, and what read its labels or the namespace list',
    change: (v) => void v.apply(nsObj('open', { team: 'ops' })),
    rejudged: ['open|Namespace|open', 'open|Pod|app', 'shop|NetworkPolicy|from-ops', 'shop|Pod|db'],
  },
  {
    name: 'a workload changed: only the workload',
    change: (v) => void v.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { template: { metadata: { labels: { app: 'web', v: '2' } } } } }),
    rejudged: ['shop|apps/Deployment|web'],
  },
  {
    name: 'an exemption expiring: the objects of its namespaces',
    change: () => new Date('2026-06-02T00:00:00Z'),
    rejudged: ['billing|Namespace|billing', 'billing|NetworkPolicy|default-deny', 'billing|NetworkPolicy|ledger-open', 'billing|Pod|ledger'],
  },
  {
    name: 'a config reload: everything',
    change: (_v, e) => e.setConfig(configWith({ exemptions: [EXEMPTION], addRules: [OTHER_NS], modes: { 'require-default-deny': 'warn' } })),
    // Excluded namespaces are looked at again too: the new config may not exclude them.
    rejudged: [...keysOf(fresh().engine), 'kube-system|Namespace|kube-system', 'kube-system|Pod|dns'].sort(),
  },
];

function keysOf(e: AuditEngine): string[] {
  return [...e.all()].map((o) => o.key).sort();
}

describe('AuditEngine re-evaluation', () => {
  it.each(cases)('$name', ({ change, rejudged }) => {
    const { view, engine } = fresh();
    const at = change(view, engine) ?? T0;
    engine.sync(at);
    expect(engine.pendingKeys()).toEqual(rejudged);
    engine.judgePending(at);
    expect(engine.pendingCount).toBe(0);
  });

  it('judges every object of the cluster, none of the excluded namespaces', () => {
    const keys = keysOf(fresh().engine);
    expect(keys).toContain('shop|apps/Deployment|web');
    expect(keys).toContain('open|Namespace|open');
    expect(keys.some((k) => k.startsWith('kube-system|'))).toBe(false);
  });

  it('gives per rule pass, fail, warn or skip with path, mode and exemption', () => {
    const { engine } = fresh();
    const find = (key: string): AuditedObject => [...engine.all()].find((o) => o.key === key)!;
    const webOpen = find('shop|NetworkPolicy|web-open').results;
    expect(webOpen.find((r) => r.rule === 'data-no-ingress-from-anywhere')).toMatchObject({ result: 'pass' });
    const ledger = find('billing|NetworkPolicy|ledger-open').results;
    expect(ledger.find((r) => r.rule === 'data-no-ingress-from-anywhere')).toMatchObject({ result: 'skip', exemption: { id: 'legacy', status: 'applied', expires: EXEMPTION.expires } });
    expect(ledger.find((r) => r.rule === 'data-only-from-logic')).toMatchObject({ result: 'warn', mode: 'warn', path: 'spec.ingress[0].from[0]' });
    const open = find('open|Namespace|open');
    expect(open.defaultDeny).toEqual({ Ingress: false, Egress: false });
    // open is not adopted (no baseline labels): its violations are recorded in audit mode.
    expect(open.results).toEqual([expect.objectContaining({ rule: 'require-default-deny', result: 'fail', mode: 'audit', configuredMode: 'enforce', path: 'metadata.name' })]);
    expect(find('open|Pod|app').results.find((r) => r.rule === 'require-default-deny')).toMatchObject({ result: 'fail', mode: 'audit', path: 'metadata.namespace' });
    expect(find('shop|NetworkPolicy|web-open').results.find((r) => r.rule === 'data-only-from-logic')).toMatchObject({ mode: 'warn' });
    expect(find('shop|Namespace|shop').results).toEqual([expect.objectContaining({ result: 'pass' })]);
  });

  it('after an exemption expires, the exempted result turns to fail and says the exemption expired', () => {
    const { engine } = fresh();
    const later = new Date('2026-06-02T00:00:00Z');
    engine.sync(later);
    engine.judgePending(later);
    const r = [...engine.all()].find((o) => o.key === 'billing|NetworkPolicy|ledger-open')!.results.find((x) => x.rule === 'data-no-ingress-from-anywhere');
    expect(r).toMatchObject({ result: 'fail', exemption: { id: 'legacy', status: 'expired' } });
    expect(engine.nextExpiry(T0)).toEqual(new Date(EXEMPTION.expires));
    expect(engine.nextExpiry(later)).toEqual(new Date('2027-01-31T00:00:00Z')); // the built-in config's own exemption
  });

  it('marks only the report scopes whose results changed', () => {
    const { view, engine } = fresh();
    engine.takeDirty();
    view.apply(pod('open', 'app2', { app: 'x' }));
    engine.runAll(T0);
    expect(engine.takeDirty()).toEqual(['open']);
    view.apply(pod('open', 'app', { app: 'y' })); // relabelled, same verdicts
    engine.runAll(T0);
    expect(engine.takeDirty()).toEqual([]);
  });

  it('after any sequence of changes, the incremental results equal a fresh full pass', () => {
    const steps: Array<(v: MutableView) => void> = [
      (v) => v.apply(np('open', 'dd', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })),
      (v) => v.apply(pod('open', 'db', { tier: 'data' })),
      (v) => v.apply(np('open', 'db-open', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] })),
      (v) => v.apply(pod('open', 'db', { tier: 'data', app: 'db' })),
      (v) => v.apply(nsObj('shop', { team: 'ops' })),
      (v) => v.remove('NetworkPolicy', 'shop', 'default-deny'),
      (v) => v.apply(nsObj('new', {})).apply(pod('new', 'p', { tier: 'data' })),
      (v) => v.remove('Pod', 'shop', 'db'),
      (v) => v.remove('Namespace', '', 'billing'),
      (v) => v.apply(np('shop', 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] })),
    ];
    const { view, engine } = fresh();
    for (const step of steps) {
      step(view);
      engine.runAll(T0);
      const full = new AuditEngine(view, config, { netfenceNamespace: 'netfence-system' });
      full.runAll(T0);
      const dump = (e: AuditEngine): unknown => [...e.all()].map((o) => [o.key, o.results, o.defaultDeny]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(dump(engine)).toEqual(dump(full));
      // The gauges kept as objects are judged equal the counts over every object, and a full pass's.
      expect(sortCounts(engine.counts())).toEqual(walkedCounts(engine));
      expect(sortCounts(engine.counts())).toEqual(sortCounts(full.counts()));
    }
  });

  it('a first pass in slices (new namespaces queued as judging reaches them) ends where a single pass does', () => {
    const view = new MutableView(WORLD);
    for (let i = 0; i < 40; i++) view.apply(pod(i % 2 ? 'shop' : 'open', `extra-${i}`, { app: `a${i % 3}`, tier: i % 4 ? 'logic' : 'data' }));
    const sliced = new AuditEngine(view, config, { netfenceNamespace: 'netfence-system' });
    sliced.sync(T0);
    let slices = 0;
    // A deadline always past: each call judges one object and returns.
    while (sliced.pendingCount > 0 && slices < 100) {
      expect(sliced.judgePending(T0, -Infinity)).toBe(1);
      slices++;
    }
    // One call per object queued (those of excluded namespaces are looked at, not judged).
    expect(slices).toBeGreaterThan(40);
    expect(slices).toBeLessThan(100);
    const engine = new AuditEngine(view, config, { netfenceNamespace: 'netfence-system' });
    engine.runAll(T0);
    const dump = (e: AuditEngine): unknown => [...e.all()].map((o) => [o.key, o.results, o.defaultDeny]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(dump(sliced)).toEqual(dump(engine));
    expect(sliced.judged).toBe(engine.judged);
  });

  it('a full pass over an unchanged cluster judges everything again and replaces no record', () => {
    const { view, engine } = fresh();
    const records = new Map([...engine.all()].map((o) => [o.key, o]));
    const judged = engine.judged;
    engine.takeDirty();
    engine.markAll();
    engine.judgePending(T0);
    expect(engine.judged - judged).toBe(records.size);
    expect([...engine.all()].every((o) => records.get(o.key) === o)).toBe(true);
    expect(engine.takeDirty()).toEqual([]);
    // A change still replaces what it changes.
    view.apply(np('shop', 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] }));
    engine.markAll();
    engine.judgePending(T0);
    expect([...engine.all()].filter((o) => records.get(o.key) !== o).length).toBeGreaterThan(0);
  });

  it('a namespace deleted with its objects leaves no entry in any index', () => {
    const { view, engine } = fresh();
    const before = engine.indexSizes();
    view.apply(nsObj('temp', { 'netfence.io/baseline': 'enabled' })).apply(pod('temp', 'db', { tier: 'data' }));
    view.apply(np('temp', 'dd', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }));
    view.apply(np('temp', 'db-from-logic', { podSelector: { matchLabels: { tier: 'data' } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'logic' } } }] }] }));
    engine.runAll(T0);
    expect(engine.indexSizes().namespaces).toBe(before.namespaces! + 1);
    view.remove('Pod', 'temp', 'db').remove('NetworkPolicy', 'temp', 'dd').remove('NetworkPolicy', 'temp', 'db-from-logic').remove('Namespace', '', 'temp');
    engine.runAll(T0);
    expect(engine.indexSizes()).toEqual(before);
  });

  it('shares a rule pass, and an all-pass list, between objects; results are never mutable', () => {
    const { engine } = fresh();
    const allPass = [...engine.all()].filter((o) => o.subject.kindKey === 'Pod' && o.results.every((r) => r.result === 'pass'));
    expect(allPass.length).toBeGreaterThan(1);
    // Pods judged by the same rules with nothing but passes hold one list.
    expect(new Set(allPass.map((o) => o.results)).size).toBe(1);
    const mixed = [...engine.all()].filter((o) => o.results.some((r) => r.result === 'pass') && o.results.some((r) => r.result !== 'pass'));
    expect(mixed.length).toBeGreaterThan(0);
    for (const o of [...allPass, ...mixed]) expect(Object.isFrozen(o.results)).toBe(true);
    const passOf = (o: AuditedObject, rule: string) => o.results.find((r) => r.rule === rule && r.result === 'pass');
    const rule = allPass[0]!.results[0]!.rule;
    const holders = [...engine.all()].filter((o) => passOf(o, rule));
    expect(new Set(holders.map((o) => passOf(o, rule))).size).toBe(1);
  });
});

type Counts = ReturnType<AuditEngine['counts']>;
function sortCounts(c: Counts): Counts {
  return { namespaces: c.namespaces, violations: [...c.violations].sort((a, b) => `${a.rule}/${a.mode}`.localeCompare(`${b.rule}/${b.mode}`)) };
}

/** The gauges the slow way: every judged object walked. */
function walkedCounts(e: AuditEngine): Counts {
  const namespaces = { both: 0, ingress: 0, egress: 0, none: 0 };
  const violations = new Map<string, { rule: string; mode: string; count: number }>();
  for (const o of e.all()) {
    if (o.defaultDeny) namespaces[o.defaultDeny.Ingress && o.defaultDeny.Egress ? 'both' : o.defaultDeny.Ingress ? 'ingress' : o.defaultDeny.Egress ? 'egress' : 'none']++;
    for (const r of o.results) {
      if (r.result !== 'fail' && r.result !== 'warn') continue;
      const v = violations.get(`${r.rule}/${r.mode}`) ?? { rule: r.rule, mode: r.mode, count: 0 };
      v.count++;
      violations.set(`${r.rule}/${r.mode}`, v);
    }
  }
  return sortCounts({ namespaces, violations: [...violations.values()] });
}
