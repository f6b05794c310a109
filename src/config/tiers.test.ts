import { describe, expect, it } from 'vitest';
import { parseManifests } from '../cluster/manifests.ts';
import { StaticClusterView } from '../cluster/static.ts';
import { defaultConfig } from './default.ts';
import { emptyTierWarnings, tierPodCounts } from './tiers.ts';

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
