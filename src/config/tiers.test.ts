import { describe, expect, it } from 'vitest';
import { parseManifests } from '../cluster/manifests.ts';
import { StaticClusterView } from '../cluster/static.ts';
import { defaultConfig } from './default.ts';
import { MutableView } from '../../test/helpers/mutable-view.ts';
import { emptyTierWarnings, TierCountMemo, tierPodCounts } from './tiers.ts';

const view = (yaml: string): StaticClusterView => new StaticClusterView(parseManifests(yaml, 'c.yaml'));

describe('tiers that select no pod are reported', () => {
  const config = defaultConfig();
  const cases: Array<[string, string, Record<string, number>, string[]]> = [
    ['the built-in tiers under another label scheme', '{apiVersion: v1, kind: Pod, metadata: {name: db, namespace: a, labels: {app.kubernetes.io/component: database}}}', { data: 0, logic: 0 }, ['data', 'logic']],
    ['one tier used, the other not', '{apiVersion: v1, kind: Pod, metadata: {name: db, namespace: a, labels: {tier: data}}}', { data: 1, logic: 0 }, ['logic']],
    ['pods in several namespaces', 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: a, labels: {tier: data}}}\n- {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: b, labels: {tier: data}}}\n- {apiVersion: v1, kind: Pod, metadata: {name: api, namespace: b, labels: {tier: logic}}}', { data: 2, logic: 1 }, []],
  ];
  it.each(cases)('%s', (_what, yaml, counts, empty) => {
    const got = tierPodCounts(config, view(yaml));
    expect(got).toEqual(counts);
    const warnings = emptyTierWarnings(config, got, 'in the cluster');
    expect(warnings.map((w) => w.split(' ')[1])).toEqual(empty);
  });

  it('says which rules judge nothing, and counts pod templates given as labels', () => {
    const counts = tierPodCounts(config, view('{apiVersion: v1, kind: Namespace, metadata: {name: a}}'), [{ tier: 'logic' }]);
    expect(counts).toEqual({ data: 0, logic: 1 });
    expect(emptyTierWarnings(config, counts, 'in the manifests')).toEqual([
      'tier data (tier=data) selects no pod in the manifests: the rules that name it (data-no-ingress-from-anywhere, data-no-egress-to-internet, data-only-from-logic) apply to no pod; check that its selector matches the labels your pods carry',
    ]);
  });
});

describe('tier counts remembered per namespace pod list (a metrics scrape)', () => {
  const pod = (ns: string, name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels } });
  const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

  it('equal the counts without memo after every change, and follow a change of tiers', () => {
    const config = defaultConfig();
    const view = new MutableView([ns('a'), ns('b'), pod('a', 'db', { tier: 'data' }), pod('b', 'api', { tier: 'logic' })]);
    const memo = new TierCountMemo();
    const steps: Array<[string, () => void, Record<string, number>]> = [
      ['as loaded', () => undefined, { data: 1, logic: 1 }],
      ['a pod added', () => view.apply(pod('a', 'db2', { tier: 'data' })), { data: 2, logic: 1 }],
      ['a pod relabelled', () => view.apply(pod('b', 'api', { tier: 'data' })), { data: 3, logic: 0 }],
      ['a pod removed', () => view.remove('Pod', 'a', 'db'), { data: 2, logic: 0 }],
      ['a namespace removed', () => view.remove('Namespace', '', 'b'), { data: 1, logic: 0 }],
    ];
    for (const [what, change, want] of steps) {
      change();
      expect(tierPodCounts(config, view, [], memo), what).toEqual(want);
      expect(tierPodCounts(config, view), what).toEqual(want);
    }
    // Other tiers (a config reload): counted again, not read from the old tiers' memo.
    const renamed = { ...config, tiers: { db: { matchLabels: { tier: 'data' } }, none: { matchLabels: { tier: 'nothing' } } } };
    expect(tierPodCounts(renamed, view, [], memo)).toEqual({ db: 1, none: 0 });
  });
});
