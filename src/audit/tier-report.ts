import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { ClusterView } from '../cluster/view.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { ConfigStore } from '../config/store.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { emptyTierWarnings, rulesOfTier, TierCountMemo, tierPodCounts } from '../config/tiers.ts';

/**
 * Reports tiers that select no pod of the cluster: a `config.tier_empty` warning at start, on
 * every config change, and when the cluster view (re)syncs; and `netfence_tier_pods{tier}`,
 * computed at scrape time. A tier under another label scheme than the pods' makes its rules
 * judge nothing, and nothing else would say so.
 */
export class TierReport {
  private readonly timer: NodeJS.Timeout;
  private wasSynced = false;
  private readonly memo = new TierCountMemo();
  private readonly onChange = (loaded: LoadedConfig): void => void this.report('config changed', loaded.config);

  private readonly config: ConfigStore;
  private readonly cluster: ClusterView;
  private readonly logger: Logger;

  constructor(config: ConfigStore, cluster: ClusterView, logger: Logger, registry: Registry, pollMs = 1_000) {
    this.config = config;
    this.cluster = cluster;
    this.logger = logger;
    const self = this;
    new Gauge({
      name: 'netfence_tier_pods',
      help: 'Pods of the cluster each configured tier selects; 0 means its rules judge nothing. Absent until the cluster view is synced.',
      labelNames: ['tier'] as const,
      registers: [registry],
      collect() {
        this.reset();
        if (!cluster.synced()) return;
        for (const [tier, n] of Object.entries(tierPodCounts(self.config.current().config, cluster, [], self.memo))) this.labels(tier).set(n);
      },
    });
    config.on('change', this.onChange);
    // The view has no sync event; polling one boolean is cheap, and the timer never holds the
    // process open.
    this.timer = setInterval(() => this.poll(), pollMs);
    this.timer.unref();
    this.poll();
  }

  private poll(): void {
    const synced = this.cluster.synced();
    if (synced && !this.wasSynced) this.report('cluster view synced');
    this.wasSynced = synced;
  }

  /** Logs every tier that selects no pod; says nothing until the view is synced. */
  report(why: string, config: NetfenceConfig = this.config.current().config): string[] {
    if (!this.cluster.synced()) return [];
    const counts = tierPodCounts(config, this.cluster);
    const warnings = emptyTierWarnings(config, counts, 'in the cluster');
    for (const [tier, n] of Object.entries(counts)) {
      if (n > 0) continue;
      this.logger.warn({ event: 'config.tier_empty', tier, selector: config.tiers[tier], rules: rulesOfTier(config, tier), why }, warnings.find((w) => w.startsWith(`tier ${tier} `)));
    }
    return warnings;
  }

  close(): void {
    clearInterval(this.timer);
    this.config.off('change', this.onChange);
  }
}
