import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Leadership } from '../baseline/controller.ts';
import type { ClusterView } from '../cluster/view.ts';
import type { ConfigStore } from '../config/store.ts';
import { KubeClient } from '../kube/client.ts';
import { kubeReportWriter } from '../report/writer.ts';
import { AuditController } from './controller.ts';
import { AuditEngine } from './engine.ts';
import type { Metrics } from './metrics.ts';

/**
 * The background audit of `serve` against a live cluster: judges the view's objects, writes
 * PolicyReports on the leader. Its own API client (a few writes, rate-limited) so that report
 * writes never queue behind or in front of the reconciler's.
 */
export function startAudit(o: { kc: KubeConfig; view: ClusterView; config: ConfigStore; leader: Leadership; logger: Logger; metrics: Metrics; netfenceNamespace: string }): { stop(): Promise<void> } {
  const engine = new AuditEngine(o.view, o.config.current().config, { netfenceNamespace: o.netfenceNamespace });
  let controller: AuditController | undefined;
  let client: KubeClient | undefined;
  let stopped = false;
  const ready = KubeClient.fromKubeConfig(o.kc, { qps: 5, burst: 10 }).then(
    (c) => {
      client = c;
      if (stopped) return c.close();
      controller = new AuditController({ engine, synced: () => o.view.synced(), config: () => o.config.current().config, leader: o.leader, writer: kubeReportWriter(c), logger: o.logger, metrics: o.metrics });
      controller.start();
    },
    (err: unknown) => o.logger.error({ event: 'audit.failed', err }, 'background audit not started: no API client'),
  );
  return {
    async stop() {
      stopped = true;
      await ready;
      await controller?.stop();
      client?.close();
    },
  };
}
