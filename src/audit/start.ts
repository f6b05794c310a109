import type { Logger } from 'pino';
import type { Leadership } from '../baseline/controller.ts';
import type { ClusterView } from '../cluster/view.ts';
import type { ConfigStore } from '../config/store.ts';
import type { KubeClient } from '../kube/client.ts';
import type { CompiledCache } from '../netpol/index.ts';
import { kubeReportWriter } from '../report/writer.ts';
import { AuditController } from './controller.ts';
import { AuditEngine } from './engine.ts';
import type { Metrics } from './metrics.ts';

/**
 * The background audit of `serve` against a live cluster: judges the view's objects once it is
 * synced, and writes PolicyReports on the leader through netfence's one API client.
 */
export function startAudit(o: { client: KubeClient; view: ClusterView; config: ConfigStore; leader: Leadership; logger: Logger; metrics: Metrics; netfenceNamespace: string; compiled?: CompiledCache; holdFirstPass?: () => boolean }): { stop(): Promise<void> } {
  const engine = new AuditEngine(o.view, o.config.current().config, { netfenceNamespace: o.netfenceNamespace, ...(o.compiled ? { compiled: o.compiled } : {}) });
  const controller = new AuditController({
    engine,
    synced: () => o.view.synced() && (o.view.workloadsSynced?.() ?? true),
    ...(o.holdFirstPass ? { holdFirstPass: o.holdFirstPass } : {}),
    config: () => o.config.current().config,
    leader: o.leader,
    writer: kubeReportWriter(o.client),
    logger: o.logger,
    metrics: o.metrics,
  });
  controller.start();
  return { stop: () => controller.stop() };
}
