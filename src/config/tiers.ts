import type { ClusterView } from '../cluster/view.ts';
import type { LabelSelector } from '../k8s/types.ts';
import { compileSelector } from '../netpol/selector.ts';
import type { NetfenceConfig } from './types.ts';

/**
 * How many pods each tier selects. A tier that selects none is most often a label scheme
 * that differs from the config's (`app.kubernetes.io/component: database`, not `tier: data`):
 * every rule about it then judges nothing, silently. Linear in pods × tiers.
 */
export function tierPodCounts(
  config: Pick<NetfenceConfig, 'tiers'>,
  view: Pick<ClusterView, 'namespaces' | 'pods'>,
  extraLabels: ReadonlyArray<Readonly<Record<string, string>>> = [],
  memo?: TierCountMemo,
): Record<string, number> {
  const tiers = Object.entries(config.tiers).map(([name, selector]) => ({ name, selector: compileSelector(selector) }));
  const counts = new Array<number>(tiers.length).fill(0);
  const count = (labels: Readonly<Record<string, string>>, into: number[]): void => {
    for (let i = 0; i < tiers.length; i++) if (tiers[i]!.selector.matches(labels)) into[i]! += 1;
  };
  // A namespace's counts are remembered with its pod list (views replace a list when it
  // changes): a metrics scrape then counts only the namespaces whose pods changed.
  const byList = memo?.forTiers(config.tiers);
  for (const ns of view.namespaces()) {
    const pods = view.pods(ns.name);
    let mine = byList?.get(pods);
    if (!mine) {
      mine = new Array<number>(tiers.length).fill(0);
      for (const pod of pods) count(pod.labels, mine);
      byList?.set(pods, mine);
    }
    for (let i = 0; i < tiers.length; i++) counts[i]! += mine[i]!;
  }
  for (const labels of extraLabels) count(labels, counts);
  return Object.fromEntries(tiers.map((t, i) => [t.name, counts[i]!]));
}

/** Per-namespace tier counts kept between calls, for the tiers of one config at a time. */
export class TierCountMemo {
  private tiers: unknown;
  private byList = new WeakMap<readonly unknown[], number[]>();

  forTiers(tiers: unknown): WeakMap<readonly unknown[], number[]> {
    if (tiers !== this.tiers) {
      this.tiers = tiers;
      this.byList = new WeakMap();
    }
    return this.byList;
  }
}

/** The rules that name a tier, for saying what an empty tier makes ineffective. */
export function rulesOfTier(config: Pick<NetfenceConfig, 'rules'>, tier: string): string[] {
  return config.rules
    .filter((r) => ('tier' in r && r.tier === tier) || (r.type === 'restrictIngressSources' && r.allow.some((a) => a.tier === tier)))
    .map((r) => r.id);
}

/** One sentence per tier that selects no pod; empty when every tier selects some. */
export function emptyTierWarnings(config: Pick<NetfenceConfig, 'tiers' | 'rules'>, counts: Readonly<Record<string, number>>, where: string): string[] {
  return Object.entries(counts)
    .filter(([, n]) => n === 0)
    .map(([tier]) => {
      const rules = rulesOfTier(config, tier);
      return `tier ${tier} (${selectorText(config.tiers[tier]!)}) selects no pod ${where}: ${rules.length > 0 ? `the rules that name it (${rules.join(', ')}) apply to no pod` : 'no rule names it'}; check that its selector matches the labels your pods carry`;
    });
}

function selectorText(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) parts.push(`${e.key} ${e.operator}${e.values ? ` (${e.values.join(', ')})` : ''}`);
  return parts.join(', ');
}
