import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../cluster/manifests.ts';
import { StaticClusterView } from '../cluster/static.ts';
import type { ClusterView } from '../cluster/view.ts';
import { defaultConfig } from '../config/default.ts';
import { builtInConfig, configHash } from '../config/load.ts';
import { ConfigStore } from '../config/store.ts';
import { createLogger } from '../log.ts';
import { TierReport } from './tier-report.ts';

function capture(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  return { logger: createLogger({ destination }), lines };
}

const pods = new StaticClusterView(parseManifests('{apiVersion: v1, kind: Pod, metadata: {name: db, namespace: a, labels: {tier: data}}}', 'c'));

describe('tiers that select no pod in the cluster', () => {
  it('logged when the view syncs and on config change, and counted in netfence_tier_pods', async () => {
    let synced = false;
    const view: ClusterView = { ...pods, namespace: (n) => pods.namespace(n), namespaces: () => pods.namespaces(), pods: (n) => pods.pods(n), networkPolicies: (n) => pods.networkPolicies(n), synced: () => synced, describe: () => 'test' };
    const { logger, lines } = capture();
    const store = new ConfigStore(builtInConfig());
    const registry = new Registry();
    const report = new TierReport(store, view, logger, registry, 10);
    try {
      expect(lines).toEqual([]);
      expect(await registry.getSingleMetricAsString('netfence_tier_pods')).not.toContain('tier=');
      synced = true;
      await new Promise((r) => setTimeout(r, 50));
      const empty = lines.filter((l) => l.event === 'config.tier_empty');
      expect(empty).toEqual([expect.objectContaining({ level: 'warn', tier: 'logic', rules: ['data-only-from-logic'], why: 'cluster view synced' })]);
      expect(empty[0]!.msg).toMatch(/^tier logic \(tier=logic\) selects no pod in the cluster/);
      const metric = await registry.getSingleMetricAsString('netfence_tier_pods');
      expect(metric).toContain('netfence_tier_pods{tier="data"} 1');
      expect(metric).toContain('netfence_tier_pods{tier="logic"} 0');

      // A config whose tiers follow another label scheme: reported at once.
      const next = defaultConfig();
      next.tiers = { data: { matchLabels: { 'app.kubernetes.io/component': 'database' } }, logic: { matchLabels: { tier: 'logic' } } };
      store.emit('change', { config: next, hash: configHash(next), source: 'test' });
      expect(lines.filter((l) => l.event === 'config.tier_empty' && l.why === 'config changed').map((l) => l.tier)).toEqual(['data', 'logic']);
    } finally {
      report.close();
    }
  });
});
